"""Client-side pacing of Cognito admin calls per quota category.

Cognito's quotas are per account and Region (docs/quotas.md). A chunk task gets
quota / map concurrency of each category, so all concurrent chunks together stay at the quota by
construction. Throttling that still happens is absorbed by botocore's retries and, past those, by
the state machine's Retry with full jitter.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field

from pyrate_limiter import Limiter, Rate

# Default requests per second (quotas page); raised quotas are given as template parameters.
# UserPoolResourceUpdate is 15/s per account, but any one of its operations is held to 5/s per user
# pool: CreateGroup into the new pool cannot go faster than 5/s (docs/quotas.md).
DEFAULT_QUOTAS = {
    "UserCreation": 50.0,
    "UserAccountRecovery": 30.0,
    "UserUpdate": 25.0,
    "UserResourceUpdate": 25.0,
    "UserPoolResourceUpdate": 5.0,
}
CATEGORY_OF = {
    "CreateGroup": "UserPoolResourceUpdate",
    "UpdateGroup": "UserPoolResourceUpdate",  # sync mode
    "AdminCreateUser": "UserCreation",
    "SignUp": "UserCreation",
    "AdminUpdateUserAttributes": "UserUpdate",
    "AdminSetUserPassword": "UserAccountRecovery",
    "AdminDisableUser": "UserUpdate",
    "AdminAddUserToGroup": "UserUpdate",
    "AdminLinkProviderForUser": "UserUpdate",
    "AdminSetUserMFAPreference": "UserResourceUpdate",
    # Sync mode (sync_users.py): the writes of a matched user or a deletion.
    "AdminConfirmSignUp": "UserCreation",
    "AdminEnableUser": "UserUpdate",
    "AdminDeleteUserAttributes": "UserUpdate",
    "AdminRemoveUserFromGroup": "UserUpdate",
    "AdminDeleteUser": "UserUpdate",
}
_ENV = {
    "UserCreation": "QUOTA_USER_CREATION",
    "UserAccountRecovery": "QUOTA_USER_ACCOUNT_RECOVERY",
    "UserUpdate": "QUOTA_USER_UPDATE",
    "UserResourceUpdate": "QUOTA_USER_RESOURCE_UPDATE",
    "UserPoolResourceUpdate": "QUOTA_USER_POOL_RESOURCE_UPDATE",
}


def quotas_from_env() -> dict[str, float]:
    return {category: float(os.environ.get(_ENV[category], default)) for category, default in DEFAULT_QUOTAS.items()}


def concurrent_chunks(map_concurrency: int, chunks: int) -> int:
    """Chunks that can run at once: fewer chunks than the Map allows each get a larger share."""
    return max(1, min(int(map_concurrency), int(chunks)))


def per_task_interval_ms(quota: float, concurrency: int) -> int:
    """One call per interval per task: concurrency tasks together make at most `quota` calls per second."""
    return max(1, math.ceil(1000 * max(concurrency, 1) / quota))


@dataclass
class Pacer:
    """Blocks each call until its category's share of the quota allows it (pyrate-limiter)."""

    concurrency: int
    quotas: dict[str, float] = field(default_factory=quotas_from_env)
    _limiters: dict[str, Limiter] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for category, quota in self.quotas.items():
            # buffer_ms=0: pyrate-limiter would otherwise add 50 ms to every wait (bench/README.md, b).
            self._limiters[category] = Limiter(Rate(1, per_task_interval_ms(quota, self.concurrency)), buffer_ms=0)

    def before(self, operation: str) -> None:
        category = CATEGORY_OF.get(operation)
        if category:
            self._limiters[category].try_acquire(category, blocking=True)
