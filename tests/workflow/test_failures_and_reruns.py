"""Failing phases end the execution FAILED with an alert naming phase and cause; re-runs create nothing twice."""

from __future__ import annotations

from typing import Any
from unittest import mock

from moto.cognitoidp.exceptions import InvalidParameterException
from moto.cognitoidp.models import CognitoIdpBackend

from tests.workflow.conftest import make_backup
from tools.emulation import RestoreStack
from tools.sample_pool import SamplePoolSpec


def _pools(stack: RestoreStack) -> list[dict[str, Any]]:
    return stack.client("cognito-idp").list_user_pools(MaxResults=60)["UserPools"]


def test_no_backup_found_fails_with_an_alert_naming_the_phase(stack: RestoreStack) -> None:
    result = stack.run({"user_pool_id": "us-east-1_NoSuchPool1"})

    assert result.status == "FAILED"
    assert result.error == "BackupNotFound"
    [alert, ended] = stack.alerts()  # the phase's alert, then EventBridge's "execution ended FAILED"
    assert ended["subject"] is None and "ended FAILED" in ended["message"]
    assert alert["subject"] == "Cognito DR restore FAILED: Find latest backup"
    assert "phase 'Find latest backup'" in alert["message"]
    assert "No backup of user pool us-east-1_NoSuchPool1" in alert["message"]
    assert _pools(stack) == []


def test_invalid_input_fails_before_anything_is_created(stack: RestoreStack) -> None:
    result = stack.run({"pool": "us-east-1_Abc"})

    assert result.status == "FAILED"
    assert result.error == "InvalidInput"
    assert "user_pool_id" in stack.alerts()[0]["message"]


def test_cognito_error_while_creating_the_pool_fails_with_the_cause(stack: RestoreStack, source_cognito: Any) -> None:
    source = make_backup(stack, source_cognito, SamplePoolSpec(users=10, groups=3))
    refuse = InvalidParameterException("The pool quota of this Region is reached")
    original = CognitoIdpBackend.create_user_pool

    def create_user_pool(backend: CognitoIdpBackend, name: str, extended_config: dict) -> Any:
        if backend.region_name == stack.region:
            raise refuse
        return original(backend, name, extended_config)

    with mock.patch.object(CognitoIdpBackend, "create_user_pool", create_user_pool):
        result = stack.run({"user_pool_id": source.pool_id})

    assert result.status == "FAILED"
    assert result.error == "InvalidParameterException"
    alerts = stack.alerts()
    assert [a["subject"] for a in alerts] == [
        f"Cognito DR restore started for {source.pool_id}",
        "Cognito DR restore FAILED: Create user pool",
        None,  # EventBridge: the execution ended FAILED
    ]
    assert "InvalidParameterException" in alerts[1]["message"]
    assert "The pool quota of this Region is reached" in alerts[1]["message"]
    assert "Create user pool" in result.cause
    assert _pools(stack) == []


def test_running_the_same_restore_twice_leaves_one_pool_and_no_duplicates(
    stack: RestoreStack, source_cognito: Any
) -> None:
    source = make_backup(stack, source_cognito, SamplePoolSpec(users=120, groups=4))
    request = {"user_pool_id": source.pool_id, "restore_id": "drill-2026-11-26"}

    first = stack.run(request)
    second = stack.run(request)

    assert first.status == second.status == "SUCCEEDED", (second.error, second.cause)
    assert first.output["new_user_pool_id"] == second.output["new_user_pool_id"]
    assert len(_pools(stack)) == 1
    cognito = stack.client("cognito-idp")
    pool_id = first.output["new_user_pool_id"]
    users = [
        u["Username"]
        for page in cognito.get_paginator("list_users").paginate(UserPoolId=pool_id)
        for u in page["Users"]
    ]
    assert len(users) == len(set(users)) == 120
    clients = cognito.list_user_pool_clients(UserPoolId=pool_id, MaxResults=60)["UserPoolClients"]
    assert sorted(c["ClientName"] for c in clients) == sorted(c["ClientName"] for c in source.backup["app_clients"])
    assert second.output["counts"]["users"]["restored"] == 120


def test_a_crash_between_create_and_ledger_finds_the_pool_again(stack: RestoreStack, source_cognito: Any) -> None:
    """CreateUserPool succeeded but the task died before binding the pool: the retry must not create another."""
    source = make_backup(stack, source_cognito, SamplePoolSpec(users=5, groups=3))
    calls = {"CreatePoolFunction": 0}
    original_bind = None

    from cognito_restore import ledger as ledger_module

    original_bind = ledger_module.Ledger.bind_pool

    def bind_once_then_crash(self: Any, restore_id: str, new_pool_id: str) -> str:
        calls["CreatePoolFunction"] += 1
        if calls["CreatePoolFunction"] == 1:
            raise RuntimeError("simulated crash after CreateUserPool")
        return original_bind(self, restore_id, new_pool_id)

    with mock.patch.object(ledger_module.Ledger, "bind_pool", bind_once_then_crash):
        first = stack.run({"user_pool_id": source.pool_id, "restore_id": "crash-test"})
    assert first.status == "FAILED"
    second = stack.run({"user_pool_id": source.pool_id, "restore_id": "crash-test"})

    assert second.status == "SUCCEEDED", (second.error, second.cause)
    assert len(_pools(stack)) == 1
    # The run that found the pool again still set the MFA configuration the crash skipped.
    mfa = stack.client("cognito-idp").get_user_pool_mfa_config(UserPoolId=second.output["new_user_pool_id"])
    assert mfa["MfaConfiguration"] == source.backup["user_pool_config"]["MfaConfiguration"] == "OPTIONAL"


def test_a_preparation_saved_before_backup_timestamp_existed_is_reused_with_it(
    stack: RestoreStack, source_cognito: Any
) -> None:
    """A prepared.json written by an earlier version (no backup_timestamp) is reused by a re-run: the started
    alert, which formats the timestamp, must not fail the execution (States.Runtime)."""
    import json

    from tools.emulation import LambdaCrash

    source = make_backup(stack, source_cognito, SamplePoolSpec(users=5, groups=3))
    request = {"user_pool_id": source.pool_id, "restore_id": "old-preparation"}

    def crash_creating_the_pool(name: str, event: dict) -> None:
        if name == "CreatePoolFunction":
            raise LambdaCrash()

    stack.on_invoke(crash_creating_the_pool)
    assert stack.run(request).status == "FAILED"
    stack.on_invoke(None)
    s3, bucket, key = stack.client("s3"), stack.outputs["WorkBucketName"], "restores/old-preparation/plan/prepared.json"
    prepared = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    del prepared["backup_timestamp"]
    s3.put_object(Bucket=bucket, Key=key, Body=json.dumps(prepared).encode())

    second = stack.run(request)

    assert second.status == "SUCCEEDED", (second.error, second.cause)
    started = [a for a in stack.alerts() if (a["subject"] or "").startswith("Cognito DR restore started")][-1]
    assert " taken 20" in started["message"] and "(from the backup key)" in started["message"]
