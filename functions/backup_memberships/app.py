"""Producer step: back up group memberships (ListUsersInGroup, every page of every group), with a
continuation when its time runs low."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError

from cognito_restore import aws
from cognito_restore.handler import phase_handler
from cognito_restore.producer import Pace, backup_memberships
from cognito_restore.producer_env import target_of, throttled, user_list_quota


@phase_handler("backup_memberships")
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    backup = event["backup"]
    target = target_of(backup)
    s3 = aws.client("s3")
    try:
        # Alone in the UserList category by now (the shards are done): the whole quota.
        progress = backup_memberships(
            aws.new_client("cognito-idp"),
            s3,
            target,
            backup["pool_id"],
            event.get("progress") or {},
            context,
            Pace(user_list_quota()),
        )
    except ClientError as error:
        raise throttled(error) from None
    if not progress["done"]:
        return progress
    target.put_summary(s3, "memberships.json", progress)
    return {"done": True, "count": progress["count"]}
