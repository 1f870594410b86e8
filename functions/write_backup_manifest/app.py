"""Producer step: write manifest.json, last: the backup exists for discovery only from then on."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from cognito_restore import aws
from cognito_restore.discovery import MANIFEST
from cognito_restore.handler import phase_handler
from cognito_restore.observability import logger
from cognito_restore.producer import ProducerError, build_manifest, to_json_bytes
from cognito_restore.producer_env import target_of


@phase_handler("write_backup_manifest")
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    backup = event["backup"]
    target = target_of(backup)
    s3 = aws.client("s3")
    shards = []
    for shard in event["shards"]:
        summary = target.get_summary(s3, f"shards/{shard}.json")
        if summary is None:
            raise ProducerError(f"Shard {shard} has no summary: its users are not all backed up.")
        shards.append(summary)
    memberships = target.get_summary(s3, "memberships.json")
    if memberships is None:
        raise ProducerError("The group memberships have no summary: they are not all backed up.")
    manifest = build_manifest(
        backup["pool_id"],
        backup["timestamp"],
        backup["region"],
        event["pool_file"],
        event["counts"],
        shards,
        memberships,
        bool(backup["user_mfa_settings"]),
        list(event.get("notes") or []),
    )
    target.put(s3, MANIFEST, to_json_bytes(manifest), "application/json")
    key = target.folder + MANIFEST
    logger.info("Backup written", extra={"manifest_key": key, "counts": manifest["counts"]})
    return {"manifest_key": key, "counts": manifest["counts"], "notes": manifest.get("notes", [])}
