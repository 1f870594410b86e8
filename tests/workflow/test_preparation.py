"""Preparation of a large backup through the "Backup prepared?" loop: each "Validate and prepare backup"
invocation runs low on Lambda time after a few users (the context says so: nothing sleeps), saves its
resume point and index in the work bucket, and the loop invokes it again; the next one reads the backup
from the saved byte offset (a ranged GET of the pinned version). The restore then holds every user once,
and the users who can sign in are in the first chunk files.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any
from unittest import mock

from bench.synthetic import SyntheticSpec, upload_backup, write_backup_file
from tests.workflow.conftest import runs_low_on_time
from tools.emulation import RestoreStack

USERS = 600
ITEMS_PER_INVOCATION = 150  # users or memberships one preparation invocation reads before its time runs low


def _short_lived_preparation(stack: RestoreStack) -> Any:
    from cognito_restore.plan import TIME_RESERVE_MS

    # one look per user or membership read
    return runs_low_on_time(stack, "PrepareBackupFunction", TIME_RESERVE_MS, ITEMS_PER_INVOCATION)


def test_a_preparation_longer_than_one_invocation_goes_through_the_loop(stack: RestoreStack, tmp_path: Path) -> None:
    spec = SyntheticSpec(
        users=USERS,
        groups=6,
        groups_per_user=1,
        disabled=0.1,
        status_mix={"CONFIRMED": 70, "FORCE_CHANGE_PASSWORD": 15, "UNCONFIRMED": 10, "RESET_REQUIRED": 5},
    )
    backup = write_backup_file(spec, tmp_path / "backup.json")
    upload_backup(stack.client("s3"), stack.outputs["BackupBucketName"], backup)

    ranges: list[str] = []
    s3 = stack.client("s3")
    with _short_lived_preparation(stack):
        original_get = type(s3)._make_api_call

        def record(client: Any, operation: str, params: dict[str, Any]) -> Any:
            if operation == "GetObject" and "Range" in params:
                ranges.append(params["Range"])
            return original_get(client, operation, params)

        with mock.patch("botocore.client.BaseClient._make_api_call", record):
            result = stack.run({"user_pool_id": backup.pool_id, "restore_id": "big-backup"})

    assert result.status == "SUCCEEDED", (result.error, result.cause)
    # The loop ran: one "Backup prepared?" per invocation, several invocations, each from a byte offset.
    entered = Counter(result.states_entered())
    invocations = [name for name, _ in stack.invocations if name == "PrepareBackupFunction"]
    assert entered["Validate and prepare backup"] == entered["Backup prepared?"] == len(invocations)
    # scan: 600 users + 600 memberships; users: 600 users again; 149 items per invocation at most
    assert len(invocations) >= (3 * USERS) // ITEMS_PER_INVOCATION
    # One ranged GET per continuation, and one where the users stage starts reading the users list again.
    assert len(ranges) == len(invocations) and all(r.startswith("bytes=") and r.endswith("-") for r in ranges)

    # Counts add up: every user restored once, every membership.
    counts = result.output["counts"]
    assert counts["users"] == {"backup": USERS, "restored": USERS, "skipped": 0, "failed": 0}
    assert counts["memberships"] == {"backup": USERS, "restored": USERS, "skipped": 0, "failed": 0}
    cognito = stack.client("cognito-idp")
    pool_id = result.output["new_user_pool_id"]
    names = [
        u["Username"]
        for page in cognito.get_paginator("list_users").paginate(UserPoolId=pool_id)
        for u in page["Users"]
    ]
    assert len(names) == len(set(names)) == USERS

    # The first chunk files hold the users who can sign in (enabled, CONFIRMED), chunk files full.
    bucket = stack.outputs["WorkBucketName"]
    plan = json.loads(s3.get_object(Bucket=bucket, Key="restores/big-backup/plan/prepared.json")["Body"].read())
    manifest = json.loads(s3.get_object(Bucket=bucket, Key=plan["users_manifest_key"])["Body"].read())
    classes = []
    for entry in manifest:
        items = json.loads(s3.get_object(Bucket=bucket, Key=entry["key"])["Body"].read())
        assert len(items) == entry["count"]
        classes.append({u["enabled"] and u["status"] == "CONFIRMED" for u in items})
    assert all(len(c) == 1 for c in classes), "no chunk file mixes the two classes"
    flags = [c.pop() for c in classes]
    assert flags == sorted(flags, reverse=True) and flags[0] and not flags[-1]
    sizes = [entry["count"] for entry in manifest]
    split = flags.index(False)
    assert all(size == 50 for size in sizes[: split - 1] + sizes[split:-1])  # only each class's last is partial

    # A second run of the finished restore prepares nothing again.
    before = len(stack.invocations)
    again = stack.run({"user_pool_id": backup.pool_id, "restore_id": "big-backup"})
    assert again.status == "SUCCEEDED", (again.error, again.cause)
    assert [n for n, _ in stack.invocations[before:]].count("PrepareBackupFunction") == 1
