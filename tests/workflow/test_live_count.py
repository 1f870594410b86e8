"""A plan too large for "Verify restored pool" to list by name (verification.LIST_LIMIT, made small here):
"Count the restored pool" counts the new pool live first, over several invocations, and verification
compares those counts with the chunk results (cognito_restore/live_count.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from unittest import mock

import pytest

from cognito_restore.verification import COUNTED_ABSENT
from tests.workflow.conftest import make_backup, runs_low_on_time
from tests.workflow.test_state_contract import check_execution, recorded_invocations
from tools.emulation import RestoreStack
from tools.sample_pool import SamplePoolSpec


@pytest.fixture
def small_list_limit() -> Iterator[None]:
    """The verify phase lists by name only plans of at most 100 users + memberships."""
    with mock.patch("cognito_restore.verification.LIST_LIMIT", 100):
        yield


def _report(stack: RestoreStack, result: Any) -> dict[str, Any]:
    """The report of the execution (a failed one has no output: its report is the newest written)."""
    s3, bucket = stack.client("s3"), stack.outputs["WorkBucketName"]
    if result.output:
        key = f"restores/{result.output['restore_id']}/report.json"
    else:
        listed = s3.list_objects_v2(Bucket=bucket, Prefix="restores/")["Contents"]
        key = max((o for o in listed if o["Key"].endswith("/report.json")), key=lambda o: o["LastModified"])["Key"]
    report: dict[str, Any] = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    return report


def _pool_size(stack: RestoreStack, pool_id: str) -> int:
    pages = stack.client("cognito-idp").get_paginator("list_users").paginate(UserPoolId=pool_id)
    return sum(len(page["Users"]) for page in pages)


def test_a_large_plan_is_counted_live_over_several_invocations_and_verified(
    stack: RestoreStack, source_cognito: Any, small_list_limit: None
) -> None:
    source = make_backup(stack, source_cognito, SamplePoolSpec(users=150, groups=3))

    with (
        recorded_invocations(stack) as calls,
        runs_low_on_time(stack, "CountRestoredPoolFunction", 60_000, 2),  # a page or two per invocation
    ):
        result = stack.run({"user_pool_id": source.pool_id})

    assert result.status == "SUCCEEDED", (result.error, result.cause)
    check_execution(stack, result, calls)  # the new states and the count keep to the state contract
    counts = [name for name, _ in stack.invocations if name == "CountRestoredPoolFunction"]
    assert len(counts) >= 3, counts  # 3 ListUsers pages, ListGroups, 3 groups' members: a continuation loop
    entered = result.states_entered()
    assert entered.index("Start counting the restored pool") < entered.index("Verify restored pool")
    report = _report(stack, result)
    restored = report["counts"]["users"]["restored"]
    assert restored == _pool_size(stack, result.output["new_user_pool_id"]) > 100
    assert report["verification"]["users"] == {"expected": restored, "found": restored, "ok": True}
    memberships = report["verification"]["memberships"]
    assert memberships["ok"] and memberships["found"] == memberships["expected"] > 0
    assert report["outcome"]["live_users"].startswith(f"counted: {restored} users in the pool")


def test_a_small_plan_is_listed_by_name_and_never_counted(stack: RestoreStack, source_cognito: Any) -> None:
    source = make_backup(stack, source_cognito, SamplePoolSpec(users=20, groups=3))

    result = stack.run({"user_pool_id": source.pool_id})

    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert "Start counting the restored pool" not in result.states_entered()
    assert _report(stack, result)["outcome"]["live_users"].startswith("listed: ")


def test_a_user_missing_from_the_count_fails_the_restore_and_a_sync_recreates_it(
    stack: RestoreStack, source_cognito: Any, small_list_limit: None
) -> None:
    """A restored user deleted before the count (its chunk said restored): the count is short by one, the
    restore fails RestoreIncomplete with the numbers adding up and the manual step; the sync it names
    writes the missing user back."""
    source = make_backup(stack, source_cognito, SamplePoolSpec(users=150, groups=3))
    deleted: list[str] = []

    def delete_one_user_first(function: str, event: dict[str, Any]) -> None:
        if function == "CountRestoredPoolFunction" and not deleted:
            cognito, pool_id = stack.client("cognito-idp"), event["state"]["pool"]["id"]
            victim = cognito.list_users(UserPoolId=pool_id, Limit=1)["Users"][0]["Username"]
            cognito.admin_delete_user(UserPoolId=pool_id, Username=victim)
            deleted.append(victim)

    stack.on_invoke(delete_one_user_first)
    result = stack.run({"user_pool_id": source.pool_id})
    stack.on_invoke(None)

    assert deleted and result.status == "FAILED" and result.error == "RestoreIncomplete", (result.error, result.cause)
    report = _report(stack, result)
    users = report["counts"]["users"]
    assert users["restored"] + users["skipped"] + users["failed"] == len(source.backup["users"])
    assert {"item": "restored user 1 of 1 the live count did not find", "reason": COUNTED_ABSENT} in report[
        "categories"
    ]["users"]["failed_items"]
    assert report["outcome"]["missing"]["users"] == 1
    assert report["outcome"]["unrestorable"] == 0  # missing, not unrestorable: a sync brings it back
    pool_id = report["new_pool"]["id"]
    assert any("start a sync of the same backup" in step for step in report["manual_steps"])

    synced = stack.run({"user_pool_id": source.pool_id, "mode": "sync", "target_user_pool_id": pool_id})

    assert synced.status == "SUCCEEDED", (synced.error, synced.cause)
    listed = {
        u["Username"]
        for page in stack.client("cognito-idp").get_paginator("list_users").paginate(UserPoolId=pool_id)
        for u in page["Users"]
    }
    assert len(listed) == users["restored"] + 1
    assert _report(stack, synced)["sync_users"]["created"] == 1
