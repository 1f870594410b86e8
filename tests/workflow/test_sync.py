"""Sync mode, pool-level half: the backup reconciled into an existing pool (docs/sync.md)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.workflow.conftest import DR_REGION, make_backup
from tools.emulation import RestoreStack
from tools.sample_pool import SamplePoolSpec


def _pools(stack: RestoreStack) -> list[str]:
    return [p["Id"] for p in stack.client("cognito-idp").list_user_pools(MaxResults=60)["UserPools"]]


def _ledger_items(stack: RestoreStack) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = stack.client("dynamodb").scan(TableName=stack.outputs["RestoreLedgerTableName"])["Items"]
    return items


@pytest.mark.parametrize(
    ("target", "reason"),
    [
        (f"{DR_REGION}_Absent123", "does not exist in us-west-2: nothing was written"),
        ("eu-west-1_Elsewhere1", "is not in us-west-2"),
    ],
)
def test_a_sync_into_a_pool_that_is_not_there_writes_nothing(
    stack: RestoreStack, source_cognito: Any, target: str, reason: str
) -> None:
    source = make_backup(stack, source_cognito, SamplePoolSpec(users=5, groups=3))

    result = stack.run({"user_pool_id": source.pool_id, "mode": "sync", "target_user_pool_id": target})

    assert result.status == "FAILED" and result.error == "InvalidInput"
    assert reason in stack.alerts()[0]["message"]
    assert _pools(stack) == [] and _ledger_items(stack) == []
