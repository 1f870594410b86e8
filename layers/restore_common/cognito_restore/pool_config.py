"""DescribeUserPool output (as backed up) -> CreateUserPool request. Pure; see docs/cognito-behaviours.md §1."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from cognito_restore.arn_map import ArnMapper
from cognito_restore.messaging import cognito_default_email

RESTORE_ID_TAG = "cognito-dr:restore-id"
SOURCE_POOL_TAG = "cognito-dr:source-pool-id"

# CreateUserPool input members that DescribeUserPool returns under the same name (see the unit test
# that checks this list against the botocore model). LambdaConfig and MfaConfiguration are applied
# later (triggers after the users; MFA factors through SetUserPoolMfaConfig).
PASS_THROUGH = (
    "Policies",
    "AutoVerifiedAttributes",
    "AliasAttributes",
    "UsernameAttributes",
    "VerificationMessageTemplate",
    "SmsAuthenticationMessage",
    "UserAttributeUpdateSettings",
    "DeviceConfiguration",
    "EmailConfiguration",
    "SmsConfiguration",
    "AdminCreateUserConfig",
    "UserPoolAddOns",
    "UsernameConfiguration",
    "AccountRecoverySetting",
    "UserPoolTier",
    "DeletionProtection",
    "UserPoolTags",
    "AcrConfiguration",
    "IssuerConfiguration",
    "KeyConfiguration",
    "EmailVerificationMessage",
    "EmailVerificationSubject",
    "SmsVerificationMessage",
)
DEFERRED = ("LambdaConfig", "MfaConfiguration")
LEGACY_MESSAGES = ("EmailVerificationMessage", "EmailVerificationSubject", "SmsVerificationMessage")
# UpdateUserPool resets every omitted member to its default: the attach-triggers phase sends these.
UPDATABLE = (
    "Policies",
    "DeletionProtection",
    "LambdaConfig",
    "AutoVerifiedAttributes",
    "VerificationMessageTemplate",
    "SmsAuthenticationMessage",
    "UserAttributeUpdateSettings",
    "MfaConfiguration",
    "DeviceConfiguration",
    "EmailConfiguration",
    "SmsConfiguration",
    "UserPoolTags",
    "AdminCreateUserConfig",
    "UserPoolAddOns",
    "AccountRecoverySetting",
    "UserPoolTier",
    "AcrConfiguration",
    "IssuerConfiguration",
    "KeyConfiguration",
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
        base = name[len("dev:") :]
        base = base[len("custom:") :] if base.startswith("custom:") else base
        return {"Name": base, **entry, "DeveloperOnlyAttribute": True}
    if name.startswith("custom:"):
        entry.pop("DeveloperOnlyAttribute", None)
        return {"Name": name[len("custom:") :], **entry}
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


OLD_SUB_ATTRIBUTE = "dr_old_sub"


def old_sub_schema_entry() -> dict[str, Any]:
    # Mutable: AdminLinkProviderForUser refuses users with immutable attributes. Clients do not get it
    # by default (default write attributes are the standard ones only).
    return {
        "Name": OLD_SUB_ATTRIBUTE,
        "AttributeDataType": "String",
        "Mutable": True,
        "StringAttributeConstraints": {"MinLength": "1", "MaxLength": "128"},
    }


def create_user_pool_request(
    config: dict[str, Any],
    *,
    restore_id: str,
    source_pool_id: str,
    target_region: str,
    mapper: ArnMapper | None = None,
    preserve_old_sub: bool = False,
) -> PoolRequest:
    mapper = mapper or ArnMapper(target_region)
    request: dict[str, Any] = {"PoolName": config["Name"]}
    left_out: list[dict[str, str]] = []
    for key in PASS_THROUGH:
        if config.get(key) not in (None, {}, []):
            request[key] = copy.deepcopy(config[key])
    if request.get("VerificationMessageTemplate"):
        for legacy in LEGACY_MESSAGES:  # replaced by the template; conflicting values are rejected
            request.pop(legacy, None)

    schema = [entry for attribute in config.get("SchemaAttributes") or [] if (entry := schema_entry(attribute))]
    if preserve_old_sub and not any(e["Name"] == OLD_SUB_ATTRIBUTE for e in schema):
        schema.append(old_sub_schema_entry())
    if schema:
        request["Schema"] = schema

    # Legacy field that Cognito rejects next to TemporaryPasswordValidityDays (docs/cognito-behaviours.md §1.4).
    admin = request.get("AdminCreateUserConfig")
    password = (request.get("Policies") or {}).get("PasswordPolicy") or {}
    if admin and "UnusedAccountValidityDays" in admin and password.get("TemporaryPasswordValidityDays"):
        del admin["UnusedAccountValidityDays"]

    # Region-bound dependencies: mapped to the DR Region, or left out and reported.
    key_config = request.get("KeyConfiguration")
    if key_config and key_config.get("KmsKeyArn"):
        mapped_key = mapper.map(key_config["KmsKeyArn"])
        if mapped_key:
            key_config["KmsKeyArn"] = mapped_key
        else:
            del request["KeyConfiguration"]
            left_out.append(
                {
                    "item": "KeyConfiguration",
                    "reason": f"KMS key {key_config['KmsKeyArn']} is in another Region and not in arn_map; the pool uses the default key",
                }
            )
    email = request.get("EmailConfiguration")
    mapped_source = mapper.map(email["SourceArn"]) if email and email.get("SourceArn") else None
    if email and email.get("SourceArn") and mapped_source:
        email["SourceArn"] = mapped_source
    elif email and email.get("SourceArn"):
        left_out.append(
            {
                "item": "EmailConfiguration.SourceArn",
                "reason": f"SES identity {email['SourceArn']} is in another Region and not in arn_map; the pool sends with Cognito's default e-mail",
            }
        )
        request = cognito_default_email(request)[0]
    sms = request.get("SmsConfiguration")
    if sms and sms.get("SnsRegion") and sms["SnsRegion"] != target_region:
        left_out.append(
            {
                "item": "SmsConfiguration.SnsRegion",
                "reason": f"SMS was sent from {sms['SnsRegion']}; the pool now uses its own Region (check the SNS role's trust policy names the new pool)",
            }
        )
        del sms["SnsRegion"]

    tags = dict(request.get("UserPoolTags") or {})
    tags[RESTORE_ID_TAG] = restore_id
    tags[SOURCE_POOL_TAG] = source_pool_id
    request["UserPoolTags"] = tags

    # MFA factors live in SetUserPoolMfaConfig (not in the backup): create with MFA off, set after.
    mfa = config.get("MfaConfiguration") or "OFF"
    return PoolRequest(request=request, mfa_configuration=mfa, left_out=left_out)


@dataclass
class TriggerPlan:
    lambda_config: dict[str, Any]
    functions: list[str]  # function ARNs Cognito must be allowed to invoke
    unmapped: list[dict[str, str]]


def map_lambda_config(lambda_config: dict[str, Any], mapper: ArnMapper) -> TriggerPlan:
    """Backed-up LambdaConfig -> the DR Region's; triggers without a mapped function are reported."""
    mapped: dict[str, Any] = {}
    functions: list[str] = []
    unmapped: list[dict[str, str]] = []
    for trigger, value in lambda_config.items():
        if trigger == "KMSKeyID":
            new_key = mapper.map(value)
            if new_key:
                mapped[trigger] = new_key
            else:
                unmapped.append(
                    {"item": "LambdaConfig.KMSKeyID", "reason": f"KMS key {value} is not mapped to this Region"}
                )
            continue
        arn = value.get("LambdaArn") if isinstance(value, dict) else value
        new_arn = mapper.map(arn) if isinstance(arn, str) else None
        if new_arn is None:
            unmapped.append(
                {
                    "item": f"Lambda trigger {trigger}",
                    "reason": f"{arn} is not mapped to a function in this Region (arn_map)",
                }
            )
            continue
        mapped[trigger] = {**value, "LambdaArn": new_arn} if isinstance(value, dict) else new_arn
        if new_arn not in functions:
            functions.append(new_arn)
    if "KMSKeyID" in mapped and not any(k in mapped for k in ("CustomSMSSender", "CustomEmailSender")):
        del mapped["KMSKeyID"]  # only meaningful with a custom sender
    return TriggerPlan(mapped, functions, unmapped)


def update_user_pool_request(pool: dict[str, Any], lambda_config: dict[str, Any]) -> dict[str, Any]:
    """UpdateUserPool resets omitted settings: send everything the pool has now, plus the triggers."""
    request: dict[str, Any] = {"UserPoolId": pool["Id"]}
    for key in UPDATABLE:
        if pool.get(key) not in (None, {}, []):
            request[key] = copy.deepcopy(pool[key])
    request["LambdaConfig"] = lambda_config
    admin = request.get("AdminCreateUserConfig")
    password = (request.get("Policies") or {}).get("PasswordPolicy") or {}
    if admin and "UnusedAccountValidityDays" in admin and password.get("TemporaryPasswordValidityDays"):
        del admin["UnusedAccountValidityDays"]
    return request


# UpdateUserPool input members that CreateUserPool also takes (not the creation-only ones).
REAPPLIED = (*UPDATABLE, "EmailVerificationMessage", "EmailVerificationSubject", "SmsVerificationMessage")


def reapply_request(create_request: dict[str, Any], pool: dict[str, Any]) -> dict[str, Any]:
    """The full configuration again for a pool an earlier run created (UpdateUserPool resets what is
    omitted): the CreateUserPool settings, plus the triggers and MFA mode the pool has by now."""
    request: dict[str, Any] = {"UserPoolId": pool["Id"]}
    for key in REAPPLIED:
        if key in create_request and key not in DEFERRED:
            request[key] = copy.deepcopy(create_request[key])
    for key in DEFERRED:  # attached later by their own phases: keep what an earlier run applied
        if pool.get(key) not in (None, {}, []):
            request[key] = copy.deepcopy(pool[key])
    return request
