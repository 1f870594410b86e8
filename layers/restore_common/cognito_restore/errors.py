"""Errors raised by the phases. The class name is the Step Functions error name (Catch/Retry match it)."""


class RestoreError(Exception):
    """Base class: a problem the operator must see in the failure alert."""


class BackupNotFound(RestoreError):
    """No backup object exists for the requested source pool (or the named key is missing)."""


class BackupInvalid(RestoreError):
    """The backup is not JSON, is truncated, or does not have the producer's shape. Nothing was created."""


class InvalidInput(RestoreError):
    """The execution input is unusable (missing or malformed user_pool_id, ...)."""


class RestoreConflict(RestoreError):
    """The restore id is already bound to another source pool or backup."""


class NotRestorable(Exception):
    """One backed-up item cannot be restored as it is; the message says why (for the report)."""


class CognitoThrottled(RestoreError):
    """Cognito kept throttling after the SDK's retries; Step Functions retries the task with jitter."""


class ResourceTemporarilyUnavailable(RestoreError):
    """AWS says to retry later (e.g. a web ACL still propagating); Step Functions retries the task."""


class AccessDenied(RestoreError):
    """The phase's role lacks a permission: every item would fail the same way, so the phase fails."""


class RestoreInProgress(RestoreError):
    """Another execution is running this restore id: this one stops before doing anything."""


class ChunkLeaseLost(RestoreError):
    """A newer invocation took over this chunk: this (stale) one stops without writing progress."""


class ChunkLeaseHeld(RestoreError):
    """A chunk's lease is held by an invocation that outlives this one; retried later."""
