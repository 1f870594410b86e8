"""Phase: verify restored pool. Reads back the new pool, accounts for every backed-up item, writes the report."""

from __future__ import annotations

import os
from collections import Counter
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from cognito_restore.chunks import invalidate_user_chunk
from cognito_restore.errors import RestoreIncomplete, RestoreIncompleteResources
from cognito_restore.groups import invalidate_groups
from cognito_restore.handler import phase_handler
from cognito_restore.ledger import Ledger
from cognito_restore.phase import work_store
from cognito_restore.report import UNREPORTED, Report, identity_provider_steps, render_markdown, user_steps
from cognito_restore.store import WorkStore
from cognito_restore.verification import (
    ABSENT,
    TIME_RESERVE_MS,
    OutOfTime,
    UserAccounting,
    account_users,
    chunks_with_absent_memberships,
    compare,
    decide,
    listable,
    live_counts,
    pool_usernames,
)

logger, metrics, tracer = Logger(), Metrics(), Tracer()
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


def _add_results(report: Report, store: WorkStore, plan: dict[str, Any]) -> UserAccounting:
    for phase in PHASES:
        outcome = store.get_result(phase)
        if outcome:
            report.add_phase(phase, outcome)
    accounting = account_users(
        store.get_json(plan["users_manifest_key"]),
        lambda index: store.get_json_or_none(store.chunk_result_key("users", index)),
        lambda chunk: [item["old_username"] for item in store.get_json(chunk["key"])],  # UserPlan items
        on_result=report.add_chunk,
        keep_usernames=listable(plan["planned"]["users"], plan["planned"]["memberships"]),
    )
    report.categories["users"].failed.extend(accounting.unaccounted)
    report.maps["users"] = (
        f"s3://{store.bucket}/{store.key('results/users/')} (ids: old/new username and sub per chunk)"
    )
    report.maps["app_clients"] = f"s3://{store.bucket}/{store.key('maps/app_clients.json')}"
    return accounting


def _verify(
    report: Report, state: dict[str, Any], accounting: UserAccounting, groups: list[str], context: Any, store: WorkStore
) -> dict[int, str]:
    """Live reads of the new pool; the decision (complete / with unrestorable items / incomplete) goes in the report.

    Returns the finished chunks to run again (index -> why, counts only): their result files say done, so a
    re-run would return at once and never create the users or memberships absent from the pool."""
    pool_id = state["pool"]["id"]
    planned = state["plan"]["planned"]
    expected = {name: c.restored for name, c in report.categories.items()}
    small = listable(planned["users"], planned["memberships"])
    members: dict[str, set[str]] = {}
    found = live_counts(pool_id, groups, list_memberships=small, members=members)
    absent: list[dict[str, str]] = []
    live_users = f"not listed ({planned['users']} users: more than one phase can list); counted from the chunk results"
    if small:
        try:
            names = pool_usernames(pool_id, lambda: context.get_remaining_time_in_millis() < TIME_RESERVE_MS)
        except OutOfTime:
            live_users = "not listed (the phase ran out of time); counted from the chunk results"
        else:
            found["users"] = len(names)
            live_users = f"listed: {len(names)} users in the pool"
            absent = [{"item": name, "reason": ABSENT} for name in sorted(accounting.restored_usernames.keys() - names)]
    users = report.categories["users"]
    if absent:
        users.restored -= len(absent)
        users.failed.extend(absent)
    report.verification = compare(expected, found)
    rerun = {index: "its result names fewer users than the chunk holds" for index in accounting.partial_chunks}
    by_chunk = Counter(accounting.restored_usernames[item["item"]] for item in absent)
    for index, count in by_chunk.items():
        rerun[index] = f"{count} of its users absent from the pool"
    if not report.verification.get("memberships", {}).get("ok", True):
        plan = state["plan"]
        for index, count in chunks_with_absent_memberships(
            store.get_json(plan["users_manifest_key"]),
            lambda i: store.get_json_or_none(store.chunk_result_key("users", i)),
            lambda chunk: store.get_json(chunk["key"]),  # UserPlan items
            members,
        ).items():
            rerun[index] = "; ".join(
                filter(None, (rerun.get(index), f"{count} of its memberships absent from the pool"))
            )
    # A user Cognito refused for a transient cause (not its data) is not an unrestorable item (chunks now
    # fail instead of recording those). Memberships are left out: a membership of a group that could not be
    # restored fails with ResourceNotFoundException, a consequence of that group's reported failure.
    transient = accounting.transient
    unreported = {
        name: sum(1 for item in c.failed if item["item"] == UNREPORTED) for name, c in report.categories.items()
    }
    not_restored = sum(len(c.failed) + len(c.skipped) for c in report.categories.values()) - sum(unreported.values())
    report.outcome = decide(
        report.verification,
        unaccounted_users=len(accounting.unaccounted),
        absent_users=len(absent),
        environment_failures=len(transient),
        unrestorable=not_restored - len(accounting.unaccounted) - len(absent) - len(transient),
        live_users=live_users,
        unreported=unreported,
    ).to_dict()
    return dict(sorted(rerun.items()))


def _add_problems(report: Report, store: WorkStore, plan: dict[str, Any]) -> None:
    for chunk in store.get_json(plan["problems_manifest_key"]):
        for problem in store.get_json(chunk["key"]):
            report.add_problem(problem)


def _domain_outcome(report: Report, state: dict[str, Any]) -> None:
    domain = state.get("domain") or {}
    report.domain = domain
    if domain.get("status") not in ("ACTIVE", "NONE"):
        domain_report = report.categories["domain"]
        if domain_report.restored:
            domain_report.restored -= 1
            reason = domain.get("outcome") or domain.get("status")
            domain_report.failed.append(
                {"item": domain.get("name", "?"), "reason": f"domain did not become ACTIVE ({reason})"}
            )
            report.manual_steps.append(
                f"Check domain {domain.get('name')} in the console (status {domain.get('status')})"
            )


def _standard_steps(
    report: Report, state: dict[str, Any], parts: dict[str, Any], status_counts: dict[str, int]
) -> None:
    pool = state["pool"]
    domain = state.get("domain") or {}
    host = domain.get("url", "").removeprefix("https://") or None
    report.manual_steps[:0] = [
        f"Point applications at pool {pool['id']} in {pool['region']} with the new app client ids (see app configuration)",
        "Tell users to sign in with forgot-password (passwords cannot be restored)",
        *identity_provider_steps(parts.get("identity_providers") or [], pool["id"], host),
        *user_steps(status_counts, report.unlinked_users, parts["user_pool_config"].get("MfaConfiguration")),
    ]


def _subject(report: Report, state: dict[str, Any]) -> str:
    """SNS subject (ASCII, at most 100 characters): says when items could not be restored."""
    if report.dry_run:
        return f"Cognito DR dry run {report.source_pool_id} complete"
    pool_id = state["pool"]["id"]
    not_restorable = report.outcome.get("unrestorable", 0)
    if not_restorable:
        items = "item" if not_restorable == 1 else "items"
        return f"Cognito DR restore complete, {not_restorable} {items} not restorable: {pool_id}"[:100]
    return f"Cognito DR restore complete: {pool_id}"


RESOURCE_PHASES = {  # category -> the phase that creates it (each one runs again in a redrive from the first)
    "resource_servers": "Restore resource servers",
    "identity_providers": "Restore identity providers",
    "app_clients": "Restore app clients",
    "groups": "Restore groups",
}


def _rerun_plan(report: Report, accounting: UserAccounting, stale: dict[int, str]) -> dict[str, Any]:
    """What a redrive (or a start with the same restore id) runs again; goes in the report and the failure."""
    missing = report.outcome["missing"]
    unfinished = sorted(set(accounting.unfinished_chunks) - set(stale))
    return {
        "phases": [phase for category, phase in RESOURCE_PHASES.items() if missing.get(category)],
        "invalidated_chunks": [{"chunk": index, "why": why} for index, why in stale.items()],
        "unfinished_chunks": unfinished,
    }


def _incomplete_message(report: Report, state: dict[str, Any], location: str) -> str:
    users = report.categories["users"]
    planned = state["plan"]["planned"]["users"]
    missing = ", ".join(f"{name} {count}" for name, count in report.outcome["missing"].items())
    rerun = report.outcome["rerun"]
    runs = []
    if rerun["phases"]:
        runs.append(
            f"phases {', '.join(rerun['phases'])} (a redrive resumes at '{RESOURCE_PHASES['resource_servers']}')"
        )
    if rerun["invalidated_chunks"]:
        chunks = ", ".join(f"{c['chunk']} ({c['why']})" for c in rerun["invalidated_chunks"])
        runs.append(f"user chunks {chunks}, whose results were marked stale")
    if rerun["unfinished_chunks"]:
        runs.append(f"unfinished user chunks {', '.join(map(str, rerun['unfinished_chunks']))}")
    return (
        f"Restore incomplete: {users.restored} of {planned} planned users restored and verified; missing: {missing}. "
        f"Report: {location}. Redrive this execution or start again with the same restore_id; runs again: "
        f"{'; '.join(runs) or 'nothing identified (see the report)'}. Other finished chunks return at once."
    )


@phase_handler(logger, metrics, tracer)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
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
        accounting = _add_results(report, store, plan)
        _domain_outcome(report, state)
        parts = store.get_json(plan["parts_key"])
        _standard_steps(report, state, parts, plan.get("status_counts") or {})
        report.client_ids = store.get_json_or_none(store.key("maps/app_clients.json")) or []
        groups = [g["GroupName"] for g in (parts.get("groups_to_create") or [])]
        for category in report.categories.values():
            category.balance()
        stale = _verify(report, state, accounting, groups, context, store)
        if report.outcome.get("status") == "incomplete":
            report.outcome["rerun"] = _rerun_plan(report, accounting, stale)
    for category in report.categories.values():
        category.balance()
    document = report.to_dict()
    json_key = store.put_json(store.key("report.json"), document)
    markdown_key = store.put_text(store.key("report.md"), render_markdown(document))
    logger.info("Report written", extra={"summary": report.summary(), "throttled_calls": report.throttled_calls})
    location = f"s3://{store.bucket}/{json_key}"
    if report.outcome.get("status") == "incomplete":
        rerun = report.outcome["rerun"]
        for chunk in rerun["invalidated_chunks"]:
            invalidate_user_chunk(store, chunk["chunk"], chunk["why"])
        if "Restore groups" in rerun["phases"]:
            invalidate_groups(store, "groups absent from the pool")
        error = RestoreIncompleteResources if rerun["phases"] else RestoreIncomplete
        logger.warning("Restore incomplete", extra={"missing": report.outcome["missing"], "rerun": rerun})
        raise error(_incomplete_message(report, state, location))
    if not restore["dry_run"]:  # the source pool's next default start begins a new restore
        Ledger(os.environ["LEDGER_TABLE"]).complete(restore["restore_id"], restore["source_pool_id"])
    return {
        **state,
        "report": {
            "json_key": json_key,
            "markdown_key": markdown_key,
            "location": location,
            "subject": _subject(report, state),
            "counts": report.counts(),
            "summary": report.summary(),
            "manual_steps": report.manual_steps[:8]
            + ([f"... {len(report.manual_steps) - 8} more in the report"] if len(report.manual_steps) > 8 else []),
        },
    }
