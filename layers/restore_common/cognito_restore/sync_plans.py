"""Sync mode: read the target pool once per category and plan the changes (reconcile.py), then apply
only the creates and updates. The phases and the sync's dry run share these, so the dry run lists
exactly what the sync would write. docs/sync.md.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cognito_restore import aws
from cognito_restore.arn_map import ArnMapper
from cognito_restore.errors import NotRestorable
from cognito_restore.outcomes import PhaseOutcome
from cognito_restore.phase import restore_one
from cognito_restore.pool_config import PoolRequest, create_user_pool_request, reapply_request
from cognito_restore.reconcile import (
    REPORTED,
    Change,
    SyncPlan,
    client_plan,
    custom_attributes_plan,
    group_plan,
    mfa_plan,
    mfa_request,
    named_plan,
    pool_update_plan,
    record,
    record_absent,
    sorted_scopes,
    sync_tags,
)
from cognito_restore.resources import (
    Request,
    app_client_request,
    group_request,
    identity_provider_request,
    resource_server_request,
)
from cognito_restore.state import Restore
from cognito_restore.sync_settings import plan_pool_settings


def _pages(operation: str, key: str, **params: Any) -> list[dict[str, Any]]:
    paginator = aws.client("cognito-idp").get_paginator(operation)
    return [item for page in paginator.paginate(**params) for item in page.get(key, [])]


# ------------------------------------------------------------------------------ the pool


def pool_request_of(parts: dict[str, Any], restore: Restore, region: str) -> PoolRequest:
    return create_user_pool_request(
        parts["user_pool_config"],
        restore_id=restore["restore_id"],
        source_pool_id=restore["source_pool_id"],
        target_region=region,
        mapper=ArnMapper.for_restore(restore, region),
        preserve_old_sub=restore.get("preserve_old_sub", False),
    )


def plan_pool(pool_request: PoolRequest, pool_id: str) -> tuple[SyncPlan, list[dict[str, Any]], dict[str, Any]]:
    """The pool configuration's plan (one change: update or unchanged), the custom attributes to add,
    and the target as DescribeUserPool gives it."""
    cognito = aws.client("cognito-idp")
    current: dict[str, Any] = cognito.describe_user_pool(UserPoolId=pool_id)["UserPool"]
    update = sync_tags(reapply_request(pool_request.request, current), current)
    plan = pool_update_plan(pool_request.request, update, current)
    missing, notes = custom_attributes_plan(pool_request.request.get("Schema") or [], current)
    plan.notes += notes
    return plan, missing, current


def plan_mfa(pool_request: PoolRequest, pool_id: str, applied: dict[str, Any]) -> Change:
    """``applied``: the pool request as the pool has it (the SMS configuration it accepted)."""
    current = aws.client("cognito-idp").get_user_pool_mfa_config(UserPoolId=pool_id)
    return mfa_plan(mfa_request(pool_id, pool_request.mfa_configuration, applied), current)


def attribute_change(entry: dict[str, Any]) -> Change:
    prefix = "dev:custom:" if entry.get("DeveloperOnlyAttribute") else "custom:"
    return Change(f"attribute {prefix}{entry['Name']}", "create", (), entry)


# ------------------------------------------------------------------------------ named items


def plan_resource_servers(parts: dict[str, Any], pool_id: str) -> SyncPlan:
    desired = {
        str(s["Identifier"]): sorted_scopes(resource_server_request(s, pool_id).request)
        for s in parts.get("resource_servers") or []
        if s.get("Identifier")
    }
    current = {
        str(s["Identifier"]): sorted_scopes(s)
        for s in _pages("list_resource_servers", "ResourceServers", UserPoolId=pool_id, MaxResults=50)
    }
    return named_plan("resource_servers", desired, current, skip=("UserPoolId",), unset_when_absent=("Scopes",))


def plan_identity_providers(parts: dict[str, Any], pool_id: str, outcome: PhaseOutcome | None = None) -> SyncPlan:
    """Providers by ProviderName; each existing one is described (ListIdentityProviders has no details).
    A backed-up provider that cannot be restored as it is (NotRestorable) is skipped into ``outcome``."""
    desired: dict[str, dict[str, Any]] = {}
    for provider in parts.get("identity_providers") or []:
        name = str(provider.get("ProviderName"))
        try:
            desired[name] = identity_provider_request(provider, pool_id).request
        except NotRestorable as reason:
            if outcome is not None:
                outcome.skip(name, str(reason))
                outcome.manual_steps.append(f"identity_providers {name}: {reason}")
    cognito = aws.client("cognito-idp")
    listed = _pages("list_identity_providers", "Providers", UserPoolId=pool_id, MaxResults=60)
    current = {
        str(p["ProviderName"]): cognito.describe_identity_provider(UserPoolId=pool_id, ProviderName=p["ProviderName"])[
            "IdentityProvider"
        ]
        if p["ProviderName"] in desired
        else p
        for p in listed
    }
    plan = named_plan("identity_providers", desired, current, skip=("UserPoolId",))
    for change in plan.changes:
        if change.kind == "update" and "ProviderType" in change.settings:
            plan.notes.append(
                {"item": change.item, "note": "its type differs from the backup's: delete it, the next sync creates it"}
            )
    plan.changes = [c for c in plan.changes if not (c.kind == "update" and "ProviderType" in c.settings)]
    return plan


def update_identity_provider(**request: Any) -> Any:
    """UpdateIdentityProvider takes everything CreateIdentityProvider does but the type."""
    return aws.client("cognito-idp").update_identity_provider(
        **{k: v for k, v in request.items() if k != "ProviderType"}
    )


def existing_clients(pool_id: str) -> dict[str, dict[str, Any]]:
    """The target's clients by name, described (ListUserPoolClients has names and ids only)."""
    cognito = aws.client("cognito-idp")
    return {
        str(c["ClientName"]): cognito.describe_user_pool_client(UserPoolId=pool_id, ClientId=c["ClientId"])[
            "UserPoolClient"
        ]
        for c in _pages("list_user_pool_clients", "UserPoolClients", UserPoolId=pool_id, MaxResults=60)
    }


def plan_app_clients(
    parts: dict[str, Any],
    pool_id: str,
    restore: Restore,
    available_providers: set[str],
    mapper: ArnMapper,
    current: dict[str, dict[str, Any]],
) -> tuple[SyncPlan, dict[str, Request]]:
    """The plan, and each backed-up client's request (its notes: providers or analytics left out)."""
    requests = {
        str(c["ClientName"]): app_client_request(
            c,
            pool_id,
            available_providers=available_providers,
            keep_secret=restore.get("keep_client_secrets", True),
            mapper=mapper,
        )
        for c in parts.get("app_clients") or []
        if c.get("ClientName")
    }
    plan = client_plan({name: r.request for name, r in requests.items()}, current)
    for change in plan.changes:  # UpdateUserPoolClient names the client by its id
        if change.kind == "update":
            change.request["ClientId"] = current[change.item]["ClientId"]
    return plan, requests


def plan_groups(parts: dict[str, Any], pool_id: str) -> SyncPlan:
    groups = parts.get("groups_to_create") or []
    desired = {str(g["GroupName"]): group_request(g, pool_id).request for g in groups if g.get("GroupName")}
    current = _named_groups(pool_id)
    return group_plan(groups, desired, current)


def _named_groups(pool_id: str) -> dict[str, dict[str, Any]]:
    return {str(g["GroupName"]): g for g in _pages("list_groups", "Groups", UserPoolId=pool_id, Limit=60)}


# ------------------------------------------------------------------------------ apply


def apply_change(
    outcome: PhaseOutcome,
    change: Change,
    create: Callable[..., Any],
    update: Callable[..., Any],
    exists_codes: frozenset[str] = frozenset(),
    notes: tuple[str, ...] = (),
) -> Any:
    """Write one planned change (nothing for unchanged); a refusal caused by the data fails the item,
    as in a restore. Returns the Create response (None otherwise)."""
    if change.kind == "unchanged":
        record(outcome, change)
        return None
    call = create if change.kind == "create" else update
    _, written, response = restore_one(
        outcome,
        {},
        name_of=lambda _: change.item,
        build=lambda _: Request(change.request, notes),
        create=call,
        exists_codes=exists_codes,
    )
    if written:
        outcome.synced(REPORTED[change.kind], change.item)
        if change.kind == "update":
            outcome.notes.append({"item": change.item, "note": f"updated: {', '.join(change.settings)} differed"})
    return response if change.kind == "create" else None


def apply_plan(
    outcome: PhaseOutcome,
    plan: SyncPlan,
    create: Callable[..., Any],
    update: Callable[..., Any],
    exists_codes: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """Every change of the plan, then the items absent from the backup (reported). Create responses by item."""
    responses = {}
    for change in plan.changes:
        response = apply_change(outcome, change, create, update, exists_codes)
        if response is not None:
            responses[change.item] = response
    record_absent(outcome, plan)
    return responses


# ------------------------------------------------------------------------------ the dry run


def dry_run_changes(parts: dict[str, Any], restore: Restore, pool_id: str, region: str) -> dict[str, Any]:
    """The plan of differences a sync would write, per category, read from the target; nothing is written."""
    pool_request = pool_request_of(parts, restore, region)
    pool, missing, target = plan_pool(pool_request, pool_id)
    pool.changes += [attribute_change(entry) for entry in missing]
    pool.changes.append(plan_mfa(pool_request, pool_id, pool.changes[0].request))
    providers = plan_identity_providers(parts, pool_id)
    mapper = ArnMapper.for_restore(restore, region)
    target_clients = existing_clients(pool_id)
    clients, _ = plan_app_clients(
        parts,
        pool_id,
        restore,
        {change.item for change in providers.changes},  # the providers the sync would leave in the pool
        mapper,
        target_clients,
    )
    # The phases after the users (domain, triggers, UI, threat protection, WAF) compared as they compare.
    backed_up_clients = [c for c in parts.get("app_clients") or [] if c.get("ClientName") and c.get("ClientId")]
    created = {change.item for change in clients.changes if change.kind == "create"}
    settings = plan_pool_settings(
        parts,
        target,  # DescribeUserPool, read once for the pool configuration's plan
        mapper,
        {
            c["ClientId"]: target_clients[c["ClientName"]]["ClientId"]
            for c in backed_up_clients
            if c["ClientName"] in target_clients
        },
        {c["ClientId"] for c in backed_up_clients if c["ClientName"] in created},
    )
    plans = (pool, plan_resource_servers(parts, pool_id), providers, clients, plan_groups(parts, pool_id), *settings)
    return {plan.category: plan.to_dict() for plan in plans}
