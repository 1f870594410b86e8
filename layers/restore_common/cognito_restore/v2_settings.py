"""The settings only a v2 backup holds -> requests for the new pool. Pure (docs/backup-format.md,
docs/cognito-behaviours.md §13).

- MFA factors (GetUserPoolMfaConfig): SMS with the SMS configuration the new pool accepted, TOTP,
  e-mail MFA only when the new pool sends with Amazon SES (the identity mapped by the ARN map at
  pool creation), passkeys (WebAuthn) with the relying party id moved with the prefix domain.
- Managed login branding per app client, assets included, split into requests under the 2 MB
  request limit (a create with part of the assets, updates with the rest).
- Terms documents per app client; log delivery with each destination through the ARN map.
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
from dataclasses import dataclass, field
from typing import Any

from cognito_restore.arn_map import ArnMapper
from cognito_restore.errors import NotRestorable

# Report categories (report.py) of the v2 settings, and their backup counts.
V2_CATEGORIES = ("mfa_config", "managed_login_branding", "terms", "log_delivery")
FACTORS = ("SMS", "TOTP", "EMAIL", "PASSKEYS")

REQUEST_BUDGET = 1_800_000  # bytes per branding request: under Cognito's 2 MB limit with room for the envelope
COGNITO_DOMAIN_SUFFIX = ".amazoncognito.com"


def mfa_factors(mfa_config: dict[str, Any] | None) -> list[str]:
    """The factors a backed-up GetUserPoolMfaConfig has on (passkeys: a relying party configured)."""
    if not mfa_config:
        return []
    factors = []
    if (mfa_config.get("SmsMfaConfiguration") or {}).get("SmsConfiguration"):
        factors.append("SMS")
    if (mfa_config.get("SoftwareTokenMfaConfiguration") or {}).get("Enabled"):
        factors.append("TOTP")
    if mfa_config.get("EmailMfaConfiguration") is not None:
        factors.append("EMAIL")
    if (mfa_config.get("WebAuthnConfiguration") or {}).get("RelyingPartyId"):
        factors.append("PASSKEYS")
    return factors


def v2_counts(sections: dict[str, Any]) -> dict[str, int]:
    """Backup counts of the v2 categories and of the per-client UI and risk settings; none for a v1
    backup (its plan stays as it was)."""
    if "mfa_config" not in sections and "managed_login_branding" not in sections:
        return {}
    log = sections.get("log_delivery_configuration") or {}
    counts = {
        "mfa_config": len(mfa_factors(sections.get("mfa_config"))),
        "managed_login_branding": len(sections.get("managed_login_branding") or []),
        "terms": len(sections.get("terms") or []),
        "log_delivery": len(log.get("LogConfigurations") or []),
    }
    if sections.get("ui_customizations") is not None:
        counts["ui_customization"] = int(bool(sections.get("ui_customization"))) + len(sections["ui_customizations"])
    if sections.get("risk_configurations") is not None:
        counts["threat_protection"] = int(bool(sections.get("risk_configuration"))) + len(
            sections["risk_configurations"]
        )
    return counts


# ----------------------------------------------------------------------------------- MFA


def prefix_host(prefix: str, region: str) -> str:
    return f"{prefix}.auth.{region}{COGNITO_DOMAIN_SUFFIX}"


@dataclass
class MfaPlan:
    """The SetUserPoolMfaConfig request and what became of each backed-up factor."""

    request: dict[str, Any]
    restored: list[str] = field(default_factory=list)
    notes: list[tuple[str, str]] = field(default_factory=list)  # (factor, note)
    left_out: list[tuple[str, str]] = field(default_factory=list)  # (factor, reason): failed, with a manual step


def relying_party_id(
    rp: str, old_region: str, old_prefix: str | None, new_prefix: str | None, new_region: str
) -> tuple[str | None, str | None]:
    """(relying party id for the new pool, note). A custom or own domain stays; the prefix domain's
    host changes with the Region (and with the prefix when it had to be derived)."""
    if not rp.endswith(COGNITO_DOMAIN_SUFFIX):
        return rp, None
    if old_prefix is None or rp != prefix_host(old_prefix, old_region):
        return None, f"relying party {rp} is not the backed-up pool's prefix domain"
    if new_prefix is None:
        return None, "the prefix domain was not restored: passkeys need it as their relying party"
    new = prefix_host(new_prefix, new_region)
    return new, f"relying party {rp} -> {new}: users register their passkeys again (a passkey is bound to its host)"


def mfa_config_plan(
    mfa_config: dict[str, Any],
    pool_id: str,
    new_pool: dict[str, Any],
    old_region: str,
    old_prefix: str | None,
    new_prefix: str | None,
) -> MfaPlan:
    """new_pool: DescribeUserPool of the new pool (its SMS and e-mail configuration as applied)."""
    mode = mfa_config.get("MfaConfiguration") or "OFF"
    request: dict[str, Any] = {"UserPoolId": pool_id, "MfaConfiguration": mode}
    plan = MfaPlan(request)
    factors = mfa_factors(mfa_config)
    if "SMS" in factors:
        if new_pool.get("SmsConfiguration"):
            sms = copy.deepcopy(mfa_config["SmsMfaConfiguration"])
            sms["SmsConfiguration"] = copy.deepcopy(new_pool["SmsConfiguration"])  # as the new pool accepted it
            request["SmsMfaConfiguration"] = sms
            plan.restored.append("SMS")
        else:
            plan.left_out.append(("SMS", "the new pool has no SMS configuration (left out at its creation)"))
    if "TOTP" in factors:
        request["SoftwareTokenMfaConfiguration"] = {"Enabled": True}
        plan.restored.append("TOTP")
    if "EMAIL" in factors:
        if (new_pool.get("EmailConfiguration") or {}).get("EmailSendingAccount") == "DEVELOPER":
            request["EmailMfaConfiguration"] = copy.deepcopy(mfa_config["EmailMfaConfiguration"])
            plan.restored.append("EMAIL")
        else:
            plan.left_out.append(
                (
                    "EMAIL",
                    "e-mail MFA needs Amazon SES in this Region: verify the identity here, map "
                    "EmailConfiguration.SourceArn in arn_map and run the restore again",
                )
            )
    webauthn = copy.deepcopy(mfa_config.get("WebAuthnConfiguration") or {})
    if "PASSKEYS" in factors:
        rp, note = relying_party_id(webauthn["RelyingPartyId"], old_region, old_prefix, new_prefix, new_pool["_region"])
        if rp is None:
            plan.left_out.append(("PASSKEYS", note or "no relying party"))
        else:
            webauthn["RelyingPartyId"] = rp
            request["WebAuthnConfiguration"] = webauthn
            plan.restored.append("PASSKEYS")
            if note:
                plan.notes.append(("PASSKEYS", note))
    elif webauthn:
        webauthn.pop("RelyingPartyId", None)
        request["WebAuthnConfiguration"] = webauthn  # user verification / factor settings without a relying party
    if mode == "OFF":  # Cognito refuses OFF with an MFA factor block (passkeys are no MFA factor)
        for key in ("SmsMfaConfiguration", "SoftwareTokenMfaConfiguration", "EmailMfaConfiguration"):
            request.pop(key, None)
    elif not any(
        k in request for k in ("SmsMfaConfiguration", "SoftwareTokenMfaConfiguration", "EmailMfaConfiguration")
    ):
        # ON/OPTIONAL needs a factor: TOTP keeps MFA on until the left-out factor is fixed.
        request["SoftwareTokenMfaConfiguration"] = {"Enabled": True}
        plan.notes.append(("TOTP", f"MfaConfiguration {mode} needs a factor: TOTP enabled until the others are fixed"))
    return plan


# ----------------------------------------------------------------------------------- branding


def _asset_bytes(asset: dict[str, Any]) -> bytes | None:
    raw = asset.get("Bytes")
    if raw is None:
        return None
    if isinstance(raw, bytes):
        return raw
    try:
        return base64.b64decode(str(raw), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("asset Bytes is not base64") from None


def _encoded_size(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":"), default=str))


def branding_requests(style: dict[str, Any], pool_id: str, client_ids: dict[str, str]) -> list[dict[str, Any]]:
    """Create, then Update requests (without ManagedLoginBrandingId: the phase adds it), each under
    the request budget: settings and as many assets as fit in the first, the rest in the next ones."""
    old_client = style.get("ClientId")
    if old_client not in client_ids:
        raise NotRestorable(f"app client {old_client} was not restored")
    base: dict[str, Any] = {"UserPoolId": pool_id, "ClientId": client_ids[str(old_client)]}
    if style.get("UseCognitoProvidedValues"):
        return [{**base, "UseCognitoProvidedValues": True}]
    assets = []
    for asset in style.get("Assets") or []:
        entry = {k: asset[k] for k in ("Category", "ColorMode", "Extension", "ResourceId") if asset.get(k) is not None}
        data = _asset_bytes(asset)
        if data is not None:
            entry["Bytes"] = data
        assets.append(entry)
    first: dict[str, Any] = {**base, "Settings": copy.deepcopy(style.get("Settings") or {}), "Assets": []}
    requests = [first]
    size = _encoded_size(first)
    for asset in assets:
        asset_size = (
            _encoded_size({k: v for k, v in asset.items() if k != "Bytes"})
            + 4 * (len(asset.get("Bytes", b"")) + 2) // 3
        )
        if size + asset_size > REQUEST_BUDGET:
            requests.append({"UserPoolId": pool_id, "Assets": []})
            size = _encoded_size(requests[-1])
        requests[-1]["Assets"].append(asset)
        size += asset_size
    return requests


# ----------------------------------------------------------------------------------- terms


def terms_request(terms: dict[str, Any], pool_id: str, client_ids: dict[str, str]) -> dict[str, Any]:
    old_client = terms.get("ClientId")
    if old_client not in client_ids:
        raise NotRestorable(f"app client {old_client} was not restored")
    return {
        "UserPoolId": pool_id,
        "ClientId": client_ids[str(old_client)],
        "TermsName": terms["TermsName"],
        "TermsSource": terms.get("TermsSource") or "LINK",
        "Enforcement": terms.get("Enforcement") or "NONE",
        "Links": dict(terms["Links"]),
    }


# ----------------------------------------------------------------------------------- log delivery

LOG_DESTINATIONS = {
    "CloudWatchLogsConfiguration": "LogGroupArn",
    "S3Configuration": "BucketArn",
    "FirehoseConfiguration": "StreamArn",
}


def log_configuration(configuration: dict[str, Any], mapper: ArnMapper) -> dict[str, Any]:
    """One LogConfiguration with its destination moved through the ARN map (NotRestorable if none)."""
    out: dict[str, Any] = {k: configuration[k] for k in ("EventSource", "LogLevel") if k in configuration}
    for kind, member in LOG_DESTINATIONS.items():
        destination = (configuration.get(kind) or {}).get(member)
        if not destination:
            continue
        if kind != "CloudWatchLogsConfiguration":
            # Cognito would change the bucket policy or create a service-linked role: rights this
            # restore is not given (least privilege); the operator sets these up (reported).
            raise NotRestorable(f"{kind.removesuffix('Configuration')} destination {destination}: set it up by hand")
        mapped = mapper.map(destination)  # a bucket ARN has no Region: it stays unless mapped
        if mapped is None:
            raise NotRestorable(f"destination {destination} is in another Region and not in arn_map")
        out[kind] = {member: mapped}
    return out


def log_item(configuration: dict[str, Any]) -> str:
    return f"{configuration.get('EventSource')} logs"
