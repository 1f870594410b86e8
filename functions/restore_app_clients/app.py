"""Phase: restore app clients. Keeps each client's secret unless the operator opted out; maps old -> new ids."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError

from cognito_restore import aws
from cognito_restore.aws_errors import describe_error
from cognito_restore.client_ids import CLIENT_MAP
from cognito_restore.execution_input import sync_target
from cognito_restore.handler import phase_handler
from cognito_restore.outcomes import PhaseOutcome
from cognito_restore.phase import arn_mapper, backup_parts, pool_id, record_phase, restore_each, work_store
from cognito_restore.reconcile import record_absent
from cognito_restore.resources import app_client_request
from cognito_restore.state import ClientsRestored, IdentityProvidersRestored, PhaseEvent
from cognito_restore.sync_plans import apply_change, existing_clients, plan_app_clients


def _existing_clients(user_pool_id: str) -> dict[str, str]:
    """Clients already in the new pool (a re-run), by name: CreateUserPoolClient does not refuse duplicates."""
    found: dict[str, str] = {}
    paginator = aws.client("cognito-idp").get_paginator("list_user_pool_clients")
    for page in paginator.paginate(UserPoolId=user_pool_id, MaxResults=60):
        for client in page.get("UserPoolClients", []):
            found[client["ClientName"]] = client["ClientId"]
    return found


def _client_creator(regenerated: list[str]) -> Callable[..., dict[str, Any]]:
    """Creates a client with its backed-up secret; if Cognito refuses that secret, with a new one (noted)."""

    def create(**request: Any) -> dict[str, Any]:
        cognito = aws.client("cognito-idp")
        try:
            return cognito.create_user_pool_client(**request)
        except ClientError as error:
            if "ClientSecret" not in request or "clientsecret" not in describe_error(error).lower():
                raise
        response = cognito.create_user_pool_client(
            **{k: v for k, v in request.items() if k != "ClientSecret"}, GenerateSecret=True
        )
        regenerated.append(request["ClientName"])
        return response

    return create


@phase_handler("restore_app_clients")
def lambda_handler(event: PhaseEvent[IdentityProvidersRestored], context: LambdaContext) -> ClientsRestored:
    state = event["state"]
    new_pool = pool_id(state)
    parts = backup_parts(state)
    clients = parts.get("app_clients") or []
    providers = {p.get("ProviderName") for p in parts.get("identity_providers") or []}
    restored_providers = (work_store(state).get_result("identity_providers") or {}).get("restored", [])
    regenerated: list[str] = []
    outcome = PhaseOutcome("app_clients")
    mapper = arn_mapper(state)
    available_providers = set(restored_providers) & providers
    if sync_target(state["restore"]):  # matched by name, the ids kept; absent ones created (docs/sync.md)
        current = existing_clients(new_pool)
        existing = {name: client["ClientId"] for name, client in current.items()}
        plan, requests = plan_app_clients(parts, new_pool, state["restore"], available_providers, mapper, current)
        create, update = _client_creator(regenerated), aws.client("cognito-idp").update_user_pool_client
        responses = {}
        for change in plan.changes:
            notes = requests[change.item].notes if change.kind != "unchanged" else ()
            response = apply_change(outcome, change, create, update, notes=notes)
            if response is not None:
                responses[change.item] = response
        record_absent(outcome, plan)
    else:
        existing = _existing_clients(new_pool)
        to_create = [c for c in clients if c.get("ClientName") not in existing]
        for client in clients:
            if client.get("ClientName") in existing:
                outcome.restore(str(client["ClientName"]))
        responses = restore_each(
            outcome,
            to_create,
            name_of=lambda client: str(client.get("ClientName")),
            build=lambda client: app_client_request(
                client,
                new_pool,
                available_providers=available_providers,
                keep_secret=state["restore"].get("keep_client_secrets", True),
                mapper=mapper,
            ),
            create=_client_creator(regenerated),
            exists_codes=frozenset(),
        )
    new_ids = dict(existing)
    new_ids.update({name: r["UserPoolClient"]["ClientId"] for name, r in responses.items() if r})
    # Old -> new ids for the report (no secrets: they stay in the backup and the new pool only).
    id_map = [
        {
            "name": c.get("ClientName"),
            "old_client_id": c.get("ClientId"),
            "new_client_id": new_ids.get(c.get("ClientName")),
        }
        for c in clients
    ]
    work_store(state).put_json(work_store(state).key(CLIENT_MAP), id_map)
    for name in regenerated:
        outcome.notes.append(
            {"item": name, "note": "Cognito refused the backed-up client secret: a new one was generated"}
        )
        outcome.manual_steps.append(
            f"App client {name} has a NEW client secret: give it to the applications that use this client"
        )
    counts = record_phase(state, "app_clients", outcome)
    return {
        **state,
        "clients": {**counts, "ids": {row["name"]: row["new_client_id"] for row in id_map if row["new_client_id"]}},
    }
