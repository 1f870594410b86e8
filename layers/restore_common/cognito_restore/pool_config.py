"""DescribeUserPool output (as backed up) -> CreateUserPool request. Pure; see facts sheet section 1."""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

RESTORE_ID_TAG = "cognito-dr:restore-id"
SOURCE_POOL_TAG = "cognito-dr:source-pool-id"

# CreateUserPool input members that DescribeUserPool returns under the same name.
_PASS_THROUGH = (
    "Policies", "AutoVerifiedAttributes", "AliasAttributes", "UsernameAttributes", "VerificationMessageTemplate",
    "SmsAuthenticationMessage", "UserAttributeUpdateSettings", "DeviceConfiguration", "EmailConfiguration",
    "SmsConfiguration", "AdminCreateUserConfig", "UserPoolAddOns", "UsernameConfiguration",
    "AccountRecoverySetting", "UserPoolTier", "DeletionProtection",
)
# Constraints DescribeUserPool reports for standard attributes left at Cognito's defaults.
_DEFAULT_CONSTRAINTS = {
    "StringAttributeConstraints": {"MinLength": "0", "MaxLength": "2048"},
    "NumberAttributeConstraints": {"MinValue": "0"},
}


def _non_default_constraints(entry: dict[str, Any]) -> bool:
    return any(key in entry and entry[key] != default for key, default in _DEFAULT_CONSTRAINTS.items())


@dataclass
class PoolRequest:
    """The CreateUserPool request plus what had to be left out (for the report)."""

    request: dict[str, Any]
    mfa_configuration: str
    lambda_config: dict[str, Any] = field(default_factory=dict)
    left_out: list[dict[str, str]] = field(default_factory=list)


def region_of_arn(arn: str) -> str | None:
    parts = arn.split(":")
    return parts[3] if len(parts) > 5 and parts[0] == "arn" else None


def schema_entry(attribute: dict[str, Any]) -> dict[str, Any] | None:
    """One SchemaAttributes entry as CreateUserPool wants it (prefix stripped), or None if default."""
    name: str = attribute["Name"]
    entry = {k: copy.deepcopy(v) for k, v in attribute.items() if k != "Name"}
    for constraints in ("StringAttributeConstraints", "NumberAttributeConstraints"):
        if constraints in entry and not entry[constraints]:
            del entry[constraints]
    if name.startswith("dev:"):
        base = name[len("dev:"):]
        base = base[len("custom:"):] if base.startswith("custom:") else base
        return {"Name": base, **entry, "DeveloperOnlyAttribute": True}
    if name.startswith("custom:"):
        entry.pop("DeveloperOnlyAttribute", None)
        return {"Name": name[len("custom:"):], **entry}
    if name == "sub":
        return None
    differs = (
        attribute.get("Required", False) is not False
        or attribute.get("Mutable", True) is not True
        or _non_default_constraints(entry)
    )
    if not differs:
        return None
    entry.pop("DeveloperOnlyAttribute", None)
    return {"Name": name, **entry}


def create_user_pool_request(
    config: dict[str, Any], *, restore_id: str, source_pool_id: str, target_region: str
) -> PoolRequest:
    request: dict[str, Any] = {"PoolName": config["Name"]}
    left_out: list[dict[str, str]] = []
    for key in _PASS_THROUGH:
        if config.get(key) not in (None, {}, []):
            request[key] = copy.deepcopy(config[key])

    schema = [entry for attribute in config.get("SchemaAttributes") or [] if (entry := schema_entry(attribute))]
    if schema:
        request["Schema"] = schema

    # Legacy field that Cognito rejects next to TemporaryPasswordValidityDays (facts 1.4).
    admin = request.get("AdminCreateUserConfig")
    password = (request.get("Policies") or {}).get("PasswordPolicy") or {}
    if admin and "UnusedAccountValidityDays" in admin and password.get("TemporaryPasswordValidityDays"):
        del admin["UnusedAccountValidityDays"]

    # Region-bound dependencies: keep only those already in the DR Region.
    email = request.get("EmailConfiguration")
    if email and email.get("SourceArn") and region_of_arn(email["SourceArn"]) != target_region:
        left_out.append({"item": "EmailConfiguration.SourceArn", "reason": f"SES identity {email['SourceArn']} is in another Region; the pool sends with Cognito's default e-mail"})
        request["EmailConfiguration"] = {"EmailSendingAccount": "COGNITO_DEFAULT"}
        template = request.get("VerificationMessageTemplate") or {}
        for developer_only in ("EmailMessage", "EmailSubject", "EmailMessageByLink", "EmailSubjectByLink"):
            template.pop(developer_only, None)
        invite = (request.get("AdminCreateUserConfig") or {}).get("InviteMessageTemplate") or {}
        for developer_only in ("EmailMessage", "EmailSubject"):
            invite.pop(developer_only, None)
    sms = request.get("SmsConfiguration")
    if sms and sms.get("SnsRegion") and sms["SnsRegion"] != target_region:
        left_out.append({"item": "SmsConfiguration.SnsRegion", "reason": f"SMS was sent from {sms['SnsRegion']}; the pool now uses its own Region (check the SNS role's trust policy names the new pool)"})
        del sms["SnsRegion"]

    tags = dict(config.get("UserPoolTags") or {})
    tags[RESTORE_ID_TAG] = restore_id
    tags[SOURCE_POOL_TAG] = source_pool_id
    request["UserPoolTags"] = tags

    # MFA factors live in SetUserPoolMfaConfig (not in the backup): create with MFA off, set after.
    mfa = config.get("MfaConfiguration") or "OFF"
    lambda_config = {k: v for k, v in (config.get("LambdaConfig") or {}).items() if v}
    return PoolRequest(request=request, mfa_configuration=mfa, lambda_config=lambda_config, left_out=left_out)
