"""Verification of a large restore: the new pool's users, identity links and memberships counted live.

"Verify restored pool" lists the pool by name itself when the plan fits its 15 minutes
(verification.LIST_LIMIT: 180,000 users + memberships). A larger plan (the preparation sets
``count_live_in_segments``) is counted first by "Count the restored pool", in as many invocations as
it takes: ListUsers pages (users, and the identity links their ``identities`` attribute holds), then
ListGroups and ListUsersInGroup pages for each backed-up group, paced under UserList like the sync's
listing. After each invocation the cursor (stage, page token, group) and the counts so far are saved
in the work bucket; "Restored pool counted?" loops until ``done``. The verify phase compares those
live counts with the chunk results: a user or membership absent from the pool shows as a count below
the restored one (names are compared only by the listing within one phase).

Each pass through "Start counting the restored pool" (a Pass state) starts a fresh count: a redrive
that re-ran chunks counts the pool as it is now, never a count from before.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from botocore.exceptions import ClientError

from cognito_restore.aws_errors import error_code
from cognito_restore.sync_users import PAGE_SIZE
from cognito_restore.target_listing import list_page, next_token
from cognito_restore.verification import identity_links

CURSOR = "verify/live_count.json"
STAGES = ("users", "groups", "members")  # then "done"
StopCheck = Callable[[], bool]
Call = Callable[..., dict[str, Any]]


def _fresh() -> dict[str, Any]:
    return {
        "stage": "users",
        "token": None,
        "group_index": 0,
        "groups": [],  # the backed-up groups the pool has (a group that failed is reported, not listed)
        "users": 0,
        "identity_links": 0,
        "memberships": 0,
        "pages": {},
        "invocations": 0,
    }


def count_pool(
    store: Any,
    call: Call,
    pool_id: str,
    backed_up_groups: list[str],
    fresh: bool,
    should_stop: StopCheck,
) -> dict[str, Any]:
    """One invocation's share of the count; returns the counts with ``done`` (false: a continuation).
    fresh: the first invocation of this pass through the loop (the saved cursor is not used)."""
    cursor = _fresh() if fresh else (store.get_json_or_none(store.key(CURSOR)) or _fresh())
    cursor["invocations"] += 1
    wanted = set(backed_up_groups)
    while cursor["stage"] in STAGES:
        stage = cursor["stage"]
        if stage == "users":
            page = list_page(call, "ListUsers", cursor["pages"], cursor["token"], UserPoolId=pool_id, Limit=PAGE_SIZE)
            for user in page.get("Users", []):
                cursor["users"] += 1
                cursor["identity_links"] += identity_links(user)
            cursor["token"] = next_token(page, "ListUsers")
            if cursor["token"] is None:
                cursor["stage"] = "groups"
        elif stage == "groups":
            page = list_page(call, "ListGroups", cursor["pages"], cursor["token"], UserPoolId=pool_id, Limit=PAGE_SIZE)
            cursor["groups"] += [g["GroupName"] for g in page.get("Groups", []) if g["GroupName"] in wanted]
            cursor["token"] = next_token(page, "ListGroups")
            if cursor["token"] is None:
                cursor["stage"] = "members" if cursor["groups"] else "done"
        else:
            _count_members(call, pool_id, cursor)
        if cursor["stage"] in STAGES and should_stop():
            store.put_json(store.key(CURSOR), cursor)
            return _summary(cursor, done=False)
    store.put_json(store.key(CURSOR), cursor)
    return _summary(cursor, done=True)


def _count_members(call: Call, pool_id: str, cursor: dict[str, Any]) -> None:
    group = cursor["groups"][cursor["group_index"]]
    try:
        page = list_page(
            call,
            "ListUsersInGroup",
            cursor["pages"],
            cursor["token"],
            UserPoolId=pool_id,
            GroupName=group,
            Limit=PAGE_SIZE,
        )
    except ClientError as error:
        if error_code(error) != "ResourceNotFoundException":
            raise
        page = {}  # deleted since it was listed: it has no members
    cursor["memberships"] += len(page.get("Users", []))
    cursor["token"] = next_token(page, "ListUsersInGroup") if page else None
    if cursor["token"] is None:
        cursor["group_index"] += 1
        if cursor["group_index"] >= len(cursor["groups"]):
            cursor["stage"] = "done"


def _summary(cursor: Mapping[str, Any], done: bool) -> dict[str, Any]:
    return {
        "done": done,
        "users": cursor["users"],
        "identity_links": cursor["identity_links"],
        "memberships": cursor["memberships"],
        "read_calls": dict(cursor["pages"]),
        "invocations": cursor["invocations"],
    }
