"""The producer's settings, read from the functions' environment (template.yaml, "backup producer")."""

from __future__ import annotations

import os
from typing import Any

from botocore.exceptions import ClientError

from cognito_restore.aws_errors import is_throttling
from cognito_restore.errors import CognitoThrottled
from cognito_restore.producer import DEFAULT_USER_LIST_QUOTA, DEFAULT_USER_READ_QUOTA, BackupTarget, quota_from_env


def target_of(backup: dict[str, Any]) -> BackupTarget:
    return BackupTarget.from_dict(backup["target"])


def new_target(folder: str) -> BackupTarget:
    return BackupTarget(
        bucket=os.environ["BACKUP_BUCKET"],
        folder=folder,
        work_bucket=os.environ["WORK_BUCKET"],
        kms_key_arn=os.environ.get("BACKUP_KMS_KEY_ARN", ""),
    )


def user_mfa_settings() -> bool:
    return os.environ.get("BACKUP_USER_MFA_SETTINGS", "false").lower() == "true"


def map_concurrency() -> int:
    return max(1, int(os.environ.get("BACKUP_MAP_CONCURRENCY") or 8))


def user_list_quota() -> float:
    return quota_from_env("QUOTA_USER_LIST", DEFAULT_USER_LIST_QUOTA)


def user_read_quota() -> float:
    return quota_from_env("QUOTA_USER_READ", DEFAULT_USER_READ_QUOTA)


def throttled(error: ClientError) -> Exception:
    """Throttling past botocore's retries becomes CognitoThrottled, which the state machine retries
    with jitter; other errors are raised as they are."""
    if is_throttling(error):
        return CognitoThrottled(f"Cognito throttled the backup: {error.operation_name}")
    return error
