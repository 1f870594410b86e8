"""Sync mode, users and memberships, through the real workflow (docs/sync.md).

A restore, then a newer backup with users added, changed, disabled and memberships moved, synced into
the restored pool: the pool ends identical to the new backup (read back in full), with Cognito calls
counted per operation in the emulation (every call any handler makes) and bounded by the changes."""

from __future__ import annotations

import contextlib
import copy
import json
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from unittest import mock

import boto3
import pytest

from bench.synthetic import SyntheticSpec, write_backup_file
from tests.workflow.conftest import DR_REGION, UNPACED, USER_WRITES, runs_low_on_time
from tools.emulation import LambdaCrash, RestoreStack
from tools.sample_pool import write_backup

USER_READS = {"ListUsers", "ListUsersInGroup"}


class CallCounter:
    """Every Cognito call the stack's handlers make, by operation (a botocore event on the default session)."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()

    def __call__(self, model: Any = None, **_: Any) -> None:
        self.calls[model.name] += 1

    def reset(self) -> Counter[str]:
        calls, self.calls = self.calls, Counter()
        return calls


@pytest.fixture
def counted_stack(request: pytest.FixtureRequest) -> Iterator[tuple[RestoreStack, CallCounter]]:
    chunk = getattr(request, "param", 50)
    counter = CallCounter()
    with RestoreStack(
        region=DR_REGION,
        parameters={"UserChunkSize": str(chunk), "Environment": "test", **UNPACED},
    ) as deployed:
        from cognito_restore import aws

        session = boto3._get_default_session()
        session.events.register("before-call.cognito-identity-provider", counter)
        aws.client.cache_clear()  # clients cached by an earlier test were made without the counter
        try:
            yield deployed, counter
        finally:
            session.events.unregister("before-call.cognito-identity-provider", counter)
            aws.client.cache_clear()


def _attrs(user: dict[str, Any]) -> dict[str, str]:
    return {a["Name"]: a["Value"] for a in user["Attributes"] if a["Name"] != "sub"}


def mutate(backup: dict[str, Any], users: int) -> dict[str, Any]:
    """1 % added, 1 % changed (attributes and verified flag), 0.5 % disabled, memberships moved for 1 %,
    and 0.5 % removed from the backup (target-only in the pool). Returns the change counts."""
    new = copy.deepcopy(backup)
    listed = new["users"]
    step = 100
    changes: Counter[str] = Counter()
    touched: set[str] = set()
    for i in range(0, users, step):  # 1 % changed
        user = listed[i]
        values = {a["Name"]: a for a in user["Attributes"]}
        values["given_name"]["Value"] = "Changed"
        values["custom:plan"]["Value"] = "changed-plan"
        changes["changed"] += 1
        touched.add(user["Username"])
    for i in range(7, users, 2 * step):  # 0.5 % disabled
        if listed[i]["Enabled"]:
            listed[i]["Enabled"] = False
            changes["disabled"] += 1
            touched.add(listed[i]["Username"])
    groups = list(new["group_memberships"])
    member_group = {name: g for g, names in new["group_memberships"].items() for name in names}
    for i in range(13, users, step):  # 1 % move to the next group
        name = listed[i]["Username"]
        old = member_group[name]
        target = groups[(groups.index(old) + 1) % len(groups)]
        new["group_memberships"][old].remove(name)
        new["group_memberships"][target].append(name)
        changes["moved"] += 1
        touched.add(name)
    removed = [listed[i]["Username"] for i in range(29, users, 2 * step)]  # 0.5 % target-only
    new["users"] = [u for u in listed if u["Username"] not in set(removed)]
    for group, names in new["group_memberships"].items():
        new["group_memberships"][group] = [n for n in names if n not in set(removed)]
    changes["removed"] = len(removed)
    changes["updated"] = len(touched - set(removed))
    template = listed[1]
    for j in range(users // 100):  # 1 % added
        user = copy.deepcopy(template)
        name = f"added{j:07d}"
        user["Username"] = name
        for attribute in user["Attributes"]:
            if attribute["Name"] == "email":
                attribute["Value"] = f"{name}@example.com"
            if attribute["Name"] == "sub":
                attribute["Value"] = f"00000000-0000-4000-8000-{j:012d}"
        user["Enabled"] = True
        new["users"].append(user)
        new["group_memberships"][groups[j % len(groups)]].append(name)
        changes["added"] += 1
    new["_changes"] = dict(changes)
    return new


def read_pool(cognito: Any, pool_id: str) -> dict[str, dict[str, Any]]:
    users: dict[str, dict[str, Any]] = {}
    for page in cognito.get_paginator("list_users").paginate(UserPoolId=pool_id):
        for user in page["Users"]:
            users[user["Username"]] = {
                "attributes": _attrs(user),
                "enabled": user["Enabled"],
                "status": user["UserStatus"],
                "groups": set(),
            }
    for page in cognito.get_paginator("list_groups").paginate(UserPoolId=pool_id):
        for group in page["Groups"]:
            for members in cognito.get_paginator("list_users_in_group").paginate(
                UserPoolId=pool_id, GroupName=group["GroupName"]
            ):
                for member in members["Users"]:
                    users[member["Username"]]["groups"].add(group["GroupName"])
    return users


STATUS_AFTER = {
    "CONFIRMED": "CONFIRMED",
    "RESET_REQUIRED": "CONFIRMED",
    "FORCE_CHANGE_PASSWORD": "FORCE_CHANGE_PASSWORD",
}


def expected_pool(backup: dict[str, Any]) -> dict[str, dict[str, Any]]:
    groups: dict[str, set[str]] = {}
    for group, names in backup["group_memberships"].items():
        for name in names:
            groups.setdefault(name, set()).add(group)
    return {
        user["Username"]: {
            "attributes": _attrs(user),
            "enabled": user["Enabled"],
            "status": STATUS_AFTER[user["UserStatus"]],
            "groups": groups.get(user["Username"], set()),
        }
        for user in backup["users"]
    }


def _verified_false_absent(values: dict[str, str]) -> dict[str, str]:
    """Cognito shows a verified flag set false; a backup may omit it: the same thing."""
    return {k: v for k, v in values.items() if not (k.endswith("_verified") and v == "false")}


def assert_identical(actual: dict[str, dict[str, Any]], expected: dict[str, dict[str, Any]], kept: set[str]) -> None:
    assert set(actual) - kept == set(expected), "users: the pool's names are the backup's (plus those kept)"
    for name, want in expected.items():
        got = actual[name]
        assert _verified_false_absent(got["attributes"]) == _verified_false_absent(want["attributes"]), name
        assert (got["enabled"], got["status"], got["groups"]) == (want["enabled"], want["status"], want["groups"]), name


def report_bucket(result: Any) -> str:
    return str(result.output["report"].removeprefix("s3://").split("/", 1)[0])


def _report(stack: RestoreStack, result: Any) -> dict[str, Any]:
    bucket, key = result.output["report"].removeprefix("s3://").split("/", 1)
    report: dict[str, Any] = json.loads(stack.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())
    return report


def sync_round(
    stack: RestoreStack,
    counter: CallCounter,
    users: int,
    tmp_path: Path,
    delete_missing: bool,
    during_sync: Callable[[], AbstractContextManager[Any]] = contextlib.nullcontext,
) -> None:
    spec = SyntheticSpec(
        users=users,
        groups=20,
        groups_per_user=1,
        disabled=0.02,
        status_mix={"CONFIRMED": 85, "FORCE_CHANGE_PASSWORD": 10, "RESET_REQUIRED": 5},
    )
    written = write_backup_file(spec, tmp_path / "backup.json")
    backup = json.loads(Path(written.path).read_text())
    s3, bucket = stack.client("s3"), stack.outputs["BackupBucketName"]
    first = datetime.now(UTC) - timedelta(hours=2)
    write_backup(s3, bucket, backup, first)

    restored = stack.run({"user_pool_id": spec.pool_id})
    assert restored.status == "SUCCEEDED", (restored.error, restored.cause)
    pool_id = restored.output["new_user_pool_id"]
    counter.reset()

    newer = mutate(backup, users)
    changes = newer.pop("_changes")
    key = write_backup(s3, bucket, newer, first + timedelta(hours=1))
    sync_input = {
        "user_pool_id": spec.pool_id,
        "backup_key": key,
        "mode": "sync",
        "target_user_pool_id": pool_id,
        **({"delete_missing": True, "max_deletes": changes["removed"]} if delete_missing else {}),
    }
    with during_sync():
        synced = stack.run(sync_input)
    assert synced.status == "SUCCEEDED", (synced.error, synced.cause)
    calls = counter.reset()

    cognito = stack.client("cognito-idp")
    actual = read_pool(cognito, pool_id)
    removed = {u["Username"] for u in backup["users"]} - {u["Username"] for u in newer["users"]}
    assert_identical(actual, expected_pool(newer), kept=set() if delete_missing else removed)

    report = _report(stack, synced)
    sync = report["sync_users"]
    planned = len(newer["users"])
    assert sync["created"] == changes["added"]
    assert sync["created"] + sync["updated"] + sync["unchanged"] + sync["skipped"] + sync["failed"] == planned
    assert sync["updated"] == changes["updated"]
    assert sync["failed"] == 0 and sync["skipped"] == 0
    target_only = len(sync["deleted"]) + len(sync["kept"])
    assert target_only == changes["removed"]
    assert len(sync["deleted"]) == (changes["removed"] if delete_missing else 0)

    # Writes: proportional to the changes. Reads: the listing's pages (no per-user reads).
    user_writes = sum(n for op, n in calls.items() if op in USER_WRITES)
    if during_sync is not contextlib.nullcontext:
        return  # a fault repeats some writes: the pool and the counts are what must hold
    # A moved membership is two writes (remove, add): counted as two changes.
    change_count = changes["added"] + changes["changed"] + changes["disabled"] + 2 * changes["moved"]
    change_count += changes["removed"] if delete_missing else 0
    read_pages = sum(n for op, n in calls.items() if op in USER_READS)
    assert calls["AdminGetUser"] == 0 and calls["AdminListGroupsForUser"] == 0, calls
    work = report_bucket(synced)
    target = json.loads(
        stack.client("s3")
        .get_object(Bucket=work, Key=f"restores/{report['restore_id']}/sync/target/summary.json")["Body"]
        .read()
    )
    # The target listed once: one ListUsers page per 60 users, one ListUsersInGroup page per 60 members
    # of each group; the rest of the reads is the verification's own listing (as after a restore).
    assert target["read_calls"]["ListUsers"] == -(-users // 60), target
    member_pages = sum(-(-len(names) // 60) or 1 for names in backup["group_memberships"].values())
    assert target["read_calls"]["ListUsersInGroup"] == member_pages, target
    assert calls["ListUsers"] == target["read_calls"]["ListUsers"] + -(-len(actual) // 60), calls
    assert user_writes <= 2 * change_count, (calls, changes)
    print(f"\nsync of {users} users: {dict(changes)}; calls {dict(sorted(calls.items()))}")
    print(f"user writes {user_writes} for {change_count} changes; user read pages {read_pages}")
    print(f"read target pool: {target['read_calls']}")

    # Idempotent: the same backup synced again writes nothing.
    again = stack.run({**sync_input, "restore_id": "second-sync"})
    assert again.status == "SUCCEEDED", (again.error, again.cause)
    calls = counter.reset()
    assert not {op: n for op, n in calls.items() if op in USER_WRITES}, calls
    sync = _report(stack, again)["sync_users"]
    assert sync["created"] == sync["updated"] == 0 and sync["unchanged"] == planned


def test_sync_leaves_the_pool_as_the_new_backup(
    counted_stack: tuple[RestoreStack, CallCounter], tmp_path: Path
) -> None:
    stack, counter = counted_stack
    sync_round(stack, counter, 600, tmp_path, delete_missing=True)


def _short_lived_listing(stack: RestoreStack) -> AbstractContextManager[Any]:
    """Each "Read target pool" invocation runs low on Lambda time after a few pages (one look per page)."""
    return runs_low_on_time(stack, "ReadTargetPoolFunction", 120_000, 5)  # read_target_pool's TIME_RESERVE_MS


def test_a_target_listed_in_several_invocations_syncs_the_pool_the_same(
    counted_stack: tuple[RestoreStack, CallCounter], tmp_path: Path
) -> None:
    """The "Target pool read?" loop: the listing saved its cursor, went on from it, and the pool ends the same."""
    stack, counter = counted_stack
    sync_round(stack, counter, 300, tmp_path, delete_missing=True, during_sync=lambda: _short_lived_listing(stack))
    listings = [name for name, _ in stack.invocations if name == "ReadTargetPoolFunction"]
    assert len(listings) >= 4, listings  # 5 ListUsers pages, 1 ListGroups, 20 ListUsersInGroup: 4 pages each


def test_users_absent_from_the_backup_are_kept_and_named_by_default(
    counted_stack: tuple[RestoreStack, CallCounter], tmp_path: Path
) -> None:
    stack, counter = counted_stack
    sync_round(stack, counter, 400, tmp_path, delete_missing=False)


@pytest.mark.slow
@pytest.mark.parametrize("counted_stack", [500], indirect=True)
def test_must_show_10000_users_synced_with_calls_within_twice_the_changes(
    counted_stack: tuple[RestoreStack, CallCounter], tmp_path: Path
) -> None:
    """Issue 13's must-show: 10,000 users restored, then 1 % added, 1 % changed, 0.5 % disabled, 1 % moved."""
    stack, counter = counted_stack
    sync_round(stack, counter, 10_000, tmp_path, delete_missing=True)


def test_a_dry_run_of_a_sync_lists_the_user_changes_and_writes_nothing(
    counted_stack: tuple[RestoreStack, CallCounter], tmp_path: Path
) -> None:
    stack, counter = counted_stack
    users = 300
    spec = SyntheticSpec(users=users, groups=10, disabled=0.0, status_mix={"CONFIRMED": 1})
    backup = json.loads(Path(write_backup_file(spec, tmp_path / "backup.json").path).read_text())
    s3, bucket = stack.client("s3"), stack.outputs["BackupBucketName"]
    first = datetime.now(UTC) - timedelta(hours=2)
    write_backup(s3, bucket, backup, first)
    restored = stack.run({"user_pool_id": spec.pool_id})
    assert restored.status == "SUCCEEDED", (restored.error, restored.cause)
    newer = mutate(backup, users)
    changes = newer.pop("_changes")
    key = write_backup(s3, bucket, newer, first + timedelta(hours=1))
    counter.reset()
    invoked = len(stack.invocations)

    with _short_lived_listing(stack):  # the dry run lists the target as the sync does: in segments
        dry = stack.run(
            {
                "user_pool_id": spec.pool_id,
                "backup_key": key,
                "mode": "sync",
                "target_user_pool_id": restored.output["new_user_pool_id"],
                "delete_missing": True,
                "max_deletes": 1,
                "dry_run": True,
            }
        )

    assert dry.status == "SUCCEEDED", (dry.error, dry.cause)
    calls = counter.reset()
    assert not {op: n for op, n in calls.items() if op in USER_WRITES}, calls
    listings = [name for name, _ in stack.invocations[invoked:] if name == "ReadTargetPoolFunction"]
    assert len(listings) >= 4, listings  # "Target pool read?" went round, then on to the report
    entered = dry.states_entered()
    assert entered.index("Read target pool") < entered.index("Write dry-run report")
    assert "Create user pool" not in entered and "Users and domain" not in entered
    assert calls["ListUsers"] == 5  # the target's 300 users, 60 a page: listed once, over the segments
    plan = _report(stack, dry)["plan"]
    users_plan = plan["sync"]["users"]
    assert len(users_plan["create"]) == changes["added"]
    assert len(users_plan["update"]) == changes["updated"]
    assert users_plan["unchanged"] == len(newer["users"]) - changes["added"] - changes["updated"]
    assert len(users_plan["delete"]) == 1 and len(users_plan["absent_from_backup"]) == changes["removed"] - 1
    assert plan["categories"]["users"]["would_create"] == changes["added"]
    moved = next(u for u in users_plan["update"] if u["item"] == "user0000013")
    assert moved["settings"] == ["added to group-0005", "removed from group-0004"]


def test_a_crash_in_the_middle_of_a_sync_chunk_resumes_and_the_pool_ends_the_same(
    counted_stack: tuple[RestoreStack, CallCounter], tmp_path: Path
) -> None:
    """The process dies after some writes of a chunk: the retry redoes the chunk from its checkpoint
    against the first listing; each write is idempotent and each user is counted once."""
    from cognito_restore import sync_users

    stack, counter = counted_stack
    original = sync_users.diff_user
    seen = {"count": 0}

    def crash_once(*args: Any, **kwargs: Any) -> Any:
        seen["count"] += 1
        if seen["count"] == 30:  # some users of the first sync chunk were written
            raise LambdaCrash()
        return original(*args, **kwargs)

    def crashing() -> AbstractContextManager[Any]:
        return mock.patch.object(sync_users, "diff_user", crash_once)

    sync_round(stack, counter, 300, tmp_path, delete_missing=True, during_sync=crashing)
    assert seen["count"] > 30
