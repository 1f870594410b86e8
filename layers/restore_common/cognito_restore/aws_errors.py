"""AWS errors in one place: the code and message of a botocore ClientError, throttling, Step Functions errors.

The only module that reads an error's ``response["Error"]`` (or a Step Functions ``{Error, Cause}``
object): every other module asks these helpers, so a missing or odd field is handled once.
"""

from __future__ import annotations

from collections.abc import Mapping

from botocore.exceptions import ClientError

from cognito_restore.errors import DATA_ERRORS, AccessDenied, CognitoThrottled

THROTTLING_CODES = frozenset(
    {"TooManyRequestsException", "ThrottlingException", "Throttling", "RequestLimitExceeded", "SlowDown"}
)
NOT_FOUND_CODES = frozenset({"NoSuchKey", "404", "NotFound"})  # S3 GetObject / HeadObject
# Codes of a call the caller is not authorized to make (IAM), per service.
ACCESS_DENIED_CODES = frozenset({"AccessDeniedException", "AccessDenied", "AuthorizationError"})


def _error_field(parsed: object, name: str) -> str | None:
    """A field of the ``Error`` member of a parsed response, which may be absent or not a mapping."""
    detail = parsed.get("Error") if isinstance(parsed, Mapping) else None
    value = detail.get(name) if isinstance(detail, Mapping) else None
    return value if isinstance(value, str) else None


def error_code(error: BaseException) -> str:
    """The AWS error code of a ClientError ("Unknown" when it has none, or for another exception)."""
    return _error_field(getattr(error, "response", None), "Code") or "Unknown"


def error_message(error: ClientError) -> str:
    return _error_field(error.response, "Message") or ""


def cancellation_reasons(error: ClientError) -> list[str | None]:
    """The code of each item of a cancelled DynamoDB transaction (TransactionCanceledException), in order."""
    reasons = error.response.get("CancellationReasons")
    return [r.get("Code") if isinstance(r, Mapping) else None for r in reasons] if isinstance(reasons, list) else []


def describe_error(error: ClientError) -> str:
    """``Code: message``, for reports (Cognito's messages name no user data beyond the item itself)."""
    return f"{error_code(error)}: {error_message(error)}".strip()


def is_throttling(error: BaseException) -> bool:
    return error_code(error) in THROTTLING_CODES


def is_throttled_response(parsed: object) -> bool:
    """A parsed response (botocore's needs-retry event) that AWS throttled."""
    return _error_field(parsed, "Code") in THROTTLING_CODES


def raise_if_throttled(error: ClientError) -> None:
    """SDK retries are spent: let Step Functions retry the whole (idempotent) task with jitter.
    A missing permission fails the phase (its message names the action), never one item."""
    if is_throttling(error):
        raise CognitoThrottled(f"Cognito still throttling after SDK retries ({error_code(error)})") from None
    if error_code(error) in ACCESS_DENIED_CODES:
        raise AccessDenied(describe_error(error)) from None


def raise_unless_caused_by_data(error: ClientError) -> None:
    """Only a refusal caused by the backed-up item is reported as not restorable; any other (pool gone,
    access denied, internal error) fails the phase, which the state machine retries or a redrive re-runs."""
    if error_code(error) not in DATA_ERRORS:
        raise error


def states_error(error: Mapping[str, object]) -> tuple[str, str]:
    """(name, cause) of a Step Functions error object ``{"Error": ..., "Cause": ...}`` (a Catch's ResultPath)."""
    name, cause = error.get("Error"), error.get("Cause")
    return (str(name) if name is not None else "Unknown"), (str(cause) if cause is not None else "")
