"""Region-bound messaging settings (SMS role, SES identity, SES configuration set) that must never stop a restore.

Cognito checks them itself when a pool request names them (CreateUserPool, UpdateUserPool,
SetUserPoolMfaConfig): it assumes the SMS role (trust policy: principal, sts:ExternalId,
aws:SourceArn = the pool) and checks the SES identity and configuration set in this Region. A role
that trusts only the source pool, or an identity verified only in the source Region, fails every
retry and re-run. So a refused setting is left out, what depends on it is degraded the same way
every time, and the exact fix is reported; a later run with the same restore id applies the full
configuration again (UpdateUserPool) and it sticks once the operator has fixed it.
See docs/messaging.md.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from cognito_restore.aws_errors import error_code, error_message

SMS_ROLE_ERRORS = frozenset({"InvalidSmsRoleTrustRelationshipException", "InvalidSmsRoleAccessPolicyException"})
EMAIL_IDENTITY_ERROR = "InvalidEmailRoleAccessPolicyException"
# What real Cognito answers for a SourceArn it cannot send from (public reports, docs/messaging.md):
# InvalidParameterException "Cognito received the following error from Amazon SES when attempting to
# send email: Email address is not verified. ..." and NotAuthorizedException "Email arn does not belong
# to your account." These codes also mean unrelated things: only these messages degrade.
SES_IDENTITY_CODES = frozenset({"InvalidParameterException", "NotAuthorizedException"})
SES_IDENTITY_MESSAGES = (
    "received the following error from amazon ses",
    "email address is not verified",
    "email arn does not belong to your account",
)
MAX_DEGRADATIONS = 4  # SMS, configuration set, SES identity: each can be left out once

# Templates Cognito accepts only with EmailSendingAccount DEVELOPER (botocore model docs).
DEVELOPER_ONLY_VERIFICATION = ("EmailMessage", "EmailSubject", "EmailMessageByLink", "EmailSubjectByLink")
DEVELOPER_ONLY_INVITATION = ("EmailMessage", "EmailSubject")


@dataclass(frozen=True)
class Degradation:
    """One setting Cognito refused, left out of the pool for now."""

    kind: str  # "sms" | "ses_configuration_set" | "ses_identity"
    error: str  # Cognito's error code and message ("" when left out before any call)
    wanted: dict[str, Any]  # the refused setting as it should be (SmsConfiguration / EmailConfiguration)
    changes: tuple[str, ...]  # what else was degraded with it

    @property
    def item(self) -> str:
        return {
            "sms": "SmsConfiguration",
            "ses_configuration_set": "EmailConfiguration.ConfigurationSet",
        }.get(self.kind, "EmailConfiguration")

    def note(self) -> str:
        why = f" ({self.error})" if self.error else ""
        return f"left out{why}; " + "; ".join(self.changes)

    def manual_step(self, pool_arn: str, restore_id: str) -> str:
        rerun = f"then start the restore again with restore_id {restore_id} (it applies the setting to this pool)"
        if self.kind == "sms":
            return f"{sms_fix(self.wanted, pool_arn, self.error)}; {rerun}."
        region = pool_arn.split(":")[3]
        if self.kind == "ses_configuration_set":
            return (
                f"EmailConfiguration.ConfigurationSet: create the SES configuration set "
                f"{self.wanted.get('ConfigurationSet')} in {region} (Amazon SES console or "
                f"`aws sesv2 create-configuration-set --region {region}`), {rerun}."
            )
        source = self.wanted.get("SourceArn", "")
        identity = source.split(":identity/", 1)[-1]
        return (
            f"EmailConfiguration: verify the SES identity {identity} in {region} ({source}) and let Cognito "
            f"send from it (a sending authorization policy allowing cognito-idp.amazonaws.com ses:SendEmail "
            f"and ses:SendRawEmail with aws:SourceArn {pool_arn}); {rerun}. Until then the pool sends e-mail "
            f"from no-reply@verificationemail.com within Cognito's daily quota (COGNITO_DEFAULT)."
        )


@dataclass
class Applied:
    """The request Cognito accepted and what had to be left out of it."""

    request: dict[str, Any]
    response: Any
    degraded: list[Degradation] = field(default_factory=list)


def _code_and_message(error: ClientError) -> tuple[str, str]:
    return error_code(error), error_message(error)


def without_sms(request: dict[str, Any]) -> tuple[dict[str, Any], tuple[str, ...]]:
    """The request without SmsConfiguration, and without what cannot work without it."""
    request = copy.deepcopy(request)
    request.pop("SmsConfiguration", None)
    changes = ["no SMS can be sent: SMS MFA, SMS verification codes and SMS invitations wait for the fix"]
    auto = request.get("AutoVerifiedAttributes")
    if auto and "phone_number" in auto:
        request["AutoVerifiedAttributes"] = [a for a in auto if a != "phone_number"]
        if not request["AutoVerifiedAttributes"]:
            del request["AutoVerifiedAttributes"]
        changes.append("phone_number left out of AutoVerifiedAttributes")
        update = (request.get("UserAttributeUpdateSettings") or {}).get("AttributesRequireVerificationBeforeUpdate")
        if update and "phone_number" in update:
            # Cognito: every attribute here must be in AutoVerifiedAttributes.
            request["UserAttributeUpdateSettings"]["AttributesRequireVerificationBeforeUpdate"] = [
                a for a in update if a != "phone_number"
            ]
            changes.append("phone_number left out of AttributesRequireVerificationBeforeUpdate")
    mechanisms = (request.get("AccountRecoverySetting") or {}).get("RecoveryMechanisms") or []
    others = [m for m in mechanisms if m.get("Name") != "verified_phone_number"]
    if others and len(others) < len(mechanisms):
        request["AccountRecoverySetting"]["RecoveryMechanisms"] = [
            {**m, "Priority": position} for position, m in enumerate(others, start=1)
        ]
        changes.append("account recovery by SMS left out (the other recovery mechanisms stay)")
    elif mechanisms and not others:
        changes.append("account recovery is by SMS only: forgot-password codes cannot be delivered until the fix")
    return request, tuple(changes)


def cognito_default_email(request: dict[str, Any]) -> tuple[dict[str, Any], tuple[str, ...]]:
    """COGNITO_DEFAULT the only safe way: no SourceArn, From or ConfigurationSet (they need the SES
    identity, or are refused with COGNITO_DEFAULT), no DEVELOPER-only templates; ReplyTo stays."""
    request = copy.deepcopy(request)
    email = request.get("EmailConfiguration") or {}
    fallback: dict[str, Any] = {"EmailSendingAccount": "COGNITO_DEFAULT"}
    if email.get("ReplyToEmailAddress"):
        fallback["ReplyToEmailAddress"] = email["ReplyToEmailAddress"]
    request["EmailConfiguration"] = fallback
    changes = ["e-mail sent by Cognito (COGNITO_DEFAULT: no-reply@verificationemail.com, daily quota)"]
    template = request.get("VerificationMessageTemplate") or {}
    invite = (request.get("AdminCreateUserConfig") or {}).get("InviteMessageTemplate") or {}
    dropped = [k for k in DEVELOPER_ONLY_VERIFICATION if template.pop(k, None) is not None]
    dropped += [f"invitation {k}" for k in DEVELOPER_ONLY_INVITATION if invite.pop(k, None) is not None]
    if dropped:
        changes.append(f"custom e-mail texts need DEVELOPER, Cognito's default texts for now ({', '.join(dropped)})")
    return request, tuple(changes)


def without_configuration_set(request: dict[str, Any]) -> tuple[dict[str, Any], tuple[str, ...]]:
    request = copy.deepcopy(request)
    request["EmailConfiguration"].pop("ConfigurationSet", None)
    return request, ("e-mail sent through SES without the configuration set (no event publishing, default IP pool)",)


def next_degradation(error: ClientError, request: dict[str, Any]) -> tuple[dict[str, Any], Degradation] | None:
    """The request without the setting the error names, or None when the error is not a messaging one."""
    code, message = _code_and_message(error)
    described = f"{code}: {message}".strip()
    email = request.get("EmailConfiguration") or {}
    if code in SMS_ROLE_ERRORS and request.get("SmsConfiguration"):
        degraded, changes = without_sms(request)
        return degraded, Degradation("sms", described, copy.deepcopy(request["SmsConfiguration"]), changes)
    mentions_set = "configuration set" in message.lower() or "configurationset" in message.lower()
    if code in (EMAIL_IDENTITY_ERROR, "InvalidParameterException") and mentions_set and email.get("ConfigurationSet"):
        degraded, changes = without_configuration_set(request)
        return degraded, Degradation("ses_configuration_set", described, copy.deepcopy(email), changes)
    if code == EMAIL_IDENTITY_ERROR and (email.get("SourceArn") or email.get("EmailSendingAccount") == "DEVELOPER"):
        degraded, changes = cognito_default_email(request)
        return degraded, Degradation("ses_identity", described, copy.deepcopy(email), changes)
    if code in SES_IDENTITY_CODES and email.get("SourceArn") and refuses_ses_identity(message):
        degraded, changes = cognito_default_email(request)
        return degraded, Degradation("ses_identity", described, copy.deepcopy(email), changes)
    return None


def refuses_ses_identity(message: str) -> bool:
    """The message is Cognito's about the SES identity (SourceArn), not another invalid parameter."""
    lowered = message.lower()
    return any(marker in lowered for marker in SES_IDENTITY_MESSAGES)


def apply_with_fallback(call: Callable[..., Any], request: dict[str, Any]) -> Applied:
    """call(**request); on a refused messaging setting, leave it out and call again (other errors raise)."""
    degraded: list[Degradation] = []
    for _ in range(MAX_DEGRADATIONS + 1):
        try:
            return Applied(request, call(**request), degraded)
        except ClientError as error:
            step = next_degradation(error, request)
            if step is None or len(degraded) == MAX_DEGRADATIONS:
                raise
            request, degradation = step
            degraded.append(degradation)
    raise AssertionError("unreachable")  # pragma: no cover


def sms_fix(wanted: dict[str, Any], pool_arn: str, error: str) -> str:
    """The exact change that lets Cognito use the SMS role for the new pool."""
    role = wanted.get("SnsCallerArn") or (wanted.get("EumsSms") or {}).get("CallerArn") or "<the SMS role>"
    external_id = wanted.get("ExternalId") or (wanted.get("EumsSms") or {}).get("ExternalId")
    account = pool_arn.split(":")[4]
    conditions: dict[str, Any] = {
        "StringEquals": {"aws:SourceAccount": account},
        "ArnLike": {"aws:SourceArn": pool_arn},
    }
    if external_id:
        conditions["StringEquals"]["sts:ExternalId"] = external_id
    statement = {
        "Effect": "Allow",
        "Principal": {"Service": "cognito-idp.amazonaws.com"},
        "Action": "sts:AssumeRole",
        "Condition": conditions,
    }
    if error.startswith("InvalidSmsRoleAccessPolicyException"):
        return (
            f"SmsConfiguration: role {role} may not publish SMS; allow it sns:Publish "
            f'(permission policy {{"Effect": "Allow", "Action": "sns:Publish", "Resource": "*"}})'
        )
    return (
        f"SmsConfiguration: add this statement to the trust policy of role {role} (create the role with it and "
        f"sns:Publish if it does not exist): {json.dumps(statement, separators=(', ', ': '))}"
    )
