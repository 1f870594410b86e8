"""Loud on loss: a chunk that dies mid-way while the Distributed Map does not fail never ends SUCCEEDED.

The Map's tolerated-failure check is switched off (moto's own behaviour, or any at-least-once surprise
on AWS), so the run reaches "Verify restored pool" with a chunk that has no result file. Verification
compares the pool itself with the plan and fails with RestoreIncomplete and the counts; a redrive or a
second start with the same restore id re-runs the unfinished chunk and leaves one pool with every user.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from unittest import mock

import pytest

from cognito_restore.pacing import MAX_THREADS
from tests.workflow.conftest import SourceBackup, make_backup
from tools.emulation import LambdaCrash, RestoreStack
from tools.sample_pool import SamplePoolSpec


@pytest.fixture
def lenient_map() -> Iterator[None]:
    """A Map that carries on past a failed item, as moto does without the emulator's check."""
    with mock.patch("tools.emulation.stepfunctions._enforce_tolerated_failures", lambda env, record: None):
        yield


@pytest.fixture
def chunk_1_dies_after_20_users() -> Iterator[dict[str, bool]]:
    """Every attempt at chunk 1 dies (Runtime.ExitError) at its 21st user, until switched off."""
    from cognito_restore.users import UserPlan

    original = UserPlan.from_item.__func__
    control = {"crashing": True}

    def from_item(cls: type, item: dict) -> Any:
        plan = original(cls, item)
        if control["crashing"] and plan.old_username == control.get("victim"):
            raise LambdaCrash()
        return plan

    with mock.patch.object(UserPlan, "from_item", classmethod(from_item)):
        yield control


def _pool_usernames(stack: RestoreStack, pool_id: str) -> list[str]:
    cognito = stack.client("cognito-idp")
    return [
        u["Username"]
        for page in cognito.get_paginator("list_users").paginate(UserPoolId=pool_id)
        for u in page["Users"]
    ]


def _report(stack: RestoreStack, restore_id: str) -> dict[str, Any]:
    body = stack.client("s3").get_object(
        Bucket=stack.outputs["WorkBucketName"], Key=f"restores/{restore_id}/report.json"
    )["Body"]
    return json.loads(body.read())


def _crashing_source(stack: RestoreStack, cognito: Any, control: dict) -> SourceBackup:
    source = make_backup(stack, cognito, SamplePoolSpec(users=200, groups=4))
    # Users who can sign in fill the first chunk files (chunk size 50), the others come after.
    can_sign_in = [u["Username"] for u in source.backup["users"] if u["Enabled"] and u["UserStatus"] == "CONFIRMED"]
    assert len(can_sign_in) >= 100
    control["victim"] = can_sign_in[50 + 20]  # chunk 1 (sign-in users 50-99): 20 created, then it dies
    control["chunks"] = -(-len(can_sign_in) // 50) + -(-(200 - len(can_sign_in)) // 50)
    return source


def _assert_incomplete(stack: RestoreStack, result: Any, restore_id: str) -> int:
    assert result.status == "FAILED", "a run with a lost chunk must not succeed"
    assert result.error == "RestoreIncomplete"
    assert "of 200 planned users" in result.cause and "users 50" in result.cause, result.cause
    assert [run["itemCounts"]["failed"] for run in result.map_runs] == [1]  # the Map itself did not fail
    report = _report(stack, restore_id)
    assert report["outcome"]["status"] == "incomplete"
    assert report["outcome"]["missing"]["users"] == 50  # the whole chunk: its result file is missing
    assert report["outcome"]["missing"]["memberships"] > 0
    users = report["counts"]["users"]
    assert users["restored"] + users["skipped"] + users["failed"] == 200
    assert users["restored"] == 150
    failure = [a for a in stack.alerts() if (a["subject"] or "").startswith("Cognito DR restore FAILED")][-1]
    assert "RestoreIncomplete" in failure["message"]
    assert not any((a["subject"] or "").startswith("Cognito DR restore complete") for a in stack.alerts())
    assert "ended FAILED" in stack.alerts()[-1]["message"]  # and EventBridge's execution-ended alert
    return users["restored"]


def test_a_lost_chunk_fails_the_restore_and_starting_again_restores_every_user(
    stack: RestoreStack, source_cognito: Any, lenient_map: None, chunk_1_dies_after_20_users: dict
) -> None:
    control = chunk_1_dies_after_20_users
    source = _crashing_source(stack, source_cognito, control)
    request = {"user_pool_id": source.pool_id, "restore_id": "lost-chunk"}

    first = stack.run(request)
    _assert_incomplete(stack, first, "lost-chunk")
    pools = stack.client("cognito-idp").list_user_pools(MaxResults=60)["UserPools"]
    assert len(pools) == 1
    # every chunk but 1, 20 users of chunk 1, and the users its other workers had in flight (in-task concurrency)
    assert 170 <= len(_pool_usernames(stack, pools[0]["Id"])) < 170 + MAX_THREADS

    control["crashing"] = False
    second = stack.run(request)

    assert second.status == "SUCCEEDED", (second.error, second.cause)
    assert [p["Id"] for p in stack.client("cognito-idp").list_user_pools(MaxResults=60)["UserPools"]] == [
        second.output["new_user_pool_id"]
    ]
    names = _pool_usernames(stack, second.output["new_user_pool_id"])
    assert sorted(names) == sorted(u["Username"] for u in source.backup["users"])
    assert _report(stack, "lost-chunk")["outcome"]["status"] == "complete"
    assert stack.alerts()[-1]["subject"] == f"Cognito DR restore complete: {second.output['new_user_pool_id']}"


def test_a_lost_chunk_is_re_run_by_a_redrive(
    stack: RestoreStack, source_cognito: Any, lenient_map: None, chunk_1_dies_after_20_users: dict
) -> None:
    control = chunk_1_dies_after_20_users
    source = _crashing_source(stack, source_cognito, control)

    first = stack.run({"user_pool_id": source.pool_id, "restore_id": "lost-chunk-redrive"})
    _assert_incomplete(stack, first, "lost-chunk-redrive")
    control["crashing"] = False
    chunk_calls_before = sum(1 for name, _ in stack.invocations if name == "RestoreUsersFunction")
    redriven = stack.wait(stack.redrive(first.arn))

    assert redriven.status == "SUCCEEDED", (redriven.error, redriven.cause)
    entered = redriven.states_entered()
    # The sign-up window closed with the triggers attached and the restore has UNCONFIRMED users: the
    # redrive resumes at "Create user pool", which reopens it; the phases before the users Map find
    # their work done (docs/cognito-behaviours.md §2.5).
    assert entered[:3] == ["Restore failed", "Resume at the failed phase", "Create user pool"]
    assert entered.count("Restore users and memberships") == 1 and "Find latest backup" not in entered
    # All chunks are invoked again; the finished ones return at once from their result files.
    again = sum(1 for name, _ in stack.invocations if name == "RestoreUsersFunction") - chunk_calls_before
    assert again == control["chunks"]
    names = _pool_usernames(stack, redriven.output["new_user_pool_id"])
    assert sorted(names) == sorted(u["Username"] for u in source.backup["users"])


def test_a_transient_cognito_refusal_fails_the_chunk_instead_of_losing_the_user(
    stack: RestoreStack, source_cognito: Any
) -> None:
    """InternalErrorException is no fault of the user's data: recording the user as failed would lose it
    for good (the chunk would be finished). The chunk fails instead, and starting again restores it."""
    from moto.cognitoidp.responses import CognitoIdpResponse
    from moto.core.exceptions import JsonRESTError

    source = make_backup(stack, source_cognito, SamplePoolSpec(users=60, groups=3))
    victim = source.backup["users"][55]["Username"]
    original = CognitoIdpResponse.admin_create_user
    control = {"failing": True}

    def admin_create_user(response: Any) -> Any:
        if control["failing"] and response.region == stack.region and response._get_param("Username") == victim:
            raise JsonRESTError("InternalErrorException", "Internal error")
        return original(response)

    request = {"user_pool_id": source.pool_id, "restore_id": "transient-refusal"}
    with mock.patch.object(CognitoIdpResponse, "admin_create_user", admin_create_user):
        first = stack.run(request)
        control["failing"] = False
        second = stack.run(request)

    assert first.status == "FAILED" and first.error == "RestoreFailed"  # the users Map failed
    assert second.status == "SUCCEEDED", (second.error, second.cause)
    assert victim in _pool_usernames(stack, second.output["new_user_pool_id"])
    report = _report(stack, "transient-refusal")
    assert report["counts"]["users"] == {"backup": 60, "restored": 60, "skipped": 0, "failed": 0}


def _incomplete_alert(stack: RestoreStack) -> str:
    return [a for a in stack.alerts() if (a["subject"] or "").startswith("Cognito DR restore FAILED")][-1]["message"]


def test_a_user_deleted_from_a_finished_chunk_is_recreated_by_a_redrive(
    stack: RestoreStack, source_cognito: Any
) -> None:
    """The user's chunk reported it restored (its result file says done), yet it is absent from the pool.
    Verification names it, marks that chunk's result stale and says so: the redrive re-runs that chunk,
    which finds its other users and recreates the absent one. SUCCEEDED with every user, one pool."""
    source = make_backup(stack, source_cognito, SamplePoolSpec(users=120, groups=3))
    request = {"user_pool_id": source.pool_id}
    first = stack.run(request)
    assert first.status == "SUCCEEDED", (first.error, first.cause)
    pool_id, restore_id = first.output["new_user_pool_id"], first.output["restore_id"]
    victim = sorted(_pool_usernames(stack, pool_id))[0]
    victim_chunk = next(
        index
        for index in range(3)
        if victim
        in {
            i["new_username"]
            for i in json.loads(
                stack.client("s3")
                .get_object(
                    Bucket=stack.outputs["WorkBucketName"],
                    Key=f"restores/{restore_id}/results/users/chunk-{index:06d}.json",
                )["Body"]
                .read()
            )["ids"]
        }
    )
    stack.client("cognito-idp").admin_delete_user(UserPoolId=pool_id, Username=victim)

    again = stack.run(request)  # the same input: the same restore, verified again

    assert again.status == "FAILED" and again.error == "RestoreIncomplete", (again.error, again.cause)
    assert "users 1" in again.cause
    assert f"user chunks {victim_chunk} (1 of its users absent from the pool" in again.cause
    assert f"user chunks {victim_chunk} (" in _incomplete_alert(stack)
    report = _report(stack, restore_id)
    assert {"item": victim, "reason": "absent from the new pool although its chunk reported it restored"} in report[
        "categories"
    ]["users"]["failed_items"]
    assert [c["chunk"] for c in report["outcome"]["rerun"]["invalidated_chunks"]] == [victim_chunk]

    redriven = stack.wait(stack.redrive(again.arn))

    assert redriven.status == "SUCCEEDED", (redriven.error, redriven.cause)
    assert redriven.output["new_user_pool_id"] == pool_id
    assert sorted(_pool_usernames(stack, pool_id)) == sorted(u["Username"] for u in source.backup["users"])
    assert [p["Id"] for p in stack.client("cognito-idp").list_user_pools(MaxResults=60)["UserPools"]] == [pool_id]
    assert _report(stack, restore_id)["counts"]["users"]["restored"] == 120


def test_a_group_deleted_from_the_pool_is_recreated_with_its_members_by_a_redrive(
    stack: RestoreStack, source_cognito: Any
) -> None:
    """A group absent (with its memberships): RestoreIncompleteResources, recorded as a failure of "Restore
    resource servers"; the redrive resumes there, the groups phase (its result marked stale) creates the
    group again, and the chunks whose memberships are absent (their results marked stale) add them again."""
    source = make_backup(stack, source_cognito, SamplePoolSpec(users=120, groups=3))
    request = {"user_pool_id": source.pool_id, "restore_id": "deleted-group"}
    first = stack.run(request)
    assert first.status == "SUCCEEDED", (first.error, first.cause)
    pool_id = first.output["new_user_pool_id"]
    cognito = stack.client("cognito-idp")
    memberships = first.output["counts"]["memberships"]["restored"]
    group = next(
        g["GroupName"]
        for g in cognito.list_groups(UserPoolId=pool_id)["Groups"]
        if cognito.list_users_in_group(UserPoolId=pool_id, GroupName=g["GroupName"])["Users"]
    )
    cognito.delete_group(UserPoolId=pool_id, GroupName=group)

    again = stack.run(request)

    assert again.status == "FAILED" and again.error == "RestoreIncompleteResources", (again.error, again.cause)
    assert "groups 1" in again.cause and "Restore groups" in again.cause
    assert "a redrive resumes at 'Restore resource servers'" in again.cause
    assert "memberships absent from the pool" in again.cause

    redriven = stack.wait(stack.redrive(again.arn))

    assert redriven.status == "SUCCEEDED", (redriven.error, redriven.cause)
    entered = redriven.states_entered()
    assert entered[:3] == ["Restore failed", "Resume at the failed phase", "Restore resource servers"]
    assert "Create user pool" not in entered
    assert group in {g["GroupName"] for g in cognito.list_groups(UserPoolId=pool_id)["Groups"]}
    assert redriven.output["counts"]["memberships"]["restored"] == memberships
    assert _report(stack, "deleted-group")["outcome"]["status"] == "complete"
