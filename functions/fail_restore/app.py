"""Restore failed: ends the execution FAILED with the original error; after a redrive, resumes instead.

Step Functions redrives from the unsuccessful state. The failure path ends here rather than in a
Fail state, so a redrive runs this task again: Execution.RedriveCount is then higher than when the
failure was recorded, and the state machine resumes at the failed phase (every phase is idempotent),
unless another execution has taken the restore over meanwhile and still runs it (RestoreInProgress).
A restore with UNCONFIRMED users that fails between "Create user pool" and "Attach Lambda triggers"
has its sign-up window closed here first (the backup's sign-up settings back, the temporary client
deleted): a failed restore never leaves its pool open to self-registration. Its redrive, like one of
users found absent by verification after the triggers, resumes at "Create user pool", the only phase
that reopens the window (cognito_restore/sign_up.py).
"""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import BotoCoreError, ClientError

from cognito_restore import aws
from cognito_restore.aws_errors import describe_error
from cognito_restore.errors import RestoreError
from cognito_restore.handler import phase_handler
from cognito_restore.ledger import Ledger, execution_status
from cognito_restore.observability import logger
from cognito_restore.scrub import failure_summary
from cognito_restore.sign_up import SIGN_UP_CLIENT_NAME, close_window_of, uses_sign_up_window
from cognito_restore.state import FailRestoreEvent, Resumed

RESERVED_ERROR_PREFIXES = ("States.", "Lambda.", "Sandbox.", "Runtime.")
USERS_PHASE = "Restore users and memberships"
# The phases during which a restore's sign-up window may be open (it opens in "Create user pool" and
# closes in "Attach Lambda triggers"; the Parallel's branches report their own phase names).
WINDOW_PHASES = frozenset(
    {
        "Create user pool",
        "Restore resource servers",
        "Restore identity providers",
        "Restore app clients",
        "Alert pool ready",
        "Restore groups",
        "Create domain",
        "Restore MFA, branding, terms and logging",
        "Users and domain",
        USERS_PHASE,
        "Check domain status",
        "Attach Lambda triggers",
    }
)


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
        if uses_sign_up_window(state) and (
            (_window_was_open(state, phase) and phase != "Attach Lambda triggers")
            or (phase == USERS_PHASE and "lambda_triggers" in state)
        ):
            # The window was closed when the restore failed, or closed with the triggers attached
            # (verification found users absent): UNCONFIRMED users can only be signed up again after
            # "Create user pool" reopens it, with the triggers detached; every phase on the way
            # returns what it finds done.
            phase = "Create user pool"
        aws.client("sns").publish(
            TopicArn=os.environ["ALERT_TOPIC_ARN"],
            Subject=f"Cognito DR restore resumed: {phase}"[:100],
            Message=f"Restore {restore_id} was redriven (redrive {redrive_count}): resuming at phase '{phase}'. "
            f"Execution: {event.get('execution_arn')}",
        )
        logger.info("Redriven: resuming", extra={"phase": phase, "redrive_count": redrive_count})
        return {"resume_at": phase}
    if _window_was_open(event.get("state") or {}, phase):
        _close_sign_up_window(event.get("state") or {})
    name, cause = failure_summary(failure.get("error") or {})
    raise original_error(name, f"{phase}: {cause}")


def _window_was_open(state: Any, phase: str) -> bool:
    """The failed phase ran while the window may have been open: after "Create user pool" opened it
    (which drops an earlier run's lambda_triggers from the state) and before the triggers were attached."""
    return phase in WINDOW_PHASES and "lambda_triggers" not in state and uses_sign_up_window(state)


def _close_sign_up_window(state: Any) -> None:
    """Best effort: the restore fails with its own error either way; a window left open is alerted."""
    if not uses_sign_up_window(state):
        return
    restore_id = state["restore"]["restore_id"]
    found = state.get("pool")
    pool: dict[str, Any] = found if isinstance(found, dict) else {}
    pool_id = pool.get("id")
    if not pool_id:  # "Create user pool" failed after creating it: the ledger knows the pool
        entry = Ledger(os.environ["LEDGER_TABLE"]).get(restore_id)
        pool_id = entry.new_pool_id if entry else None
    if not pool_id:
        return  # no pool was created
    region = pool.get("region") or os.environ["AWS_REGION"]
    try:
        close_window_of(state, pool_id, region)
        logger.info("Sign-up window closed", extra={"pool_id": pool_id})
    except (ClientError, BotoCoreError, RestoreError) as error:
        cause = describe_error(error) if isinstance(error, ClientError) else type(error).__name__
        logger.warning("The sign-up window could not be closed", extra={"pool_id": pool_id}, exc_info=True)
        aws.client("sns").publish(
            TopicArn=os.environ["ALERT_TOPIC_ARN"],
            Subject="Cognito DR restore: close the sign-up window by hand"[:100],
            Message=f"Restore {restore_id} failed while user pool {pool_id} allowed self-registration for its "
            f"UNCONFIRMED users, and closing it failed ({cause}). Set the pool's "
            "AllowAdminCreateUserOnly and AutoVerifiedAttributes as in the backup and delete the app client "
            f"'{SIGN_UP_CLIENT_NAME}', or redrive the restore (docs/cognito-behaviours.md §2.5).",
        )
