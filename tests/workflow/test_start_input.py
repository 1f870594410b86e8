"""One input schema: the trigger function passes every option through; bad input stops before anything is created."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.workflow.conftest import make_backup
from tools.emulation import RestoreStack
from tools.sample_pool import SamplePoolSpec


def _ledger_items(stack: RestoreStack) -> list[dict[str, Any]]:
    return stack.client("dynamodb").scan(TableName=stack.outputs["RestoreLedgerTableName"])["Items"]


def _executions(stack: RestoreStack) -> list[dict[str, Any]]:
    return stack.client("stepfunctions").list_executions(stateMachineArn=stack.state_machine_arn())["executions"]


def test_the_trigger_passes_every_option_through(stack: RestoreStack, source_cognito: Any) -> None:
    source = make_backup(stack, source_cognito, SamplePoolSpec(users=12, groups=3))
    arn_map = {"us-east-1": stack.region}
    event = {
        "user_pool_id": source.pool_id,
        "backup_key": source.key,
        "restore_id": "trigger-options",
        "arn_map": arn_map,
        "preserve_old_sub": True,
        "keep_client_secrets": False,
    }

    started = stack.invoke("StartRestoreFunction", event)
    result = stack.wait(started["execution_arn"])

    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert started["restore_id"] == "trigger-options"
    sfn = stack.client("stepfunctions")
    assert json.loads(sfn.describe_execution(executionArn=started["execution_arn"])["input"]) == event
    find_backup = next(e for e in result.history if e["type"] == "TaskSucceeded")  # the first phase
    restore = json.loads(find_backup["taskSucceededEventDetails"]["output"])["Payload"]["restore"]
    assert restore["arn_map"] == arn_map
    assert restore["preserve_old_sub"] is True and restore["keep_client_secrets"] is False
    # preserve_old_sub reached the pool: the schema has the attribute and users carry their old sub.
    pool_id = result.output["new_user_pool_id"]
    cognito = stack.client("cognito-idp")
    schema = cognito.describe_user_pool(UserPoolId=pool_id)["UserPool"]["SchemaAttributes"]
    assert "custom:dr_old_sub" in {a["Name"] for a in schema}
    user = cognito.list_users(UserPoolId=pool_id, Limit=1)["Users"][0]
    assert "custom:dr_old_sub" in {a["Name"] for a in user["Attributes"]}


def test_the_trigger_refuses_an_unknown_key_before_starting_anything(stack: RestoreStack) -> None:
    with pytest.raises(Exception) as refused:
        stack.invoke("StartRestoreFunction", {"user_pool_id": "us-east-1_AbCdEf123", "preserve_old_subs": True})

    assert type(refused.value).__name__ == "InvalidInput"
    assert "unknown key(s) 'preserve_old_subs'" in str(refused.value)
    assert "preserve_old_sub" in str(refused.value)  # the keys it accepts are listed
    assert _executions(stack) == []


def test_the_trigger_refuses_a_mistyped_option(stack: RestoreStack) -> None:
    with pytest.raises(Exception) as refused:
        stack.invoke("StartRestoreFunction", {"user_pool_id": "us-east-1_AbCdEf123", "dry_run": "false"})

    assert type(refused.value).__name__ == "InvalidInput"
    assert "dry_run must be true or false" in str(refused.value)
    assert _executions(stack) == []


def test_an_unknown_key_fails_the_first_phase_before_anything_is_created(
    stack: RestoreStack, source_cognito: Any
) -> None:
    source = make_backup(stack, source_cognito, SamplePoolSpec(users=5, groups=3))

    result = stack.run({"user_pool_id": source.pool_id, "contact": "jane.doe@example.com", "dryrun": True})

    assert result.status == "FAILED"
    assert result.error == "InvalidInput"
    assert "unknown key(s) 'contact', 'dryrun'" in result.cause
    [alert, ended] = stack.alerts()  # the phase's alert, then EventBridge's "execution ended FAILED"
    assert ended["subject"] is None and "jane.doe" not in ended["message"]
    assert alert["subject"] == "Cognito DR restore FAILED: Find latest backup"
    assert "'contact', 'dryrun'" in alert["message"]
    # A value may be personal data: the error and the alert name keys, never values.
    assert "jane.doe" not in result.cause and all("jane.doe" not in a["message"] for a in stack.alerts())
    assert _ledger_items(stack) == []
    assert stack.client("cognito-idp").list_user_pools(MaxResults=10)["UserPools"] == []
