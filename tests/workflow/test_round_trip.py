"""Round trip: a rich source pool -> the producer's backup -> the restore -> the new pool, category by category.

Only what AWS generates may differ (ids, subs, dates) plus the documented transformations (Region
of mapped ARNs, the restore's own tags, status changes Cognito forces). A failure prints a diff per
category.
"""

from __future__ import annotations

import copy
import difflib
import io
import json
import zipfile
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from cognito_restore.sign_up import SIGN_UP_CLIENT_NAME
from tests.workflow.conftest import DR_REGION, SOURCE_REGION, put_raw_backup
from tools.emulation import RestoreStack
from tools.sample_pool import (
    NATIVE_LINKED_USERS,
    OIDC_PROVIDER_NAME,
    TRIGGERS,
    SamplePoolSpec,
    add_federated_users,
    add_sms_mfa_options,
    backup_key,
    build_source_pool,
    export_backup,
    link_native_users,
    sms_trust_statement,
    trigger_arn,
)

GENERATED_POOL_FIELDS = {
    "Id",
    "Arn",
    "CreationDate",
    "LastModifiedDate",
    "EstimatedNumberOfUsers",
    "Status",
    "SchemaAttributes",
    "Domain",
    "CustomDomain",
}
GENERATED_CLIENT_FIELDS = {"ClientId", "UserPoolId", "CreationDate", "LastModifiedDate"}
STATUS_AFTER_RESTORE = {
    "CONFIRMED": "CONFIRMED",
    "RESET_REQUIRED": "CONFIRMED",
    "FORCE_CHANGE_PASSWORD": "FORCE_CHANGE_PASSWORD",
    "UNCONFIRMED": "UNCONFIRMED",  # through SignUp, nothing sent (cognito_restore/sign_up.py)
    "EXTERNAL_PROVIDER": "FORCE_CHANGE_PASSWORD",
}


def _all(client: Any, operation: str, key: str, **kwargs: Any) -> list[dict[str, Any]]:
    return [item for page in client.get_paginator(operation).paginate(**kwargs) for item in page[key]]


def _regionless(value: Any) -> Any:
    """ARNs compared without their Region: mapped ARNs keep account and name."""
    text = json.dumps(value, sort_keys=True, default=str)
    return json.loads(text.replace(f":{SOURCE_REGION}:", ":<region>:").replace(f":{DR_REGION}:", ":<region>:"))


def config_views(cognito: Any, pool_id: str) -> dict[str, Any]:
    """Every category of a pool except users and memberships, without AWS-generated values."""
    pool = cognito.describe_user_pool(UserPoolId=pool_id)["UserPool"]
    config = {k: v for k, v in pool.items() if k not in GENERATED_POOL_FIELDS}
    config["UserPoolTags"] = {
        k: v for k, v in (config.get("UserPoolTags") or {}).items() if not k.startswith("cognito-dr:")
    }
    clients = {}
    for summary in _all(cognito, "list_user_pool_clients", "UserPoolClients", UserPoolId=pool_id, MaxResults=60):
        described = cognito.describe_user_pool_client(UserPoolId=pool_id, ClientId=summary["ClientId"])[
            "UserPoolClient"
        ]
        clients[described["ClientName"]] = {k: v for k, v in described.items() if k not in GENERATED_CLIENT_FIELDS}
    providers = {}
    for summary in _all(cognito, "list_identity_providers", "Providers", UserPoolId=pool_id, MaxResults=60):
        described = cognito.describe_identity_provider(UserPoolId=pool_id, ProviderName=summary["ProviderName"])[
            "IdentityProvider"
        ]
        providers[described["ProviderName"]] = {
            k: v for k, v in described.items() if k not in ("UserPoolId", "CreationDate", "LastModifiedDate")
        }
    ui = cognito.get_ui_customization(UserPoolId=pool_id)["UICustomization"]
    risk = cognito.describe_risk_configuration(UserPoolId=pool_id)["RiskConfiguration"]
    region = pool["Arn"].split(":")[3]
    acl = (
        boto3.client("wafv2", region_name=region).get_web_acl_for_resource(ResourceArn=pool["Arn"]).get("WebACL") or {}
    )
    return {
        "config": _regionless(config),
        "schema": sorted(pool["SchemaAttributes"], key=lambda a: a["Name"]),
        "clients": clients,
        "groups": {
            g["GroupName"]: {k: g.get(k) for k in ("Description", "Precedence", "RoleArn")}
            for g in _all(cognito, "list_groups", "Groups", UserPoolId=pool_id)
        },
        "identity_providers": providers,
        "resource_servers": {
            s["Identifier"]: {"Name": s["Name"], "Scopes": s["Scopes"]}
            for s in _all(cognito, "list_resource_servers", "ResourceServers", UserPoolId=pool_id, MaxResults=50)
        },
        "domain": pool.get("Domain"),
        "branding": {"CSS": ui.get("CSS"), "ClientId": ui.get("ClientId")},
        "threat_protection": _regionless(
            {k: v for k, v in risk.items() if k not in ("UserPoolId", "ClientId", "LastModifiedDate")}
        ),
        "waf": {"Name": acl.get("Name")},
    }


def _attributes(items: list[dict[str, str]]) -> dict[str, str]:
    return {a["Name"]: a["Value"] for a in items if a["Name"] not in ("sub", "identities")}


def expected_users(backup: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """What each backed-up user must look like in the new pool, keyed as the new pool will key it."""
    email_mode = bool(backup["user_pool_config"].get("UsernameAttributes"))
    users, new_key_of = {}, {}
    for user in backup["users"]:
        attributes = _attributes(user["Attributes"])
        sub = next(a["Value"] for a in user["Attributes"] if a["Name"] == "sub")
        federated = user["UserStatus"] == "EXTERNAL_PROVIDER"
        key = attributes["email"] if email_mode else (f"federated-{sub}" if federated else user["Username"])
        new_key_of[user["Username"]] = key
        # Federated users and native users with linked identities: every link comes back.
        identities = json.loads(next((a["Value"] for a in user["Attributes"] if a["Name"] == "identities"), "[]"))
        users[key] = {
            "attributes": attributes,
            "status": STATUS_AFTER_RESTORE[user["UserStatus"]],
            "enabled": user["Enabled"],
            "sms_mfa": bool(user.get("MFAOptions")),
            "linked": sorted((i["providerName"], i["userId"]) for i in identities),
        }
    return users, new_key_of


def actual_users(cognito: Any, pool_id: str, email_mode: bool) -> tuple[dict[str, Any], dict[str, str]]:
    users, key_of_username = {}, {}
    for user in _all(cognito, "list_users", "Users", UserPoolId=pool_id):
        attributes = _attributes(user["Attributes"])
        key = attributes["email"] if email_mode else user["Username"]
        key_of_username[user["Username"]] = key
        identities = json.loads(next((a["Value"] for a in user["Attributes"] if a["Name"] == "identities"), "[]"))
        detail = cognito.admin_get_user(UserPoolId=pool_id, Username=user["Username"])
        users[key] = {
            "attributes": attributes,
            "status": user["UserStatus"],
            "enabled": user["Enabled"],
            "sms_mfa": "SMS_MFA" in (detail.get("UserMFASettingList") or []),
            "linked": sorted((i["providerName"], i["userId"]) for i in identities),
        }
    return users, key_of_username


def memberships(cognito: Any, pool_id: str, key_of_username: dict[str, str]) -> dict[str, list[str]]:
    return {
        g["GroupName"]: sorted(
            key_of_username[u["Username"]]
            for u in _all(cognito, "list_users_in_group", "Users", UserPoolId=pool_id, GroupName=g["GroupName"])
        )
        for g in _all(cognito, "list_groups", "Groups", UserPoolId=pool_id)
    }


def category_diff(expected: dict[str, Any], actual: dict[str, Any]) -> str:
    """A unified diff for every category that differs (empty when all match)."""
    out = []
    for category in expected:
        want = json.dumps(expected[category], indent=1, sort_keys=True, default=str).splitlines()
        got = json.dumps(actual.get(category), indent=1, sort_keys=True, default=str).splitlines()
        if want != got:
            out.append(f"=== {category} ===")
            out.extend(difflib.unified_diff(want, got, "source", "restored", lineterm="", n=2))
    return "\n".join(out)


def create_trigger_functions(stack: RestoreStack, region: str) -> None:
    """The sample pool's triggers as functions of this Region (the restore grants Cognito their invocation)."""
    role = stack.client("iam").create_role(
        RoleName="sample-triggers", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []})
    )["Role"]["Arn"]
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("index.py", "def handler(event, context):\n    return event\n")
    for trigger in TRIGGERS:
        stack.client("lambda").create_function(
            FunctionName=trigger_arn(region, trigger).rsplit(":", 1)[-1],
            Runtime="python3.13",
            Role=role,
            Handler="index.handler",
            Code={"ZipFile": archive.getvalue()},
        )


def _dr_dependencies(stack: RestoreStack, backup: dict[str, Any]) -> dict[str, str]:
    """The DR Region's copies of the triggers and the web ACL, the SMS role made DR-ready (its trust
    policy also names this Region's pools, see docs/messaging.md), and the arn_map pointing at them."""
    iam = stack.client("iam")
    sms_role = backup["user_pool_config"]["SmsConfiguration"]["SnsCallerArn"].rsplit("/", 1)[-1]
    trust = iam.get_role(RoleName=sms_role)["Role"]["AssumeRolePolicyDocument"]
    trust = json.loads(trust) if isinstance(trust, str) else trust
    account = backup["user_pool_config"]["Arn"].split(":")[4]
    trust["Statement"].append(sms_trust_statement(f"arn:aws:cognito-idp:{DR_REGION}:{account}:userpool/*"))
    iam.update_assume_role_policy(RoleName=sms_role, PolicyDocument=json.dumps(trust))
    create_trigger_functions(stack, DR_REGION)
    acl = stack.client("wafv2").create_web_acl(
        Name="sample-cognito-acl",
        Scope="REGIONAL",
        DefaultAction={"Allow": {}},
        VisibilityConfig={"SampledRequestsEnabled": False, "CloudWatchMetricsEnabled": False, "MetricName": "dr"},
    )["Summary"]
    return {SOURCE_REGION: DR_REGION, backup["waf_configuration"]["WebACLArn"]: acl["ARN"]}


@pytest.mark.parametrize("username_mode", ["username", "email"])
def test_round_trip_restores_every_category(stack: RestoreStack, username_mode: str) -> None:
    source_cognito = boto3.client("cognito-idp", region_name=SOURCE_REGION)
    pool = build_source_pool(source_cognito, SamplePoolSpec(users=60, groups=4, username_mode=username_mode, rich=True))
    backup = export_backup(source_cognito, pool.pool_id)
    federated = add_federated_users(backup, OIDC_PROVIDER_NAME, 3, group="editors")
    assert add_sms_mfa_options(backup) > 0
    # An UNCONFIRMED user whose e-mail an administrator verified, with a developer-only attribute:
    # what no client may write at SignUp comes after it (AdminUpdateUserAttributes).
    unconfirmed = next(u for u in backup["users"] if u["UserStatus"] == "UNCONFIRMED")
    unconfirmed["Attributes"] += [
        {"Name": "email_verified", "Value": "true"},
        {"Name": "dev:custom:legacy_id", "Value": "L-unconfirmed"},
    ]
    when = datetime.now(UTC)
    put_raw_backup(stack, backup_key(pool.pool_id, when), json.dumps(backup).encode())
    arn_map = _dr_dependencies(stack, backup)
    sent_before = stack.messages_sent()  # building the source pool: AdminResetUserPassword codes only

    result = stack.run({"user_pool_id": pool.pool_id, "arn_map": arn_map})

    assert result.status == "SUCCEEDED", (result.error, result.cause)
    new_pool = result.output["new_user_pool_id"]
    # No user got an e-mail or SMS from the restore: strict Cognito counts every call that would send one.
    assert stack.messages_sent(new_pool) == 0 and stack.messages_sent() == sent_before
    cognito = stack.client("cognito-idp")
    # The sign-up window is closed (real settings back, the temporary client gone): the config and
    # clients categories below compare them in full; these are the ones the window changed.
    source = source_cognito.describe_user_pool(UserPoolId=pool.pool_id)["UserPool"]
    restored = cognito.describe_user_pool(UserPoolId=new_pool)["UserPool"]
    assert restored["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    for key in ("AutoVerifiedAttributes", "UserAttributeUpdateSettings"):
        assert restored[key] == source[key], key
    expected = config_views(source_cognito, pool.pool_id)
    actual = config_views(cognito, new_pool)
    want_users, new_key_of = expected_users(backup)
    got_users, key_of_username = actual_users(cognito, new_pool, username_mode == "email")
    expected["users"], actual["users"] = want_users, got_users
    expected["memberships"] = {
        g: sorted(new_key_of[u] for u in members) for g, members in backup["group_memberships"].items()
    }
    actual["memberships"] = memberships(cognito, new_pool, key_of_username)
    diff = category_diff(expected, actual)
    assert not diff, "the restored pool differs from the source:\n" + diff
    unconfirmed = [k for k, u in want_users.items() if u["status"] == "UNCONFIRMED"]
    assert unconfirmed and all(got_users[k]["status"] == "UNCONFIRMED" for k in unconfirmed)
    assert len(federated) == 3
    native_linked = [k for k, u in want_users.items() if u["linked"] and u["status"] != "FORCE_CHANGE_PASSWORD"]
    assert len(native_linked) == NATIVE_LINKED_USERS and all(got_users[k]["linked"] for k in native_linked)

    # Every backed-up item is accounted for, and what can never come back is named.
    bucket, _, key = result.output["report"].removeprefix("s3://").partition("/")
    report = json.loads(stack.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())
    for category, counts in report["counts"].items():
        assert counts["restored"] + counts["skipped"] + counts["failed"] == counts["backup"], category
        assert counts["failed"] == 0, (category, report["categories"][category]["failed_items"])
        assert counts["restored"] == counts["backup"], (category, counts)  # every category at 100 %
    assert report["counts"]["lambda_triggers"]["restored"] == len(TRIGGERS)
    named = " ".join(entry["item"] for entry in report["not_restorable"])
    for item in ("passwords", "TOTP", "sub"):
        assert item in named


def test_category_diff_names_the_category_and_the_difference() -> None:
    expected = {"groups": {"admins": {"Precedence": 1}}, "domain": "pool-7"}
    actual = copy.deepcopy(expected)
    actual["groups"]["admins"]["Precedence"] = 2

    diff = category_diff(expected, actual)

    assert diff.startswith("=== groups ===")
    assert '-  "Precedence": 1' in diff and '+  "Precedence": 2' in diff
    assert "domain" not in diff


def test_natively_linked_users_keep_every_link_and_their_groups_across_reruns(stack: RestoreStack) -> None:
    source_cognito = boto3.client("cognito-idp", region_name=SOURCE_REGION)
    pool = build_source_pool(source_cognito, SamplePoolSpec(users=30, groups=3, with_domain=False))
    linked = link_native_users(source_cognito, pool.pool_id, OIDC_PROVIDER_NAME, 3)
    twice = next(iter(linked))  # one user with two identities of the provider
    source_cognito.admin_link_provider_for_user(
        UserPoolId=pool.pool_id,
        DestinationUser={"ProviderName": "Cognito", "ProviderAttributeValue": twice},
        SourceUser={
            "ProviderName": OIDC_PROVIDER_NAME,
            "ProviderAttributeName": "Cognito_Subject",
            "ProviderAttributeValue": "corp-second",
        },
    )
    backup = export_backup(source_cognito, pool.pool_id)
    federated = add_federated_users(backup, OIDC_PROVIDER_NAME, 2, group="editors")
    put_raw_backup(stack, backup_key(pool.pool_id, datetime.now(UTC)), json.dumps(backup).encode())
    want_users, new_key_of = expected_users(backup)
    assert sum(1 for u in want_users.values() if u["linked"]) == len(linked) + len(federated)
    assert len(want_users[twice]["linked"]) == 2
    want_memberships = {g: sorted(new_key_of[u] for u in members) for g, members in backup["group_memberships"].items()}
    request = {"user_pool_id": pool.pool_id, "restore_id": "linked-identities"}

    for run in ("first run", "re-run: the links exist"):
        result = stack.run(request)

        assert result.status == "SUCCEEDED", (run, result.error, result.cause)
        cognito = stack.client("cognito-idp")
        new_pool = result.output["new_user_pool_id"]
        got_users, key_of_username = actual_users(cognito, new_pool, email_mode=False)
        diff = category_diff(
            {"users": want_users, "memberships": want_memberships},
            {"users": got_users, "memberships": memberships(cognito, new_pool, key_of_username)},
        )
        assert not diff, f"{run}:\n{diff}"
        # Each run signs its UNCONFIRMED users up (found again on the re-run: UsernameExistsException),
        # messages nobody, and leaves no temporary client behind.
        assert any(u["status"] == "UNCONFIRMED" for u in got_users.values()), run
        assert stack.messages_sent(new_pool) == 0, run
        names = {
            c["ClientName"] for c in _all(cognito, "list_user_pool_clients", "UserPoolClients", UserPoolId=new_pool)
        }
        assert SIGN_UP_CLIENT_NAME not in names and len(names) == len(backup["app_clients"]), run
        for username in linked:  # native users keep their username and status
            assert got_users[username]["status"] == "CONFIRMED", run
        bucket, _, key = result.output["report"].removeprefix("s3://").partition("/")
        report = json.loads(stack.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())
        assert not [n for n in report["categories"]["users"]["notes"] if "not linked" in n["note"]], run
        assert not [s for s in report["manual_steps"] if "identity links" in s], run
