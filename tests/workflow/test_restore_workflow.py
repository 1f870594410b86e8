"""The real workflow, end to end: restore a producer backup and compare the new pool with it."""

from __future__ import annotations

from typing import Any

import pytest

from tests.workflow.conftest import DR_REGION, SourceBackup, make_backup
from tools.emulation import RestoreStack
from tools.sample_pool import SamplePoolSpec

MANAGED = {"sub", "identities"}
CLIENT_FIELDS = (
    "ClientName",
    "ClientSecret",
    "ReadAttributes",
    "WriteAttributes",
    "ExplicitAuthFlows",
    "SupportedIdentityProviders",
    "CallbackURLs",
    "LogoutURLs",
    "AllowedOAuthFlows",
    "AllowedOAuthScopes",
    "AllowedOAuthFlowsUserPoolClient",
    "RefreshTokenValidity",
    "AccessTokenValidity",
    "IdTokenValidity",
    "TokenValidityUnits",
    "PreventUserExistenceErrors",
    "EnableTokenRevocation",
)
EXPECTED_STATUS = {
    "CONFIRMED": "CONFIRMED",
    "RESET_REQUIRED": "CONFIRMED",
    "FORCE_CHANGE_PASSWORD": "FORCE_CHANGE_PASSWORD",
    "UNCONFIRMED": "UNCONFIRMED",  # through SignUp (cognito_restore/sign_up.py)
}


def _all(client: Any, operation: str, key: str, **kwargs: Any) -> list[dict[str, Any]]:
    return [item for page in client.get_paginator(operation).paginate(**kwargs) for item in page[key]]


def _attributes(user: dict[str, Any]) -> dict[str, str]:
    return {
        a["Name"]: a["Value"]
        for a in user.get("Attributes", user.get("UserAttributes", []))
        if a["Name"] not in MANAGED and not a["Name"].startswith("cognito:")
    }


def _new_user_key(user: dict[str, Any], email_mode: bool) -> str:
    return _attributes(user)["email"] if email_mode else user["Username"]


def assert_pool_matches_backup(stack: RestoreStack, source: SourceBackup, new_pool_id: str) -> None:
    cognito = stack.client("cognito-idp")
    backup = source.backup
    email_mode = source.pool.spec.username_mode == "email"

    new_users = {_new_user_key(u, email_mode): u for u in _all(cognito, "list_users", "Users", UserPoolId=new_pool_id)}
    assert len(new_users) == len(backup["users"])
    old_to_new: dict[str, str] = {}
    for old in backup["users"]:
        key = _attributes(old)["email"] if email_mode else old["Username"]
        new = new_users[key]
        old_to_new[old["Username"]] = new["Username"]
        assert _attributes(new) == _attributes(old), f"attributes of {old['Username']}"
        assert new["UserStatus"] == EXPECTED_STATUS[old["UserStatus"]], old["Username"]
        assert new["Enabled"] == old["Enabled"], old["Username"]
        if email_mode:
            assert new["Username"] != old["Username"]  # a new UUID: usernames follow the new sub

    groups = {g["GroupName"]: g for g in _all(cognito, "list_groups", "Groups", UserPoolId=new_pool_id)}
    for old in backup["groups"]:
        new = groups[old["GroupName"]]
        for field in ("Description", "Precedence", "RoleArn"):
            assert new.get(field) == old.get(field), (old["GroupName"], field)
    for group, members in backup["group_memberships"].items():
        restored = {
            u["Username"]
            for u in _all(cognito, "list_users_in_group", "Users", UserPoolId=new_pool_id, GroupName=group)
        }
        assert restored == {old_to_new[m] for m in members}, group

    clients = {
        c["ClientName"]: c
        for c in (
            cognito.describe_user_pool_client(UserPoolId=new_pool_id, ClientId=summary["ClientId"])["UserPoolClient"]
            for summary in _all(cognito, "list_user_pool_clients", "UserPoolClients", UserPoolId=new_pool_id)
        )
    }
    assert set(clients) == {c["ClientName"] for c in backup["app_clients"]}
    for old in backup["app_clients"]:
        new = clients[old["ClientName"]]
        assert new["ClientId"] != old["ClientId"]
        for field in CLIENT_FIELDS:
            assert new.get(field) == old.get(field), (old["ClientName"], field)

    servers = _all(cognito, "list_resource_servers", "ResourceServers", UserPoolId=new_pool_id, MaxResults=50)
    assert [(s["Identifier"], s["Name"], s["Scopes"]) for s in servers] == [
        (s["Identifier"], s["Name"], s["Scopes"]) for s in backup["resource_servers"]
    ]
    pool = cognito.describe_user_pool(UserPoolId=new_pool_id)["UserPool"]
    assert pool["Name"] == backup["user_pool_config"]["Name"]
    assert pool["Domain"] == backup["user_pool_config"]["Domain"]


@pytest.mark.parametrize("username_mode", ["username", "email"])
def test_restore_recreates_the_pool_as_backed_up(stack: RestoreStack, source_cognito: Any, username_mode: str) -> None:
    source = make_backup(stack, source_cognito, SamplePoolSpec(users=220, groups=4, username_mode=username_mode))
    statuses = {u["UserStatus"] for u in source.backup["users"]}
    assert {"CONFIRMED", "FORCE_CHANGE_PASSWORD", "UNCONFIRMED", "RESET_REQUIRED"} <= statuses
    assert any(not u["Enabled"] for u in source.backup["users"])
    assert any(c.get("ClientSecret") for c in source.backup["app_clients"])

    result = stack.run({"user_pool_id": source.pool_id})

    assert result.status == "SUCCEEDED", (result.error, result.cause)
    new_pool_id = result.output["new_user_pool_id"]
    assert new_pool_id.startswith(f"{DR_REGION}_")
    assert_pool_matches_backup(stack, source, new_pool_id)
    counts = result.output["counts"]
    assert counts["users"] == {"backup": 220, "restored": 220, "skipped": 0, "failed": 0}
    assert counts["memberships"]["restored"] == sum(len(m) for m in source.backup["group_memberships"].values())
    assert counts["app_clients"]["restored"] == 3


def test_users_run_as_several_map_iterations(stack: RestoreStack, source_cognito: Any) -> None:
    source = make_backup(stack, source_cognito, SamplePoolSpec(users=130, groups=3))

    result = stack.run({"user_pool_id": source.pool_id})

    assert result.status == "SUCCEEDED", (result.error, result.cause)
    map_runs = [e["mapRunStartedEventDetails"]["mapRunArn"] for e in result.events("MapRunStarted")]
    assert len(map_runs) == 1  # users with their memberships
    users_run = stack.client("stepfunctions").describe_map_run(mapRunArn=map_runs[0])
    assert users_run["itemCounts"]["total"] == 3 and users_run["itemCounts"]["succeeded"] == 3  # 130 users / 50
    user_chunk_calls = [name for name, _ in stack.invocations if name == "RestoreUsersFunction"]
    assert len(user_chunk_calls) == 3
    entered = result.states_entered()
    assert (
        entered.index("Restore users and memberships")
        < entered.index("Attach Lambda triggers")
        < entered.index("Verify restored pool")
    )


def test_alerts_announce_start_pool_and_completion(stack: RestoreStack, source_cognito: Any) -> None:
    source = make_backup(stack, source_cognito, SamplePoolSpec(users=20, groups=3))

    result = stack.run({"user_pool_id": source.pool_id})

    assert result.status == "SUCCEEDED"
    subjects = [a["subject"] for a in stack.alerts()]
    assert subjects == [
        f"Cognito DR restore started for {source.pool_id}",
        f"Cognito DR restore: pool {result.output['new_user_pool_id']} ready",
        f"Cognito DR restore complete: {result.output['new_user_pool_id']}",
    ]
    ready = stack.alerts()[1]["message"]
    new_ids = stack.client("cognito-idp").list_user_pool_clients(
        UserPoolId=result.output["new_user_pool_id"], MaxResults=60
    )
    for client in new_ids["UserPoolClients"]:
        assert client["ClientId"] in ready
