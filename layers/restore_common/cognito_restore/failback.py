"""Failback: which users of the DR pool changed during the outage (docs/failback.md).

A sync of the DR pool's backup into the original pool copies what Cognito exports: attributes,
verified flags, the enabled flag, status moves Cognito allows, memberships, links. It cannot copy a
password, a TOTP authenticator or a passkey a user set in the DR pool: Cognito exports none of them
and documents no date of their change. The evidence there is: ``UserCreateDate`` and
``UserLastModifiedDate`` of each user in the DR pool's backup (ListUsers items,
https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_UserType.html). A user
created or modified after the DR pool went live changed during the outage; one whose sync wrote nothing
(no change the sync could see) changed something the sync cannot copy, for instance its password.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any


def _when(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, str) and value:
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


def changed_during_outage(
    users: Iterable[Mapping[str, Any]], since: datetime, synced: Mapping[str, list[str]]
) -> list[dict[str, str]]:
    """Users of the DR pool's backup created or modified after ``since`` (when the DR pool went live),
    each with what the sync did for it (``synced``: username -> the report's change list) or, when it
    wrote nothing, why the change could not be copied; then the users the sync changed whose dates show
    nothing (Cognito may not move UserLastModifiedDate for every change, e.g. a disable or a membership).
    Usernames only: no attribute values."""
    found = []
    for user in users:
        name = str(user.get("Username", ""))
        created, modified = _when(user.get("UserCreateDate")), _when(user.get("UserLastModifiedDate"))
        if created is not None and created > since:
            found.append(
                {"user": name, "evidence": "created in the DR pool", "synced": "; ".join(synced.get(name, []))}
            )
        elif modified is not None and modified > since:
            changes = synced.get(name, [])
            found.append(
                {
                    "user": name,
                    "evidence": "modified in the DR pool (UserLastModifiedDate)",
                    "synced": "; ".join(changes)
                    if changes
                    else "nothing the sync can copy changed: possibly the password, a TOTP or a passkey "
                    "(Cognito exports none): the user signs in with the original pool's",
                }
            )
    dated = {item["user"] for item in found}
    for name, changes in synced.items():
        if name not in dated and changes:
            found.append({"user": name, "evidence": "changed (seen by the sync)", "synced": "; ".join(changes)})
    return sorted(found, key=lambda item: item["user"])
