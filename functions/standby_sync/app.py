"""Warm standby trigger: a new backup of the source pool -> a sync of the standby pool, one at a time.

Invoked by EventBridge (asynchronously) for two rules of template.yaml: an S3 "Object Created" of a
backup key of the source pool in the backup bucket, and the end of a standby sync execution
(cognito_restore/standby.py has the queue). A failure to start a sync is alerted on the topic, then
raised, so Lambda retries the event (each step is a conditional write: a retry starts nothing twice).
The syncs' own failures are alerted by the workflow and the execution-ended rule; a successful sync
sends nothing (alerts only on failure, docs/standby.md).
"""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from cognito_restore import aws
from cognito_restore.execution_input import RestoreRequest
from cognito_restore.handler import phase_handler
from cognito_restore.observability import logger
from cognito_restore.scrub import scrub
from cognito_restore.standby import ENDED_STATUSES, NAME_PREFIX, Decision, StandbyConfig, StandbyQueue, backup_of


def config() -> StandbyConfig:
    return StandbyConfig(
        source_pool_id=os.environ["STANDBY_SOURCE_POOL_ID"],
        target_pool_id=os.environ["STANDBY_TARGET_POOL_ID"],
        max_deletes=int(os.environ.get("STANDBY_MAX_DELETES", "0")),
        state_machine_arn=os.environ["STATE_MACHINE_ARN"],
        backup_bucket=os.environ["BACKUP_BUCKET"],
        table=os.environ["STANDBY_TABLE"],
    )


def handle(event: dict[str, Any], cfg: StandbyConfig, queue: StandbyQueue) -> list[Decision]:
    detail = event.get("detail") or {}
    kind = event.get("detail-type")
    if kind == "Object Created" and event.get("source") == "aws.s3":
        key = str((detail.get("object") or {}).get("key", ""))
        ref = backup_of(key)
        if (detail.get("bucket") or {}).get("name") != cfg.backup_bucket or ref is None:
            return [Decision("ignored", "not a backup key in the backup bucket")]
        if ref.pool_id != cfg.source_pool_id:
            return [Decision("ignored", "a backup of another pool", key)]
        # The sync's input, checked with the one schema before it is queued (a bad one would fail every start).
        RestoreRequest.parse(cfg.sync_input(ref.key))
        offered = queue.offer(ref)
        if offered.action == "ignored":
            return [offered]
        return [offered, queue.start_next()]
    if kind == "Step Functions Execution Status Change":
        name, status = str(detail.get("name", "")), str(detail.get("status", ""))
        if detail.get("stateMachineArn") != cfg.state_machine_arn or not name.startswith(NAME_PREFIX):
            return [Decision("ignored", "not a standby sync")]
        if status not in ENDED_STATUSES:
            return [Decision("ignored", f"status {status}")]
        return [queue.release(str(detail["executionArn"]), status), queue.start_next()]
    return [Decision("ignored", "an event of another kind")]


def _alert(cfg: StandbyConfig, error: Exception) -> None:
    aws.client("sns").publish(
        TopicArn=os.environ["ALERT_TOPIC_ARN"],
        Subject=f"Cognito DR standby sync NOT started for {cfg.source_pool_id}"[:100],
        Message=(
            f"The warm standby could not start the sync of standby pool {cfg.target_pool_id} from a new backup of "
            f"{cfg.source_pool_id}: {type(error).__name__}: {scrub(str(error))[:500]}. Lambda retries the event "
            "twice; if this alert repeats, fix the cause and start the sync by hand "
            "(python -m tools.restore standby ...; docs/standby.md)."
        ),
    )


@phase_handler("standby_sync")
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    cfg = config()
    queue = StandbyQueue(cfg, aws.client("dynamodb"), aws.client("stepfunctions"))
    try:
        decisions = handle(event, cfg, queue)
    except Exception as error:  # noqa: BLE001 - alerted, then raised for the retry
        _alert(cfg, error)
        raise
    for decision in decisions:
        logger.info("Standby", extra=decision.as_dict())
    return {"decisions": [d.as_dict() for d in decisions]}
