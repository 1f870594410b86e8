"""Phase: restore users, one chunk file per Map iteration: create, confirm, disable, link, add to groups."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit

from cognito_restore.chunks import restore_user, run_user_chunk
from cognito_restore.groups import unrestored_groups
from cognito_restore.handler import phase_handler
from cognito_restore.pacing import Pacer, concurrent_chunks
from cognito_restore.phase import pool_id
from cognito_restore.users import UserPlan

logger, metrics, tracer = Logger(), Metrics(), Tracer()


@phase_handler(logger, metrics, tracer)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    policy = event["plan"]["password_policy"]
    pacer = Pacer(concurrency=concurrent_chunks(event["plan"]["map_concurrency"], event["plan"]["user_chunks"]))
    skipped_groups = unrestored_groups(event)
    outcome = run_user_chunk(
        event,
        context,
        lambda item, chunk_outcome: restore_user(
            pool_id(event), UserPlan.from_item(item), policy, chunk_outcome, skipped_groups
        ),
        pacer,
    )
    metrics.add_metric(name="UsersRestored", unit=MetricUnit.Count, value=outcome.restored)
    metrics.add_metric(name="UsersFailed", unit=MetricUnit.Count, value=len(outcome.failed))
    metrics.add_metric(name="MembershipsRestored", unit=MetricUnit.Count, value=outcome.memberships_restored)
    logger.info("User chunk progress", extra=outcome.summary())
    return outcome.summary()
