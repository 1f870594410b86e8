"""The backup producer (format v2) in the emulation: statemachine/backup.asl.json run by moto's engine,
the real handlers, IAM enforced against template.yaml, strict Cognito.

The stack is deployed in the primary Region with BackupPoolIds set (the producer is on); each test
starts the backup state machine by hand for a pool built in that Region, as the schedule's target does.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any
from unittest import mock

import boto3
import pytest

from tests.workflow.conftest import UNPACED
from tools.emulation import LambdaContext, LambdaCrash, RestoreStack
from tools.sample_pool import SamplePoolSpec, build_source_pool, update_pool

REGION = "us-east-1"
ACCOUNT = "123456789012"
SHARDS = "0123456789abcdef"


@pytest.fixture
def stack() -> Iterator[RestoreStack]:
    parameters = {"Environment": "test", "BackupPoolIds": "us-east-1_Placeholder", "QuotaUserList": "100000"}
    with RestoreStack(region=REGION, parameters=parameters) as deployed:
        yield deployed


def _bucket(stack: RestoreStack) -> str:
    return stack.outputs["BackupBucketName"]


def _get(stack: RestoreStack, key: str) -> bytes:
    body: bytes = stack.client("s3").get_object(Bucket=_bucket(stack), Key=key)["Body"].read()
    return body


def _backup(stack: RestoreStack, pool_id: str, **input_: Any) -> Any:
    result = stack.run({"user_pool_id": pool_id, **input_}, state_machine="BackupStateMachine")
    return result


def _all(call: Any, items: str, token: str, **kwargs: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    while True:
        page = call(**kwargs)
        found += page.get(items, [])
        if not page.get(token):
            return found
        kwargs[token] = page[token]


def _v2_settings(cognito: Any, pool_id: str, client_ids: list[str]) -> None:
    """What Cognito added since 2024: e-mail MFA and passkeys, managed login branding, terms, log delivery."""
    ses = boto3.client("ses", region_name=REGION)
    ses.verify_email_identity(EmailAddress="no-reply@example.com")
    # Every other setting kept (UpdateUserPool resets what it omits: the SMS configuration among them).
    update_pool(
        cognito,
        pool_id,
        EmailConfiguration={
            "EmailSendingAccount": "DEVELOPER",
            "SourceArn": f"arn:aws:ses:{REGION}:{ACCOUNT}:identity/no-reply@example.com",
        },
    )
    cognito.set_user_pool_mfa_config(
        UserPoolId=pool_id,
        MfaConfiguration="OPTIONAL",
        SoftwareTokenMfaConfiguration={"Enabled": True},
        EmailMfaConfiguration={"Message": "Your code is {####}", "Subject": "Sign-in code"},
        WebAuthnConfiguration={"RelyingPartyId": "login.example.com", "UserVerification": "required"},
    )
    cognito.create_managed_login_branding(
        UserPoolId=pool_id,
        ClientId=client_ids[0],
        Settings={"categories": {"global": {"colorSchemeMode": "DARK"}}},
        Assets=[{"Category": "PAGE_BACKGROUND", "ColorMode": "DARK", "Extension": "PNG", "Bytes": b"\x89PNG-bytes"}],
    )
    for name in ("terms-of-use", "privacy-policy"):
        cognito.create_terms(
            UserPoolId=pool_id,
            ClientId=client_ids[0],
            TermsName=name,
            TermsSource="LINK",
            Enforcement="NONE",
            Links={"cognito:default": f"https://example.com/{name}"},
        )
    logs = boto3.client("logs", region_name=REGION)
    logs.create_log_group(logGroupName="/aws/vendedlogs/cognito-notifications")
    group = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/vendedlogs/cognito-notifications"
    cognito.set_log_delivery_configuration(
        UserPoolId=pool_id,
        LogConfigurations=[
            {
                "EventSource": "userNotification",
                "LogLevel": "ERROR",
                "CloudWatchLogsConfiguration": {"LogGroupArn": group},
            }
        ],
    )


def test_a_rich_pool_backs_up_every_section_all_pages_and_its_manifest_verifies(stack: RestoreStack) -> None:
    from cognito_restore.discovery import find_newest_backup
    from cognito_restore.producer import read_jsonl_gz, verify_manifest

    cognito = stack.client("cognito-idp")
    pool = build_source_pool(cognito, SamplePoolSpec(users=90, groups=65, rich=True))
    clients = sorted(pool.client_ids.values())
    _v2_settings(cognito, pool.pool_id, clients)

    result = _backup(stack, pool.pool_id)
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert stack.alerts() == []  # alerts only on failure

    ref = find_newest_backup(stack.client("s3"), _bucket(stack), pool.pool_id)
    assert ref is not None and ref.format_version == 2
    manifest = verify_manifest(stack.client("s3"), _bucket(stack), ref.key)  # every sha256, size and count
    assert (manifest["format"], manifest["version"], manifest["user_pool_id"]) == ("cognito-dr-backup", 2, pool.pool_id)
    assert manifest["region"] == REGION and manifest["user_mfa_settings"] is False
    assert "notes" not in manifest  # no section failed

    document = json.loads(_get(stack, ref.folder + "pool.json"))
    groups = _all(cognito.list_groups, "Groups", "NextToken", UserPoolId=pool.pool_id, Limit=60)
    assert len(groups) == 65  # two pages
    assert sorted(g["GroupName"] for g in document["groups"]) == sorted(g["GroupName"] for g in groups)
    assert document["user_pool_domain"]["Domain"] == pool.domain  # described by its name, not the pool id
    assert document["custom_domain"] is None
    assert sorted(c["ClientId"] for c in document["app_clients"]) == clients
    assert all("ClientSecret" in c for c in document["app_clients"] if c["ClientName"] == "backend-service")
    assert document["waf_configuration"]["WebACLName"] == "sample-cognito-acl"
    assert document["risk_configuration"]["CompromisedCredentialsRiskConfiguration"]
    assert document["ui_customization"]["CSS"]
    mfa = document["mfa_config"]
    assert mfa["MfaConfiguration"] == "OPTIONAL" and "ResponseMetadata" not in mfa
    assert mfa["EmailMfaConfiguration"]["Message"] == "Your code is {####}"
    assert mfa["WebAuthnConfiguration"]["RelyingPartyId"] == "login.example.com"
    (branding,) = document["managed_login_branding"]
    assert branding["ClientId"] == clients[0]
    assert base64.b64decode(branding["Assets"][0]["Bytes"]) == b"\x89PNG-bytes"
    assert sorted(t["TermsName"] for t in document["terms"]) == ["privacy-policy", "terms-of-use"]
    assert all(t["Links"] and t["ClientId"] == clients[0] for t in document["terms"])
    log_configs = document["log_delivery_configuration"]["LogConfigurations"]
    assert [c["EventSource"] for c in log_configs] == ["userNotification"]
    counts = manifest["counts"]
    assert counts == {
        "users": 90,
        "groups": 65,
        "group_memberships": manifest["group_memberships"]["count"],
        "app_clients": 3,
        "identity_providers": 1,
        "resource_servers": 1,
        "managed_login_branding": 1,
        "terms": 2,
    }

    # Users: every user exactly once, in the file of its sub's shard, as ListUsers gives it.
    listed = {u["Username"]: u for u in _all(cognito.list_users, "Users", "PaginationToken", UserPoolId=pool.pool_id)}
    backed_up: dict[str, dict[str, Any]] = {}
    for entry in manifest["users"]["files"]:
        shard = entry["key"].removeprefix("users/").split("-")[0]
        for user in read_jsonl_gz(_get(stack, ref.folder + entry["key"])):
            sub = next(a["Value"] for a in user["Attributes"] if a["Name"] == "sub")
            assert sub.startswith(shard)
            assert user["Username"] not in backed_up
            backed_up[user["Username"]] = user
    assert set(backed_up) == set(listed)
    some = next(iter(listed))
    assert backed_up[some]["UserStatus"] == listed[some]["UserStatus"]
    assert backed_up[some]["UserCreateDate"] == listed[some]["UserCreateDate"].isoformat()

    # Memberships: every page of every group.
    expected = {
        (g["GroupName"], u["Username"])
        for g in groups
        for u in _all(
            cognito.list_users_in_group, "Users", "NextToken", UserPoolId=pool.pool_id, GroupName=g["GroupName"]
        )
    }
    got = [
        (line["group"], line["username"])
        for entry in manifest["group_memberships"]["files"]
        for line in read_jsonl_gz(_get(stack, ref.folder + entry["key"]))
    ]
    assert len(got) == len(set(got)) and set(got) == expected

    # The executions' calls were checked against the backup state machine's own role.
    assert any(d.principal == "BackupStateMachine" and d.outcome == "allow" for d in stack.iam.decisions)
    assert stack.iam.denied() == []
    assert not any(d.principal == "RestoreStateMachine" for d in stack.iam.decisions)  # not the other machine


def test_a_section_whose_api_fails_is_null_with_a_note_never_silently(stack: RestoreStack) -> None:
    cognito = stack.client("cognito-idp")
    pool = build_source_pool(cognito, SamplePoolSpec(users=5, groups=3))
    from moto.cognitoidp.responses import CognitoIdpResponse

    from tools.emulation.cognito.common import error

    def refuse_terms(self: Any) -> Any:
        raise error("AccessDeniedException", "User is not authorized to perform: cognito-idp:ListTerms")

    with mock.patch.object(CognitoIdpResponse, "list_terms", refuse_terms):
        result = _backup(stack, pool.pool_id)
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    manifest_key = result.output["manifest"]["manifest_key"]
    manifest = json.loads(_get(stack, manifest_key))
    assert manifest["notes"] == ["terms: not backed up (AccessDeniedException)"]
    assert manifest["counts"]["terms"] is None
    document = json.loads(_get(stack, manifest_key.replace("manifest.json", "pool.json")))
    assert document["terms"] is None


def _one_page_per_invocation(stack: RestoreStack, function: str) -> Any:
    """Each invocation of the function has time for one page only (its time check says low)."""
    from cognito_restore.producer import TIME_RESERVE_MS

    name = stack.function_name(function)
    original = LambdaContext.get_remaining_time_in_millis

    def remaining(context: LambdaContext) -> int:
        return TIME_RESERVE_MS - 1 if context.function_name == name else original(context)

    return mock.patch.object(LambdaContext, "get_remaining_time_in_millis", remaining)


def test_shards_continue_with_their_pagination_token_and_a_crashed_shard_rewrites_the_same_files(
    stack: RestoreStack,
) -> None:
    from cognito_restore import producer
    from cognito_restore.producer import read_jsonl_gz, verify_manifest

    cognito = stack.client("cognito-idp")
    pool = build_source_pool(cognito, SamplePoolSpec(users=150, groups=4))
    crashed: list[str] = []

    def crash_once_after_a_file(function: str, event: dict[str, Any]) -> None:
        # The first continuation of any shard crashes once (after earlier invocations wrote files): Step
        # Functions retries it from the same progress. Not a fixed shard: subs are random, so a given shard
        # may hold one page only and never continue (150 users over 16 shards always give some shard more).
        progress = event.get("progress") or {}
        if function == "BackupUsersFunction" and progress.get("token") and not crashed:
            crashed.append(progress["token"])
            raise LambdaCrash()

    stack.on_invoke(crash_once_after_a_file)
    with (
        _one_page_per_invocation(stack, "BackupUsersFunction"),
        _one_page_per_invocation(stack, "BackupMembershipsFunction"),
        mock.patch.object(producer, "PAGE", 4),
        mock.patch.object(producer, "USERS_PER_FILE", 3),
    ):
        result = _backup(stack, pool.pool_id)
    stack.on_invoke(None)
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert crashed, "the crash was injected"
    calls = [name for name, _ in stack.invocations if name == "BackupUsersFunction"]
    assert len(calls) >= 150 // 4 + 1  # one per page of 4 (at least 38 pages over the shards) + the crashed one
    membership_calls = [name for name, _ in stack.invocations if name == "BackupMembershipsFunction"]
    assert len(membership_calls) > 4  # one page per invocation over 4 groups

    key = result.output["manifest"]["manifest_key"]
    manifest = verify_manifest(stack.client("s3"), _bucket(stack), key)
    folder = key.removesuffix("manifest.json")
    names = [
        user["Username"]
        for entry in manifest["users"]["files"]
        for user in read_jsonl_gz(_get(stack, folder + entry["key"]))
    ]
    assert len(names) == len(set(names)) == 150  # each user once, none lost, across continuations and the crash
    for shard in SHARDS:
        numbers = [e["key"] for e in manifest["users"]["files"] if e["key"].startswith(f"users/{shard}-")]
        assert numbers == [f"users/{shard}-{n:05d}.jsonl.gz" for n in range(len(numbers))]  # no gap, no repeat

    # Running the slot again (by hand, or a redrive) finds its manifest and rewrites nothing: new files
    # would no longer match the manifest that describes them.
    versions = stack.client("s3").list_object_versions(Bucket=_bucket(stack), Prefix=folder)["Versions"]
    invoked = len(stack.invocations)
    again = _backup(stack, pool.pool_id, scheduled_time=manifest["timestamp"])
    assert again.status == "SUCCEEDED", (again.error, again.cause)
    assert again.output["manifest"]["manifest_key"] == key
    assert "Back up users" not in again.states_entered()
    assert [name for name, _ in stack.invocations[invoked:]] == ["BackupPoolConfigFunction"]
    assert stack.client("s3").list_object_versions(Bucket=_bucket(stack), Prefix=folder)["Versions"] == versions


def test_an_unfinished_backup_alerts_and_discovery_keeps_the_previous_one(stack: RestoreStack) -> None:
    from cognito_restore.discovery import find_newest_backup

    cognito = stack.client("cognito-idp")
    pool = build_source_pool(cognito, SamplePoolSpec(users=10, groups=3))
    first = _backup(stack, pool.pool_id, scheduled_time="2026-12-01T09:00:00Z")
    assert first.status == "SUCCEEDED", (first.error, first.cause)

    def manifest_fails(function: str, event: dict[str, Any]) -> None:
        if function == "WriteBackupManifestFunction":
            raise RuntimeError("disk on fire")

    stack.on_invoke(manifest_fails)
    second = _backup(stack, pool.pool_id, scheduled_time="2026-12-01T10:00:00Z")
    stack.on_invoke(None)
    assert second.status == "FAILED" and second.error == "RuntimeError"
    alert, ended = stack.alerts()
    assert alert["subject"] == "Cognito backup FAILED"
    assert "Write manifest" in alert["message"] and "RuntimeError" in alert["message"]
    assert "disk on fire" not in alert["message"]  # the error name only
    # and EventBridge's execution-ended alert (BackupExecutionEndedRule), which names no error
    assert json.loads(ended["message"]).startswith(
        f"Cognito backup execution {second.arn.rsplit(':', 1)[1]} ended FAILED"
    )
    assert "disk on fire" not in ended["message"]

    folder = f"cognito-backup/v2/{pool.pool_id}/2026/12/01/100000/"
    listed = stack.client("s3").list_objects_v2(Bucket=_bucket(stack), Prefix=folder)
    keys = {item["Key"].removeprefix(folder) for item in listed["Contents"]}
    assert "pool.json" in keys and "manifest.json" not in keys  # written up to the manifest
    ref = find_newest_backup(stack.client("s3"), _bucket(stack), pool.pool_id)
    assert ref is not None and ref.key == first.output["manifest"]["manifest_key"]


def test_an_aborted_backup_alerts_through_eventbridge(stack: RestoreStack) -> None:
    """No Catch sees an abort or a timeout: BackupExecutionEndedRule alerts, and the backup stays unfinished."""
    cognito = stack.client("cognito-idp")
    pool = build_source_pool(cognito, SamplePoolSpec(users=10, groups=3))
    sfn = stack.client("stepfunctions")

    def abort_during_the_pool_configuration(function: str, event: dict[str, Any]) -> None:
        if function == "BackupPoolConfigFunction":
            machine = stack.state_machine_arn("BackupStateMachine")
            for running in sfn.list_executions(stateMachineArn=machine, statusFilter="RUNNING")["executions"]:
                sfn.stop_execution(executionArn=running["executionArn"], error="Operator", cause="stopped by hand")

    stack.on_invoke(abort_during_the_pool_configuration)
    result = _backup(stack, pool.pool_id, scheduled_time="2026-12-01T11:00:00Z")
    stack.on_invoke(None)
    assert result.status == "ABORTED"
    (alert,) = stack.alerts()
    assert alert["subject"] is None  # an EventBridge SNS target sets no subject
    message = json.loads(alert["message"])
    assert message.startswith(f"Cognito backup execution {result.arn.rsplit(':', 1)[1]} ended ABORTED")
    assert result.arn in message and "previous complete backup" in message


def test_the_schedule_starts_one_execution_per_pool_and_slot_a_double_fire_none_more() -> None:
    parameters = {"Environment": "test", "BackupPoolIds": "us-east-1_One,us-east-1_Two", "QuotaUserList": "100000"}
    with RestoreStack(region=REGION, parameters=parameters) as stack:
        sfn = stack.client("stepfunctions")
        slot = {"scheduled_time": "2026-12-01T10:00:00Z"}
        first = stack.invoke("StartBackupsFunction", slot)
        second = stack.invoke("StartBackupsFunction", slot)  # while the first ones may still run
        names = ["us-east-1_One-20261201T100000Z", "us-east-1_Two-20261201T100000Z"]
        assert sorted(first["started"] + first["already_started"]) == names
        assert sorted(second["started"] + second["already_started"]) == names
        arn = stack.state_machine_arn("BackupStateMachine")
        for name in names:
            stack.wait(f"{arn.replace(':stateMachine:', ':execution:')}:{name}")
        late = stack.invoke("StartBackupsFunction", slot)  # a delivery after they ended
        assert late == {"started": [], "already_started": names}
        executions = sfn.list_executions(stateMachineArn=arn)["executions"]
        assert sorted(e["name"] for e in executions) == names  # one execution per pool and slot
        # The pools do not exist: each backup fails and alerts, naming its execution and the error, then
        # EventBridge's execution-ended alert follows for each (BackupExecutionEndedRule).
        alerts = stack.alerts()
        failed = [a for a in alerts if a["subject"] == "Cognito backup FAILED"]
        ended = [a for a in alerts if a["subject"] is None]
        assert len(failed) == 2 and all("ResourceNotFoundException" in a["message"] for a in failed)
        assert len(ended) == 2 and all(" ended FAILED " in a["message"] for a in ended)
        assert len(alerts) == 4


def test_the_producers_backup_is_what_the_restore_finds_and_restores() -> None:
    """The contract end to end: the producer's v2 backup, found by discovery (no backup_key), restored
    into a new pool with every user and all 65 groups (two ListGroups pages)."""
    parameters = {"Environment": "test", "BackupPoolIds": "us-east-1_Placeholder", **UNPACED}
    with RestoreStack(region=REGION, parameters=parameters) as stack:
        cognito = stack.client("cognito-idp")
        pool = build_source_pool(cognito, SamplePoolSpec(users=40, groups=65))
        backup = _backup(stack, pool.pool_id)
        assert backup.status == "SUCCEEDED", (backup.error, backup.cause)
        restore = stack.run({"user_pool_id": pool.pool_id})
        assert restore.status == "SUCCEEDED", (restore.error, restore.cause)
        pools = cognito.list_user_pools(MaxResults=60)["UserPools"]
        (new_pool,) = [p["Id"] for p in pools if p["Id"] != pool.pool_id]
        users = _all(cognito.list_users, "Users", "PaginationToken", UserPoolId=new_pool)
        groups = _all(cognito.list_groups, "Groups", "NextToken", UserPoolId=new_pool, Limit=60)
        assert len(users) == 40 and len(groups) == 65


def test_a_rich_pool_backed_up_by_the_producer_comes_back_category_by_category() -> None:
    """Issue 11's contract: a rich pool with 65 groups and the v2 settings, backed up by the producer (v2),
    restored and diffed category by category against the source pool itself (configuration, schema,
    clients, groups, providers, resource servers, UI, threat protection, WAF, users with their status,
    attributes, MFA and links, memberships), plus the v2 sections read back; every report category at
    100 %; no message sent. Producer and restore share one Region here (one emulated stack at a time),
    so the only planned difference is the domain prefix (a prefix is unique per Region: derived)."""
    from tests.workflow.test_round_trip import (
        actual_users,
        category_diff,
        config_views,
        create_trigger_functions,
        expected_users,
        memberships,
    )
    from tools.sample_pool import export_backup, sms_trust_statement

    parameters = {"Environment": "test", "BackupPoolIds": "us-east-1_Placeholder", **UNPACED}
    with RestoreStack(region=REGION, parameters=parameters) as stack:
        cognito = stack.client("cognito-idp")
        create_trigger_functions(stack, REGION)  # the triggers the rich pool names, in this Region
        pool = build_source_pool(cognito, SamplePoolSpec(users=60, groups=65, rich=True))
        client_ids = list(pool.client_ids.values())
        _v2_settings(cognito, pool.pool_id, client_ids)
        expected_v1 = export_backup(cognito, pool.pool_id)  # the source as the test sees it, for the expectations
        # The SMS role made ready for the new pool (its trust names the pools that may use it: docs/messaging.md).
        iam = stack.client("iam")
        sms_role = expected_v1["user_pool_config"]["SmsConfiguration"]["SnsCallerArn"].rsplit("/", 1)[-1]
        trust = iam.get_role(RoleName=sms_role)["Role"]["AssumeRolePolicyDocument"]
        trust = json.loads(trust) if isinstance(trust, str) else trust
        trust["Statement"].append(sms_trust_statement(f"arn:aws:cognito-idp:{REGION}:{ACCOUNT}:userpool/*"))
        iam.update_assume_role_policy(RoleName=sms_role, PolicyDocument=json.dumps(trust))
        sent_before = stack.messages_sent()

        backup = _backup(stack, pool.pool_id)
        assert backup.status == "SUCCEEDED", (backup.error, backup.cause)
        restore = stack.run({"user_pool_id": pool.pool_id})
        assert restore.status == "SUCCEEDED", (restore.error, restore.cause)
        new_pool = restore.output["new_user_pool_id"]
        assert stack.messages_sent() == sent_before  # no user got an e-mail or SMS

        expected, actual = config_views(cognito, pool.pool_id), config_views(cognito, new_pool)
        assert actual.pop("domain") and expected.pop("domain")  # a derived prefix in the same Region
        email_mode = False
        want_users, new_key_of = expected_users(expected_v1)
        got_users, key_of_username = actual_users(cognito, new_pool, email_mode)
        expected["users"], actual["users"] = want_users, got_users
        expected["memberships"] = {
            g: sorted(new_key_of[u] for u in members) for g, members in expected_v1["group_memberships"].items()
        }
        actual["memberships"] = memberships(cognito, new_pool, key_of_username)
        styled = cognito.describe_user_pool_client(UserPoolId=pool.pool_id, ClientId=client_ids[0])["UserPoolClient"][
            "ClientName"
        ]  # the client _v2_settings gave a style and terms
        for source_pool, views in ((pool.pool_id, expected), (new_pool, actual)):
            mfa = cognito.get_user_pool_mfa_config(UserPoolId=source_pool)
            views["mfa_config"] = {
                k: mfa.get(k) for k in ("MfaConfiguration", "EmailMfaConfiguration", "SoftwareTokenMfaConfiguration")
            }
            views["passkeys"] = mfa.get("WebAuthnConfiguration")
            clients = {
                c["ClientId"]: c["ClientName"]
                for c in cognito.list_user_pool_clients(UserPoolId=source_pool, MaxResults=60)["UserPoolClients"]
            }
            views["terms"] = sorted(
                (clients[t["ClientId"]], t["TermsName"], t["Links"]["cognito:default"])
                for t in (
                    cognito.describe_terms(UserPoolId=source_pool, TermsId=s["TermsId"])["Terms"]
                    for s in cognito.list_terms(UserPoolId=source_pool)["Terms"]
                )
            )
            branding = cognito.describe_managed_login_branding_by_client(
                UserPoolId=source_pool, ClientId=next(i for i, n in clients.items() if n == styled)
            )["ManagedLoginBranding"]
            views["managed_login_branding"] = {
                "Settings": branding.get("Settings"),
                "Assets": sorted((a["Category"], a["ColorMode"], bytes(a["Bytes"])) for a in branding["Assets"]),
            }
            views["log_delivery"] = cognito.get_log_delivery_configuration(UserPoolId=source_pool)[
                "LogDeliveryConfiguration"
            ]["LogConfigurations"]
        diff = category_diff(expected, actual)
        assert not diff, "the restored pool differs from the source:\n" + diff

        report = json.loads(_get_report(stack, restore.output["report"]))
        for category, counts in report["counts"].items():
            assert counts["restored"] + counts["skipped"] + counts["failed"] == counts["backup"], category
            assert counts["restored"] == counts["backup"], (category, counts, report["categories"][category])
        assert report["counts"]["groups"]["restored"] == 65


def _get_report(stack: RestoreStack, location: str) -> bytes:
    bucket, _, key = location.removeprefix("s3://").partition("/")
    body: bytes = stack.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    return body
