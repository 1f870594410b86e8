"""boto3 clients with the retry policy of the restore, and a count of the throttling they absorbed."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

import boto3
from botocore.config import Config

from cognito_restore.aws_errors import is_throttled_response

# Standard mode retries throttling with exponential backoff and full jitter (botocore's own).
_CONFIG = Config(retries={"mode": "standard", "max_attempts": 8}, connect_timeout=5, read_timeout=30)


def _is_throttled_response(response: Any) -> bool:
    """A needs-retry event's (http response, parsed) pair that Cognito throttled."""
    return isinstance(response, tuple) and len(response) > 1 and is_throttled_response(response[1])


@functools.cache
def client(service: str) -> Any:
    """One client per service per process (boto3 clients are thread-safe)."""
    return boto3.client(service, config=_CONFIG)  # type: ignore[call-overload]  # any service: callers type it


def new_client(service: str, on_throttle: Callable[[str, int], float | None] | None = None) -> Any:
    """A client of its own. Standard retries keep a retry quota per client that only successes
    refill: a throttling storm drains it, so a chunk task starts each invocation with a full one.
    Its throttles are also counted on their own (client_throttles).

    on_throttle(operation, attempts) decides the retry of a throttled call before botocore's own
    handler: seconds to wait before the next attempt (the pacer's next slot: a retry stays on the
    pacing grid and slows the pace), or None to leave the decision to botocore."""
    fresh = boto3.client(service, config=_CONFIG)  # type: ignore[call-overload]  # any service: callers type it
    own = {"count": 0}
    lock = threading.Lock()  # the chunk task's worker threads share the client

    def count_own(response: Any = None, **_: Any) -> None:
        if _is_throttled_response(response):
            with lock:
                own["count"] += 1

    def pace_retry(response: Any = None, operation: Any = None, attempts: int = 1, **_: Any) -> float | None:
        if on_throttle is None or operation is None or not _is_throttled_response(response):
            return None
        return on_throttle(operation.name, attempts)

    fresh.meta.events.register("needs-retry", count_own)
    # First among the service's needs-retry handlers: botocore takes the first answer that is not None.
    service_event = fresh.meta.service_model.service_id.hyphenize()
    fresh.meta.events.register_first(f"needs-retry.{service_event}", pace_retry)
    fresh.dr_throttles = own
    return fresh


def client_throttles(client_: Any) -> int:
    """Throttled calls of a client made by new_client (exact even when chunks share a process)."""
    return int(getattr(client_, "dr_throttles", {"count": 0})["count"])
