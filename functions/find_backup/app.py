"""Phase: find latest backup. Picks the backup to restore and binds it to the restore id."""

from __future__ import annotations

import os
import re

from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError

from cognito_restore import aws
from cognito_restore.arn_map import validate_mapping
from cognito_restore.aws_errors import NOT_FOUND_CODES, error_code
from cognito_restore.discovery import BACKUP_PREFIX, find_newest_backup, is_valid_pool_id, parse_backup_key
from cognito_restore.errors import BackupNotFound, InvalidInput, RestoreConflict
from cognito_restore.handler import phase_handler
from cognito_restore.ledger import Ledger
from cognito_restore.observability import logger
from cognito_restore.state import FindBackupEvent, Started

RESTORE_ID = re.compile(r"^[A-Za-z0-9_-]{1,80}$")


def _named_backup(bucket: str, key: str, pool_id: str) -> str:
    ref = parse_backup_key(key)
    if ref is None or ref.pool_id != pool_id:
        raise InvalidInput(f"backup_key {key} is not a backup of pool {pool_id}.")
    try:
        aws.client("s3").head_object(Bucket=bucket, Key=key)
    except ClientError as error:
        if error_code(error) in NOT_FOUND_CODES:
            raise BackupNotFound(f"Backup s3://{bucket}/{key} does not exist.") from None
        raise
    return key


def _newest_backup(bucket: str, pool_id: str) -> str:
    ref = find_newest_backup(aws.client("s3"), bucket, pool_id)
    if ref is None:
        raise BackupNotFound(f"No backup of user pool {pool_id} under s3://{bucket}/{BACKUP_PREFIX}.")
    return ref.key


@phase_handler("find_backup")
def lambda_handler(event: FindBackupEvent, context: LambdaContext) -> Started:
    request = event.get("input") or {}
    pool_id = request.get("user_pool_id")
    if not is_valid_pool_id(pool_id):
        raise InvalidInput('Start the restore with {"user_pool_id": "<source pool id>"}, e.g. us-east-1_AbCdEf123.')
    restore_id = request.get("restore_id") or event["execution_name"]
    if not isinstance(restore_id, str) or not RESTORE_ID.match(restore_id):
        raise InvalidInput("restore_id must be 1-80 letters, digits, '-' or '_'.")
    bucket = os.environ["BACKUP_BUCKET"]
    ledger = Ledger(os.environ["LEDGER_TABLE"])
    entry = ledger.get(restore_id)
    named = request.get("backup_key")
    if entry is None:
        key = _named_backup(bucket, named, pool_id) if named else _newest_backup(bucket, pool_id)
        entry = ledger.open(restore_id, pool_id, bucket, key)
    elif entry.source_pool_id != pool_id or (named and named != entry.backup_key):
        raise RestoreConflict(f"Restore id {restore_id} already restores {entry.backup_key}; use another restore id.")
    logger.info(
        "Backup chosen",
        extra={"restore_id": restore_id, "backup_key": entry.backup_key, "continuing": entry.new_pool_id is not None},
    )
    return {
        "restore": {
            "restore_id": restore_id,
            "source_pool_id": pool_id,
            "dry_run": request.get("dry_run") is True,
            "keep_client_secrets": request.get("keep_client_secrets", True) is not False,
            "preserve_old_sub": request.get("preserve_old_sub") is True,
            "arn_map": validate_mapping(request.get("arn_map")),
            "backup_bucket": entry.backup_bucket,
            "backup_key": entry.backup_key,
        }
    }
