"""Phase: verify restored pool. Reads back the new pool, accounts for every backed-up item, writes the report."""

from __future__ import annotations

import re
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from cognito_restore.handler import phase_handler
from cognito_restore.observability import logger
from cognito_restore.phase import work_store
from cognito_restore.report import Report, identity_provider_steps, render_markdown, user_steps
from cognito_restore.state import PhaseEvent, Plan, ToVerify, Verified
from cognito_restore.store import WorkStore
from cognito_restore.verification import compare, live_counts

CHUNK_RESULT = re.compile(r"/chunk-\d+\.json$")  # not the .progress / .error files
PHASES = (
    "pool_configuration",
    "resource_servers",
    "identity_providers",
    "app_clients",
    "groups",
    "domain",
    "lambda_triggers",
    "ui_customization",
    "threat_protection",
    "waf",
)


def _add_results(report: Report, store: WorkStore) -> None:
    for phase in PHASES:
        outcome = store.get_result(phase)
        if outcome:
            report.add_phase(phase, outcome)
    for key in store.list_keys(store.key("results/users/")):
        if CHUNK_RESULT.search(key):
            report.add_chunk(store.get_json(key))
    report.maps["users"] = (
        f"s3://{store.bucket}/{store.key('results/users/')} (ids: old/new username and sub per chunk)"
    )
    report.maps["app_clients"] = f"s3://{store.bucket}/{store.key('maps/app_clients.json')}"


def _add_problems(report: Report, store: WorkStore, plan: Plan) -> None:
    for chunk in store.get_json(plan["problems_manifest_key"]):
        for problem in store.get_json(chunk["key"]):
            report.add_problem(problem)


def _domain_outcome(report: Report, state: ToVerify) -> None:
    domain = state.get("domain")
    report.domain = domain
    if domain is not None and domain["status"] not in ("ACTIVE", "NONE"):
        domain_report = report.categories["domain"]
        if domain_report.restored:
            domain_report.restored -= 1
            reason = domain.get("outcome") or domain["status"]
            domain_report.failed.append({"item": domain["name"], "reason": f"domain did not become ACTIVE ({reason})"})
            report.manual_steps.append(f"Check domain {domain['name']} in the console (status {domain['status']})")


def _standard_steps(report: Report, state: ToVerify, parts: dict[str, Any], status_counts: dict[str, int]) -> None:
    pool = state["pool"]
    domain = state.get("domain")
    host = (domain.get("url", "") if domain else "").removeprefix("https://") or None
    report.manual_steps[:0] = [
        f"Point applications at pool {pool['id']} in {pool['region']} with the new app client ids (see app configuration)",
        "Tell users to sign in with forgot-password (passwords cannot be restored)",
        *identity_provider_steps(parts.get("identity_providers") or [], pool["id"], host),
        *user_steps(status_counts, report.unlinked_users, parts["user_pool_config"].get("MfaConfiguration")),
    ]


@phase_handler("verify_restore")
def lambda_handler(event: PhaseEvent[ToVerify], context: LambdaContext) -> Verified:
    state = event["state"]
    restore, plan = state["restore"], state["plan"]
    store = work_store(state)
    report = Report(
        restore_id=restore["restore_id"],
        source_pool_id=restore["source_pool_id"],
        dry_run=restore["dry_run"],
        backup={
            "bucket": restore["backup_bucket"],
            "key": restore["backup_key"],
            "timestamp": plan.get("backup_timestamp"),
        },
    )
    for name, count in plan["counts"].items():
        report.categories[name].backup = count
    report.categories["pool_configuration"].backup = 1
    _add_problems(report, store, plan)
    if restore["dry_run"]:
        report.categories["users"].restored = plan["planned"]["users"]
        report.categories["memberships"].restored = plan["planned"]["memberships"]
    else:
        report.new_pool = state["pool"]
        _add_results(report, store)
        _domain_outcome(report, state)
        parts = store.get_json(plan["parts_key"])
        _standard_steps(report, state, parts, plan.get("status_counts") or {})
        report.client_ids = store.get_json_or_none(store.key("maps/app_clients.json")) or []
        groups = [g["GroupName"] for g in (parts.get("groups_to_create") or [])]
        expected = {name: c.restored for name, c in report.categories.items()}
        report.verification = compare(expected, live_counts(state["pool"]["id"], expected["users"], groups))
    for category in report.categories.values():
        category.balance()
    document = report.to_dict()
    json_key = store.put_json(store.key("report.json"), document)
    markdown_key = store.put_text(store.key("report.md"), render_markdown(document))
    logger.info("Report written", extra={"summary": report.summary(), "throttled_calls": report.throttled_calls})
    return {
        **state,
        "report": {
            "markdown_key": markdown_key,
            "location": f"s3://{store.bucket}/{json_key}",
            "counts": report.counts(),
            "summary": report.summary(),
            "manual_steps": report.manual_steps[:8]
            + ([f"... {len(report.manual_steps) - 8} more in the report"] if len(report.manual_steps) > 8 else []),
        },
    }
