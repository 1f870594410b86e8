"""A v2 backup (manifest, pool.json, gzip JSON-lines chunks) restores every v2 section: all groups (more
than one ListGroups page), every MFA factor (e-mail MFA through the mapped SES identity, passkeys on the
moved prefix domain), managed login branding with assets larger than one request, terms, log delivery.
The real ASL, the real handlers, strict Cognito and IAM enforcement (tools/emulation)."""

from __future__ import annotations

import json
from typing import Any
from unittest import mock

import boto3

from tests.workflow.conftest import DR_REGION, SOURCE_REGION
from tests.workflow.test_round_trip import _dr_dependencies
from tools.emulation import RestoreStack
from tools.sample_pool import (
    CLIENT_MOBILE,
    CLIENT_WEB,
    V2_ASSET_BYTES,
    V2_BRANDING_SETTINGS,
    V2_CLIENT_CSS,
    V2_EMAIL_MFA,
    V2_EMAIL_MFA_USERS,
    V2_LOG_GROUP,
    V2_TERMS,
    SamplePoolSpec,
    add_v2_settings,
    build_source_pool,
    export_backup_v2,
    group_names,
    log_group_arn,
)

GROUPS = 65  # more than one ListGroups page (60)


def _report(stack: RestoreStack, location: str) -> dict[str, Any]:
    bucket, _, key = location.removeprefix("s3://").partition("/")
    report: dict[str, Any] = json.loads(stack.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())
    return report


def _clients_by_name(cognito: Any, pool_id: str) -> dict[str, str]:
    pages = cognito.get_paginator("list_user_pool_clients").paginate(UserPoolId=pool_id, MaxResults=60)
    return {c["ClientName"]: c["ClientId"] for page in pages for c in page["UserPoolClients"]}


def _v2_backup(stack: RestoreStack) -> tuple[str, str, dict[str, Any]]:
    source = boto3.client("cognito-idp", region_name=SOURCE_REGION)
    pool = build_source_pool(source, SamplePoolSpec(users=30, groups=GROUPS, rich=True))
    add_v2_settings(source, pool)
    bucket = stack.outputs["BackupBucketName"]
    key = export_backup_v2(source, pool.pool_id, stack.client("s3"), bucket)
    folder = key.rsplit("/", 1)[0]
    parts = json.loads(stack.client("s3").get_object(Bucket=bucket, Key=f"{folder}/pool.json")["Body"].read())
    return pool.pool_id, key, parts


def test_a_v2_backup_restores_every_group_mfa_factor_branding_terms_and_log_delivery(stack: RestoreStack) -> None:
    pool_id, key, parts = _v2_backup(stack)
    assert len(parts["groups"]) == GROUPS
    arn_map = _dr_dependencies(stack, parts)
    # This Region's copies of the SES identity (e-mail MFA) and the log group, named as in the source
    stack.client("ses").verify_domain_identity(Domain="example.com")
    stack.client("logs").create_log_group(logGroupName=V2_LOG_GROUP)

    result = stack.run({"user_pool_id": pool_id, "backup_key": key, "arn_map": arn_map})

    assert result.status == "SUCCEEDED", (result.error, result.cause)
    new_pool = result.output["new_user_pool_id"]
    cognito = stack.client("cognito-idp")
    groups = {
        g["GroupName"]
        for page in cognito.get_paginator("list_groups").paginate(UserPoolId=new_pool)
        for g in page["Groups"]
    }
    assert groups == set(group_names(GROUPS))

    domain = cognito.describe_user_pool(UserPoolId=new_pool)["UserPool"]["Domain"]
    assert cognito.describe_user_pool_domain(Domain=domain)["DomainDescription"]["ManagedLoginVersion"] == 2
    mfa = cognito.get_user_pool_mfa_config(UserPoolId=new_pool)
    assert mfa["MfaConfiguration"] == "OPTIONAL"
    assert mfa["EmailMfaConfiguration"] == V2_EMAIL_MFA
    assert mfa["SoftwareTokenMfaConfiguration"] == {"Enabled": True}
    assert (
        mfa["SmsMfaConfiguration"]["SmsAuthenticationMessage"]
        == parts["mfa_config"]["SmsMfaConfiguration"]["SmsAuthenticationMessage"]
    )
    assert mfa["WebAuthnConfiguration"]["RelyingPartyId"] == f"{domain}.auth.{DR_REGION}.amazoncognito.com"
    assert mfa["WebAuthnConfiguration"]["UserVerification"] == "required"

    clients = _clients_by_name(cognito, new_pool)
    web = cognito.describe_managed_login_branding_by_client(UserPoolId=new_pool, ClientId=clients[CLIENT_WEB])
    style = web["ManagedLoginBranding"]
    assert style["Settings"] == V2_BRANDING_SETTINGS
    assets = {a["Category"]: a["Bytes"] for a in style["Assets"]}
    assert assets == {
        "PAGE_BACKGROUND": b"\x01" * V2_ASSET_BYTES,
        "FORM_BACKGROUND": b"\x02" * V2_ASSET_BYTES,
        "FORM_LOGO": b"\x03" * 2_000,
    }
    mobile = cognito.describe_managed_login_branding_by_client(UserPoolId=new_pool, ClientId=clients[CLIENT_MOBILE])
    assert mobile["ManagedLoginBranding"]["UseCognitoProvidedValues"] is True
    terms = [
        cognito.describe_terms(UserPoolId=new_pool, TermsId=t["TermsId"])["Terms"]
        for t in cognito.list_terms(UserPoolId=new_pool)["Terms"]
    ]
    assert {t["TermsName"]: (t["ClientId"], t["Links"]["cognito:default"]) for t in terms} == {
        name: (clients[CLIENT_WEB], url) for name, url in V2_TERMS.items()
    }
    logs = cognito.get_log_delivery_configuration(UserPoolId=new_pool)["LogDeliveryConfiguration"]
    assert [c["CloudWatchLogsConfiguration"]["LogGroupArn"] for c in logs["LogConfigurations"]] == [
        log_group_arn(DR_REGION)
    ]

    ui = cognito.get_ui_customization(UserPoolId=new_pool, ClientId=clients[CLIENT_WEB])["UICustomization"]
    assert ui["CSS"] == V2_CLIENT_CSS and ui["ClientId"] == clients[CLIENT_WEB]
    risk = cognito.describe_risk_configuration(UserPoolId=new_pool, ClientId=clients[CLIENT_WEB])
    assert risk["RiskConfiguration"]["CompromisedCredentialsRiskConfiguration"]["Actions"] == {"EventAction": "BLOCK"}
    email_mfa_users = [
        user["Username"]
        for page in cognito.get_paginator("list_users").paginate(UserPoolId=new_pool)
        for user in page["Users"]
        if "EMAIL_OTP"
        in cognito.admin_get_user(UserPoolId=new_pool, Username=user["Username"]).get("UserMFASettingList", [])
    ]
    assert len(email_mfa_users) == V2_EMAIL_MFA_USERS
    preferred = {
        cognito.admin_get_user(UserPoolId=new_pool, Username=name).get("PreferredMfaSetting")
        for name in email_mfa_users
    }
    assert preferred == {"EMAIL_OTP"}

    report = _report(stack, result.output["report"])
    for category, counts in report["counts"].items():
        assert counts["restored"] + counts["skipped"] + counts["failed"] == counts["backup"], category
        assert counts["failed"] == 0, (category, report["categories"][category]["failed_items"])
    assert report["counts"]["groups"] == {"backup": GROUPS, "restored": GROUPS, "skipped": 0, "failed": 0}
    assert report["counts"]["mfa_config"]["restored"] == 4  # SMS, TOTP, EMAIL, PASSKEYS
    assert report["counts"]["managed_login_branding"]["restored"] == 2
    assert report["counts"]["terms"]["restored"] == 2
    assert report["counts"]["log_delivery"]["restored"] == 1
    assert report["counts"]["ui_customization"]["restored"] == 2  # the pool's and the web client's
    assert report["counts"]["threat_protection"]["restored"] == 2
    assert report["counts"]["mfa_preferences"]["restored"] >= V2_EMAIL_MFA_USERS
    for category in ("mfa_config", "managed_login_branding", "terms", "log_delivery", "groups"):
        assert report["verification"][category]["ok"], (category, report["verification"][category])
    notes = " ".join(n["note"] for n in report["categories"]["managed_login_branding"]["notes"])
    assert "2 requests" in notes  # the web client's style did not fit one request

    # The same restore again (a re-run) creates nothing twice: one style per client, two terms.
    again = stack.run({"user_pool_id": pool_id, "backup_key": key, "arn_map": arn_map})
    assert again.status == "SUCCEEDED", (again.error, again.cause)
    assert again.output["new_user_pool_id"] == new_pool
    assert len(cognito.list_terms(UserPoolId=new_pool)["Terms"]) == 2


def test_what_this_region_lacks_is_reported_by_name_and_the_rest_restored(stack: RestoreStack) -> None:
    """No SES identity and no log group here: e-mail MFA and log delivery fail loudly (counted, with
    the manual step), every other factor, style and terms document is restored; a dry run first
    plans the v2 backup without creating anything."""
    pool_id, key, parts = _v2_backup(stack)
    arn_map = _dr_dependencies(stack, parts)

    plan = stack.run({"user_pool_id": pool_id, "backup_key": key, "arn_map": arn_map, "dry_run": True})
    assert plan.status == "SUCCEEDED", (plan.error, plan.cause)
    assert stack.client("cognito-idp").list_user_pools(MaxResults=60)["UserPools"] == []

    result = stack.run({"user_pool_id": pool_id, "backup_key": key, "arn_map": arn_map})

    assert result.status == "SUCCEEDED", (result.error, result.cause)
    new_pool = result.output["new_user_pool_id"]
    mfa = stack.client("cognito-idp").get_user_pool_mfa_config(UserPoolId=new_pool)
    assert "EmailMfaConfiguration" not in mfa and mfa["MfaConfiguration"] == "OPTIONAL"
    report = _report(stack, result.output["report"])
    counts = report["counts"]
    assert counts["mfa_config"] == {"backup": 4, "restored": 3, "skipped": 0, "failed": 1}
    [email] = report["categories"]["mfa_config"]["failed_items"]
    assert email["item"] == "EMAIL" and "Amazon SES" in email["reason"]
    assert counts["log_delivery"] == {"backup": 1, "restored": 0, "skipped": 0, "failed": 1}
    assert counts["managed_login_branding"]["restored"] == 2 and counts["terms"]["restored"] == 2
    steps = " ".join(report["manual_steps"])
    assert "MFA factor EMAIL" in steps
    assert report["verification"]["mfa_config"]["ok"]


def test_a_refused_passkey_relying_party_fails_passkeys_alone(stack: RestoreStack) -> None:
    """If Cognito refuses the relying party (here: the old Region's host, as a wrong mapping would give),
    the other factors still go in and only passkeys are reported failed, with Cognito's reason."""
    import cognito_restore.v2_settings as v2_settings

    pool_id, key, parts = _v2_backup(stack)
    arn_map = _dr_dependencies(stack, parts)
    stack.client("ses").verify_domain_identity(Domain="example.com")
    stack.client("logs").create_log_group(logGroupName=V2_LOG_GROUP)
    old_host = parts["mfa_config"]["WebAuthnConfiguration"]["RelyingPartyId"]
    with mock.patch.object(v2_settings, "relying_party_id", lambda *args: (old_host, None)):
        result = stack.run({"user_pool_id": pool_id, "arn_map": arn_map})  # no backup_key: found by discovery

    assert result.status == "SUCCEEDED", (result.error, result.cause)
    report = _report(stack, result.output["report"])
    assert report["backup"]["key"] == key
    mfa = stack.client("cognito-idp").get_user_pool_mfa_config(UserPoolId=result.output["new_user_pool_id"])
    assert mfa["EmailMfaConfiguration"] == V2_EMAIL_MFA and "RelyingPartyId" not in mfa["WebAuthnConfiguration"]
    assert report["counts"]["mfa_config"] == {"backup": 4, "restored": 3, "skipped": 0, "failed": 1}
    [passkeys] = report["categories"]["mfa_config"]["failed_items"]
    assert passkeys["item"] == "PASSKEYS" and "RelyingPartyId" in passkeys["reason"]


def test_a_crash_after_the_branding_is_created_redoes_nothing_twice(stack: RestoreStack) -> None:
    """The phase crashes at its first CreateTerms (the styles exist by then); Step Functions retries the
    task, which finds each style and updates it: one style per client, every asset once."""
    from tools.emulation import LambdaCrash
    from tools.emulation.cognito.common import Response

    pool_id, key, parts = _v2_backup(stack)
    arn_map = _dr_dependencies(stack, parts)
    stack.client("ses").verify_domain_identity(Domain="example.com")
    stack.client("logs").create_log_group(logGroupName=V2_LOG_GROUP)
    original = Response.create_terms
    crashed: list[bool] = []

    def crash_once(self: Any) -> Any:
        if not crashed:
            crashed.append(True)
            raise LambdaCrash()
        return original(self)

    with mock.patch.object(Response, "create_terms", crash_once):
        result = stack.run({"user_pool_id": pool_id, "backup_key": key, "arn_map": arn_map})

    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert crashed == [True]
    new_pool = result.output["new_user_pool_id"]
    cognito = stack.client("cognito-idp")
    clients = _clients_by_name(cognito, new_pool)
    style = cognito.describe_managed_login_branding_by_client(UserPoolId=new_pool, ClientId=clients[CLIENT_WEB])
    assert sorted(a["Category"] for a in style["ManagedLoginBranding"]["Assets"]) == [
        "FORM_BACKGROUND",
        "FORM_LOGO",
        "PAGE_BACKGROUND",
    ]
    assert len(cognito.list_terms(UserPoolId=new_pool)["Terms"]) == 2
    report = _report(stack, result.output["report"])
    assert report["counts"]["managed_login_branding"] == {"backup": 2, "restored": 2, "skipped": 0, "failed": 0}
    assert report["counts"]["terms"] == {"backup": 2, "restored": 2, "skipped": 0, "failed": 0}


def test_a_sync_of_the_same_v2_backup_writes_no_mfa_branding_terms_or_log_delivery(stack: RestoreStack) -> None:
    """Sync mode reads the target's MFA configuration, branding, terms and log delivery and writes only a
    difference: synced into the pool it was just restored into, the v2 settings phase writes none of them
    (the web client's style, assets over two requests, included)."""
    pool_id, key, parts = _v2_backup(stack)
    arn_map = _dr_dependencies(stack, parts)
    stack.client("ses").verify_domain_identity(Domain="example.com")
    stack.client("logs").create_log_group(logGroupName=V2_LOG_GROUP)
    restored = stack.run({"user_pool_id": pool_id, "backup_key": key, "arn_map": arn_map})
    assert restored.status == "SUCCEEDED", (restored.error, restored.cause)
    new_pool = restored.output["new_user_pool_id"]

    sent: list[str] = []
    original = boto3.client("cognito-idp").__class__._make_api_call

    def record(client: Any, operation: str, params: dict[str, Any]) -> Any:
        sent.append(operation)
        return original(client, operation, params)

    with mock.patch("botocore.client.BaseClient._make_api_call", record):
        synced = stack.run(
            {
                "user_pool_id": pool_id,
                "backup_key": key,
                "arn_map": arn_map,
                "mode": "sync",
                "target_user_pool_id": new_pool,
                "restore_id": "sync-same-v2",
            }
        )
    assert synced.status == "SUCCEEDED", (synced.error, synced.cause)
    for write in (
        "SetUserPoolMfaConfig",
        "CreateManagedLoginBranding",
        "UpdateManagedLoginBranding",
        "UpdateTerms",
        "CreateTerms",
        "SetLogDeliveryConfiguration",
    ):
        assert write not in sent, write
    assert {"GetUserPoolMfaConfig", "GetLogDeliveryConfiguration", "DescribeTerms"} <= set(sent)
    report = _report(stack, synced.output["report"])
    for category in ("mfa_config", "managed_login_branding", "terms", "log_delivery"):
        assert report["verification"][category]["ok"], (category, report["verification"][category])
