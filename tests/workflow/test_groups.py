"""Groups at Cognito's scale: CreateGroup runs at 5/s into one pool, so 10,000 groups outlast one Lambda
invocation. The groups task hands back a continuation when its time runs low and the state machine's
"Groups restored?" loop calls it again; a crash before a checkpoint redoes a few groups, never twice.

The Lambda time is made short by the context (each remaining-time check of a groups invocation costs
one virtual second): nothing sleeps.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any
from unittest import mock

from tests.workflow.conftest import make_backup, runs_low_on_time
from tools.emulation import LambdaCrash, RestoreStack
from tools.sample_pool import SamplePoolSpec

GROUPS = 45
PER_INVOCATION = 8  # groups one invocation handles before its (virtual) time runs low


def _all_groups(stack: RestoreStack, pool_id: str) -> list[dict[str, Any]]:
    pages = stack.client("cognito-idp").get_paginator("list_groups").paginate(UserPoolId=pool_id)
    return [group for page in pages for group in page["Groups"]]


def _short_lived_groups_tasks(stack: RestoreStack) -> Any:
    from cognito_restore.chunks import TIME_RESERVE_MS

    return runs_low_on_time(stack, "RestoreGroupsFunction", TIME_RESERVE_MS, PER_INVOCATION)  # one look per group


def test_more_groups_than_one_invocation_can_create_are_restored_once_by_continuations(
    stack: RestoreStack, source_cognito: Any
) -> None:
    source = make_backup(stack, source_cognito, SamplePoolSpec(users=20, groups=GROUPS))
    backed_up = {g["GroupName"]: g for g in source.backup["groups"]}
    assert len(backed_up) == GROUPS
    request = {"user_pool_id": source.pool_id, "restore_id": "many-groups"}

    import cognito_restore.groups as groups_module

    built = {"count": 0}
    original_build = groups_module.group_request

    def crash_once(group: dict[str, Any], pool_id: str) -> Any:
        built["count"] += 1
        if built["count"] == 13:  # groups 9-12 of the 2nd invocation exist, its last checkpoint is at 8
            raise LambdaCrash()
        return original_build(group, pool_id)

    from cognito_restore.pacing import Pacer

    paced: Counter[str] = Counter()
    original_before = Pacer.before

    def count_paced(pacer: Pacer, operation: str) -> None:
        paced[operation] += 1
        original_before(pacer, operation)

    with (
        _short_lived_groups_tasks(stack),
        mock.patch.object(groups_module, "group_request", crash_once),
        mock.patch.object(Pacer, "before", count_paced),
    ):
        result = stack.run(request)

    assert result.status == "SUCCEEDED", (result.error, result.cause)
    pool_id = result.output["new_user_pool_id"]
    restored = _all_groups(stack, pool_id)
    names = [g["GroupName"] for g in restored]
    assert len(names) == len(set(names)) == GROUPS and set(names) == set(backed_up)
    for group in restored:
        old = backed_up[group["GroupName"]]
        for field in ("Description", "Precedence", "RoleArn"):
            assert group.get(field) == old.get(field), (group["GroupName"], field)

    # The loop ran: ceil(45 / 8) = 6 rounds of "Restore groups", each followed by "Groups restored?".
    entered = Counter(result.states_entered())
    rounds = -(-GROUPS // PER_INVOCATION)
    assert entered["Restore groups"] == entered["Groups restored?"] == rounds
    assert [e["stateEnteredEventDetails"]["name"] for e in result.events("ChoiceStateEntered")].count(
        "Groups restored?"
    ) == rounds
    invocations = [name for name, _ in stack.invocations if name == "RestoreGroupsFunction"]
    assert len(invocations) == rounds + 1  # the crashed invocation was retried
    task_failures = [e for e in result.events("TaskFailed") if "Runtime.ExitError" in str(e)]
    assert len(task_failures) == 1

    # Every CreateGroup waited for its quota share: 12 before the crash, then 37 from the checkpoint at 8.
    assert paced["CreateGroup"] == 12 + (GROUPS - 8)

    # Counted once each although the retry met groups 9-12 again (GroupExistsException).
    counts = result.output["counts"]["groups"]
    assert counts["backup"] == counts["restored"] == GROUPS and counts["failed"] == counts["skipped"] == 0
    store = stack.client("s3")
    bucket = stack.outputs["WorkBucketName"]

    saved = json.loads(store.get_object(Bucket=bucket, Key="restores/many-groups/results/groups.json")["Body"].read())
    assert sorted(saved["restored"]) == sorted(backed_up)  # no name twice

    # Running the same restore again creates nothing: the finished phase returns at once.
    before = len(stack.invocations)
    with mock.patch.object(groups_module, "group_request", side_effect=AssertionError("no group rebuilt")):
        again = stack.run(request)
    assert again.status == "SUCCEEDED", (again.error, again.cause)
    assert [n for n, _ in stack.invocations[before:]].count("RestoreGroupsFunction") == 1
    assert again.output["counts"]["groups"]["restored"] == GROUPS
    assert len(_all_groups(stack, pool_id)) == GROUPS
