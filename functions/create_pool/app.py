"""Phase: create user pool. Exactly one new pool per restore id, found again on any re-run."""

from __future__ import annotations

import os
from typing import Any, cast

from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError

from cognito_restore import aws
from cognito_restore.aws_errors import describe_error, error_code, raise_if_throttled
from cognito_restore.execution_input import sync_target
from cognito_restore.handler import phase_handler
from cognito_restore.ledger import Ledger
from cognito_restore.messaging import SMS_ROLE_ERRORS, Applied, apply_with_fallback
from cognito_restore.observability import logger
from cognito_restore.outcomes import PhaseOutcome
from cognito_restore.phase import backup_parts, record_phase
from cognito_restore.pool_config import RESTORE_ID_TAG, PoolRequest, reapply_request
from cognito_restore.reconcile import mfa_request, record, record_absent
from cognito_restore.sign_up import ensure_sign_up_client, needs_sign_up, open_sign_up, without_triggers
from cognito_restore.state import CreatePoolEvent, Pool, PoolCreated, Prepared
from cognito_restore.sync_plans import attribute_change, plan_mfa, plan_pool, pool_request_of


def _pool_created_earlier(name: str, restore_id: str) -> str | None:
    """A pool this restore created before its id reached the ledger (crash between the two)."""
    cognito = aws.client("cognito-idp")
    for page in cognito.get_paginator("list_user_pools").paginate(MaxResults=60):
        for pool in page.get("UserPools", []):
            if pool.get("Name") != name:
                continue
            tags = cognito.describe_user_pool(UserPoolId=pool["Id"])["UserPool"].get("UserPoolTags") or {}
            if tags.get(RESTORE_ID_TAG) == restore_id:
                return pool["Id"]
    return None


def _set_mfa(pool_id: str, mfa: str, applied: dict[str, Any], outcome: PhaseOutcome) -> None:
    """MFA factors for the mode backed up; SMS MFA only with the SMS configuration the pool accepted."""
    if mfa == "OFF":
        return
    request = mfa_request(pool_id, mfa, applied)
    cognito = aws.client("cognito-idp")
    try:
        cognito.set_user_pool_mfa_config(**request)
    except ClientError as error:
        raise_if_throttled(error)
        if "SmsMfaConfiguration" not in request or error_code(error) not in SMS_ROLE_ERRORS:
            raise
        del request["SmsMfaConfiguration"]  # the role was accepted a moment ago: report, never fail on it
        cognito.set_user_pool_mfa_config(**request)
        outcome.notes.append({"item": "MFA", "note": f"SMS MFA left out ({describe_error(error)})"})
    factors = "TOTP and SMS" if "SmsMfaConfiguration" in request else "TOTP"
    outcome.notes.append(
        {
            "item": "MFA",
            "note": f"MfaConfiguration {mfa}; {factors} enabled (the backup does not say which factors were on)",
        }
    )


def _apply(call: Any, request: dict[str, Any]) -> Applied:
    try:
        return apply_with_fallback(call, request)
    except ClientError as error:
        raise_if_throttled(error)
        raise


def _report_left_out(
    outcome: PhaseOutcome, applied: Applied, pool_request: PoolRequest, pool_arn: str, restore_id: str
) -> None:
    for degradation in applied.degraded:
        outcome.notes.append({"item": degradation.item, "note": degradation.note()})
        outcome.manual_steps.append(degradation.manual_step(pool_arn, restore_id))
    for left_out in pool_request.left_out:
        outcome.notes.append({"item": left_out["item"], "note": left_out["reason"]})
        outcome.manual_steps.append(f"{left_out['item']}: {left_out['reason']}")


def _sync(
    state: Prepared, ledger: Ledger, target: str, pool_request: PoolRequest, outcome: PhaseOutcome, region: str
) -> PoolCreated:
    """Sync mode: the target pool (checked by "Find latest backup") is the restore's pool; none is created.
    Its configuration, custom attributes and MFA are written only where they differ from the backup."""
    restore_id = state["restore"]["restore_id"]
    pool_id = ledger.bind_pool(restore_id, target)
    cognito = aws.client("cognito-idp")
    plan, missing_attributes, current = plan_pool(pool_request, pool_id)
    change = plan.changes[0]
    applied = Applied(change.request, None)
    if change.kind == "update":
        applied = _apply(cognito.update_user_pool, change.request)
        outcome.notes.append({"item": change.item, "note": f"updated: {', '.join(change.settings)} differed"})
    record(outcome, change)
    if missing_attributes:  # one call for all: each is created once and for good
        cognito.add_custom_attributes(UserPoolId=pool_id, CustomAttributes=missing_attributes)
        for entry in missing_attributes:
            record(outcome, attribute_change(entry), counted=False)
    mfa = plan_mfa(pool_request, pool_id, applied.request)
    if mfa.kind == "update":
        if pool_request.mfa_configuration == "OFF":
            cognito.set_user_pool_mfa_config(UserPoolId=pool_id, MfaConfiguration="OFF")
        else:
            _set_mfa(pool_id, pool_request.mfa_configuration, applied.request, outcome)
        outcome.notes.append({"item": mfa.item, "note": f"updated: {', '.join(mfa.settings)} differed"})
    record(outcome, mfa, counted=False)
    record_absent(outcome, plan)
    _report_left_out(outcome, applied, pool_request, current["Arn"], restore_id)
    record_phase(state, "pool_configuration", outcome)
    logger.info(
        "User pool synced",
        extra={
            "pool_id": pool_id,
            "configuration": change.kind,
            "mfa": mfa.kind,
            "attributes": len(missing_attributes),
        },
    )
    return {**state, "pool": {"id": pool_id, "arn": current["Arn"], "name": current["Name"], "region": region}}


@phase_handler("create_pool")
def lambda_handler(event: CreatePoolEvent, context: LambdaContext) -> PoolCreated:
    state = event["state"]
    restore_id = state["restore"]["restore_id"]
    ledger = Ledger(os.environ["LEDGER_TABLE"])
    parts = backup_parts(state)
    region = aws.client("cognito-idp").meta.region_name
    pool_request = pool_request_of(parts, state["restore"], region)
    outcome = PhaseOutcome("pool_configuration")
    target = sync_target(state["restore"])
    if target is not None:
        return _sync(state, ledger, target, pool_request, outcome, region)
    # UNCONFIRMED users come back through SignUp: self-registration on, nothing auto-verified, until
    # "Attach Lambda triggers" puts the real settings back (cognito_restore/sign_up.py).
    sign_up = needs_sign_up(state["plan"]["status_counts"])
    request = open_sign_up(pool_request.request) if sign_up else pool_request.request

    entry = ledger.get(restore_id)
    pool_id = entry.new_pool_id if entry else None
    created = False
    if pool_id is None:
        pool_id = _pool_created_earlier(parts["user_pool_config"]["Name"], restore_id)
    cognito = aws.client("cognito-idp")
    if pool_id is None:
        # Right before creating: this run of this execution must still own the restore (another execution
        # may have taken it over since this one claimed it); else two executions could create two pools.
        claim = event["claim"]
        ledger.check_owner(restore_id, claim["execution_arn"], int(claim["redrive_count"] or 0))
        applied = _apply(cognito.create_user_pool, request)
        pool_id = applied.response["UserPool"]["Id"]
        created = True
    pool_id = ledger.bind_pool(restore_id, pool_id)
    if not created:
        # Found from an earlier run: apply the full configuration again, so a setting that run had to
        # leave out (an SMS role or SES identity fixed since) is applied now.
        current = cognito.describe_user_pool(UserPoolId=pool_id)["UserPool"]
        reapplied = reapply_request(request, current)
        applied = _apply(cognito.update_user_pool, without_triggers(reapplied) if sign_up else reapplied)
    # Every run, not only the creating one: a crash between the two must not leave MFA off. A v2 backup
    # names its factors: "Restore MFA, branding, terms and logging" sets exactly those (after the domain).
    if parts.get("mfa_config") is None:
        _set_mfa(pool_id, pool_request.mfa_configuration, applied.request, outcome)
    pool = aws.client("cognito-idp").describe_user_pool(UserPoolId=pool_id)["UserPool"]
    sign_up_client = ensure_sign_up_client(cognito, pool_id, pool.get("SchemaAttributes") or []) if sign_up else None

    outcome.restore("pool configuration")
    _report_left_out(outcome, applied, pool_request, pool["Arn"], restore_id)
    record_phase(state, "pool_configuration", outcome)
    logger.info(
        "User pool ready",
        extra={"pool_id": pool_id, "created_now": created, "left_out": [d.item for d in applied.degraded]},
    )
    new_pool: Pool = {"id": pool_id, "arn": pool["Arn"], "name": pool["Name"], "region": region}
    if sign_up_client:
        new_pool["sign_up_client_id"] = sign_up_client
    result: dict[str, Any] = {**state, "pool": new_pool}
    if sign_up:  # the triggers are detached while the window is open: "Attach Lambda triggers" attaches them again
        result.pop("lambda_triggers", None)
    return cast(PoolCreated, result)
