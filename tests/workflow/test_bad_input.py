"""Hostile and broken backups: fatal problems fail before any Cognito write; item problems are reported by name."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.workflow.conftest import make_backup, put_raw_backup
from tools.emulation import RestoreStack
from tools.sample_pool import SamplePoolSpec, backup_key

POOL = "us-east-1_BadInput1"
WHEN = datetime(2026, 11, 2, 10, 14, 7, tzinfo=UTC)


def _pools(stack: RestoreStack) -> list[dict[str, Any]]:
    return stack.client("cognito-idp").list_user_pools(MaxResults=60)["UserPools"]


def _report(stack: RestoreStack, result: Any) -> dict[str, Any]:
    bucket, _, key = result.output["report"].removeprefix("s3://").partition("/")
    return json.loads(stack.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())


def _good_backup(stack: RestoreStack, source_cognito: Any) -> dict[str, Any]:
    return make_backup(stack, source_cognito, SamplePoolSpec(users=12, groups=3)).backup


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"this is not json", "not valid JSON"),
        (
            b'{"timestamp": "2026-11-02T10:14:07", "user_pool_id": "us-east-1_BadInput1", "users": [{"Username": "a"',
            "truncated",
        ),
        (b"[1, 2, 3]", "must be a JSON object"),
        (
            b'{"user_pool_id": "us-east-1_BadInput1", "user_pool_config": {"Name": "p"}, "users": {"a": 1}}',
            "users must be a list",
        ),
        (b'{"user_pool_id": "us-east-1_BadInput1", "users": []}', "user_pool_config is missing"),
        (b"", "empty"),
    ],
)
def test_fatal_backup_problems_fail_before_any_cognito_write(stack: RestoreStack, body: bytes, reason: str) -> None:
    put_raw_backup(stack, backup_key(POOL, WHEN), body)

    result = stack.run({"user_pool_id": POOL})

    assert result.status == "FAILED"
    assert result.error == "BackupInvalid"
    [alert, ended] = stack.alerts()  # the phase's alert, then EventBridge's "execution ended FAILED"
    assert ended["subject"] is None and "ended FAILED" in ended["message"]
    assert alert["subject"] == "Cognito DR restore FAILED: Validate and prepare backup"
    assert reason in alert["message"]
    assert _pools(stack) == []
    assert "Create user pool" not in result.states_entered()


def test_a_backup_of_another_pool_than_its_key_names_is_refused(stack: RestoreStack, source_cognito: Any) -> None:
    backup = _good_backup(stack, source_cognito)
    put_raw_backup(stack, backup_key(POOL, WHEN), json.dumps(backup).encode())

    result = stack.run({"user_pool_id": POOL})

    assert result.status == "FAILED" and result.error == "BackupInvalid"
    assert f"its key names {POOL}" in stack.alerts()[0]["message"]
    assert _pools(stack) == []


def test_item_problems_restore_the_rest_and_are_reported_by_name(stack: RestoreStack, source_cognito: Any) -> None:
    backup = copy.deepcopy(_good_backup(stack, source_cognito))
    pool_id = backup["user_pool_id"]
    users = backup["users"]
    users.append(copy.deepcopy(users[0]))  # duplicate user
    users[1]["Attributes"].append({"Name": "custom:not_in_schema", "Value": "x"})  # undeclared attribute
    users[2]["Attributes"].append({"Name": "name", "Value": "n" * 3000})  # oversized value
    users.append({"Username": "broken-user", "Attributes": "not a list", "UserStatus": "CONFIRMED", "Enabled": True})
    users.append({"Attributes": [], "UserStatus": "CONFIRMED", "Enabled": True})  # no Username
    first_group = next(iter(backup["group_memberships"]))
    backup["group_memberships"][first_group].append("ghost-user")  # unknown user
    backup["group_memberships"]["ghost-group"] = [users[3]["Username"]]  # group absent from `groups`
    put_raw_backup(stack, backup_key(pool_id, WHEN), json.dumps(backup).encode())

    result = stack.run({"user_pool_id": pool_id, "backup_key": backup_key(pool_id, WHEN)})  # not the newest

    assert result.status == "SUCCEEDED", (result.error, result.cause)
    report = _report(stack, result)
    for category, counts in report["counts"].items():
        assert counts["restored"] + counts["skipped"] + counts["failed"] == counts["backup"], category
    users_report = report["categories"]["users"]
    assert users_report["backup"] == 15 and users_report["restored"] == 12
    assert {"item": users[0]["Username"], "reason": "listed twice in the backup"} in users_report["skipped_items"]
    assert any(i["item"] == "broken-user" for i in users_report["failed_items"])
    nameless = f"<user #{len(users) - 1} without a valid Username>"
    assert {"item": nameless, "reason": "not a ListUsers item: Username missing or invalid"} in users_report[
        "failed_items"
    ]
    notes = {(n["item"], n["note"]) for n in users_report["notes"]}
    assert (users[1]["Username"], "attribute custom:not_in_schema is not in the pool schema") in notes
    assert (users[2]["Username"], "attribute name is longer than 2048 characters") in notes
    memberships = report["categories"]["memberships"]
    assert {"item": f"{first_group}: ghost-user", "reason": "names a user absent from the backup"} in memberships[
        "failed_items"
    ]
    groups = stack.client("cognito-idp").list_groups(UserPoolId=result.output["new_user_pool_id"])["Groups"]
    assert "ghost-group" in {g["GroupName"] for g in groups}
    # Every planned item is in the pool; the ones the backup itself makes unrestorable are named, and said.
    assert report["outcome"]["status"] == "complete_with_unrestorable"
    not_restored = sum(c["skipped"] + c["failed"] for c in report["counts"].values())
    assert report["outcome"]["unrestorable"] == not_restored >= 3
    complete = [a["subject"] for a in stack.alerts() if (a["subject"] or "").startswith("Cognito DR restore complete")]
    assert complete == [
        f"Cognito DR restore complete, {not_restored} items not restorable: {result.output['new_user_pool_id']}"
    ]


def _markdown(stack: RestoreStack, result: Any) -> str:
    bucket, _, key = result.output["report"].removeprefix("s3://").partition("/")
    body = stack.client("s3").get_object(Bucket=bucket, Key=key.replace("report.json", "report.md"))["Body"]
    return body.read().decode()


def test_dry_run_writes_the_plan_and_report_and_creates_nothing(stack: RestoreStack, source_cognito: Any) -> None:
    source = make_backup(stack, source_cognito, SamplePoolSpec(users=25, groups=3))

    result = stack.run({"user_pool_id": source.pool_id, "dry_run": True})

    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert result.output["dry_run"] is True
    assert _pools(stack) == [
        p for p in _pools(stack) if p["Id"] == source.pool_id
    ]  # only the source (us-east-1 is elsewhere)
    assert stack.client("cognito-idp").list_user_pools(MaxResults=60)["UserPools"] == []
    writes = [name for name, _ in stack.invocations if name in ("CreatePoolFunction", "RestoreUsersFunction")]
    assert writes == []
    report = _report(stack, result)
    assert report["dry_run"] is True
    # A plan: what would be created, nothing "failed" or "verified" for work never attempted.
    assert report["counts"]["users"] == {"backup": 25, "would_create": 25, "would_skip": 0}
    for name in ("pool_configuration", "app_clients", "groups", "domain"):
        assert report["counts"][name]["would_create"] == report["counts"][name]["backup"] > 0, name
    assert all("failed" not in counts for counts in report["counts"].values())
    assert report["plan"]["estimate"]["total_seconds"] > 0
    assert report["plan"]["readiness"] == []  # nothing Region-bound in the plain sample pool (its own ARN is not)
    assert report["plan"]["estimate"]["bounding_quota"] == "UserUpdate"  # one AdminAddUserToGroup per user
    markdown = _markdown(stack, result)
    assert markdown.startswith("# Cognito DR restore plan (dry run)")
    assert "Estimated duration: about" in markdown
    assert "failed" not in markdown.lower() and "verification" not in markdown.lower()
    assert [a["subject"] for a in stack.alerts()] == [f"Cognito DR dry run {source.pool_id} complete"]


def test_a_client_secret_cognito_refuses_is_replaced_and_reported(stack: RestoreStack, source_cognito: Any) -> None:
    backup = copy.deepcopy(_good_backup(stack, source_cognito))
    pool_id = backup["user_pool_id"]
    [client] = [c for c in backup["app_clients"] if c.get("ClientSecret")]
    refused = "not-a-cognito-secret-" + "x" * 10  # CreateUserPoolClient's ClientSecret pattern is [\w+]+
    client["ClientSecret"] = refused
    put_raw_backup(stack, backup_key(pool_id, WHEN), json.dumps(backup).encode())

    result = stack.run({"user_pool_id": pool_id, "backup_key": backup_key(pool_id, WHEN)})

    assert result.status == "SUCCEEDED", (result.error, result.cause)
    cognito = stack.client("cognito-idp")
    new_pool = result.output["new_user_pool_id"]
    [restored] = [
        c
        for c in cognito.list_user_pool_clients(UserPoolId=new_pool)["UserPoolClients"]
        if c["ClientName"] == client["ClientName"]
    ]
    secret = cognito.describe_user_pool_client(UserPoolId=new_pool, ClientId=restored["ClientId"])["UserPoolClient"]
    assert secret["ClientSecret"] and secret["ClientSecret"] != refused
    report = _report(stack, result)
    assert report["categories"]["app_clients"]["restored"] == len(backup["app_clients"])
    assert (
        f"App client {client['ClientName']} has a NEW client secret: give it to the applications that use this client"
        in report["manual_steps"]
    )
    assert refused not in json.dumps(report)  # neither secret is written into the report
