"""Producer step: back up pool configuration. Writes pool.json (every small section of the pool,
docs/backup-format.md "Format v2") and plans the user shards."""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError

from cognito_restore import aws
from cognito_restore.discovery import is_valid_pool_id
from cognito_restore.errors import InvalidInput
from cognito_restore.handler import phase_handler
from cognito_restore.observability import logger
from cognito_restore.producer import (
    POOL_FILE,
    backup_folder,
    capture_pool,
    parse_start,
    section_counts,
    shard_prefixes,
    to_json_bytes,
)
from cognito_restore.producer_env import map_concurrency, new_target, throttled, user_mfa_settings


@phase_handler("backup_pool_config")
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    given = event.get("input")
    request: dict[str, Any] = given if isinstance(given, dict) else {}
    pool_id = request.get("user_pool_id")
    if not is_valid_pool_id(pool_id):
        raise InvalidInput('Start a backup with {"user_pool_id": "<pool id>"}.')
    # The scheduled time when the schedule started it (same slot, same folder: a double fire or a
    # re-run writes the same backup), else the execution's start.
    when = request.get("scheduled_time") or event["started_at"]
    try:
        started = parse_start(str(when))
    except ValueError:
        raise InvalidInput("scheduled_time must be an ISO-8601 time.") from None
    target = new_target(backup_folder(pool_id, started))
    try:
        capture = capture_pool(aws.client("cognito-idp"), aws.client("wafv2"), pool_id)
    except ClientError as error:
        raise throttled(error) from None
    timestamp = f"{started:%Y-%m-%dT%H:%M:%SZ}"
    document = {**capture.sections, "timestamp": timestamp}
    pool_entry = target.put(aws.client("s3"), POOL_FILE, to_json_bytes(document), "application/json")
    estimated = int(capture.sections["user_pool_config"].get("EstimatedNumberOfUsers") or 0)
    shards = shard_prefixes(estimated)
    logger.info(
        "Pool configuration backed up",
        extra={"folder": target.folder, "shards": len(shards), "notes": len(capture.notes)},
    )
    return {
        "backup": {
            "pool_id": pool_id,
            "timestamp": timestamp,
            "region": os.environ.get("AWS_REGION", ""),
            "target": target.to_dict(),
            "user_mfa_settings": user_mfa_settings(),
            "map_concurrency": min(map_concurrency(), len(shards)),
        },
        "pool_file": pool_entry,
        "counts": section_counts(capture.sections),
        "notes": capture.notes,
        "shards": shards,
    }
