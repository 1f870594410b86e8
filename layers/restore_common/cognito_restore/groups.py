"""Restoring the groups at Cognito's scale: paced, checkpointed, continued when Lambda time runs low.

CreateGroup is held to 5 requests/s into one user pool (UserPoolResourceUpdate, docs/quotas.md), so
the 10,000 groups a pool may have take 2,000 s: more than one invocation. Each invocation creates
groups from the saved offset until its time runs low, then hands back a continuation (done=False)
that the state machine's "Groups restored?" loop calls again. Every step is safe to repeat: a
group that exists (created by an attempt that crashed before its checkpoint) counts as restored,
and a finished phase returns its saved result at once.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from cognito_restore.chunks import TIME_RESERVE_MS
from cognito_restore.errors import CognitoThrottled
from cognito_restore.execution_input import sync_target
from cognito_restore.observability import logger
from cognito_restore.outcomes import PhaseOutcome
from cognito_restore.pacing import Pacer
from cognito_restore.phase import backup_parts, pool_id, record_phase, restore_one, work_store
from cognito_restore.reconcile import record_absent
from cognito_restore.resources import group_request
from cognito_restore.state import GroupsProgress, WithPool, WithRestore
from cognito_restore.sync_plans import apply_change, plan_groups

CHECKPOINT_EVERY = 100  # groups between saved progress points (20 s at 5/s: bounds the redo after a crash)
EXISTS = frozenset({"GroupExistsException"})
PROGRESS = "results/groups.progress.json"
STALE = "stale"  # a result verification invalidated (groups absent from the pool): the phase runs again


def invalidate_groups(store: Any, reason: str) -> None:
    """Make the next run of the groups phase start over: groups that exist count as restored, absent ones
    are created again (verification found groups absent from the pool)."""
    store.put_json(store.key(PROGRESS), {"offset": 0, "outcome": PhaseOutcome("groups").to_dict()})
    store.put_result("groups", {STALE: reason})


def restore_groups(state: WithPool, context: LambdaContext, pacer: Pacer, cognito: Any) -> GroupsProgress:
    """Create the groups to create (backed up, and named only by memberships), resuming from saved progress.

    Returns the phase's counts, and done=False for a continuation."""
    store = work_store(state)
    # A sync compares again on each run of the phase (the target may have changed since an earlier run of
    # the same restore id); only the continuation turns of one run ("groups" in the state) go on from
    # the saved offset. The writes already made are found unchanged: nothing is written twice.
    fresh = sync_target(state["restore"]) is not None and "groups" not in state
    finished = None if fresh else store.get_result("groups")
    groups = backup_parts(state).get("groups_to_create") or []
    if finished is not None and not finished.get(STALE):
        return _progress(PhaseOutcome.from_dict(finished), len(groups), len(groups), done=True)
    progress_key = store.key(PROGRESS)
    saved = None if fresh else store.get_json_or_none(progress_key)
    outcome = PhaseOutcome.from_dict(saved["outcome"]) if saved else PhaseOutcome("groups")
    offset = saved["offset"] if saved else 0
    new_pool = pool_id(state)

    def create(**request: Any) -> Any:
        pacer.before("CreateGroup")
        return cognito.create_group(**request)

    def update(**request: Any) -> Any:
        pacer.before("UpdateGroup")
        return cognito.update_group(**request)

    # Sync mode: the target's groups are listed once per invocation; only differences are written.
    plan = plan_groups(backup_parts(state), new_pool) if sync_target(state["restore"]) else None
    changes = {change.item: change for change in plan.changes} if plan else {}
    for position in range(offset, len(groups)):
        change = changes.get(str(groups[position].get("GroupName")))
        try:
            if change is not None:
                apply_change(outcome, change, create, update, exists_codes=EXISTS)
            else:  # a restore (or a backed-up group without a name, failed as in a restore)
                restore_one(
                    outcome,
                    groups[position],
                    name_of=lambda group: str(group.get("GroupName")),
                    build=lambda group: group_request(group, new_pool),
                    create=create,
                    exists_codes=EXISTS,
                )
        except CognitoThrottled:
            # Keep what is done; the state machine retries the task later, with jitter.
            store.put_json(progress_key, {"offset": offset, "outcome": outcome.to_dict()})
            raise
        offset = position + 1
        if offset == len(groups):
            break
        out_of_time = context.get_remaining_time_in_millis() < TIME_RESERVE_MS
        if out_of_time or offset % CHECKPOINT_EVERY == 0:
            store.put_json(progress_key, {"offset": offset, "outcome": outcome.to_dict()})
            if out_of_time:
                return _progress(outcome, offset, len(groups), done=False)
    if plan is not None:
        record_absent(outcome, plan)
    record_phase(state, "groups", outcome)
    return _progress(outcome, len(groups), len(groups), done=True)


def _progress(outcome: PhaseOutcome, offset: int, total: int, done: bool) -> GroupsProgress:
    logger.info("Groups progress", extra={"offset": offset, "total": total, "done": done})
    return {**outcome.counts(), "done": done}


def unrestored_groups(state: WithRestore) -> frozenset[str]:
    """Groups the groups phase reported failed or skipped: their memberships are reported, not tried
    (Cognito would refuse each with ResourceNotFoundException, which otherwise fails the chunk)."""
    finished = work_store(state).get_result("groups") or {}
    return frozenset(str(item["item"]) for item in [*finished.get("failed", []), *finished.get("skipped", [])])
