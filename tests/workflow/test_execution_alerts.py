"""Nothing ends silently: executions that end FAILED, TIMED_OUT or ABORTED alert through EventBridge.

A Catch on States.ALL catches neither States.Runtime nor States.DataLimitExceeded, and no state sees a
timeout or an abort. The template's ExecutionEndedRule (Step Functions Execution Status Change) publishes
to the alert topic; the emulator emits the event when an execution ends and evaluates the deployed rule,
its input transformer and the topic policy (tools/emulation/eventbridge.py).
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any
from unittest import mock

from tests.workflow.conftest import make_backup
from tools.emulation import RestoreStack
from tools.sample_pool import SamplePoolSpec, write_backup

ENDED = "Cognito DR restore execution {name} ended {status}"


def _ended_alerts(stack: RestoreStack) -> list[dict[str, Any]]:
    return [a for a in stack.alerts() if a["message"].startswith('"Cognito DR restore execution ')]


def _personal_data(backup: dict[str, Any]) -> set[str]:
    values = set()
    for user in backup["users"]:
        values.add(user["Username"])
        for attribute in user.get("Attributes", []):
            if attribute["Name"] in ("email", "phone_number", "name", "given_name", "family_name"):
                values.add(attribute["Value"])
    return values


def test_an_aborted_execution_alerts(stack: RestoreStack, source_cognito: Any) -> None:
    source = make_backup(stack, source_cognito, SamplePoolSpec(users=10, groups=3))
    sfn = stack.client("stepfunctions")

    def abort_during_create_pool(name: str, event: dict) -> None:
        if name == "CreatePoolFunction":
            [running] = sfn.list_executions(stateMachineArn=stack.state_machine_arn(), statusFilter="RUNNING")[
                "executions"
            ]
            sfn.stop_execution(executionArn=running["executionArn"], error="Operator", cause="stopped by hand")

    stack.on_invoke(abort_during_create_pool)
    result = stack.run({"user_pool_id": source.pool_id}, name="drill-abort")
    stack.on_invoke(None)

    assert result.status == "ABORTED"
    [alert] = _ended_alerts(stack)
    assert alert["subject"] is None  # an EventBridge SNS target sets no subject
    message = json.loads(alert["message"])  # the input transformer gives a JSON string
    assert message.startswith(ENDED.format(name="drill-abort", status="ABORTED"))
    assert result.arn in message
    assert "redrive-execution --execution-arn " + result.arn in message
    assert "same restore_id" in message
    assert not any(value in alert["message"] for value in _personal_data(source.backup))
    assert stack.execution_events.failed_invocations == []


def test_a_states_runtime_failure_no_catch_can_see_alerts(stack: RestoreStack, source_cognito: Any) -> None:
    """A phase returns a state without pool.name: "Alert pool ready" fails with States.Runtime, which its
    Catch on States.ALL does not catch; the execution ends FAILED without any failure alert of its own."""
    source = make_backup(stack, source_cognito, SamplePoolSpec(users=10, groups=3))
    create_pool = stack.lambda_runtime.handler(stack.lambda_runtime.function("CreatePoolFunction"))

    def nameless_pool(event: dict, context: Any) -> dict:
        state = copy.deepcopy(create_pool(event, context))
        del state["pool"]["name"]
        return state

    with mock.patch.dict(stack.lambda_runtime._modules, {"CreatePoolFunction": nameless_pool}):
        result = stack.run({"user_pool_id": source.pool_id}, name="drill-runtime")

    assert result.status == "FAILED"
    assert result.error == "States.Runtime"
    assert "Record failure" not in result.states_entered()  # the Catch did not see it
    assert not any(a["subject"] and "FAILED" in a["subject"] for a in stack.alerts())
    [alert] = _ended_alerts(stack)
    assert json.loads(alert["message"]).startswith(ENDED.format(name="drill-runtime", status="FAILED"))


def test_a_caught_failure_alerts_twice_the_cause_then_the_end(stack: RestoreStack) -> None:
    result = stack.run({"user_pool_id": "us-east-1_NoSuchPool1"}, name="drill-no-backup")

    assert result.status == "FAILED"
    subjects = [a["subject"] for a in stack.alerts()]
    assert subjects == ["Cognito DR restore FAILED: Find latest backup", None]
    assert json.loads(stack.alerts()[1]["message"]).startswith(ENDED.format(name="drill-no-backup", status="FAILED"))


def test_a_succeeded_execution_sends_no_end_alert(stack: RestoreStack, source_cognito: Any) -> None:
    source = make_backup(stack, source_cognito, SamplePoolSpec(users=10, groups=3))

    result = stack.run({"user_pool_id": source.pool_id})

    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert _ended_alerts(stack) == []


def test_without_the_topic_policy_eventbridge_cannot_deliver(stack: RestoreStack) -> None:
    topic = stack.outputs["AlertTopicArn"]
    with mock.patch.dict(stack.execution_events.topic_policies, {topic: []}):
        result = stack.run({"user_pool_id": "us-east-1_NoSuchPool1"})

    assert result.status == "FAILED"
    assert _ended_alerts(stack) == []
    [refused] = stack.execution_events.failed_invocations
    assert "topic policy" in refused["reason"]


def test_the_aws_managed_sns_key_would_lose_the_alert(stack: RestoreStack) -> None:
    topic = stack.outputs["AlertTopicArn"]
    with mock.patch.dict(stack.execution_events.topic_keys, {topic: "alias/aws/sns"}):
        stack.run({"user_pool_id": "us-east-1_NoSuchPool1"})

    assert _ended_alerts(stack) == []
    assert "aws/sns" in stack.execution_events.failed_invocations[0]["reason"]


def test_the_alert_key_lets_eventbridge_use_it_only_for_this_accounts_rule(stack: RestoreStack) -> None:
    """The key statement for events.amazonaws.com is conditioned on aws:SourceAccount and the rule's ARN:
    the alert still arrives, and a key policy naming another rule (or account) loses it."""
    topic = stack.outputs["AlertTopicArn"]
    key = stack.execution_events.topic_keys[topic]
    [statement] = [
        s
        for s in stack.execution_events.key_policies[key]
        if s.get("Principal", {}).get("Service") == "events.amazonaws.com"
    ]
    assert statement["Condition"]["StringEquals"] == {"aws:SourceAccount": stack.account_id}
    # this stack's two execution-ended rules (the backup one exists only with BackupPoolIds: none here)
    allowed = statement["Condition"]["ArnEquals"]["aws:SourceArn"]
    assert stack.execution_events.rules["cognito-dr-restore-execution-ended-test"] in allowed
    assert sorted(arn.rsplit("/", 1)[1] for arn in allowed) == [
        "cognito-dr-backup-execution-ended-test",
        "cognito-dr-restore-execution-ended-test",
    ]

    stack.run({"user_pool_id": "us-east-1_NoSuchPool1"})
    assert len(_ended_alerts(stack)) == 1

    other = copy.deepcopy(statement)
    other["Condition"]["StringEquals"]["aws:SourceAccount"] = "999999999999"
    policies = {k: [other if s is statement else s for s in v] for k, v in stack.execution_events.key_policies.items()}
    with mock.patch.dict(stack.execution_events.key_policies, policies):
        stack.run({"user_pool_id": "us-east-1_NoSuchPool2"})
    assert len(_ended_alerts(stack)) == 1
    assert "key policy" in stack.execution_events.failed_invocations[-1]["reason"]


def test_a_backup_without_timestamp_restores_and_says_when_from_its_key(
    stack: RestoreStack, source_cognito: Any
) -> None:
    """The optional backup timestamp never reaches States.Format as null: the producer gives a string."""
    source = make_backup(stack, source_cognito, SamplePoolSpec(users=5, groups=3))
    when = datetime(2026, 11, 30, 9, 15, 0, tzinfo=UTC)
    backup = {k: v for k, v in source.backup.items() if k != "timestamp"}
    key = write_backup(stack.client("s3"), stack.outputs["BackupBucketName"], backup, when)

    result = stack.run({"user_pool_id": source.pool_id, "backup_key": key})

    assert result.status == "SUCCEEDED", (result.error, result.cause)
    started = next(a for a in stack.alerts() if a["subject"].startswith("Cognito DR restore started"))
    assert "taken 2026-11-30T09:15:00Z (from the backup key)" in started["message"]
