"""Phase: restore group memberships, one chunk file per invocation (after every user exists)."""
from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit

from cognito_restore.chunks import restore_membership, run_chunk
from cognito_restore.handler import phase_handler
from cognito_restore.phase import pool_id

logger, metrics, tracer = Logger(), Metrics(), Tracer()


@phase_handler(logger, metrics, tracer)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    outcome = run_chunk(event, "memberships", lambda item, chunk_outcome: restore_membership(pool_id(event), item, chunk_outcome))
    metrics.add_metric(name="MembershipsRestored", unit=MetricUnit.Count, value=outcome.restored)
    metrics.add_metric(name="MembershipsFailed", unit=MetricUnit.Count, value=len(outcome.failed))
    logger.info("Membership chunk restored", extra=outcome.summary())
    return outcome.summary()
