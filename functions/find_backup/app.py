"""Phase: find latest backup. Validates the input, picks the backup and binds it to the restore id.

The restore id defaults to one derived from the source pool and the backup object (key and version
id, or ETag), so the same input started twice continues the same restore; without restore_id and
backup_key, an unfinished restore of the pool (the ledger's `source#<pool id>` pointer) is continued
even when a newer backup has arrived since. The ledger then names
this execution as the one running the restore: a second execution of a restore that is running
stops here, before anything is created (RestoreInProgress, naming the running execution).
"""

from __future__ import annotations

import os

from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError

from cognito_restore import aws
from cognito_restore.aws_errors import NOT_FOUND_CODES, error_code
from cognito_restore.discovery import BACKUP_PREFIX, find_newest_backup, parse_backup_key
from cognito_restore.errors import BackupNotFound, InvalidInput, RestoreConflict, RestoreInProgress
from cognito_restore.execution_input import RestoreRequest, check_target_region, derived_restore_id
from cognito_restore.handler import phase_handler
from cognito_restore.ledger import Ledger, execution_status
from cognito_restore.observability import logger
from cognito_restore.state import FindBackupEvent, Restore, Started


def _backup_version(bucket: str, key: str) -> str:
    """The object's version id (versioned bucket) or ETag: what makes a backup object this one."""
    try:
        head = aws.client("s3").head_object(Bucket=bucket, Key=key)
    except ClientError as error:
        if error_code(error) in NOT_FOUND_CODES:
            raise BackupNotFound(f"Backup s3://{bucket}/{key} does not exist.") from None
        raise
    version, etag = head.get("VersionId"), head["ETag"].strip('"')
    return f"version:{version}" if version and version != "null" else f"etag:{etag}"


def _newest_backup(bucket: str, pool_id: str) -> str:
    ref = find_newest_backup(aws.client("s3"), bucket, pool_id)
    if ref is None:
        raise BackupNotFound(f"No backup of user pool {pool_id} under s3://{bucket}/{BACKUP_PREFIX}.")
    return ref.key


def _check_target(pool_id: str) -> None:
    """A sync's target must exist in this Region: checked before the ledger or any pool is written."""
    cognito = aws.client("cognito-idp")
    check_target_region(pool_id, cognito.meta.region_name)
    try:
        cognito.describe_user_pool(UserPoolId=pool_id)
    except ClientError as error:
        if error_code(error) != "ResourceNotFoundException":
            raise
        raise InvalidInput(
            f"target_user_pool_id {pool_id} does not exist in {cognito.meta.region_name}: nothing was written."
        ) from None


@phase_handler("find_backup")
def lambda_handler(event: FindBackupEvent, context: LambdaContext) -> Started:
    request = RestoreRequest.parse(event.get("input"))  # before anything is created or recorded
    pool_id = request.user_pool_id
    if request.target_user_pool_id is not None:
        _check_target(request.target_user_pool_id)
    bucket = os.environ["BACKUP_BUCKET"]
    ledger = Ledger(os.environ["LEDGER_TABLE"])
    restore_id = request.restore_id
    entry = ledger.get(restore_id) if restore_id else None
    # Neither restore_id nor backup_key: an unfinished restore of this pool is continued, even when a newer
    # backup has arrived since it started (the id derived from the newest backup would start a second pool).
    # A sync never continues an unfinished one: each reconciles its whole backup, so the newest backup is
    # the one to use (and it creates no pool that a second start could duplicate).
    default = restore_id is None and request.backup_key is None and not request.dry_run and not request.sync
    seen, unfinished = ledger.open_restore_of(pool_id) if default else (None, None)
    if unfinished is not None:
        restore_id, entry = unfinished.restore_id, unfinished
    if entry is None:
        key = request.backup_key or _newest_backup(bucket, pool_id)
        version = _backup_version(bucket, key)
        if request.restore_id:
            restore_id = request.restore_id
        else:
            ref = parse_backup_key(key)
            assert ref is not None  # both the named key and the listed ones parse
            restore_id = derived_restore_id(
                pool_id, key, version, ref.taken_at, request.dry_run, request.target_user_pool_id
            )
        entry = ledger.open(restore_id, pool_id, bucket, key, version, request.options())
    elif entry.source_pool_id != pool_id or (request.backup_key and request.backup_key != entry.backup_key):
        raise RestoreConflict(
            f"Restore id {entry.restore_id} already restores {entry.backup_key}; use another restore id."
        )
    else:
        assert restore_id is not None  # an entry was found by its id
        entry = ledger.open(restore_id, pool_id, entry.backup_bucket, entry.backup_key, options=request.options())
    ledger.claim(restore_id, event["execution_arn"], execution_status, int(event.get("redrive_count") or 0))
    if (
        not request.dry_run
        and not request.sync
        and not ledger.point_source(pool_id, restore_id, seen, force=not default)
    ):
        raise RestoreInProgress(
            f"Another restore of user pool {pool_id} was started at the same time; this execution stopped "
            "before creating anything. Start again with the same input to follow that one."
        )
    continuing = (
        f" It continues the unfinished restore {restore_id} of this pool, from the backup it started with "
        "(a newer backup is not used: to restore the newest backup into a new pool, pass a new restore_id)."
        if unfinished is not None
        else ""
    )
    logger.info(
        "Backup chosen",
        extra={
            "restore_id": restore_id,
            "backup_key": entry.backup_key,
            "continuing": entry.new_pool_id is not None,
            "continues_unfinished_restore": unfinished is not None,
        },
    )
    restore: Restore = {
        "restore_id": restore_id,
        "source_pool_id": pool_id,
        "dry_run": request.dry_run,
        "keep_client_secrets": request.keep_client_secrets,
        "preserve_old_sub": request.preserve_old_sub,
        "mode": request.mode,
        "alerts": request.alerts,
        "arn_map": request.arn_map,
        "backup_bucket": entry.backup_bucket,
        "backup_key": entry.backup_key,
        "backup_version": entry.backup_version,
        "continuing": continuing,
    }
    if request.target_user_pool_id is not None:
        restore["target_pool_id"] = request.target_user_pool_id
        restore["delete_missing"] = request.delete_missing
        restore["max_deletes"] = request.max_deletes
    return {"restore": restore}
