"""Failure alert: names the phase and the cause, free of personal data and secrets."""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from cognito_restore import aws
from cognito_restore.handler import phase_handler
from cognito_restore.observability import logger
from cognito_restore.scrub import failure_summary, scrub
from cognito_restore.state import AlertFailureEvent, FailureAlert
from cognito_restore.store import WorkStore


def _chunk_errors(restore_id: str, limit: int = 3) -> list[str]:
    """What the failed chunks of a Distributed Map recorded (its own error only says a threshold was passed)."""
    if restore_id == "(not started)":
        return []
    store = WorkStore(os.environ["WORK_BUCKET"], restore_id)
    lines: list[str] = []
    for key in sorted(store.list_keys(store.key("results/users/")))[:50]:
        if key.endswith(".error.json") and len(lines) < limit:
            error = _mapping(store.get_json_or_none(key))
            chunk = key.rsplit("chunk-", 1)[-1].removesuffix(".error.json")
            name, cause = failure_summary(error)
            lines.append(f"Chunk {chunk} failed: {name}: {cause}")
    return lines


def _mapping(value: Any) -> dict[str, Any]:
    """The state may still be the raw execution input, of any shape."""
    return value if isinstance(value, dict) else {}


@phase_handler("alert_failure")
def lambda_handler(event: AlertFailureEvent, context: LambdaContext) -> FailureAlert:
    state = _mapping(event.get("state"))
    error = _mapping(state.get("error"))
    restore = _mapping(state.get("restore"))
    phase = str(event.get("failed_phase") or "unknown phase")
    error_name, cause = failure_summary(error)
    restore_id = restore.get("restore_id") or "(not started)"
    source = restore.get("source_pool_id") or state.get("user_pool_id") or "?"
    pool = _mapping(state.get("pool")).get("id")
    lines = [
        f"Cognito DR restore FAILED in phase '{phase}'.",
        f"Error: {error_name}",
        f"Cause: {cause}",
        *_chunk_errors(restore_id),
        f"Source pool: {scrub(str(source))}   Restore id: {restore_id}",
        f"New pool so far: {pool or 'none created'}",
        f"Execution: {event.get('execution_arn')}",
        "Nothing was done by this execution: another one runs this restore (named above); follow that one."
        if error_name == "RestoreInProgress"
        else "Fix the cause, then redrive this execution (it resumes at this phase) or start again with the "
        "same input: finished work is kept and nothing is created twice.",
    ]
    subject, message = f"Cognito DR restore FAILED: {phase}"[:100], "\n".join(lines)
    aws.client("sns").publish(TopicArn=os.environ["ALERT_TOPIC_ARN"], Subject=subject, Message=message)
    logger.info("Failure alert sent", extra={"phase": phase, "error": error_name})
    # The operator tools show this text (scrubbed, as sent) instead of the raw error of the phase.
    return {"alerted": True, "subject": subject, "message": message}
