"""boto3 clients with the retry policy of the restore, and a count of the throttling they absorbed."""
from __future__ import annotations

import functools
import threading
from typing import Any

import boto3
from botocore.config import Config

THROTTLING_CODES = frozenset(
    {"TooManyRequestsException", "ThrottlingException", "Throttling", "RequestLimitExceeded", "SlowDown"}
)

# Standard mode retries throttling with exponential backoff and full jitter (botocore's own).
_CONFIG = Config(retries={"mode": "standard", "max_attempts": 8}, connect_timeout=5, read_timeout=30)

_counter_lock = threading.Lock()
_throttle_count = 0


def _count_throttle(response: Any = None, **_: Any) -> None:
    global _throttle_count
    if not response:
        return
    parsed = response[1] if isinstance(response, tuple) and len(response) > 1 else {}
    code = (parsed or {}).get("Error", {}).get("Code")
    if code in THROTTLING_CODES:
        with _counter_lock:
            _throttle_count += 1


def throttle_count() -> int:
    """Throttled calls (each later retried by the SDK) seen by this process so far."""
    return _throttle_count


def is_throttling(error: BaseException) -> bool:
    code = getattr(error, "response", {}).get("Error", {}).get("Code")
    return code in THROTTLING_CODES


@functools.cache
def client(service: str) -> Any:
    """One client per service per process (boto3 clients are thread-safe)."""
    return new_client(service)


def new_client(service: str) -> Any:
    """A client of its own. Standard retries keep a retry quota per client that only successes
    refill: a throttling storm drains it, so a chunk task starts each invocation with a full one.
    Its throttles are also counted on their own (client_throttles)."""
    fresh = boto3.client(service, config=_CONFIG)
    fresh.meta.events.register("needs-retry", _count_throttle)
    own = {"count": 0}

    def count_own(response: Any = None, **_: Any) -> None:
        parsed = response[1] if isinstance(response, tuple) and len(response) > 1 else {}
        if (parsed or {}).get("Error", {}).get("Code") in THROTTLING_CODES:
            own["count"] += 1

    fresh.meta.events.register("needs-retry", count_own)
    fresh.dr_throttles = own
    return fresh


def client_throttles(client_: Any) -> int:
    """Throttled calls of a client made by new_client (exact even when chunks share a process)."""
    return getattr(client_, "dr_throttles", {"count": 0})["count"]
