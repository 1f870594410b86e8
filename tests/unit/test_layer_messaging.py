"""cognito_restore.messaging: refused SMS / SES settings are left out consistently, with the exact fix."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from cognito_restore.messaging import (
    Degradation,
    apply_with_fallback,
    cognito_default_email,
    next_degradation,
    without_sms,
)
from cognito_restore.pool_config import reapply_request

ROLE = "arn:aws:iam::123456789012:role/sms"
POOL_ARN = "arn:aws:cognito-idp:us-west-2:123456789012:userpool/us-west-2_New"
SMS = {"SnsCallerArn": ROLE, "ExternalId": "ext-1"}
IDENTITY = "arn:aws:ses:us-west-2:123456789012:identity/no-reply@example.com"


def error(code: str, message: str = "refused") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, "CreateUserPool")


def request(**extra: Any) -> dict[str, Any]:
    return {
        "PoolName": "p",
        "SmsConfiguration": dict(SMS),
        "AutoVerifiedAttributes": ["email", "phone_number"],
        "UserAttributeUpdateSettings": {"AttributesRequireVerificationBeforeUpdate": ["email", "phone_number"]},
        "AccountRecoverySetting": {
            "RecoveryMechanisms": [
                {"Priority": 1, "Name": "verified_phone_number"},
                {"Priority": 2, "Name": "verified_email"},
            ]
        },
        **extra,
    }


def test_without_sms_drops_what_cannot_work_without_it_and_keeps_the_rest():
    original = request(Policies={"PasswordPolicy": {"MinimumLength": 10}})
    degraded, changes = without_sms(original)
    assert "SmsConfiguration" not in degraded
    assert degraded["AutoVerifiedAttributes"] == ["email"]
    assert degraded["UserAttributeUpdateSettings"]["AttributesRequireVerificationBeforeUpdate"] == ["email"]
    assert degraded["AccountRecoverySetting"]["RecoveryMechanisms"] == [{"Priority": 1, "Name": "verified_email"}]
    assert degraded["Policies"] == original["Policies"]
    assert original["SmsConfiguration"] == SMS  # the input is not changed
    assert any("SMS MFA" in c for c in changes)


def test_sms_only_recovery_is_kept_and_said():
    only_sms = request(
        AccountRecoverySetting={"RecoveryMechanisms": [{"Priority": 1, "Name": "verified_phone_number"}]}
    )
    degraded, changes = without_sms(only_sms)
    assert degraded["AccountRecoverySetting"] == only_sms["AccountRecoverySetting"]
    assert any("by SMS only" in c for c in changes)


def test_phone_only_auto_verification_leaves_no_empty_list():
    degraded, _ = without_sms({"SmsConfiguration": SMS, "AutoVerifiedAttributes": ["phone_number"]})
    assert "AutoVerifiedAttributes" not in degraded


def test_cognito_default_fallback_is_the_safe_one():
    developer = {
        "EmailConfiguration": {
            "EmailSendingAccount": "DEVELOPER",
            "SourceArn": IDENTITY,
            "From": "Example <no-reply@example.com>",
            "ConfigurationSet": "cs",
            "ReplyToEmailAddress": "support@example.com",
        },
        "VerificationMessageTemplate": {"EmailMessage": "code {####}", "SmsMessage": "code {####}"},
        "AdminCreateUserConfig": {"InviteMessageTemplate": {"EmailSubject": "Hi", "SMSMessage": "{username} {####}"}},
    }
    degraded, changes = cognito_default_email(developer)
    # No SourceArn (needs the identity), no From (refused with COGNITO_DEFAULT), no configuration set.
    assert degraded["EmailConfiguration"] == {
        "EmailSendingAccount": "COGNITO_DEFAULT",
        "ReplyToEmailAddress": "support@example.com",
    }
    assert degraded["VerificationMessageTemplate"] == {"SmsMessage": "code {####}"}
    assert degraded["AdminCreateUserConfig"]["InviteMessageTemplate"] == {"SMSMessage": "{username} {####}"}
    assert any("EmailMessage" in c for c in changes)


@pytest.mark.parametrize("code", ["InvalidSmsRoleTrustRelationshipException", "InvalidSmsRoleAccessPolicyException"])
def test_sms_role_errors_leave_out_the_sms_configuration(code):
    degraded, degradation = next_degradation(error(code), request())
    assert "SmsConfiguration" not in degraded
    assert degradation.kind == "sms" and degradation.wanted == SMS and code in degradation.error


def test_email_errors_leave_out_the_configuration_set_first_then_the_identity():
    email = {"EmailSendingAccount": "DEVELOPER", "SourceArn": IDENTITY, "ConfigurationSet": "cs"}
    degraded, first = next_degradation(
        error("InvalidParameterException", "The SES configuration set cs does not exist"), {"EmailConfiguration": email}
    )
    assert first.kind == "ses_configuration_set"
    assert degraded["EmailConfiguration"] == {"EmailSendingAccount": "DEVELOPER", "SourceArn": IDENTITY}
    degraded, second = next_degradation(error("InvalidEmailRoleAccessPolicyException"), degraded)
    assert second.kind == "ses_identity" and degraded["EmailConfiguration"] == {
        "EmailSendingAccount": "COGNITO_DEFAULT"
    }


# Cognito's answers as public reports quote them (docs/messaging.md).
UNVERIFIED = (
    "Cognito received the following error from Amazon SES when attempting to send email: Email address is not "
    f"verified. The following identities failed the check in region US-WEST-2: {IDENTITY}"
)
OTHER_ACCOUNT = "Email arn does not belong to your account."


@pytest.mark.parametrize(
    "code, message", [("InvalidParameterException", UNVERIFIED), ("NotAuthorizedException", OTHER_ACCOUNT)]
)
def test_the_ses_identity_refusals_real_cognito_reports_fall_back_to_cognito_email(code, message):
    email = {"EmailSendingAccount": "DEVELOPER", "SourceArn": IDENTITY, "From": "App <no-reply@example.com>"}
    degraded, degradation = next_degradation(error(code, message), request(EmailConfiguration=email))
    assert degradation.kind == "ses_identity" and degradation.error == f"{code}: {message}"
    assert degraded["EmailConfiguration"] == {"EmailSendingAccount": "COGNITO_DEFAULT"}
    assert degraded["SmsConfiguration"] == SMS  # only the e-mail identity is left out


@pytest.mark.parametrize(
    "code, message",
    [
        ("InvalidParameterException", UNVERIFIED),  # no SourceArn in the request: not about its identity
        ("NotAuthorizedException", "Access to Role 'x' is forbidden."),
        ("InvalidParameterException", "Cannot configure From email address for default email configuration"),
    ],
)
def test_the_same_codes_for_another_cause_still_fail(code, message):
    email = {"EmailSendingAccount": "COGNITO_DEFAULT"}
    if "Role" in message:
        email = {"EmailSendingAccount": "DEVELOPER", "SourceArn": IDENTITY}
    assert next_degradation(error(code, message), {"EmailConfiguration": email}) is None


@pytest.mark.parametrize(
    "code, message",
    [("InvalidParameterException", "The pool quota is reached"), ("LimitExceededException", "too many pools")],
)
def test_other_errors_are_not_messaging_ones(code, message):
    assert next_degradation(error(code, message), request()) is None


def test_apply_with_fallback_retries_without_each_refused_setting():
    calls: list[dict[str, Any]] = []

    def create(**kwargs: Any) -> dict[str, Any]:
        calls.append(kwargs)
        if "SmsConfiguration" in kwargs:
            raise error("InvalidSmsRoleTrustRelationshipException")
        if kwargs["EmailConfiguration"].get("SourceArn"):
            raise error("InvalidEmailRoleAccessPolicyException")
        return {"UserPool": {"Id": "new"}}

    applied = apply_with_fallback(
        create, request(EmailConfiguration={"EmailSendingAccount": "DEVELOPER", "SourceArn": IDENTITY})
    )
    assert applied.response == {"UserPool": {"Id": "new"}} and len(calls) == 3
    assert [d.kind for d in applied.degraded] == ["sms", "ses_identity"]
    assert applied.request == calls[-1]


def test_apply_with_fallback_raises_other_errors():
    def create(**kwargs: Any) -> None:
        raise error("InvalidParameterException", "bad schema")

    with pytest.raises(ClientError):
        apply_with_fallback(create, request())


def test_sms_manual_step_is_the_trust_statement_naming_the_new_pool_and_the_external_id():
    degradation = Degradation("sms", "InvalidSmsRoleTrustRelationshipException: no", SMS, ())
    step = degradation.manual_step(POOL_ARN, "dr-1")
    statement = json.loads(step[step.index("{") : step.rindex("}") + 1])
    assert statement == {
        "Effect": "Allow",
        "Principal": {"Service": "cognito-idp.amazonaws.com"},
        "Action": "sts:AssumeRole",
        "Condition": {
            "StringEquals": {"aws:SourceAccount": "123456789012", "sts:ExternalId": "ext-1"},
            "ArnLike": {"aws:SourceArn": POOL_ARN},
        },
    }
    assert ROLE in step and "restore_id dr-1" in step


def test_sms_publish_refusal_names_the_permission():
    step = Degradation("sms", "InvalidSmsRoleAccessPolicyException: no", SMS, ()).manual_step(POOL_ARN, "r")
    assert "sns:Publish" in step and ROLE in step


def test_ses_manual_step_names_the_identity_to_verify_in_this_region():
    email = {"EmailSendingAccount": "DEVELOPER", "SourceArn": IDENTITY}
    step = Degradation("ses_identity", "x", email, ()).manual_step(POOL_ARN, "r")
    assert "no-reply@example.com" in step and "us-west-2" in step and POOL_ARN in step


def test_reapply_request_sends_the_full_configuration_and_keeps_later_phases_settings():
    create = {
        "PoolName": "p",
        "Schema": [{"Name": "x"}],
        "UsernameAttributes": ["email"],
        "SmsConfiguration": SMS,
        "Policies": {"PasswordPolicy": {"MinimumLength": 10}},
        "UserPoolTags": {"cognito-dr:restore-id": "r"},
    }
    pool = {"Id": "us-west-2_New", "LambdaConfig": {"PreSignUp": "arn:fn"}, "MfaConfiguration": "OPTIONAL"}
    update = reapply_request(create, pool)
    assert update == {
        "UserPoolId": "us-west-2_New",
        "SmsConfiguration": SMS,
        "Policies": {"PasswordPolicy": {"MinimumLength": 10}},
        "UserPoolTags": {"cognito-dr:restore-id": "r"},
        "LambdaConfig": {"PreSignUp": "arn:fn"},
        "MfaConfiguration": "OPTIONAL",
    }
