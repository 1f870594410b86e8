"""Phase: count the restored pool live, for a plan too large for "Verify restored pool" to list by name.

Users, identity links and the backed-up groups' memberships, counted in ListUsers / ListGroups /
ListUsersInGroup pages (paced under UserList); with less than TIME_RESERVE_MS left the cursor is saved
and done = false hands back a continuation ("Restored pool counted?" loop). cognito_restore/live_count.py.
"""

from __future__ import annotations

import os
from typing import cast

from aws_lambda_powertools.utilities.typing import LambdaContext

from cognito_restore import aws
from cognito_restore.handler import phase_handler
from cognito_restore.live_count import count_pool
from cognito_restore.observability import logger
from cognito_restore.phase import backup_parts, pool_id, work_store
from cognito_restore.state import LiveCount, PhaseEvent, PoolCounting
from cognito_restore.sync_users import paced_list_call

TIME_RESERVE_MS = 60_000  # the cursor is one small object


@phase_handler("count_restored_pool")
def lambda_handler(event: PhaseEvent[PoolCounting], context: LambdaContext) -> PoolCounting:
    state = event["state"]
    groups = [g["GroupName"] for g in (backup_parts(state).get("groups_to_create") or [])]
    counted = count_pool(
        work_store(state),
        paced_list_call(aws.client("cognito-idp"), float(os.environ.get("QUOTA_USER_LIST", "30"))),
        pool_id(state),
        groups,
        fresh=bool(state["live_count"].get("fresh")),
        should_stop=lambda: context.get_remaining_time_in_millis() < TIME_RESERVE_MS,
    )
    logger.info("Restored pool counted" if counted["done"] else "Restored pool count continues", extra=counted)
    return {**state, "live_count": cast(LiveCount, counted)}
