"""Phase: restore resource servers (before app clients, whose custom scopes need them)."""

from __future__ import annotations

from aws_lambda_powertools.utilities.typing import LambdaContext

from cognito_restore import aws
from cognito_restore.execution_input import sync_target
from cognito_restore.handler import phase_handler
from cognito_restore.outcomes import PhaseOutcome
from cognito_restore.phase import backup_parts, pool_id, record_phase, restore_each
from cognito_restore.resources import resource_server_request
from cognito_restore.state import PhaseEvent, PoolCreated, ResourceServersRestored
from cognito_restore.sync_plans import apply_plan, plan_resource_servers


def _existing_identifiers(user_pool_id: str) -> set[str]:
    """Servers a previous run created: a duplicate create fails with a generic InvalidParameterException."""
    paginator = aws.client("cognito-idp").get_paginator("list_resource_servers")
    return {
        server["Identifier"]
        for page in paginator.paginate(UserPoolId=user_pool_id, MaxResults=50)
        for server in page.get("ResourceServers", [])
    }


@phase_handler("restore_resource_servers")
def lambda_handler(event: PhaseEvent[PoolCreated], context: LambdaContext) -> ResourceServersRestored:
    state = event["state"]
    outcome = PhaseOutcome("resource_servers")
    if sync_target(state["restore"]):  # create what is absent, update what differs (docs/sync.md)
        cognito = aws.client("cognito-idp")
        plan = plan_resource_servers(backup_parts(state), pool_id(state))
        apply_plan(outcome, plan, cognito.create_resource_server, cognito.update_resource_server)
        return {**state, "resource_servers": record_phase(state, "resource_servers", outcome)}
    servers = backup_parts(state).get("resource_servers") or []
    existing = _existing_identifiers(pool_id(state))
    for server in servers:
        if server.get("Identifier") in existing:
            outcome.restore(str(server["Identifier"]))
    restore_each(
        outcome,
        [s for s in servers if s.get("Identifier") not in existing],
        name_of=lambda server: str(server.get("Identifier")),
        build=lambda server: resource_server_request(server, pool_id(state)),
        create=aws.client("cognito-idp").create_resource_server,
        exists_codes=frozenset(),
    )
    return {**state, "resource_servers": record_phase(state, "resource_servers", outcome)}
