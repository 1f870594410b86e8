"""Phase: restore users, one chunk file per invocation (a Map iteration)."""
from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit

from cognito_restore.chunks import restore_user, run_chunk
from cognito_restore.handler import phase_handler
from cognito_restore.phase import backup_parts, pool_id
from cognito_restore.users import UserPlan

logger, metrics, tracer = Logger(), Metrics(), Tracer()


@phase_handler(logger, metrics, tracer)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    policy = (backup_parts(event)["user_pool_config"].get("Policies") or {}).get("PasswordPolicy") or {}
    outcome = run_chunk(
        event, "users",
        lambda item, chunk_outcome: restore_user(pool_id(event), UserPlan.from_item(item), policy, chunk_outcome),
    )
    metrics.add_metric(name="UsersRestored", unit=MetricUnit.Count, value=outcome.restored)
    metrics.add_metric(name="UsersFailed", unit=MetricUnit.Count, value=len(outcome.failed))
    logger.info("User chunk restored", extra=outcome.summary())
    return outcome.summary()
