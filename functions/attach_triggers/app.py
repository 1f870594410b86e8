"""Phase: attach Lambda triggers, after the users exist so bulk creation fires none of them.

First it closes the sign-up window the users phase may have used (cognito_restore/sign_up.py): the
backed-up sign-up settings back and the temporary client deleted, before any trigger can fire."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError

from cognito_restore import aws
from cognito_restore.aws_errors import describe_error, error_code, raise_if_throttled
from cognito_restore.execution_input import sync_target
from cognito_restore.handler import phase_handler
from cognito_restore.outcomes import PhaseOutcome
from cognito_restore.phase import arn_mapper, backup_parts, pool_id, record_phase
from cognito_restore.pool_config import map_lambda_config, update_user_pool_request
from cognito_restore.reconcile import ABSENT, covers
from cognito_restore.sign_up import close_window_of, uses_sign_up_window
from cognito_restore.state import PhaseEvent, SignInSettingsRestored, TriggersAttached
from cognito_restore.sync_settings import set_triggers, target_only_triggers


def _allow_cognito(function_arn: str, pool_arn: str, new_pool: str) -> str | None:
    """Let the new pool invoke the function; returns a reason when it cannot."""
    try:
        aws.client("lambda").add_permission(
            FunctionName=function_arn,
            StatementId=f"cognito-dr-{new_pool}",
            Action="lambda:InvokeFunction",
            Principal="cognito-idp.amazonaws.com",
            SourceArn=pool_arn,
        )
    except ClientError as error:
        if error_code(error) == "ResourceConflictException":  # granted by an earlier run
            return None
        return describe_error(error)
    return None


def _in_place(pool: str, mapped: dict[str, Any], outcome: PhaseOutcome) -> bool:
    """Sync mode: True when the pool already has every backed-up trigger (then nothing is written: the
    grants were made when they were attached). Triggers the backup does not have are reported and kept."""
    current = set_triggers(aws.client("cognito-idp").describe_user_pool(UserPoolId=pool)["UserPool"])
    for name in target_only_triggers(current, mapped):
        outcome.synced(ABSENT, name)
    if not covers(mapped, current):
        return False
    for trigger in mapped:
        if trigger != "KMSKeyID":
            outcome.restore(f"Lambda trigger {trigger}")
            outcome.synced("unchanged", f"Lambda trigger {trigger}")
    return True


@phase_handler("attach_triggers")
def lambda_handler(event: PhaseEvent[SignInSettingsRestored], context: LambdaContext) -> TriggersAttached:
    state = event["state"]
    new_pool, pool_arn = pool_id(state), state["pool"]["arn"]
    outcome = PhaseOutcome("lambda_triggers")
    pool_config = backup_parts(state)["user_pool_config"]
    # Sync mode never opens the window: the target pool keeps its own sign-up settings.
    if uses_sign_up_window(state):
        try:
            close_window_of(state, new_pool, state["pool"]["region"])
        except ClientError as error:
            raise_if_throttled(error)
            raise  # never attach triggers to a pool still open to self-registration: the phase fails, runs again
    backed_up = {k: v for k, v in (pool_config.get("LambdaConfig") or {}).items() if v}
    plan = map_lambda_config(backed_up, arn_mapper(state))
    for item in plan.unmapped:
        if item["item"].startswith("Lambda trigger"):
            outcome.skip(item["item"], item["reason"])
        outcome.manual_steps.append(f"{item['item']}: {item['reason']}; attach it to pool {new_pool} by hand")
    if sync_target(state["restore"]) and _in_place(new_pool, plan.lambda_config, outcome):
        return {**state, "lambda_triggers": record_phase(state, "lambda_triggers", outcome)}
    refused = {arn: reason for arn in plan.functions if (reason := _allow_cognito(arn, pool_arn, new_pool))}
    config = {}
    for trigger, value in plan.lambda_config.items():
        arn = value.get("LambdaArn") if isinstance(value, dict) else value
        if arn in refused:
            outcome.fail(f"Lambda trigger {trigger}", f"cannot allow Cognito to invoke {arn}: {refused[arn]}")
        else:
            config[trigger] = value
    if config:
        cognito = aws.client("cognito-idp")
        try:
            current = cognito.describe_user_pool(UserPoolId=new_pool)["UserPool"]
            if sync_target(state["restore"]):  # the target's triggers the backup does not have stay
                config = {**set_triggers(current), **config}
            cognito.update_user_pool(**update_user_pool_request(current, config))
        except ClientError as error:
            raise_if_throttled(error)
            for trigger in config:
                if trigger in plan.lambda_config:  # not the target's own (sync mode)
                    outcome.fail(f"Lambda trigger {trigger}", describe_error(error))
        else:
            for trigger in config:
                if trigger != "KMSKeyID" and trigger in plan.lambda_config:
                    outcome.restore(f"Lambda trigger {trigger}")
                    if sync_target(state["restore"]):
                        outcome.synced("updated", f"Lambda trigger {trigger}")
    return {**state, "lambda_triggers": record_phase(state, "lambda_triggers", outcome)}
