"""Workflow-test fixtures: the SAM app deployed into the emulator, and source pools with their backups."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from unittest import mock

import boto3
import pytest

from tools.emulation import LambdaContext, RestoreStack
from tools.sample_pool import SamplePool, SamplePoolSpec, build_source_pool, export_backup, write_backup

SOURCE_REGION = "us-east-1"
DR_REGION = "us-west-2"
# Workflow tests check behaviour, not pacing (bench/ measures that): quotas high enough not to wait.
UNPACED = {
    name: "100000"
    for name in (
        "QuotaUserCreation",
        "QuotaUserAccountRecovery",
        "QuotaUserUpdate",
        "QuotaUserResourceUpdate",
        "QuotaUserPoolResourceUpdate",
        "QuotaUserList",
    )
}

# The Cognito calls that write a user or a membership (sync and failback tests count them).
USER_WRITES = frozenset(
    {
        "AdminCreateUser",
        "AdminSetUserPassword",
        "AdminDisableUser",
        "AdminEnableUser",
        "AdminUpdateUserAttributes",
        "AdminDeleteUserAttributes",
        "AdminAddUserToGroup",
        "AdminRemoveUserFromGroup",
        "AdminDeleteUser",
        "AdminSetUserMFAPreference",
        "AdminLinkProviderForUser",
        "AdminConfirmSignUp",
    }
)


def runs_low_on_time(stack: RestoreStack, logical_id: str, reserve_ms: int, checks: int) -> AbstractContextManager[Any]:
    """Each invocation of the function sees its Lambda time run low (less than reserve_ms left) at its
    checks-th look at the clock, so a continuation loop runs without anything sleeping. Every look
    before that sees the time of one check more (tasks that estimate the time per item see it)."""
    function = stack.function_name(logical_id)
    original = LambdaContext.get_remaining_time_in_millis

    def remaining(context: LambdaContext) -> int:
        if context.function_name != function:
            return original(context)
        context.checks = getattr(context, "checks", 0) + 1  # type: ignore[attr-defined]
        return reserve_ms + (checks - 1 - context.checks) * 1000 + 500  # type: ignore[attr-defined]

    return mock.patch.object(LambdaContext, "get_remaining_time_in_millis", remaining)


@dataclass
class SourceBackup:
    pool: SamplePool
    backup: dict[str, Any]
    key: str

    @property
    def pool_id(self) -> str:
        return self.pool.pool_id


@pytest.fixture
def stack() -> Iterator[RestoreStack]:
    """The restore stack in the DR Region; small chunks so tests cross chunk boundaries."""
    with RestoreStack(
        region=DR_REGION, parameters={"UserChunkSize": "50", "Environment": "test", **UNPACED}
    ) as deployed:
        yield deployed


@pytest.fixture
def source_cognito(stack: RestoreStack) -> Any:
    return boto3.client("cognito-idp", region_name=SOURCE_REGION)


def make_backup(stack: RestoreStack, cognito: Any, spec: SamplePoolSpec, when: datetime | None = None) -> SourceBackup:
    pool = build_source_pool(cognito, spec)
    backup = export_backup(cognito, pool.pool_id)
    key = write_backup(stack.client("s3"), stack.outputs["BackupBucketName"], backup, when or datetime.now(UTC))
    return SourceBackup(pool, backup, key)


def put_raw_backup(stack: RestoreStack, key: str, body: bytes) -> None:
    stack.client("s3").put_object(Bucket=stack.outputs["BackupBucketName"], Key=key, Body=body)
