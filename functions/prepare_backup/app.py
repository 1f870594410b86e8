"""Phase: validate and prepare backup. Streams the backup into chunk files; fails before any Cognito write.

A large backup takes several invocations: when Lambda time runs low the preparation saves its resume
point and returns preparation.done = False; the "Backup prepared?" loop invokes it again."""

from __future__ import annotations

import os
import time
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError

from cognito_restore import aws
from cognito_restore.aws_errors import error_code
from cognito_restore.backup import BackupSource, V1Source
from cognito_restore.backup_v2 import V2Source, is_v2_key
from cognito_restore.discovery import backup_time, parse_backup_key
from cognito_restore.errors import RestoreConflict
from cognito_restore.estimate import estimate
from cognito_restore.handler import phase_handler
from cognito_restore.observability import logger, metrics
from cognito_restore.pacing import quotas_from_env
from cognito_restore.phase import work_store
from cognito_restore.plan import TIME_RESERVE_MS, Continuation, Preparation
from cognito_restore.pool_config import OLD_SUB_ATTRIBUTE
from cognito_restore.state import PhaseEvent, Plan, PreparationProgress, Prepared, Restore, Started
from cognito_restore.sync_users import is_sync
from cognito_restore.verification import listable

PROGRESS_INTERVAL_S = 2.0  # at most one progress object write per interval


def _progress_writer(store: Any) -> Any:
    """Writes plan/progress.json (users read, chunk files written) for the operator tools to show."""
    counts = {"users_read": 0, "chunks_written": 0}
    last = {"at": 0.0}

    def report(what: str, count: int) -> None:
        counts[what] = count
        now = time.monotonic()
        if now - last["at"] >= PROGRESS_INTERVAL_S:
            last["at"] = now
            store.put_json(store.key("plan/progress.json"), {**counts, "done": False})

    return report, counts


def _backup_body(restore: Restore, offset: int = 0) -> Any:
    """The very backup object the restore id names (its version, or its ETag on an unversioned bucket),
    from byte offset on (a continuation goes on where the last one stopped)."""
    version = restore.get("backup_version") or ""
    pin = (
        {"VersionId": version.removeprefix("version:")}
        if version.startswith("version:")
        else {"IfMatch": version.removeprefix("etag:")}
        if version.startswith("etag:")
        else {}
    )
    ranged = {"Range": f"bytes={offset}-"} if offset else {}
    try:
        return aws.client("s3").get_object(Bucket=restore["backup_bucket"], Key=restore["backup_key"], **pin, **ranged)[
            "Body"
        ]
    except ClientError as error:
        if error_code(error) not in ("PreconditionFailed", "412"):
            raise
        raise RestoreConflict(
            f"Backup s3://{restore['backup_bucket']}/{restore['backup_key']} was overwritten after restore "
            f"{restore['restore_id']} chose it; start again without restore_id to restore the new object."
        ) from None


def _backup_source(restore: Restore) -> BackupSource:
    """Format v2: the key names the manifest (pinned like a v1 document); its files are read in turn.
    Format v1: the document, from the byte offset a continuation resumes at."""
    if is_v2_key(restore["backup_key"]):

        def opener(key: str) -> Any:
            return aws.client("s3").get_object(Bucket=restore["backup_bucket"], Key=key)["Body"]

        return V2Source(_backup_body(restore), restore["backup_key"], opener)
    return V1Source(lambda offset: _backup_body(restore, offset))


@phase_handler("prepare_backup")
def lambda_handler(event: PhaseEvent[Started], context: LambdaContext) -> Prepared | Started:
    state = event["state"]
    restore = state["restore"]
    store = work_store(state)
    prepared_key = store.key("plan/prepared.json")
    plan: Plan | None = store.get_json_or_none(prepared_key)
    if plan is None:  # a retry or redrive reuses the first preparation
        ref = parse_backup_key(restore["backup_key"])
        expected_pool = ref.pool_id if ref else restore["source_pool_id"]
        report_progress, progress = _progress_writer(store)
        prepared = Preparation(
            expected_pool_id=expected_pool,
            sink=store,
            user_chunk_size=int(os.environ.get("USER_CHUNK_SIZE", "500")),
            old_sub_attribute=f"custom:{OLD_SUB_ATTRIBUTE}" if restore.get("preserve_old_sub") else None,
            progress=report_progress,
            partition_by_sign_in=is_sync(restore),  # sync mode: chunk i meets partition i of the target
        ).run(
            _backup_source(restore),
            should_stop=lambda: context.get_remaining_time_in_millis() < TIME_RESERVE_MS,
        )
        if isinstance(prepared, Continuation):
            logger.info(
                "Backup preparation continues",
                extra={"stage": prepared.stage, "users_read": prepared.users_read, "segments": prepared.segments},
            )
            metrics.add_metric(name="PreparationContinuations", unit=MetricUnit.Count, value=1)
            continuing = PreparationProgress(
                done=False, stage=prepared.stage, users_read=prepared.users_read, segments=prepared.segments
            )
            return {**state, "preparation": continuing}
        state_plan = prepared.to_state()
        plan = Plan(
            **state_plan,
            work_bucket=store.bucket,
            map_concurrency=int(os.environ.get("USER_MAP_CONCURRENCY", "4")),
            estimate={},
        )
        if is_sync(restore):
            plan["sync_partitions"] = prepared.user_chunks
        if not listable(prepared.planned["users"], prepared.planned["memberships"]):
            plan["count_live_in_segments"] = True  # "Count the restored pool" before the verify phase
        plan["backup_timestamp"] = backup_time(prepared.backup_timestamp, restore["backup_key"])
        # The estimate: the dry run's plan and the progress display's bound.
        plan["estimate"] = estimate(plan, quotas_from_env())
        store.put_json(
            store.key("plan/progress.json"),
            {**progress, "users_read": prepared.planned["users"], "chunks_written": prepared.user_chunks, "done": True},
        )
        store.put_json(prepared_key, plan)
    # A preparation saved before backup_timestamp existed: the started alert formats it (States.Runtime if absent).
    plan.setdefault("backup_timestamp", backup_time(None, restore["backup_key"]))
    metrics.add_metric(name="BackupUsers", unit=MetricUnit.Count, value=plan["counts"]["users"])
    metrics.add_metric(name="UsersPlanned", unit=MetricUnit.Count, value=plan["planned"]["users"])
    # Left out by the plan (duplicates, no username, ...): each named in the report.
    metrics.add_metric(
        name="UsersSkipped", unit=MetricUnit.Count, value=plan["counts"]["users"] - plan["planned"]["users"]
    )
    logger.info("Backup prepared", extra={"counts": plan["counts"], "user_chunks": plan["user_chunks"]})
    previous = state.get("preparation")
    done = PreparationProgress(
        done=True,
        stage="done",
        users_read=plan["counts"]["users"],
        segments=previous["segments"] + 1 if previous and not previous["done"] else 1,
    )
    return {**state, "plan": plan, "preparation": done}
