"""Phase: verify restored pool. Reads back the new pool, accounts for every backed-up item, writes the report."""

from __future__ import annotations

import os
from collections import Counter
from datetime import UTC, datetime
from typing import Any, cast

from aws_lambda_powertools.utilities.typing import LambdaContext

from cognito_restore.app_config import app_context
from cognito_restore.arn_map import ArnMapper
from cognito_restore.chunks import invalidate_user_chunk
from cognito_restore.dry_run import build_plan, readiness
from cognito_restore.errors import RestoreIncomplete, RestoreIncompleteResources
from cognito_restore.estimate import duration_text
from cognito_restore.execution_input import sync_target
from cognito_restore.groups import invalidate_groups
from cognito_restore.handler import phase_handler
from cognito_restore.ledger import Ledger
from cognito_restore.observability import logger
from cognito_restore.phase import work_store
from cognito_restore.report import (
    PHASE_CATEGORIES,
    UNREPORTED,
    Report,
    identity_provider_steps,
    reinvite_csv,
    render_markdown,
    user_steps,
)
from cognito_restore.state import Plan, ToVerify, Verified, VerifyEvent
from cognito_restore.store import WorkStore
from cognito_restore.sync_plans import dry_run_changes
from cognito_restore.sync_users import dry_run_users
from cognito_restore.verification import (
    ABSENT,
    COUNTED_ABSENT,
    TIME_RESERVE_MS,
    OutOfTime,
    UserAccounting,
    account_users,
    chunks_with_absent_memberships,
    compare,
    decide,
    identity_links,
    listable,
    live_counts,
    pool_usernames,
    v2_live_counts,
)


def _add_results(report: Report, store: WorkStore, plan: Plan) -> UserAccounting:
    for phase in PHASE_CATEGORIES:
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
    report: Report,
    state: ToVerify,
    accounting: UserAccounting,
    groups: list[str],
    context: Any,
    store: WorkStore,
    parts: dict[str, Any],
) -> dict[int, str]:
    """Live reads of the new pool; the decision (complete / with unrestorable items / incomplete) goes in the report.

    Returns the finished chunks to run again (index -> why, counts only): their result files say done, so a
    re-run would return at once and never create the users or memberships absent from the pool."""
    pool_id = state["pool"]["id"]
    planned = state["plan"]["planned"]
    # A sync's target may hold items the backup does not have: they stay, so they are expected too.
    expected = {name: c.restored + report.absent_from_backup(name) for name, c in report.categories.items()}
    small = listable(planned["users"], planned["memberships"])
    members: dict[str, set[str]] = {}
    found = live_counts(pool_id, groups, list_memberships=small, members=members)
    found.update(v2_live_counts(pool_id, parts, {n: c.backup for n, c in report.categories.items()}))
    absent: list[dict[str, str]] = []
    live_users = f"not listed ({planned['users']} users: more than one phase can list); counted from the chunk results"
    counted = state.get("live_count")
    shortfall = 0  # users the count finds fewer than restored (not known by name)
    if not small and counted and counted.get("done"):  # "Count the restored pool" counted it (live_count.py)
        found.update(
            users=counted["users"], identity_links=counted["identity_links"], memberships=counted["memberships"]
        )
        live_users = (
            f"counted: {counted['users']} users in the pool, in {counted['invocations']} invocation(s) of "
            "'Count the restored pool' (more than one phase can list by name)"
        )
        shortfall = max(0, expected["users"] - counted["users"])
    if small:
        seen: Counter[str] = Counter()  # identity links the listed users hold (each made by the restore)
        try:
            names = pool_usernames(
                pool_id,
                lambda: context.get_remaining_time_in_millis() < TIME_RESERVE_MS,
                on_user=lambda user: seen.update(identity_links=identity_links(user)),
            )
        except OutOfTime:
            live_users = "not listed (the phase ran out of time); counted from the chunk results"
        else:
            found["users"] = len(names)
            found["identity_links"] = seen["identity_links"]
            live_users = f"listed: {len(names)} users in the pool"
            absent = [{"item": name, "reason": ABSENT} for name in sorted(accounting.restored_usernames.keys() - names)]
    users = report.categories["users"]
    if absent:
        users.restored -= len(absent)
        users.failed.extend(absent)
    if shortfall:  # one failed entry per missing user, so restored + skipped + failed = backup still holds
        users.restored -= shortfall
        users.failed.extend(
            {"item": f"restored user {k} of {shortfall} the live count did not find", "reason": COUNTED_ABSENT}
            for k in range(1, shortfall + 1)
        )
    members_short = not small and found.get("memberships", 0) < expected.get("memberships", 0)
    if shortfall or (counted and members_short):
        report.manual_steps.append(
            f"The live count of pool {pool_id} is short of what the chunks restored: start a sync of the same "
            f"backup into it (mode sync, target_user_pool_id {pool_id}); it lists the pool and writes only "
            "the missing users and memberships"
        )
    report.verification = compare(expected, found)
    rerun = {index: "its result names fewer users than the chunk holds" for index in accounting.partial_chunks}
    by_chunk = Counter(accounting.restored_usernames[item["item"]] for item in absent)
    for index, count in by_chunk.items():
        rerun[index] = f"{count} of its users absent from the pool"
    if small and not report.verification.get("memberships", {}).get("ok", True):  # needs the members by name
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
        absent_users=len(absent) + shortfall,
        environment_failures=len(transient),
        unrestorable=not_restored - len(accounting.unaccounted) - len(absent) - shortfall - len(transient),
        live_users=live_users,
        unreported=unreported,
    ).to_dict()
    return dict(sorted(rerun.items()))


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
    point = (
        f"Pool {pool['id']} in {pool['region']} was synced: its app clients kept their ids (applications "
        "configured for it need no change; clients the sync created are in the app configuration)"
        if sync_target(state["restore"])
        else f"Point applications at pool {pool['id']} in {pool['region']} with the new app client ids (see app configuration)"
    )
    report.manual_steps[:0] = [
        point,
        "Tell users to sign in with forgot-password (passwords cannot be restored)",
        *identity_provider_steps(parts.get("identity_providers") or [], pool["id"], host),
        *user_steps(status_counts, report.unlinked_users, parts["user_pool_config"].get("MfaConfiguration")),
    ]


def _when(text: Any) -> datetime | None:
    """An ISO time (the execution's start, the backup's timestamp, maybe "... (from the backup key)")."""
    try:
        parsed = datetime.fromisoformat(str(text)[:19].replace("Z", ""))
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed


def _times(started_at: Any, backup_timestamp: Any) -> dict[str, Any]:
    ended = datetime.now(UTC)
    started, taken = _when(started_at), _when(backup_timestamp)
    return {
        "started": started.isoformat() if started else "unknown",
        "ended": ended.isoformat(timespec="seconds"),
        "duration": duration_text((ended - started).total_seconds()) if started else "unknown",
        "backup_age": duration_text((ended - taken).total_seconds()) if taken else "unknown",
    }


def _dry_run_plan(report: Report, state: ToVerify, store: WorkStore) -> dict[str, Any]:
    """What a restore would do: nothing is attempted, so nothing is failed or verified."""
    plan = state["plan"]
    parts = store.get_json(plan["parts_key"])
    region = os.environ.get("AWS_REGION", "")
    not_created = {name: c.skipped + c.failed for name, c in report.categories.items()}
    steps = [
        "Point applications at the new pool with the new app client ids (the report of the restore gives them)",
        "Tell users to sign in with forgot-password (passwords cannot be restored)",
        *identity_provider_steps(parts.get("identity_providers") or [], "<new pool id>", None),
        *user_steps(plan.get("status_counts") or {}, 0, parts["user_pool_config"].get("MfaConfiguration")),
    ]
    planned = build_plan(
        plan["counts"],
        cast(dict[str, int], plan["planned"]),
        not_created,
        readiness(parts, ArnMapper.for_restore(state["restore"], region)),
        steps,
        plan.get("estimate"),
    )
    target = sync_target(state["restore"])
    if target is not None:  # the plan of differences: what the sync would write into the target
        planned["sync"] = dry_run_changes(parts, state["restore"], target, region)
        for name, changes in planned["sync"].items():
            if name in planned["categories"]:  # the phases after the users have no row of their own
                planned["categories"][name]["would_create"] = len(changes["create"])
                planned["categories"][name]["would_update"] = len(changes["update"])
        # Users: each chunk diffed against the target partition "Read target pool" listed (docs/sync.md).
        users = dry_run_users(state, store)
        planned["sync"]["users"] = users
        planned["categories"]["users"]["would_create"] = len(users["create"])
        planned["categories"]["users"]["would_update"] = len(users["update"])
    return planned


def _subject(report: Report, state: ToVerify) -> str:
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


def _incomplete_message(report: Report, state: ToVerify, location: str) -> str:
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


@phase_handler("verify_restore")
def lambda_handler(event: VerifyEvent, context: LambdaContext) -> Verified:
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
    # Of the planned users: a user left out is under users.
    report.categories["identity_links"].backup = plan["planned"].get("identity_links", 0)
    report.categories["mfa_preferences"].backup = plan["planned"].get("mfa_preferences", 0)
    _add_problems(report, store, plan)
    report.times = _times(event.get("started_at"), plan.get("backup_timestamp"))
    if restore["dry_run"]:
        report.plan = _dry_run_plan(report, state, store)
    else:
        report.new_pool = state["pool"]
        accounting = _add_results(report, store, plan)
        if report.sync_users:  # sync mode: target users that could not be matched (no sign-in name), by name
            report.sync_users["unmatched"] = store.get_json_or_none(store.key("sync/target/unmatched.json")) or []
        _domain_outcome(report, state)
        parts = store.get_json(plan["parts_key"])
        _standard_steps(report, state, parts, plan.get("status_counts") or {})
        report.client_ids = store.get_json_or_none(store.key("maps/app_clients.json")) or []
        report.app_context = app_context(parts)
        if report.reinvite:
            key = store.put_text(store.key("reinvite.csv"), reinvite_csv(report.reinvite), "text/csv")
            report.reinvite_csv = f"s3://{store.bucket}/{key}"
        groups = [g["GroupName"] for g in (parts.get("groups_to_create") or [])]
        for category in report.categories.values():
            category.balance()
        stale = _verify(report, state, accounting, groups, context, store, parts)
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
            "markdown_key": markdown_key,
            "location": location,
            "subject": _subject(report, state),
            "counts": report.counts(),
            "summary": report.summary(),
            "manual_steps": report.manual_steps[:8]
            + ([f"... {len(report.manual_steps) - 8} more in the report"] if len(report.manual_steps) > 8 else []),
        },
    }
