"""The schedule's target: starts one backup execution per pool of BackupPoolIds, named after the
pool and the scheduled time, so a second delivery of the same slot starts nothing new."""

from __future__ import annotations

import json
import os
import re
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError

from cognito_restore import aws
from cognito_restore.aws_errors import error_code
from cognito_restore.discovery import is_valid_pool_id
from cognito_restore.errors import InvalidInput
from cognito_restore.handler import phase_handler
from cognito_restore.observability import logger
from cognito_restore.producer import parse_start


def execution_name(pool_id: str, slot: str) -> str:
    """<pool id>-<YYYYMMDDTHHMMSSZ>: at most 80 characters of [A-Za-z0-9_-] (StartExecution's name)."""
    name = f"{pool_id}-{parse_start(slot):%Y%m%dT%H%M%SZ}"
    return re.sub(r"[^A-Za-z0-9_-]", "-", name)[:80]


@phase_handler("start_backups")
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    slot = event.get("scheduled_time")
    if not isinstance(slot, str):
        raise InvalidInput("The schedule passes scheduled_time (<aws.scheduler.scheduled-time>).")
    pools = [p.strip() for p in os.environ.get("BACKUP_POOL_IDS", "").split(",") if p.strip()]
    sfn = aws.client("stepfunctions")
    started, already = [], []
    for pool_id in pools:
        if not is_valid_pool_id(pool_id):
            raise InvalidInput(f"BackupPoolIds holds {pool_id!r}, which is not a user pool id.")
        name = execution_name(pool_id, slot)
        try:
            sfn.start_execution(
                stateMachineArn=os.environ["BACKUP_STATE_MACHINE_ARN"],
                name=name,
                input=json.dumps({"user_pool_id": pool_id, "scheduled_time": slot}),
            )
            started.append(name)  # new, or the same execution still running (same name and input: AWS returns it)
        except ClientError as error:
            if error_code(error) != "ExecutionAlreadyExists":
                raise
            already.append(name)  # this slot's backup ran already (an earlier delivery): nothing new
    logger.info("Backups started", extra={"started": len(started), "already_started": len(already)})
    return {"started": started, "already_started": already}
