"""Phase: restore MFA, branding, terms and logging (the settings of a v2 backup; nothing for v1).

Every factor of the backed-up MFA configuration (e-mail MFA with this Region's SES, passkeys with
the relying party moved with the prefix domain), managed login branding and terms per app client
(new client ids), log delivery (destinations through the ARN map). Safe to run again: an existing
style or terms document is updated, SetUserPoolMfaConfig and SetLogDeliveryConfiguration replace.
In sync mode (docs/sync.md) the MFA configuration, the branding, the terms and the log delivery are read
first and written only when they differ.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError

from cognito_restore import aws
from cognito_restore.aws_errors import describe_error, error_code, raise_if_throttled, raise_unless_caused_by_data
from cognito_restore.client_ids import client_id_map
from cognito_restore.errors import NotRestorable
from cognito_restore.execution_input import sync_target
from cognito_restore.handler import phase_handler
from cognito_restore.messaging import SMS_ROLE_ERRORS
from cognito_restore.outcomes import PhaseOutcome
from cognito_restore.phase import arn_mapper, backup_parts, pool_id, record_phase, work_store
from cognito_restore.reconcile import covers
from cognito_restore.state import DomainCreated, PhaseEvent, SignInSettingsRestored
from cognito_restore.v2_settings import (
    branding_requests,
    log_configuration,
    log_item,
    mfa_config_plan,
    terms_request,
)


def _failed(outcome: PhaseOutcome, item: str, error: ClientError) -> None:
    raise_if_throttled(error)
    raise_unless_caused_by_data(error)
    outcome.fail(item, describe_error(error))


def _without_passkeys(cognito: Any, plan: Any, reason: str) -> bool:
    """The relying party is the factor whose rules depend most on this Region (its domain): when the
    request is refused, the other factors still go in without it (passkeys then fail, by name)."""
    if "PASSKEYS" not in plan.restored:
        return False
    request = {k: v for k, v in plan.request.items() if k != "WebAuthnConfiguration"}
    try:
        cognito.set_user_pool_mfa_config(**request)
    except ClientError as error:
        raise_if_throttled(error)
        raise_unless_caused_by_data(error)
        return False
    plan.restored.remove("PASSKEYS")
    plan.left_out.append(("PASSKEYS", f"refused with the other factors: {reason}"))
    return True


def _mfa(state: Any, parts: dict[str, Any]) -> PhaseOutcome:
    outcome = PhaseOutcome("mfa_config")
    mfa_config = parts.get("mfa_config")
    if not mfa_config:
        return outcome
    cognito = aws.client("cognito-idp")
    new_pool = dict(cognito.describe_user_pool(UserPoolId=pool_id(state))["UserPool"])
    new_pool["_region"] = state["pool"]["region"]
    domain = state.get("domain") or {}
    plan = mfa_config_plan(
        mfa_config,
        pool_id(state),
        new_pool,
        old_region=state["restore"]["source_pool_id"].split("_", 1)[0],
        old_prefix=parts["user_pool_config"].get("Domain"),
        new_prefix=domain.get("name") if domain.get("status") not in (None, "NONE", "FAILED") else None,
    )
    request = plan.request
    if sync_target(state["restore"]) and covers(
        {k: v for k, v in request.items() if k != "UserPoolId"},
        cognito.get_user_pool_mfa_config(UserPoolId=pool_id(state)),
    ):
        for factor in plan.restored:
            outcome.synced("unchanged", f"MFA factor {factor}")
    else:
        _set_mfa(cognito, plan, outcome)
    for factor in plan.restored:
        outcome.restore(factor, *(note for f, note in plan.notes if f == factor))
    for factor, note in plan.notes:
        if factor not in plan.restored:
            outcome.notes.append({"item": factor, "note": note})
    for factor, reason in plan.left_out:
        outcome.fail(factor, reason)
        outcome.manual_steps.append(f"MFA factor {factor}: {reason}")
    return outcome


def _set_mfa(cognito: Any, plan: Any, outcome: PhaseOutcome) -> None:
    """SetUserPoolMfaConfig; an SMS role refused now leaves SMS out and the other factors in."""
    request = plan.request
    try:
        cognito.set_user_pool_mfa_config(**request)
    except ClientError as error:
        raise_if_throttled(error)
        if "SmsMfaConfiguration" not in request or error_code(error) not in SMS_ROLE_ERRORS:
            raise_unless_caused_by_data(error)
            if not _without_passkeys(cognito, plan, describe_error(error)):
                for factor in plan.restored:
                    outcome.fail(factor, describe_error(error))
                plan.restored = []
        else:  # the SMS role the pool accepted is refused now: the other factors still go in
            del request["SmsMfaConfiguration"]
            plan.restored.remove("SMS")
            plan.left_out.append(("SMS", f"SMS MFA left out ({describe_error(error)})"))
            if request["MfaConfiguration"] != "OFF" and not any(
                k in request for k in ("SoftwareTokenMfaConfiguration", "EmailMfaConfiguration")
            ):
                request["SoftwareTokenMfaConfiguration"] = {"Enabled": True}
                plan.notes.append(("TOTP", "TOTP enabled: MFA needs a factor until SMS is fixed"))
            cognito.set_user_pool_mfa_config(**request)


def _client_names(parts: dict[str, Any]) -> dict[str, str]:
    return {c.get("ClientId"): c.get("ClientName") or c.get("ClientId") for c in parts.get("app_clients") or []}


def _built[T](outcome: PhaseOutcome, item: str, build: Callable[..., T], *args: Any) -> T | None:
    """The request(s) for one backed-up item, or None with the item skipped (cannot apply here) or
    failed (an unusable backup entry, named by its error type only: never its content)."""
    try:
        return build(*args)
    except NotRestorable as reason:
        outcome.skip(item, str(reason))
    except (KeyError, TypeError, ValueError) as error:
        outcome.fail(item, f"unusable backup entry ({type(error).__name__})")
    return None


def _existing_style(cognito: Any, pool: str, client_id: str) -> dict[str, Any] | None:
    """The client's style as set (ReturnMergedResources false: without Cognito's defaults), or None."""
    try:
        style = cognito.describe_managed_login_branding_by_client(UserPoolId=pool, ClientId=client_id)
    except ClientError as error:
        if error_code(error) == "ResourceNotFoundException":
            return None
        raise
    found: dict[str, Any] = style["ManagedLoginBranding"]
    return found


def _asset_keys(assets: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return sorted(
        (
            *(str(a.get(key) or "") for key in ("Category", "ColorMode", "Extension", "ResourceId")),
            bytes(a.get("Bytes") or b""),
        )
        for a in assets
    )


def _style_as_backed_up(requests: list[dict[str, Any]], current: dict[str, Any]) -> bool:
    """Sync mode: the target's style has the backed-up settings and exactly its assets."""
    first = requests[0]
    if first.get("UseCognitoProvidedValues"):
        return current.get("UseCognitoProvidedValues") is True
    if current.get("UseCognitoProvidedValues") or not covers(first.get("Settings") or {}, current.get("Settings")):
        return False
    wanted = [asset for request in requests for asset in request.get("Assets", [])]
    return _asset_keys(wanted) == _asset_keys(current.get("Assets") or [])


def _branding(state: Any, parts: dict[str, Any], client_ids: dict[str, str]) -> PhaseOutcome:
    outcome = PhaseOutcome("managed_login_branding")
    cognito = aws.client("cognito-idp")
    names = _client_names(parts)
    for style in parts.get("managed_login_branding") or []:
        item = f"branding of client {names.get(style.get('ClientId'), style.get('ClientId'))}"
        requests = _built(outcome, item, branding_requests, style, pool_id(state), client_ids)
        if requests is None:
            continue
        try:
            first, rest = requests[0], requests[1:]
            existing = _existing_style(cognito, pool_id(state), first["ClientId"])
            if existing is not None and sync_target(state["restore"]) and _style_as_backed_up(requests, existing):
                outcome.synced("unchanged", item)
                outcome.restore(item)
                continue
            if existing is None:
                created = cognito.create_managed_login_branding(**first)
                style_id = created["ManagedLoginBranding"]["ManagedLoginBrandingId"]
            else:  # an earlier run created it (or sync mode, another style): apply the whole style again
                style_id = existing["ManagedLoginBrandingId"]
                update = {k: v for k, v in first.items() if k != "ClientId"}
                cognito.update_managed_login_branding(ManagedLoginBrandingId=style_id, **update)
            for request in rest:  # the assets that did not fit under the request limit
                cognito.update_managed_login_branding(ManagedLoginBrandingId=style_id, **request)
        except ClientError as error:
            _failed(outcome, item, error)
            continue
        notes = [f"sent in {len(requests)} requests (2 MB request limit)"] if len(requests) > 1 else []
        outcome.restore(item, *notes)
    return outcome


def _existing_terms(cognito: Any, pool: str, client_id: str, name: str) -> str | None:
    token: dict[str, str] = {}
    while True:
        page = cognito.list_terms(UserPoolId=pool, MaxResults=60, **token)
        for summary in page.get("Terms", []):
            if summary.get("TermsName") != name:
                continue
            terms = cognito.describe_terms(UserPoolId=pool, TermsId=summary["TermsId"])["Terms"]
            if terms.get("ClientId") == client_id:
                return str(terms["TermsId"])
        if not page.get("NextToken"):
            return None
        token = {"NextToken": page["NextToken"]}


def _terms(state: Any, parts: dict[str, Any], client_ids: dict[str, str]) -> PhaseOutcome:
    outcome = PhaseOutcome("terms")
    cognito = aws.client("cognito-idp")
    names = _client_names(parts)
    for terms in parts.get("terms") or []:
        item = f"{terms.get('TermsName')} of client {names.get(terms.get('ClientId'), terms.get('ClientId'))}"
        request = _built(outcome, item, terms_request, terms, pool_id(state), client_ids)
        if request is None:
            continue
        sync = sync_target(state["restore"]) is not None
        # Sync mode looks for the target's document first; a restore creates it (a re-run finds it so).
        terms_id = (
            _existing_terms(cognito, request["UserPoolId"], request["ClientId"], request["TermsName"]) if sync else None
        )
        if terms_id is None:
            try:
                cognito.create_terms(**request)
                outcome.restore(item)
                continue
            except ClientError as error:
                if error_code(error) != "TermsExistsException":
                    _failed(outcome, item, error)
                    continue
                terms_id = _existing_terms(cognito, request["UserPoolId"], request["ClientId"], request["TermsName"])
                if terms_id is None:
                    _failed(outcome, item, error)
                    continue
        update = {k: v for k, v in request.items() if k not in ("ClientId", "TermsName")}
        current = cognito.describe_terms(UserPoolId=request["UserPoolId"], TermsId=terms_id)["Terms"]
        if sync and covers(update, current):
            outcome.synced("unchanged", item)
        else:
            cognito.update_terms(TermsId=terms_id, **update)
        outcome.restore(item)
    return outcome


def _log_delivery(state: Any, parts: dict[str, Any]) -> PhaseOutcome:
    outcome = PhaseOutcome("log_delivery")
    configuration = parts.get("log_delivery_configuration") or {}
    backed_up = configuration.get("LogConfigurations") or []
    if not backed_up:
        return outcome
    mapper = arn_mapper(state)
    mapped: list[dict[str, Any]] = []
    items: list[str] = []
    for entry in backed_up:
        try:
            mapped.append(log_configuration(entry, mapper))
            items.append(log_item(entry))
        except NotRestorable as reason:
            outcome.fail(log_item(entry), str(reason))
            outcome.manual_steps.append(
                f"Log delivery {log_item(entry)}: {reason}; create the destination here and map it"
            )
    if mapped:
        cognito = aws.client("cognito-idp")
        try:
            if sync_target(state["restore"]) and covers(
                mapped,
                (
                    cognito.get_log_delivery_configuration(UserPoolId=pool_id(state)).get("LogDeliveryConfiguration")
                    or {}
                ).get("LogConfigurations"),
            ):
                for item in items:
                    outcome.synced("unchanged", item)
            else:
                cognito.set_log_delivery_configuration(UserPoolId=pool_id(state), LogConfigurations=mapped)
        except ClientError as error:
            for item in items:
                _failed(outcome, item, error)
            return outcome
        for item in items:
            outcome.restore(item)
    return outcome


@phase_handler("restore_sign_in_settings")
def lambda_handler(event: PhaseEvent[DomainCreated], context: LambdaContext) -> SignInSettingsRestored:
    state = event["state"]
    parts = backup_parts(state)
    client_ids = client_id_map(work_store(state))
    counts = {}
    for outcome in (
        _mfa(state, parts),
        _branding(state, parts, client_ids),
        _terms(state, parts, client_ids),
        _log_delivery(state, parts),
    ):
        counts[outcome.category] = record_phase(state, outcome.category, outcome)
    return {**state, "sign_in_settings": counts}
