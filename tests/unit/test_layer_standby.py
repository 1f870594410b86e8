"""The warm standby's queue (cognito_restore/standby.py): keys, names, and the conditional transitions."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from cognito_restore.execution_input import RestoreRequest
from cognito_restore.standby import StandbyConfig, StandbyQueue, backup_of, execution_arn, execution_name

POOL = "us-east-1_AbCdEf123"
SM = "arn:aws:states:us-west-2:123456789012:stateMachine:cognito-dr-restore-prod"


def _config(max_deletes: int = 0) -> StandbyConfig:
    return StandbyConfig(POOL, "us-west-2_Standby1", max_deletes, SM, "dr-bucket", "standby")


def _v1(hhmmss: str) -> str:
    return f"cognito-backup/2026/12/01/{POOL}-{hhmmss}.json"


class FakeStepFunctions:
    """StartExecution / DescribeExecution as Step Functions answers them (idempotent start while running)."""

    def __init__(self) -> None:
        self.executions: dict[str, dict[str, Any]] = {}
        self.starts: list[str] = []

    def start_execution(self, stateMachineArn: str, name: str, input: str) -> dict[str, Any]:  # noqa: A002, N803
        arn = execution_arn(stateMachineArn, name)
        self.starts.append(arn)
        known = self.executions.get(arn)
        if known and (known["status"] != "RUNNING" or known["input"] != input):
            error = {"Error": {"Code": "ExecutionAlreadyExists", "Message": "exists"}}
            raise ClientError(error, "StartExecution")  # type: ignore[arg-type]
        self.executions[arn] = {"status": "RUNNING", "input": input}
        return {"executionArn": arn}

    def describe_execution(self, executionArn: str) -> dict[str, Any]:  # noqa: N803
        if executionArn not in self.executions:
            error = {"Error": {"Code": "ExecutionDoesNotExist", "Message": "none"}}
            raise ClientError(error, "DescribeExecution")  # type: ignore[arg-type]
        return self.executions[executionArn]


@pytest.fixture
def queue() -> Iterator[StandbyQueue]:
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="us-west-2")
        dynamodb.create_table(
            TableName="standby",
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "source_pool_id", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "source_pool_id", "KeyType": "HASH"}],
        )
        clock = {"now": 1_000_000.0}
        yield StandbyQueue(_config(), dynamodb, FakeStepFunctions(), now=lambda: clock["now"])


def _item(queue: StandbyQueue) -> dict[str, str]:
    item = queue.dynamodb.get_item(TableName="standby", Key=queue.key)["Item"]
    return {k: next(iter(v.values())) for k, v in item.items()}


def test_backup_keys_of_both_formats_and_nothing_else() -> None:
    v1 = backup_of(_v1("101500"))
    v2 = backup_of(f"cognito-backup/v2/{POOL}/2026/12/01/101500/manifest.json")
    assert v1 is not None and v2 is not None
    assert v1.pool_id == v2.pool_id == POOL
    assert v1.taken_at == v2.taken_at == datetime(2026, 12, 1, 10, 15, tzinfo=UTC)
    for other in (
        f"cognito-backup/v2/{POOL}/2026/12/01/101500/pool.json",  # a part: the manifest completes a v2 backup
        f"cognito-backup/v2/{POOL}/2026/13/01/101500/manifest.json",  # no such month
        _v1("101500") + ".tmp",
        "cognito-backup/2026/12/01/not-a-pool-101500.json",
    ):
        assert backup_of(other) is None, other


def test_execution_names_are_per_backup_within_the_limit_and_selected_by_the_rule() -> None:
    long_pool = "ap-southeast-2_" + "A" * 40
    ref = backup_of(f"cognito-backup/2026/12/01/{long_pool}-101500.json")
    assert ref is not None
    name = execution_name(ref)
    assert name.startswith("standby-") and len(name) <= 80
    assert execution_name(ref) == name  # deterministic: a retried start names the same execution
    other = backup_of(f"cognito-backup/2026/12/01/{long_pool}-101501.json")
    assert other is not None and execution_name(other) != name


@pytest.mark.parametrize("max_deletes", [0, 25])
def test_the_sync_input_passes_the_one_input_schema(max_deletes: int) -> None:
    request = RestoreRequest.parse(_config(max_deletes).sync_input(_v1("101500")))
    assert request.mode == "sync" and request.target_user_pool_id == "us-west-2_Standby1"
    assert request.alerts == "failures"
    assert request.delete_missing is (max_deletes > 0) and request.max_deletes == max_deletes


def test_one_sync_at_a_time_and_the_newest_waiting_backup_wins(queue: StandbyQueue) -> None:
    sfn: FakeStepFunctions = queue.sfn
    first, second, third = (backup_of(_v1(t)) for t in ("100000", "110000", "120000"))
    assert first and second and third

    assert queue.offer(first).action == "queued"
    started = queue.start_next()
    assert started.action == "started"
    assert queue.offer(second).action == "queued"
    assert queue.start_next().action == "waiting"  # the first still runs
    superseded = queue.offer(third)
    assert superseded.action == "superseded" and superseded.superseded_key == second.key
    assert queue.offer(second).action == "ignored"  # a repeated delivery of an older backup
    assert queue.offer(first).action == "ignored"  # the one running

    sfn.executions[started.execution_arn or ""]["status"] = "SUCCEEDED"
    assert queue.release(started.execution_arn or "", "SUCCEEDED").action == "released"
    assert queue.release(started.execution_arn or "", "SUCCEEDED").action == "ignored"  # EventBridge repeats
    assert queue.start_next().backup_key == third.key
    assert queue.offer(second).action == "ignored"  # older than the one now running
    item = _item(queue)
    assert item["running_key"] == third.key and item["superseded"] == "1" and item["last_key"] == first.key
    assert len(sfn.starts) == 2


def test_a_claim_whose_start_was_lost_is_started_by_the_next_event(queue: StandbyQueue) -> None:
    sfn: FakeStepFunctions = queue.sfn
    ref = backup_of(_v1("100000"))
    assert ref
    queue.offer(ref)
    real_start = sfn.start_execution

    def crash(**_: Any) -> None:
        raise RuntimeError("the function died between the claim and the start")

    sfn.start_execution = crash  # type: ignore[method-assign]
    with pytest.raises(RuntimeError):
        queue.start_next()
    sfn.start_execution = real_start  # type: ignore[method-assign]
    assert queue.start_next().action == "waiting"  # just claimed: DescribeExecution may lag behind a start
    queue.now = lambda: 1_000_000.0 + 601
    assert queue.start_next().action == "started"
    assert list(sfn.executions) == [execution_arn(SM, execution_name(ref))]


def test_an_ended_sync_whose_event_was_lost_is_released_by_the_next_backup(queue: StandbyQueue) -> None:
    sfn: FakeStepFunctions = queue.sfn
    first, second = backup_of(_v1("100000")), backup_of(_v1("110000"))
    assert first and second
    queue.offer(first)
    arn = queue.start_next().execution_arn or ""
    sfn.executions[arn]["status"] = "FAILED"  # its status-change event never came
    queue.offer(second)
    assert queue.start_next().backup_key == second.key
    item = _item(queue)
    assert item["last_status"] == "FAILED" and item["last_key"] == first.key


def test_failback_names_users_created_or_modified_since_go_live_and_why() -> None:
    from cognito_restore.failback import changed_during_outage

    live = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    users = [
        {
            "Username": "old",
            "UserCreateDate": "2026-01-01T00:00:00+00:00",
            "UserLastModifiedDate": "2026-06-01T00:00:00Z",
        },
        {
            "Username": "restored",
            "UserCreateDate": "2026-12-01T11:30:00Z",
            "UserLastModifiedDate": "2026-12-01T11:31:00Z",
        },
        {"Username": "new", "UserCreateDate": "2026-12-01T13:00:00Z", "UserLastModifiedDate": "2026-12-01T13:00:00Z"},
        {
            "Username": "renamed",
            "UserCreateDate": "2026-12-01T11:30:00Z",
            "UserLastModifiedDate": "2026-12-01T14:00:00Z",
        },
        {
            "Username": "password",
            "UserCreateDate": "2026-12-01T11:30:00Z",
            "UserLastModifiedDate": "2026-12-01T15:00:00Z",
        },
        {
            "Username": "disabled",
            "UserCreateDate": "2026-12-01T11:30:00Z",
            "UserLastModifiedDate": "2026-12-01T11:31:00Z",
        },
    ]
    synced = {"new": ["created"], "renamed": ["attributes set: name"], "disabled": ["disabled"]}

    named = {item["user"]: item for item in changed_during_outage(users, live, synced)}

    assert set(named) == {"new", "renamed", "password", "disabled"}  # not the untouched nor the restored ones
    assert named["new"]["evidence"] == "created in the DR pool"
    assert named["renamed"]["synced"] == "attributes set: name"
    assert "possibly the password" in named["password"]["synced"]
    assert named["disabled"]["evidence"] == "changed (seen by the sync)"


@pytest.mark.parametrize("value", ["none", True, "FAILURES"])
def test_the_alerts_option_takes_only_all_or_failures(value: Any) -> None:
    from cognito_restore.errors import InvalidInput

    with pytest.raises(InvalidInput, match="alerts must be"):
        RestoreRequest.parse({"user_pool_id": POOL, "alerts": value})
    assert RestoreRequest.parse({"user_pool_id": POOL, "alerts": "failures"}).to_input()["alerts"] == "failures"
    assert "alerts" not in RestoreRequest.parse({"user_pool_id": POOL}).to_input()  # the default is not written
