"""Manual DR trigger: {"user_pool_id": ...} -> a new restore execution (unique name); returns its ARN."""

from __future__ import annotations

import json
import os
import re
import uuid
from datetime import UTC, datetime

from aws_lambda_powertools.utilities.typing import LambdaContext

from cognito_restore import aws
from cognito_restore.discovery import is_valid_pool_id
from cognito_restore.errors import InvalidInput
from cognito_restore.handler import phase_handler
from cognito_restore.observability import logger
from cognito_restore.state import ExecutionInput, StartRestoreResult

OPTIONS = ("backup_key", "dry_run", "restore_id", "keep_client_secrets")


def execution_name(pool_id: str, now: datetime) -> str:
    """Unique, readable in the console, within the 80-character limit."""
    name = f"restore-{pool_id}-{now:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
    return re.sub(r"[^A-Za-z0-9_-]", "-", name)[:80]


@phase_handler("start_restore")
def lambda_handler(event: ExecutionInput, context: LambdaContext) -> StartRestoreResult:
    pool_id = event.get("user_pool_id")
    if not is_valid_pool_id(pool_id):
        raise InvalidInput('Invoke with {"user_pool_id": "<source pool id>"}, e.g. us-east-1_AbCdEf123.')
    name = execution_name(pool_id, datetime.now(UTC))
    execution_input = {"user_pool_id": pool_id, **{k: v for k, v in event.items() if k in OPTIONS}}
    response = aws.client("stepfunctions").start_execution(
        stateMachineArn=os.environ["STATE_MACHINE_ARN"], name=name, input=json.dumps(execution_input)
    )
    logger.info("Restore started", extra={"execution_arn": response["executionArn"]})
    return {
        "execution_arn": response["executionArn"],
        "execution_name": name,
        "restore_id": event.get("restore_id") or name,
    }
