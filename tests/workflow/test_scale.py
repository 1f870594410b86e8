"""Scale: 5,000 users in 20 chunks through the real workflow, with the fewest Cognito calls per user."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.synthetic import SyntheticBackup, SyntheticSpec, upload_backup, write_backup_file
from tests.workflow.conftest import DR_REGION, UNPACED
from tools.emulation import RestoreStack

USERS = 5000
CHUNK_SIZE = 250


@pytest.fixture
def scale_stack() -> Iterator[RestoreStack]:
    """The restore stack with 250-user chunks (5,000 users -> 20 Map items) and quotas that never wait."""
    with RestoreStack(
        region=DR_REGION, parameters={"UserChunkSize": str(CHUNK_SIZE), "Environment": "test", **UNPACED}
    ) as deployed:
        yield deployed


@pytest.fixture
def big_backup(tmp_path: Path) -> SyntheticBackup:
    """Every restorable status, disabled users, 70 groups (10 missing from `groups`, as the producer writes)."""
    spec = SyntheticSpec(
        users=USERS,
        groups=70,
        groups_per_user=1,
        disabled=0.03,
        status_mix={"CONFIRMED": 80, "FORCE_CHANGE_PASSWORD": 10, "UNCONFIRMED": 5, "RESET_REQUIRED": 5},
    )
    return write_backup_file(spec, tmp_path / "backup.json")


def _can_sign_in(backup: SyntheticBackup) -> int:
    with open(backup.path, "rb") as handle:
        users = json.load(handle)["users"]
    return sum(1 for u in users if u["Enabled"] and u["UserStatus"] == "CONFIRMED")


def test_5000_users_in_20_chunks_with_the_fewest_calls(scale_stack: RestoreStack, big_backup: SyntheticBackup) -> None:
    assert set(big_backup.status_counts) == {"CONFIRMED", "FORCE_CHANGE_PASSWORD", "UNCONFIRMED", "RESET_REQUIRED"}
    assert big_backup.disabled > 0
    upload_backup(scale_stack.client("s3"), scale_stack.outputs["BackupBucketName"], big_backup)

    result = scale_stack.run({"user_pool_id": big_backup.pool_id})

    assert result.status == "SUCCEEDED", (result.error, result.cause)
    counts = result.output["counts"]
    assert counts["users"] == {"backup": USERS, "restored": USERS, "skipped": 0, "failed": 0}
    assert counts["memberships"] == {"backup": USERS, "restored": USERS, "skipped": 0, "failed": 0}
    assert counts["groups"]["restored"] == 70

    [users_run] = result.map_runs
    # Users who can sign in (enabled, CONFIRMED) fill the first chunk files, the others the later ones.
    chunks = -(-_can_sign_in(big_backup) // CHUNK_SIZE) + -(-(USERS - _can_sign_in(big_backup)) // CHUNK_SIZE)
    assert chunks == USERS // CHUNK_SIZE + 1
    assert users_run["itemCounts"]["total"] == chunks
    assert users_run["itemCounts"]["succeeded"] == chunks
    assert users_run["itemCounts"]["failed"] == 0
    assert sum(1 for name, _ in scale_stack.invocations if name == "RestoreUsersFunction") == chunks

    bucket, key = result.output["report"].removeprefix("s3://").split("/", 1)
    report = json.loads(scale_stack.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())
    assert report["api_calls"] == big_backup.minimum_calls()
    assert report["throttled_calls"] == 0
    assert all(check["ok"] for check in report["verification"].values()), report["verification"]

    cognito = scale_stack.client("cognito-idp")
    pool_id = result.output["new_user_pool_id"]
    assert cognito.describe_user_pool(UserPoolId=pool_id)["UserPool"]["EstimatedNumberOfUsers"] == USERS
    members = [
        u
        for page in cognito.get_paginator("list_users_in_group").paginate(UserPoolId=pool_id, GroupName="group-0070")
        for u in page["Users"]
    ]
    assert len(members) == len(
        range(69, USERS, 70)
    )  # a group absent from the backup's `groups` list, created from memberships
