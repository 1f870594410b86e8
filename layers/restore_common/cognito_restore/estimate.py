"""How long a restore takes at the configured quotas, and how fast the users phase can go. Pure.

The restore paces every Cognito admin call per quota category (pacing.py); within the users phase a
chunk creates a user, sets its password and adds it to its groups right away, so the categories
overlap and the phase takes as long as its busiest category (docs/quotas.md). Groups are created
one phase earlier, at CreateGroup's per-pool rate.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cognito_restore.pacing import DEFAULT_QUOTAS
from cognito_restore.users import NEEDS_PERMANENT_PASSWORD

# Fixed time of the other phases (pool, clients, domain checks, alerts, verification): a rough floor.
OTHER_PHASES_S = 120.0


def user_calls(planned: dict[str, int], status_counts: dict[str, int]) -> dict[str, int]:
    """Minimum Cognito calls per quota category for the planned users (disabled and linked users add
    a few UserUpdate calls the plan does not count)."""
    return {
        "UserCreation": planned.get("users", 0),
        "UserAccountRecovery": sum(n for status, n in status_counts.items() if status in NEEDS_PERMANENT_PASSWORD),
        "UserUpdate": planned.get("memberships", 0),
    }


def users_rate_bound(planned: dict[str, int], status_counts: dict[str, int], quotas: dict[str, float]) -> float:
    """The most users per second the quotas allow for this backup (the busiest category decides)."""
    users = planned.get("users", 0)
    if not users:
        return 0.0
    seconds = users_phase_seconds(planned, status_counts, quotas)
    return users / seconds if seconds else float(quotas.get("UserCreation", DEFAULT_QUOTAS["UserCreation"]))


def users_phase_seconds(planned: dict[str, int], status_counts: dict[str, int], quotas: dict[str, float]) -> float:
    return max(
        (
            calls / float(quotas.get(category, DEFAULT_QUOTAS[category]))
            for category, calls in user_calls(planned, status_counts).items()
        ),
        default=0.0,
    )


def estimate(plan: Mapping[str, Any], quotas: dict[str, float]) -> dict[str, Any]:
    """Estimated duration per phase and in total, with the category that bounds the users phase."""
    planned, status_counts = plan.get("planned") or {}, plan.get("status_counts") or {}
    calls = user_calls(planned, status_counts)
    per_category = {
        category: calls_ / float(quotas.get(category, DEFAULT_QUOTAS[category])) for category, calls_ in calls.items()
    }
    bound = max(per_category, key=lambda c: per_category[c]) if planned.get("users") else None
    groups = (plan.get("counts") or {}).get("groups", 0)
    groups_s = groups / float(quotas.get("UserPoolResourceUpdate", DEFAULT_QUOTAS["UserPoolResourceUpdate"]))
    users_s = max(per_category.values(), default=0.0)
    total = users_s + groups_s + OTHER_PHASES_S
    return {
        "users_seconds": round(users_s),
        "groups_seconds": round(groups_s),
        "total_seconds": round(total),
        "users_per_second_bound": round(users_rate_bound(planned, status_counts, quotas), 2),
        "bounding_quota": bound,
        "quotas": {category: float(quotas.get(category, default)) for category, default in DEFAULT_QUOTAS.items()},
        "text": _text(
            total, users_s, groups_s, groups, bound, users_rate_bound(planned, status_counts, quotas), quotas
        ),
    }


def duration_text(seconds: float) -> str:
    seconds = max(0, round(seconds))
    if seconds < 90:
        return f"{seconds} s"
    minutes = round(seconds / 60)
    if minutes < 90:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02d} min"


def _text(
    total: float, users_s: float, groups_s: float, groups: int, bound: str | None, rate: float, quotas: dict[str, float]
) -> str:
    details = []
    if bound:
        details.append(
            f"users: {duration_text(users_s)} at {rate:.1f} users/s, bound by {bound} "
            f"at {float(quotas.get(bound, DEFAULT_QUOTAS[bound])):g}/s"
        )
    if groups:
        details.append(f"groups: {duration_text(groups_s)} at {float(quotas.get('UserPoolResourceUpdate', 5)):g}/s")
    return f"about {duration_text(total)} at the configured quotas" + (f" ({'; '.join(details)})" if details else "")
