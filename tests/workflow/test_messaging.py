"""Region-bound messaging settings never stop a restore (docs/messaging.md).

An SMS role that trusts only the source pool, or an SES identity verified only in the source
Region, is refused by Cognito (modelled by tools/emulation/cognito) on every attempt: the pool is
restored without it, with every user, and the report names the exact fix. Once the operator fixed
it, starting again with the same restore id applies the setting.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import boto3

from tests.workflow.conftest import DR_REGION, SOURCE_REGION, make_backup
from tools.emulation import RestoreStack
from tools.sample_pool import (
    SMS_EXTERNAL_ID,
    SamplePoolSpec,
    add_sms_configuration,
    build_source_pool,
    export_backup,
    update_pool,
    write_backup,
)

SPEC = SamplePoolSpec(users=30, groups=3, with_domain=False)


def _report(stack: RestoreStack, result: Any) -> dict[str, Any]:
    bucket, _, key = result.output["report"].removeprefix("s3://").partition("/")
    return json.loads(stack.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())


def _usernames(stack: RestoreStack, pool_id: str) -> list[str]:
    pages = stack.client("cognito-idp").get_paginator("list_users").paginate(UserPoolId=pool_id)
    return sorted(u["Username"] for page in pages for u in page["Users"])


def _backup_with(stack: RestoreStack, source_cognito: Any, configure: Any) -> tuple[str, dict[str, Any]]:
    pool = build_source_pool(source_cognito, SPEC)
    configure(pool.pool_id)
    backup = export_backup(source_cognito, pool.pool_id)
    write_backup(stack.client("s3"), stack.outputs["BackupBucketName"], backup, datetime.now(UTC))
    return pool.pool_id, backup


def test_sms_role_trusting_only_the_source_pool_is_left_out_then_applied_after_the_fix(
    stack: RestoreStack, source_cognito: Any
) -> None:
    role_arn = ""

    def with_sms(pool_id: str) -> None:
        nonlocal role_arn
        role_arn = add_sms_configuration(source_cognito, pool_id)

    source_pool, backup = _backup_with(stack, source_cognito, with_sms)
    source = backup["user_pool_config"]
    assert source["SmsConfiguration"]["SnsCallerArn"] == role_arn and "phone_number" in source["AutoVerifiedAttributes"]
    request = {"user_pool_id": source_pool, "restore_id": "sms-trust"}

    first = stack.run(request)

    assert first.status == "SUCCEEDED", (first.error, first.cause)
    cognito = stack.client("cognito-idp")
    new_pool = first.output["new_user_pool_id"]
    pool = cognito.describe_user_pool(UserPoolId=new_pool)["UserPool"]
    assert "SmsConfiguration" not in pool
    # Degraded consistently: no phone verification and no SMS MFA without a usable SMS role.
    assert pool["AutoVerifiedAttributes"] == ["email"]
    assert "SmsMfaConfiguration" not in cognito.get_user_pool_mfa_config(UserPoolId=new_pool)
    report = _report(stack, first)
    assert report["counts"]["users"]["restored"] == report["counts"]["users"]["backup"] == len(backup["users"])
    [step] = [s for s in report["manual_steps"] if s.startswith("SmsConfiguration")]
    assert pool["Arn"] in step and SMS_EXTERNAL_ID in step and role_arn in step and "sms-trust" in step
    statement = json.loads(step[step.index("{") : step.rindex("}") + 1])
    assert statement["Condition"]["ArnLike"]["aws:SourceArn"] == pool["Arn"]

    # The operator adds the statement the report gives to the role's trust policy.
    iam = stack.client("iam")
    role_name = role_arn.rsplit("/", 1)[-1]
    trust = iam.get_role(RoleName=role_name)["Role"]["AssumeRolePolicyDocument"]
    trust = json.loads(trust) if isinstance(trust, str) else trust
    trust["Statement"].append(statement)
    iam.update_assume_role_policy(RoleName=role_name, PolicyDocument=json.dumps(trust))

    second = stack.run(request)

    assert second.status == "SUCCEEDED", (second.error, second.cause)
    assert second.output["new_user_pool_id"] == new_pool
    pool = cognito.describe_user_pool(UserPoolId=new_pool)["UserPool"]
    assert pool["SmsConfiguration"] == source["SmsConfiguration"]
    assert pool["AutoVerifiedAttributes"] == source["AutoVerifiedAttributes"]
    sms_mfa = cognito.get_user_pool_mfa_config(UserPoolId=new_pool)["SmsMfaConfiguration"]
    assert sms_mfa["SmsConfiguration"] == source["SmsConfiguration"]
    assert not [s for s in _report(stack, second)["manual_steps"] if s.startswith("SmsConfiguration")]
    assert len(_usernames(stack, new_pool)) == len(backup["users"])  # nothing created twice
    assert len(cognito.list_user_pools(MaxResults=60)["UserPools"]) == 1


def test_missing_sms_role_is_left_out_and_reported(stack: RestoreStack, source_cognito: Any) -> None:
    source = make_backup(stack, source_cognito, SPEC)
    config = source.backup["user_pool_config"]
    config["SmsConfiguration"] = {"SnsCallerArn": "arn:aws:iam::123456789012:role/deleted-sms", "ExternalId": "x"}
    stack.client("s3").put_object(
        Bucket=stack.outputs["BackupBucketName"], Key=source.key, Body=json.dumps(source.backup).encode()
    )

    request = {"user_pool_id": source.pool_id, "restore_id": "no-sms-role"}
    for attempt in ("first run", "re-run before the fix"):  # UpdateUserPool is refused the same way
        result = stack.run(request)

        assert result.status == "SUCCEEDED", (attempt, result.error, result.cause)
        [step] = [s for s in _report(stack, result)["manual_steps"] if s.startswith("SmsConfiguration")]
        assert "role/deleted-sms" in step and "create the role" in step, attempt
        pool = stack.client("cognito-idp").describe_user_pool(UserPoolId=result.output["new_user_pool_id"])
        assert "SmsConfiguration" not in pool["UserPool"], attempt


def test_ses_identity_missing_in_the_dr_region_falls_back_to_cognito_default_then_applies(
    stack: RestoreStack, source_cognito: Any
) -> None:
    identity = "no-reply@example.com"

    def with_ses(pool_id: str) -> None:
        boto3.client("ses", region_name=SOURCE_REGION).verify_email_identity(EmailAddress=identity)
        update_pool(
            source_cognito,
            pool_id,
            EmailConfiguration={
                "EmailSendingAccount": "DEVELOPER",
                "SourceArn": f"arn:aws:ses:{SOURCE_REGION}:123456789012:identity/{identity}",
                "From": f"Sample <{identity}>",
                "ReplyToEmailAddress": "support@example.com",
            },
        )

    source_pool, backup = _backup_with(stack, source_cognito, with_ses)
    template = backup["user_pool_config"]["VerificationMessageTemplate"]
    assert template.get("EmailMessage")  # a DEVELOPER-only text, to be dropped by the fallback
    request = {"user_pool_id": source_pool, "restore_id": "ses-identity", "arn_map": {SOURCE_REGION: DR_REGION}}

    first = stack.run(request)

    assert first.status == "SUCCEEDED", (first.error, first.cause)
    cognito = stack.client("cognito-idp")
    new_pool = first.output["new_user_pool_id"]
    pool = cognito.describe_user_pool(UserPoolId=new_pool)["UserPool"]
    assert pool["EmailConfiguration"] == {
        "EmailSendingAccount": "COGNITO_DEFAULT",
        "ReplyToEmailAddress": "support@example.com",
    }
    assert "EmailMessage" not in (pool.get("VerificationMessageTemplate") or {})
    report = _report(stack, first)
    assert report["counts"]["users"]["restored"] == len(backup["users"])
    [step] = [s for s in report["manual_steps"] if s.startswith("EmailConfiguration")]
    assert identity in step and DR_REGION in step and pool["Arn"] in step
    # Real Cognito's answer (InvalidParameterException, docs/messaging.md) is the reason reported.
    notes = json.dumps(report["categories"]["pool_configuration"]["notes"])
    assert "InvalidParameterException" in notes and "Email address is not verified" in notes, notes

    stack.client("ses").verify_email_identity(EmailAddress=identity)  # the fix, in the DR Region

    second = stack.run(request)

    assert second.status == "SUCCEEDED", (second.error, second.cause)
    pool = cognito.describe_user_pool(UserPoolId=new_pool)["UserPool"]
    assert pool["EmailConfiguration"]["EmailSendingAccount"] == "DEVELOPER"
    assert pool["EmailConfiguration"]["SourceArn"] == f"arn:aws:ses:{DR_REGION}:123456789012:identity/{identity}"
    assert pool["VerificationMessageTemplate"]["EmailMessage"] == template["EmailMessage"]
    assert not [s for s in _report(stack, second)["manual_steps"] if s.startswith("EmailConfiguration")]
    assert len(_usernames(stack, new_pool)) == len(backup["users"])
