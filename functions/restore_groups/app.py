"""Phase: restore groups, including groups that only the memberships name; paced, and continued when time runs low."""

from __future__ import annotations

from aws_lambda_powertools.utilities.typing import LambdaContext

from cognito_restore import aws
from cognito_restore.groups import restore_groups
from cognito_restore.handler import phase_handler
from cognito_restore.pacing import Pacer
from cognito_restore.state import GroupsRestored, GroupsRestoring, PhaseEvent


@phase_handler("restore_groups")
def lambda_handler(event: PhaseEvent[GroupsRestoring], context: LambdaContext) -> GroupsRestored:
    state = event["state"]
    # One groups task runs at a time: it gets the whole quota.
    progress = restore_groups(state, context, Pacer(concurrency=1), aws.client("cognito-idp"))
    return {**state, "groups": progress}
