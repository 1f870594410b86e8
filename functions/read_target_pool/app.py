"""Phase (sync mode): read the target pool once, in ListUsers / ListUsersInGroup pages, into one S3
partition per user chunk (docs/sync.md); only counts go into the state."""

from __future__ import annotations

import os
from typing import cast

from aws_lambda_powertools.utilities.typing import LambdaContext

from cognito_restore import aws
from cognito_restore.handler import phase_handler
from cognito_restore.observability import logger
from cognito_restore.phase import work_store
from cognito_restore.state import PhaseEvent, SignInSettingsRestored, SyncTarget
from cognito_restore.sync_users import read_target_phase


@phase_handler("read_target_pool")
def lambda_handler(event: PhaseEvent[SignInSettingsRestored], context: LambdaContext) -> SignInSettingsRestored:
    state = event["state"]
    summary = read_target_phase(
        state, work_store(state), aws.client("cognito-idp"), float(os.environ.get("QUOTA_USER_LIST", "30"))
    )
    logger.info("Target pool read", extra={"sync_target": summary})
    return {**state, "sync_target": cast(SyncTarget, summary)}
