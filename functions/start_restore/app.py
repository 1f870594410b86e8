"""Manual DR trigger: the execution input ({"user_pool_id": ...} and any option) -> a new restore execution.

The input is validated with the same schema as the state machine's first phase (every option,
an unknown key is an error) and passed through as validated. The execution gets a unique name;
the restore id is derived from the backup by the first phase unless restore_id is given, so a
second click starts an execution that stops at once, naming the one already running the restore.
"""

from __future__ import annotations

import json
import os
import re
import uuid
from datetime import datetime, timezone
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer

from cognito_restore import aws
from cognito_restore.execution_input import RestoreRequest
from cognito_restore.handler import phase_handler

logger, metrics, tracer = Logger(), Metrics(), Tracer()


def execution_name(pool_id: str, now: datetime) -> str:
    """Unique, readable in the console, within the 80-character limit."""
    name = f"restore-{pool_id}-{now:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
    return re.sub(r"[^A-Za-z0-9_-]", "-", name)[:80]


@phase_handler(logger, metrics, tracer)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    request = RestoreRequest.parse(event)
    name = execution_name(request.user_pool_id, datetime.now(timezone.utc))
    response = aws.client("stepfunctions").start_execution(
        stateMachineArn=os.environ["STATE_MACHINE_ARN"], name=name, input=json.dumps(request.to_input())
    )
    logger.info("Restore started", extra={"execution_arn": response["executionArn"]})
    return {
        "execution_arn": response["executionArn"],
        "execution_name": name,
        # None: derived from the backup object by "Find latest backup" (in the execution's output).
        "restore_id": request.restore_id,
    }
