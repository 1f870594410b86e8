"""Phase: validate and prepare backup. Streams the backup into chunk files; fails before any Cognito write."""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from botocore.exceptions import ClientError

from cognito_restore import aws
from cognito_restore.discovery import backup_time, parse_backup_key
from cognito_restore.errors import RestoreConflict
from cognito_restore.handler import phase_handler
from cognito_restore.phase import work_store
from cognito_restore.plan import prepare_backup
from cognito_restore.pool_config import OLD_SUB_ATTRIBUTE

logger, metrics, tracer = Logger(), Metrics(), Tracer()


def _backup_body(restore: dict[str, Any]) -> Any:
    """The very backup object the restore id names: its version, or its ETag on an unversioned bucket."""
    version = restore.get("backup_version") or ""
    pin = (
        {"VersionId": version.removeprefix("version:")}
        if version.startswith("version:")
        else {"IfMatch": version.removeprefix("etag:")}
        if version.startswith("etag:")
        else {}
    )
    try:
        return aws.client("s3").get_object(Bucket=restore["backup_bucket"], Key=restore["backup_key"], **pin)["Body"]
    except ClientError as error:
        if error.response["Error"]["Code"] not in ("PreconditionFailed", "412"):
            raise
        raise RestoreConflict(
            f"Backup s3://{restore['backup_bucket']}/{restore['backup_key']} was overwritten after restore "
            f"{restore['restore_id']} chose it; start again without restore_id to restore the new object."
        ) from None


@phase_handler(logger, metrics, tracer)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    state = event["state"]
    restore = state["restore"]
    store = work_store(state)
    prepared_key = store.key("plan/prepared.json")
    plan = store.get_json_or_none(prepared_key)
    if plan is None:  # a retry or redrive reuses the first preparation
        ref = parse_backup_key(restore["backup_key"])
        expected_pool = ref.pool_id if ref else restore["source_pool_id"]
        body = _backup_body(restore)
        prepared = prepare_backup(
            body,
            expected_pool_id=expected_pool,
            sink=store,
            user_chunk_size=int(os.environ.get("USER_CHUNK_SIZE", "500")),
            old_sub_attribute=f"custom:{OLD_SUB_ATTRIBUTE}" if restore.get("preserve_old_sub") else None,
        )
        plan = {
            **prepared.to_state(),
            "backup_timestamp": backup_time(prepared.backup_timestamp, restore["backup_key"]),
            "work_bucket": store.bucket,
            "map_concurrency": int(os.environ.get("USER_MAP_CONCURRENCY", "4")),
        }
        store.put_json(prepared_key, plan)
    # A preparation saved before backup_timestamp existed: the started alert formats it (States.Runtime if absent).
    plan.setdefault("backup_timestamp", backup_time(None, restore["backup_key"]))
    metrics.add_metric(name="BackupUsers", unit=MetricUnit.Count, value=plan["counts"]["users"])
    logger.info("Backup prepared", extra={"counts": plan["counts"], "user_chunks": plan["user_chunks"]})
    return {**state, "plan": plan}
