"""Messaging (10.): the SMS role and the SES identity checked the way Cognito uses them.

CreateUserPool / UpdateUserPool / SetUserPoolMfaConfig: the SMS role exists in moto's IAM, trusts
``cognito-idp.amazonaws.com`` with its conditions on ``sts:ExternalId``, ``aws:SourceArn`` (the
pool) and ``aws:SourceAccount``, and allows ``sns:Publish`` on ``*``; the SES identity of
``EmailConfiguration.SourceArn`` is verified in its Region, a DEVELOPER configuration set exists,
COGNITO_DEFAULT has no ``From`` (docs/messaging.md).
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Callable
from typing import Any

from moto.cognitoidp.exceptions import InvalidParameterException

from tools.emulation.cognito.common import error
from tools.emulation.cognito.messages import (
    MSG_DEFAULT_FROM,
    MSG_EMAIL_ARN_NOT_YOURS,
    MSG_EMAIL_NOT_VERIFIED,
    MSG_NO_CONFIGURATION_SET,
    MSG_SMS_PUBLISH,
    MSG_SMS_TRUST,
)


def _policy_statements(document: Any) -> list[dict[str, Any]]:
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except ValueError:
            return []
    statements = (document or {}).get("Statement") or []
    return [s for s in (statements if isinstance(statements, list) else [statements]) if isinstance(s, dict)]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _condition_holds(conditions: dict[str, Any], context: dict[str, str]) -> bool:
    """IAM condition operators Cognito SMS trust policies use (string and ARN matching)."""
    for operator, pairs in (conditions or {}).items():
        if_exists = operator.endswith("IfExists")
        base = operator.removesuffix("IfExists")
        for key, expected in (pairs or {}).items():
            actual = context.get(key.lower())
            if actual is None:
                if if_exists:
                    continue
                return False
            values = [str(v) for v in _as_list(expected)]
            if base in ("StringEquals", "ArnEquals"):
                ok = actual in values
            elif base in ("StringLike", "ArnLike"):
                ok = any(fnmatch.fnmatchcase(actual, v) for v in values)
            elif base in ("StringNotEquals", "ArnNotEquals"):
                ok = actual not in values
            elif base in ("StringNotLike", "ArnNotLike"):
                ok = not any(fnmatch.fnmatchcase(actual, v) for v in values)
            else:
                return False  # an operator this model does not know: refuse, as a safe default
            if not ok:
                return False
    return True


def _trusts_cognito(statement: dict[str, Any], context: dict[str, str]) -> bool:
    principal = statement.get("Principal")
    services = _as_list(principal.get("Service")) if isinstance(principal, dict) else [principal]
    actions = [str(a).lower() for a in _as_list(statement.get("Action"))]
    return (
        ("*" in services or "cognito-idp.amazonaws.com" in services)
        and any(a in ("sts:assumerole", "sts:*", "*") for a in actions)
        and _condition_holds(statement.get("Condition") or {}, context)
    )


def _allows_sns_publish(role: Any) -> bool:
    documents = list(role.policies.values())
    for policy in role.managed_policies.values():
        documents.extend(v.document for v in getattr(policy, "versions", []) if v.is_default)
    for document in documents:
        for statement in _policy_statements(document):
            actions = [str(a).lower() for a in _as_list(statement.get("Action"))]
            resources = _as_list(statement.get("Resource"))
            # Cognito publishes to phone numbers, which have no ARN: only Resource "*" allows it.
            if (
                statement.get("Effect") == "Allow"
                and any(fnmatch.fnmatchcase("sns:publish", a) for a in actions)
                and "*" in resources
            ):
                return True
    return False


def check_sms_role(pool_arn: str, sms: dict[str, Any] | None) -> None:
    """Cognito assumes the SMS role for the pool: the role exists, trusts cognito-idp.amazonaws.com
    with the pool's ExternalId, aws:SourceArn (the pool) and aws:SourceAccount, and may publish."""
    if not sms or not sms.get("SnsCallerArn"):
        return
    from moto.iam.models import iam_backends  # here: moto's IAM is only needed for pools with SMS

    partition, account = pool_arn.split(":")[1], pool_arn.split(":")[4]
    try:
        role = iam_backends[account][partition].get_role_by_arn(sms["SnsCallerArn"])
    except Exception:  # noqa: BLE001 - moto's NotFoundException: Cognito reports a missing role as untrusted
        raise error("InvalidSmsRoleTrustRelationshipException", MSG_SMS_TRUST) from None
    context = {"aws:sourcearn": pool_arn, "aws:sourceaccount": account}
    if sms.get("ExternalId"):
        context["sts:externalid"] = str(sms["ExternalId"])
    statements = _policy_statements(role.assume_role_policy_document)
    denied = any(s.get("Effect") == "Deny" and _trusts_cognito(s, context) for s in statements)
    if denied or not any(s.get("Effect") == "Allow" and _trusts_cognito(s, context) for s in statements):
        raise error("InvalidSmsRoleTrustRelationshipException", MSG_SMS_TRUST)
    if not _allows_sns_publish(role):
        raise error("InvalidSmsRoleAccessPolicyException", MSG_SMS_PUBLISH)


def _ses_identity_verified(backend: Any, identity: str) -> bool:
    identities = backend.email_identities
    return identity in identities or ("@" in identity and identity.split("@", 1)[1].lower() in identities)


def _check_email_configuration(pool_arn: str, email: dict[str, Any] | None) -> None:
    """The SES identity must be verified in its Region (this account), the configuration set must
    exist, and COGNITO_DEFAULT takes no From address."""
    if not email:
        return
    from moto.ses.models import ses_backends

    account, pool_region = pool_arn.split(":")[4], pool_arn.split(":")[3]
    developer = email.get("EmailSendingAccount") == "DEVELOPER"
    if not developer and email.get("From"):
        raise InvalidParameterException(MSG_DEFAULT_FROM)
    source = email.get("SourceArn")
    if source:
        parts = source.split(":", 5)
        region = parts[3] if len(parts) == 6 else ""
        identity = parts[5].removeprefix("identity/") if len(parts) == 6 and parts[5].startswith("identity/") else ""
        if not region or not identity or parts[4] != account:
            raise error("NotAuthorizedException", MSG_EMAIL_ARN_NOT_YOURS)
        if not _ses_identity_verified(ses_backends[account][region], identity):
            raise InvalidParameterException(MSG_EMAIL_NOT_VERIFIED.format(region=region.upper(), arn=source))
    name = email.get("ConfigurationSet")
    if developer and name and name not in ses_backends[account][pool_region].config_sets:
        raise InvalidParameterException(MSG_NO_CONFIGURATION_SET.format(name=name, region=pool_region))


def check_messaging(pool_arn: str, config: dict[str, Any]) -> None:
    check_sms_role(pool_arn, config.get("SmsConfiguration"))
    _check_email_configuration(pool_arn, config.get("EmailConfiguration"))


def make_set_user_pool_mfa_config(original: Callable) -> Callable:
    def set_user_pool_mfa_config(
        self: Any, user_pool_id: str, sms_config: dict[str, Any], token_config: dict[str, bool], mfa_config: str
    ) -> dict[str, Any]:
        pool = self.describe_user_pool(user_pool_id)
        check_sms_role(pool.arn, (sms_config or {}).get("SmsConfiguration"))
        return original(self, user_pool_id, sms_config, token_config, mfa_config)

    return set_user_pool_mfa_config
