"""UI customization, threat protection and WAF from the backup -> requests for the new pool. Pure."""

from __future__ import annotations

import copy
from typing import Any

from cognito_restore.arn_map import ArnMapper
from cognito_restore.resources import Request

POOL_LEVEL = (None, "", "ALL")


from cognito_restore.errors import NotRestorable  # noqa: E402  (re-exported for the phases)


def new_client_id(old_client_id: str | None, client_ids: dict[str, str]) -> str | None:
    """None for pool-level settings; raises NotRestorable for a client that was not restored."""
    if old_client_id in POOL_LEVEL:
        return None
    if old_client_id not in client_ids:
        raise NotRestorable(f"app client {old_client_id} was not restored")
    return client_ids[old_client_id]


def ui_customization_request(ui: dict[str, Any], pool_id: str, client_ids: dict[str, str]) -> Request:
    request: dict[str, Any] = {"UserPoolId": pool_id}
    client = new_client_id(ui.get("ClientId"), client_ids)
    if client:
        request["ClientId"] = client
    if ui.get("CSS"):
        request["CSS"] = ui["CSS"]
    notes: tuple[str, ...] = ()
    if ui.get("ImageUrl"):
        notes = (f"logo not in the backup (only its URL {ui['ImageUrl']}): upload it again",)
    return Request(request, notes)


def risk_configuration_request(
    risk: dict[str, Any], pool_id: str, client_ids: dict[str, str], mapper: ArnMapper
) -> Request:
    request: dict[str, Any] = {"UserPoolId": pool_id}
    client = new_client_id(risk.get("ClientId"), client_ids)
    if client:
        request["ClientId"] = client
    notes: list[str] = []
    for key in ("CompromisedCredentialsRiskConfiguration", "RiskExceptionConfiguration"):
        if risk.get(key):
            request[key] = copy.deepcopy(risk[key])
    takeover = copy.deepcopy(risk.get("AccountTakeoverRiskConfiguration"))
    if takeover:
        source = (takeover.get("NotifyConfiguration") or {}).get("SourceArn")
        mapped_source = mapper.map(source) if source else None
        if source and mapped_source:
            takeover["NotifyConfiguration"]["SourceArn"] = mapped_source
        elif source:
            # The SES identity is Regional: without one here, keep the actions but stop the notifications.
            takeover.pop("NotifyConfiguration", None)
            for action in (takeover.get("Actions") or {}).values():
                if isinstance(action, dict):
                    action["Notify"] = False
            notes.append(
                f"account-takeover e-mails disabled: SES identity {source} is in another Region and not in arn_map"
            )
        request["AccountTakeoverRiskConfiguration"] = takeover
    return Request(request, tuple(notes))


def web_acl_arn(waf: dict[str, Any], mapper: ArnMapper) -> str:
    arn = waf.get("WebACLArn")
    if not arn:
        raise NotRestorable("the backup names no web ACL ARN")
    mapped = mapper.map(arn)
    if mapped is None:
        raise NotRestorable(f"web ACL {arn} is in another Region; create a regional web ACL here and map it in arn_map")
    return mapped
