"""Sync mode: the target's domain, Lambda triggers, UI customization, risk configurations and web ACL
compared with the backup (docs/sync.md). The phases ask before they write (nothing is written when the
target already has the setting); the dry run of a sync lists the same comparisons as its plan
(sync_plans.dry_run_changes), read from the target and never written."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from botocore.exceptions import ClientError

from cognito_restore import aws
from cognito_restore.arn_map import ArnMapper
from cognito_restore.aws_errors import error_code
from cognito_restore.errors import NotRestorable
from cognito_restore.pool_config import map_lambda_config
from cognito_restore.reconcile import Change, SyncPlan, covers
from cognito_restore.resources import Request
from cognito_restore.security import risk_configuration_request, ui_customization_request, web_acl_arn

CUSTOM_DOMAIN_REASON = "a custom domain needs its ACM certificate (us-east-1) and DNS; create it by hand"
RISK_KEYS = ("UserPoolId", "ClientId")  # name the configuration; the others are its settings


def kept_domain_note(current: str, prefix: str) -> dict[str, str]:
    """The target has another prefix domain: a pool has one, and replacing it would break the hosted UI."""
    return {"item": current, "note": f"the target keeps its domain; the backup's prefix is {prefix}"}


def ui_label(ui: Mapping[str, Any]) -> str:
    return f"UI customization ({ui.get('ClientId') or 'ALL'})"


def risk_label(risk: Mapping[str, Any]) -> str:
    return f"risk configuration ({risk.get('ClientId') or 'pool'})"


def waf_label(waf: Mapping[str, Any]) -> str:
    return f"web ACL {waf.get('WebACLName') or waf.get('WebACLArn')}"


def ui_differences(request: Mapping[str, Any]) -> tuple[str, ...]:
    """The settings the pool (or client) does not have: its CSS (the logo is not in the backup)."""
    current = aws.client("cognito-idp").get_ui_customization(
        UserPoolId=request["UserPoolId"], ClientId=request.get("ClientId", "ALL")
    )
    return () if current.get("UICustomization", {}).get("CSS") == request.get("CSS") else ("CSS",)


def risk_differences(request: Mapping[str, Any]) -> tuple[str, ...]:
    """The risk configuration's settings the pool (or client) does not have as backed up."""
    key = {k: request[k] for k in RISK_KEYS if k in request}
    current = aws.client("cognito-idp").describe_risk_configuration(**key).get("RiskConfiguration") or {}
    return tuple(k for k, v in request.items() if k not in key and not covers(v, current.get(k)))


def waf_differences(request: Mapping[str, Any]) -> tuple[str, ...]:
    """("WebACLArn",) unless the pool is already protected by this web ACL."""
    try:
        current = aws.client("wafv2").get_web_acl_for_resource(ResourceArn=request["ResourceArn"])
    except ClientError as error:
        if error_code(error) == "WAFNonexistentItemException":  # the pool itself is unknown to WAF yet
            return ("WebACLArn",)
        raise
    return () if (current.get("WebACL") or {}).get("ARN") == request["WebACLArn"] else ("WebACLArn",)


def current(differences: Callable[[Mapping[str, Any]], tuple[str, ...]]) -> Callable[[dict[str, Any]], bool]:
    """A phase's is_current (restore_single): the target has every setting of the request."""
    return lambda request: not differences(request)


def target_only_triggers(current_config: Mapping[str, Any], mapped: Iterable[str]) -> list[str]:
    """The target's triggers the backup does not have (a sync keeps them)."""
    return [f"Lambda trigger {t}" for t in sorted(set(current_config) - set(mapped) - {"KMSKeyID"})]


def set_triggers(pool: Mapping[str, Any]) -> dict[str, Any]:
    """A DescribeUserPool UserPool's LambdaConfig without the empty entries."""
    return {k: v for k, v in (pool.get("LambdaConfig") or {}).items() if v}


# ---------------------------------------------------------------- the dry run's plans


def plan_domain(config: Mapping[str, Any], target: Mapping[str, Any]) -> SyncPlan:
    """The prefix domain is created when the target has none; a target's own domain is kept."""
    plan = SyncPlan("domain")
    if config.get("CustomDomain"):
        plan.notes.append({"item": config["CustomDomain"], "note": CUSTOM_DOMAIN_REASON})
    prefix, existing = config.get("Domain"), str(target.get("Domain") or "")
    if prefix and not existing:
        plan.changes.append(Change(prefix, "create"))
    elif prefix:
        plan.changes.append(Change(existing, "unchanged"))
        if existing != prefix:
            plan.notes.append(kept_domain_note(existing, prefix))
    return plan


def plan_triggers(config: Mapping[str, Any], target: Mapping[str, Any], mapper: ArnMapper) -> SyncPlan:
    plan = SyncPlan("lambda_triggers")
    mapped = map_lambda_config({k: v for k, v in (config.get("LambdaConfig") or {}).items() if v}, mapper)
    existing = set_triggers(target)
    plan.notes += [{"item": item["item"], "note": item["reason"]} for item in mapped.unmapped]
    for trigger, value in mapped.lambda_config.items():
        name = "Lambda triggers' KMS key" if trigger == "KMSKeyID" else f"Lambda trigger {trigger}"
        if covers({trigger: value}, existing):
            plan.changes.append(Change(name, "unchanged"))
        else:
            plan.changes.append(Change(name, "update" if trigger in existing else "create", (trigger,)))
    plan.absent = target_only_triggers(existing, mapped.lambda_config)
    return plan


def plan_settings(
    category: str,
    values: Iterable[Any],
    label: Callable[[Mapping[str, Any]], str],
    build: Callable[[dict[str, Any]], Request],
    differences: Callable[[Mapping[str, Any]], tuple[str, ...]],
    clients_to_create: set[str],
) -> SyncPlan:
    """One optional section (and its v2 per-client list) compared as the phase compares it. A setting of a
    client the sync would create is created with it."""
    plan = SyncPlan(category)
    for value in values:
        if not value:
            continue
        name = label(value)
        if value.get("ClientId") in clients_to_create:
            plan.changes.append(Change(name, "create"))
            continue
        try:
            request = build(value)
        except NotRestorable as reason:
            plan.notes.append({"item": name, "note": str(reason)})
            continue
        settings = differences(request.request)
        plan.changes.append(Change(name, "update" if settings else "unchanged", settings))
    return plan


def plan_pool_settings(
    parts: Mapping[str, Any],
    target: Mapping[str, Any],
    mapper: ArnMapper,
    client_ids: dict[str, str],
    clients_to_create: set[str],
) -> list[SyncPlan]:
    """The dry run's plans of the phases after the users: what each would write into the target.
    target: its DescribeUserPool UserPool; client_ids: backed-up client id -> the target's (by name)."""
    pool_id, config = str(target["Id"]), parts["user_pool_config"]

    def section(name: str, per_client: str) -> list[Any]:
        return [parts.get(name), *(parts.get(per_client) or [])]

    return [
        plan_domain(config, target),
        plan_triggers(config, target, mapper),
        plan_settings(
            "ui_customization",
            section("ui_customization", "ui_customizations"),
            ui_label,
            lambda ui: ui_customization_request(ui, pool_id, client_ids),
            ui_differences,
            clients_to_create,
        ),
        plan_settings(
            "threat_protection",
            section("risk_configuration", "risk_configurations"),
            risk_label,
            lambda risk: risk_configuration_request(risk, pool_id, client_ids, mapper),
            risk_differences,
            clients_to_create,
        ),
        plan_settings(
            "waf",
            [parts.get("waf_configuration")],
            waf_label,
            lambda waf: Request({"WebACLArn": web_acl_arn(waf, mapper), "ResourceArn": target["Arn"]}),
            waf_differences,
            clients_to_create,
        ),
    ]
