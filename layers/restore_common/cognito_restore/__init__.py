"""Domain logic of the Cognito DR restore, shared by every phase function (the Lambda layer)."""
