"""Phase: restore groups, including groups that only the memberships name."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer

from cognito_restore import aws
from cognito_restore.handler import phase_handler
from cognito_restore.outcomes import PhaseOutcome
from cognito_restore.phase import backup_parts, pool_id, record_phase, restore_each
from cognito_restore.resources import group_request

logger, metrics, tracer = Logger(), Metrics(), Tracer()


@phase_handler(logger, metrics, tracer)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    state = event["state"]
    outcome = PhaseOutcome("groups")
    restore_each(
        outcome,
        backup_parts(state).get("groups_to_create") or [],
        name_of=lambda group: str(group.get("GroupName")),
        build=lambda group: group_request(group, pool_id(state)),
        create=aws.client("cognito-idp").create_group,
        exists_codes=frozenset({"GroupExistsException"}),
    )
    return {**state, "groups": record_phase(state, "groups", outcome)}
