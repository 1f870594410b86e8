"""Phase (sync mode and its dry run): read the target pool once, in ListUsers / ListUsersInGroup pages, into one S3
partition per user chunk (docs/sync.md); only counts go into the state. A target of millions of users
takes several invocations: with less than TIME_RESERVE_MS left the listing saves its cursor and returns
done = false, and the "Target pool read?" loop invokes the task again (cognito_restore/target_listing.py)."""

from __future__ import annotations

import os
from typing import cast

from aws_lambda_powertools.utilities.typing import LambdaContext

from cognito_restore import aws
from cognito_restore.handler import phase_handler
from cognito_restore.observability import logger
from cognito_restore.phase import work_store
from cognito_restore.state import PhaseEvent, SyncTarget, ToReadTarget
from cognito_restore.sync_users import read_target_phase

# Lambda time kept for the segment's partition files (one per user chunk, 8 at a time) and the cursor.
TIME_RESERVE_MS = 120_000


@phase_handler("read_target_pool")
def lambda_handler(event: PhaseEvent[ToReadTarget], context: LambdaContext) -> ToReadTarget:
    state = event["state"]
    summary = read_target_phase(
        state,
        work_store(state),
        aws.client("cognito-idp"),
        float(os.environ.get("QUOTA_USER_LIST", "30")),
        should_stop=lambda: context.get_remaining_time_in_millis() < TIME_RESERVE_MS,
    )
    logger.info(
        "Target pool read" if summary["done"] else "Target pool listing continues", extra={"sync_target": summary}
    )
    return {**state, "sync_target": cast(SyncTarget, summary)}
