"""Errors raised by the phases. The class name is the Step Functions error name (Catch/Retry match it)."""

# Per-item refusals caused by the backed-up data or configuration itself (or a limit of this account):
# running the restore again cannot fix them, so they are recorded for the item (named in the report).
# Any other refusal (pool gone, access denied, internal error) fails the chunk or the phase, which the
# state machine retries and a redrive re-runs.
DATA_ERRORS = frozenset(
    {
        "InvalidParameterException",
        "AliasExistsException",
        "InvalidPasswordException",
        "UnsupportedUserStateException",
        "UserLambdaValidationException",
        "InvalidLambdaResponseException",
        "PreconditionNotMetException",
        "CodeDeliveryFailureException",
        "InvalidSmsRoleAccessPolicyException",
        "InvalidSmsRoleTrustRelationshipException",
        "InvalidEmailRoleAccessPolicyException",
        "InvalidOAuthFlowException",
        "ScopeDoesNotExistException",
        "UnsupportedIdentityProviderException",
        "LimitExceededException",
        "UserPoolAddOnNotEnabledException",
        "FeatureUnavailableInTierException",
        "UnsupportedOperationException",
        "WAFNonexistentItemException",
        "WAFInvalidParameterException",
    }
)


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


class RestoreIncomplete(RestoreError):
    """Verification found planned users or memberships absent from the new pool (or unaccounted for): never
    SUCCEEDED. A redrive resumes at the users Map, a re-run with the same restore id re-runs every phase:
    both re-run the unfinished chunks and the ones verification invalidated."""


class RestoreIncompleteResources(RestoreIncomplete):
    """Verification found resource servers, identity providers, app clients or groups absent from the new
    pool: a redrive resumes at "Restore resource servers", whose phases create what is absent."""


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
