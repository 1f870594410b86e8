"""Phase: restore groups, including groups that only the memberships name; paced, and continued when time runs low."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from cognito_restore import aws
from cognito_restore.groups import restore_groups
from cognito_restore.handler import phase_handler
from cognito_restore.observability import logger
from cognito_restore.pacing import Pacer


@phase_handler("restore_groups")
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    state = event["state"]
    # One groups task runs at a time: it gets the whole quota.
    progress = restore_groups(state, context, Pacer(concurrency=1), aws.client("cognito-idp"))
    logger.info("Groups progress", extra=progress)
    return {**state, "groups": progress}
