"""Producer step: back up one shard of users (ListUsers filtered on a `sub` prefix), paced at the
shard's share of the UserList quota; hands back a continuation when its time runs low."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError

from cognito_restore import aws
from cognito_restore.handler import phase_handler
from cognito_restore.producer import Pace, UserMfaReader, backup_shard, share
from cognito_restore.producer_env import target_of, throttled, user_list_quota, user_read_quota


@phase_handler("backup_users")
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    backup = event["backup"]
    target = target_of(backup)
    concurrency = int(backup["map_concurrency"])
    cognito = aws.new_client("cognito-idp")  # a full retry quota for each invocation
    mfa = None
    if backup["user_mfa_settings"]:
        mfa = UserMfaReader(cognito, backup["pool_id"], Pace(share(user_read_quota(), concurrency)))
    s3 = aws.client("s3")
    try:
        progress = backup_shard(
            cognito,
            s3,
            target,
            backup["pool_id"],
            event["progress"],
            context,
            Pace(share(user_list_quota(), concurrency)),
            mfa,
        )
    except ClientError as error:
        raise throttled(error) from None
    if not progress["done"]:
        return progress
    # The shard's files go to the work bucket, not the state (256 shards x files would not fit).
    target.put_summary(s3, f"shards/{progress['shard']}.json", progress)
    return {"shard": progress["shard"], "done": True, "count": progress["count"]}
