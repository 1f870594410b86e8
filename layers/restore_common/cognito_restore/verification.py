"""Compares the new pool itself with the plan: exact per-chunk accounting plus live reads of the pool.

`DescribeUserPool.EstimatedNumberOfUsers` is an estimate (wrong above ~20k users), so it never decides
anything. Users are counted exactly from the per-chunk result files, which name every user's outcome; a
chunk without its result file has its users unaccounted for. When the plan is small enough to list
within the phase's time, every user of the pool is listed and each restored username must be there;
a larger plan is counted live by "Count the restored pool" (live_count.py) before this phase.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from cognito_restore import aws
from cognito_restore.aws_errors import raise_if_throttled
from cognito_restore.errors import DATA_ERRORS
from cognito_restore.users import federated_links

# ListUsers / ListUsersInGroup return at most 60 per page and paginate by token, so one task lists
# sequentially: ~5 pages/s at ~200 ms a call (the UserList quota, 30 RPS, is not the bound).
# 600 s of the phase's 900 s give ~180,000 users + memberships; above, "Count the restored pool" counts
# them live first (live_count.py) and the phase compares counts, not names.
PAGE_SIZE = 60
LIST_PAGES_PER_SECOND = 5
LIST_BUDGET_SECONDS = 600
LIST_LIMIT = PAGE_SIZE * LIST_PAGES_PER_SECOND * LIST_BUDGET_SECONDS
TIME_RESERVE_MS = 60_000  # stop listing with this much Lambda time left (the report must still be written)

UNACCOUNTED = "not restored: its chunk has no result file (the chunk did not finish)"
ABSENT = "absent from the new pool although its chunk reported it restored"
COUNTED_ABSENT = (
    "absent from the new pool although their chunks reported them restored: the live count "
    "('Count the restored pool') found fewer users; a sync of the same backup into the pool finds and creates them"
)


class OutOfTime(Exception):
    """The listing would not end within the phase's time."""


def _pages(operation: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
    """Every page; throttling past the SDK's retries becomes CognitoThrottled (the state machine retries)."""
    try:
        yield from aws.client("cognito-idp").get_paginator(operation).paginate(**kwargs)
    except ClientError as error:
        raise_if_throttled(error)
        raise


def _count(operation: str, key: str, **kwargs: Any) -> int:
    return sum(len(page.get(key, [])) for page in _pages(operation, **kwargs))


def listable(users: int, memberships: int) -> bool:
    return users + memberships <= LIST_LIMIT


def identity_links(user: dict[str, Any]) -> int:
    """Provider links a listed user has (its `identities` attribute)."""
    return len(
        federated_links(next((a["Value"] for a in user.get("Attributes", []) if a["Name"] == "identities"), None))
    )


def pool_usernames(
    pool_id: str, out_of_time: Callable[[], bool], on_user: Callable[[dict[str, Any]], None] = lambda user: None
) -> set[str]:
    names: set[str] = set()
    # No AttributesToGet: Cognito refuses it when a user lacks a requested attribute.
    for page in _pages("list_users", UserPoolId=pool_id, Limit=PAGE_SIZE):
        for user in page.get("Users", []):
            names.add(user["Username"])
            on_user(user)
        if out_of_time():
            raise OutOfTime
    return names


def live_counts(
    pool_id: str, groups: list[str], list_memberships: bool, members: dict[str, set[str]] | None = None
) -> dict[str, int]:
    """Counts of everything but users (listed separately, by name); ``members`` gets each group's usernames."""
    existing = {g["GroupName"] for page in _pages("list_groups", UserPoolId=pool_id, Limit=60) for g in page["Groups"]}
    counts = {
        "app_clients": _count("list_user_pool_clients", "UserPoolClients", UserPoolId=pool_id, MaxResults=60),
        "groups": len(existing),
        "identity_providers": _count("list_identity_providers", "Providers", UserPoolId=pool_id, MaxResults=60),
        "resource_servers": _count("list_resource_servers", "ResourceServers", UserPoolId=pool_id, MaxResults=50),
    }
    if list_memberships:
        listed = members if members is not None else {}
        for group in groups:
            if group in existing:  # a group that failed is reported; its members cannot be listed
                listed[group] = {
                    user["Username"]
                    for page in _pages("list_users_in_group", UserPoolId=pool_id, GroupName=group, Limit=PAGE_SIZE)
                    for user in page.get("Users", [])
                }
        counts["memberships"] = sum(len(listed.get(group, ())) for group in groups)
    return counts


def chunks_with_absent_memberships(
    manifest: Iterable[dict[str, Any]],
    load_result: Callable[[int], dict[str, Any] | None],
    load_items: Callable[[dict[str, Any]], list[dict[str, Any]]],
    members: dict[str, set[str]],
) -> dict[int, int]:
    """Chunk index -> memberships its result reports restored (a restored user's group, not among its failed
    memberships) that the pool does not have. Reads every finished chunk again: only when some are missing."""
    absent: dict[int, int] = {}
    for chunk in manifest:
        index = int(chunk["index"])
        result = load_result(index)
        if result is None or result.get("done") is False:
            continue  # re-run anyway
        new_name = {i["old_username"]: i["new_username"] for i in result.get("ids", []) if i["new_username"]}
        failed = {f["item"] for f in result.get("memberships_failed", [])}
        count = sum(
            1
            for item in load_items(chunk)
            if item["old_username"] in new_name
            for group in item.get("groups", [])
            if f"{group}: {item['old_username']}" not in failed
            and new_name[item["old_username"]] not in members.get(group, set())
        )
        if count:
            absent[index] = count
    return absent


def compare(expected: dict[str, int], found: dict[str, int]) -> dict[str, dict[str, Any]]:
    return {
        name: {"expected": expected[name], "found": found[name], "ok": found[name] == expected[name]}
        for name in found
        if name in expected
    }


def error_code(reason: str) -> str:
    return reason.split(":", 1)[0].strip()


def caused_by_backup(item: dict[str, str]) -> bool:
    return error_code(item.get("reason", "")) in DATA_ERRORS


@dataclass
class UserAccounting:
    """Every planned user, chunk by chunk: its chunk's result names it, or it is unaccounted for."""

    planned: int = 0
    accounted: int = 0  # users the result files name (restored or failed)
    unaccounted: list[dict[str, str]] = field(default_factory=list)  # users of unfinished chunks, by name
    unfinished_chunks: list[int] = field(default_factory=list)
    partial_chunks: list[int] = field(default_factory=list)  # unfinished although a result file names them done
    restored_usernames: dict[str, int] = field(default_factory=dict)  # new usernames the results name -> chunk
    transient: list[dict[str, str]] = field(default_factory=list)  # users refused for a cause not their data


def account_users(
    manifest: Iterable[dict[str, Any]],
    load_result: Callable[[int], dict[str, Any] | None],
    load_chunk_usernames: Callable[[dict[str, Any]], list[str]],
    on_result: Callable[[dict[str, Any]], None] = lambda result: None,
    keep_usernames: bool = True,
) -> UserAccounting:
    """One result file per chunk of the manifest; a chunk without one (or one naming fewer users than the
    chunk holds: an at-least-once surprise) leaves its other users unaccounted for, by name. Each result
    goes to on_result and is not kept (memory stays flat in the number of chunks)."""
    accounting = UserAccounting()
    for chunk in manifest:
        accounting.planned += int(chunk["count"])
        result = load_result(int(chunk["index"]))
        if result is not None and result.get("done") is not False:
            named = {i["old_username"] for i in result.get("ids", [])} | {f["item"] for f in result.get("failed", [])}
            on_result(result)
            accounting.accounted += result.get("restored", 0) + len(result.get("failed", []))
            accounting.transient.extend(f for f in result.get("failed", []) if not caused_by_backup(f))
            if keep_usernames:
                accounting.restored_usernames.update(
                    (i["new_username"], int(chunk["index"])) for i in result.get("ids", []) if i["new_username"]
                )
            if len(named) >= int(chunk["count"]):
                continue
            accounting.partial_chunks.append(int(chunk["index"]))
        else:
            named = set()
        accounting.unfinished_chunks.append(int(chunk["index"]))
        accounting.unaccounted.extend(
            {"item": username, "reason": UNACCOUNTED}
            for username in load_chunk_usernames(chunk)
            if username not in named
        )
    return accounting


@dataclass
class Outcome:
    """complete | complete_with_unrestorable | incomplete, with what decides it (counts, no personal data)."""

    status: str
    missing: dict[str, int]
    unrestorable: int
    live_users: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "missing": self.missing,
            "unrestorable": self.unrestorable,
            "live_users": self.live_users,
        }


def decide(
    verification: dict[str, dict[str, Any]],
    unaccounted_users: int,
    absent_users: int,
    environment_failures: int,
    unrestorable: int,
    live_users: str,
    unreported: dict[str, int] | None = None,
) -> Outcome:
    """Incomplete when any item the plan restores is not in the pool (or not accounted for)."""
    missing = {
        name: check["expected"] - check["found"]
        for name, check in verification.items()
        if check["found"] < check["expected"] and name != "users"
    }
    for name, count in (unreported or {}).items():  # items no phase or chunk result accounts for
        if count:
            missing[name] = max(missing.get(name, 0), count)
    if unaccounted_users or absent_users:
        missing["users"] = unaccounted_users + absent_users
    if environment_failures:
        missing["failed_for_a_transient_cause"] = environment_failures
    if missing:
        return Outcome("incomplete", missing, unrestorable, live_users)
    return Outcome("complete_with_unrestorable" if unrestorable else "complete", {}, unrestorable, live_users)


def v2_live_counts(pool_id: str, sections: dict[str, Any], backup: dict[str, int]) -> dict[str, int]:
    """Live counts of the v2 categories the backup has (none for a v1 backup: no call is made).

    mfa_config: the backup's factors the new pool has on; managed_login_branding: app clients with a
    style; terms: terms documents; log_delivery: log configurations (docs/cognito-behaviours.md §13)."""
    from cognito_restore.v2_settings import mfa_factors

    cognito = aws.client("cognito-idp")
    found: dict[str, int] = {}
    try:
        if backup.get("mfa_config"):
            live = mfa_factors(cognito.get_user_pool_mfa_config(UserPoolId=pool_id))
            found["mfa_config"] = len(set(live) & set(mfa_factors(sections.get("mfa_config"))))
        if backup.get("managed_login_branding"):
            styles = 0
            for page in _pages("list_user_pool_clients", UserPoolId=pool_id, MaxResults=60):
                for client in page.get("UserPoolClients", []):
                    try:
                        cognito.describe_managed_login_branding_by_client(
                            UserPoolId=pool_id, ClientId=client["ClientId"]
                        )
                    except ClientError as error:
                        if error.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
                            raise
                        continue
                    styles += 1
            found["managed_login_branding"] = styles
        if backup.get("terms"):
            terms, token = 0, {}  # type: tuple[int, dict[str, str]]
            while True:
                page = cognito.list_terms(UserPoolId=pool_id, MaxResults=60, **token)
                terms += len(page.get("Terms", []))
                if not page.get("NextToken"):
                    break
                token = {"NextToken": page["NextToken"]}
            found["terms"] = terms
        if backup.get("log_delivery"):
            configuration = cognito.get_log_delivery_configuration(UserPoolId=pool_id)["LogDeliveryConfiguration"]
            found["log_delivery"] = len(configuration.get("LogConfigurations") or [])
    except ClientError as error:
        raise_if_throttled(error)
        raise
    return found
