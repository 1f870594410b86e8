"""Restore failed: ends the execution FAILED with the original error; after a redrive, resumes instead.

Step Functions redrives from the unsuccessful state. The failure path ends here rather than in a
Fail state, so a redrive runs this task again: Execution.RedriveCount is then higher than when the
failure was recorded, and the state machine resumes at the failed phase (every phase is idempotent),
unless another execution has taken the restore over meanwhile and still runs it (RestoreInProgress).
One exception: users found absent by verification while the plan holds UNCONFIRMED users resume at
"Create user pool", the only phase that reopens the sign-up window (cognito_restore/sign_up.py).
"""

from __future__ import annotations

import os

from aws_lambda_powertools.utilities.typing import LambdaContext

from cognito_restore import aws
from cognito_restore.errors import RestoreError
from cognito_restore.handler import phase_handler
from cognito_restore.ledger import Ledger, execution_status
from cognito_restore.observability import logger
from cognito_restore.scrub import failure_summary
from cognito_restore.sign_up import needs_sign_up
from cognito_restore.state import FailRestoreEvent, Resumed

RESERVED_ERROR_PREFIXES = ("States.", "Lambda.", "Sandbox.", "Runtime.")
USERS_PHASE = "Restore users and memberships"


def original_error(name: str, message: str) -> RestoreError:
    """An exception whose type name is the original error name, which Step Functions reports.

    Names in the reserved States. namespace (a failed Map run, a timeout) cannot be raised by a
    task, and Lambda's own names (Lambda.*, Sandbox.*, Runtime.*) would make this task's Lambda
    retrier retry the re-raise: both become RestoreFailed, with the original name at the start of the cause.
    """
    if name.startswith(RESERVED_ERROR_PREFIXES):
        return type("RestoreFailed", (RestoreError,), {})(f"{name}: {message}")
    return type(name, (RestoreError,), {})(message)


@phase_handler("fail_restore")
def lambda_handler(event: FailRestoreEvent, context: LambdaContext) -> Resumed:
    failure = event["failure"]
    phase = failure.get("phase", "unknown phase")
    redrive_count = int(event.get("redrive_count") or 0)
    if redrive_count > int(failure.get("at_redrive") or 0):
        restore = (event.get("state") or {}).get("restore")
        restore_id = restore.get("restore_id", "?") if isinstance(restore, dict) else "?"
        if restore_id != "?":  # the ledger is open: the restore must not run in two executions at once
            # Claims again, as a conditional write on the epoch: an execution that read the entry before
            # this redrive can no longer take the restore over, and this run's tasks own it from now on.
            Ledger(os.environ["LEDGER_TABLE"]).claim(
                restore_id, event["execution_arn"], execution_status, redrive_count
            )
        state = event.get("state") or {}
        plan = state.get("plan") if isinstance(state, dict) else None
        if (
            phase == USERS_PHASE
            and "lambda_triggers" in state
            and isinstance(plan, dict)
            and needs_sign_up(plan.get("status_counts") or {})
        ):
            # The sign-up window closed and the triggers are attached (verification found users absent):
            # UNCONFIRMED users can only be signed up again after "Create user pool" reopens it, with
            # the triggers detached; every phase on the way returns what it finds done.
            phase = "Create user pool"
        aws.client("sns").publish(
            TopicArn=os.environ["ALERT_TOPIC_ARN"],
            Subject=f"Cognito DR restore resumed: {phase}"[:100],
            Message=f"Restore {restore_id} was redriven (redrive {redrive_count}): resuming at phase '{phase}'. "
            f"Execution: {event.get('execution_arn')}",
        )
        logger.info("Redriven: resuming", extra={"phase": phase, "redrive_count": redrive_count})
        return {"resume_at": phase}
    name, cause = failure_summary(failure.get("error") or {})
    raise original_error(name, f"{phase}: {cause}")
