"""Sync mode, pool-level half: the backup reconciled into an existing pool (docs/sync.md)."""

from __future__ import annotations

import copy
import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest import mock

import pytest
from click.testing import CliRunner

from tests.workflow.conftest import DR_REGION, make_backup, put_raw_backup
from tests.workflow.test_iam_enforcement import _rich_restore_input
from tests.workflow.test_state_contract import check_execution, recorded_invocations, short_lived
from tools import restore as restore_cli
from tools.emulation import LambdaCrash, RestoreStack
from tools.sample_pool import (
    CLIENT_MOBILE,
    CLIENT_WEB,
    SamplePoolSpec,
    backup_key,
    build_source_pool,
    export_backup,
    write_backup,
)

T0 = datetime(2026, 11, 30, 8, tzinfo=UTC)


def _pools(stack: RestoreStack) -> list[str]:
    return [p["Id"] for p in stack.client("cognito-idp").list_user_pools(MaxResults=60)["UserPools"]]


def _ledger_items(stack: RestoreStack) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = stack.client("dynamodb").scan(TableName=stack.outputs["RestoreLedgerTableName"])[
        "Items"
    ]
    return items


@pytest.mark.parametrize(
    ("target", "reason"),
    [
        (f"{DR_REGION}_Absent123", "does not exist in us-west-2: nothing was written"),
        ("eu-west-1_Elsewhere1", "is not in us-west-2"),
    ],
)
def test_a_sync_into_a_pool_that_is_not_there_writes_nothing(
    stack: RestoreStack, source_cognito: Any, target: str, reason: str
) -> None:
    source = make_backup(stack, source_cognito, SamplePoolSpec(users=5, groups=3))

    result = stack.run({"user_pool_id": source.pool_id, "mode": "sync", "target_user_pool_id": target})

    assert result.status == "FAILED" and result.error == "InvalidInput"
    assert reason in stack.alerts()[0]["message"]
    assert _pools(stack) == [] and _ledger_items(stack) == []


# Cognito writes of the pool-level phases (a sync of an unchanged backup makes none of them).
CONFIG_WRITES = frozenset(
    f"cognito-idp:{operation}"
    for operation in (
        "CreateUserPool",
        "UpdateUserPool",
        "SetUserPoolMfaConfig",
        "AddCustomAttributes",
        "CreateResourceServer",
        "UpdateResourceServer",
        "CreateIdentityProvider",
        "UpdateIdentityProvider",
        "CreateUserPoolClient",
        "UpdateUserPoolClient",
        "CreateGroup",
        "UpdateGroup",
        "CreateUserPoolDomain",
    )
)
POOL_PHASES = frozenset(
    {
        "CreatePoolFunction",
        "RestoreResourceServersFunction",
        "RestoreIdentityProvidersFunction",
        "RestoreAppClientsFunction",
        "RestoreGroupsFunction",
        "CreateDomainFunction",
        "VerifyRestoreFunction",
    }
)


def _config_writes(stack: RestoreStack, since: int) -> Counter[str]:
    """Each pool-level write the handlers made since decision ``since`` (IAM enforcement sees every call)."""
    return Counter(
        d.action.removeprefix("cognito-idp:")
        for d in stack.iam.decisions[since:]
        if d.principal in POOL_PHASES and d.action in CONFIG_WRITES
    )


def _report(stack: RestoreStack, result: Any) -> dict[str, Any]:
    bucket, _, key = result.output["report"].removeprefix("s3://").partition("/")
    report: dict[str, Any] = json.loads(stack.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())
    return report


def _changed(backup: dict[str, Any]) -> dict[str, Any]:
    """The backup with configuration drift: a password policy, a client's tokens, a group; and one new
    client and one new group."""
    backup = copy.deepcopy(backup)
    policy = backup["user_pool_config"]["Policies"]["PasswordPolicy"]
    policy["MinimumLength"] = policy["MinimumLength"] + 2
    web = next(c for c in backup["app_clients"] if c["ClientName"] == CLIENT_WEB)
    web["RefreshTokenValidity"] = 7
    web["CallbackURLs"] = [*web["CallbackURLs"], "https://dr.example.com/callback"]
    added = copy.deepcopy(next(c for c in backup["app_clients"] if c["ClientName"] == CLIENT_MOBILE))
    added.update(ClientName="kiosk", ClientId="kioskoldid0000000000000000")
    backup["app_clients"].append(added)
    backup["groups"][0]["Description"] = "changed since the restore"
    backup["groups"].append({"GroupName": "auditors", "Description": "new since the restore", "Precedence": 90})
    return backup


def _put(stack: RestoreStack, backup: dict[str, Any], when: datetime) -> str:
    key = write_backup(stack.client("s3"), stack.outputs["BackupBucketName"], backup, when)
    return str(key)


def test_a_sync_writes_only_what_differs_and_a_second_sync_writes_nothing(
    stack: RestoreStack, source_cognito: Any
) -> None:
    source = make_backup(stack, source_cognito, SamplePoolSpec(users=10, groups=3), when=T0)
    restored = stack.run({"user_pool_id": source.pool_id})
    assert restored.status == "SUCCEEDED", restored.error
    target = restored.output["new_user_pool_id"]
    cognito = stack.client("cognito-idp")
    ids_before = {
        c["ClientName"]: c["ClientId"]
        for c in cognito.list_user_pool_clients(UserPoolId=target, MaxResults=60)["UserPoolClients"]
    }
    # An item of the target that the backup does not have: reported, never deleted.
    cognito.create_group(UserPoolId=target, GroupName="dr-operators")
    changed = _changed(source.backup)
    _put(stack, changed, T0 + timedelta(hours=1))
    sync = {"user_pool_id": source.pool_id, "mode": "sync", "target_user_pool_id": target}

    since = len(stack.iam.decisions)
    synced = stack.run(sync)

    assert synced.status == "SUCCEEDED", (synced.error, synced.cause)
    assert synced.output["new_user_pool_id"] == target and _pools(stack) == [target]  # no pool created
    assert _config_writes(stack, since) == Counter(
        {"UpdateUserPool": 1, "UpdateUserPoolClient": 1, "CreateUserPoolClient": 1, "UpdateGroup": 1, "CreateGroup": 1}
    )
    pool = cognito.describe_user_pool(UserPoolId=target)["UserPool"]
    assert (
        pool["Policies"]["PasswordPolicy"]["MinimumLength"]
        == changed["user_pool_config"]["Policies"]["PasswordPolicy"]["MinimumLength"]
    )
    clients = {
        c["ClientName"]: c["ClientId"]
        for c in cognito.list_user_pool_clients(UserPoolId=target, MaxResults=60)["UserPoolClients"]
    }
    assert {name: clients[name] for name in ids_before} == ids_before  # the client ids are kept
    web = cognito.describe_user_pool_client(UserPoolId=target, ClientId=clients[CLIENT_WEB])["UserPoolClient"]
    assert web["RefreshTokenValidity"] == 7 and "https://dr.example.com/callback" in web["CallbackURLs"]
    assert "kiosk" in clients
    groups = {g["GroupName"]: g for g in cognito.list_groups(UserPoolId=target)["Groups"]}
    assert groups[changed["groups"][0]["GroupName"]]["Description"] == "changed since the restore"
    assert "auditors" in groups and "dr-operators" in groups
    report = _report(stack, synced)
    sync_report = report["sync"]
    assert sync_report["pool_configuration"]["updated"] == 1
    assert sync_report["app_clients"]["items"] == {"created": ["kiosk"], "updated": [CLIENT_WEB]}
    assert sync_report["app_clients"]["unchanged"] == len(source.backup["app_clients"]) - 1
    assert sync_report["groups"]["items"] == {
        "created": ["auditors"],
        "updated": [changed["groups"][0]["GroupName"]],
        "absent_from_backup": ["dr-operators"],
    }
    assert report["outcome"]["status"] == "complete", report["outcome"]
    assert report["verification"]["groups"]["ok"]  # the group absent from the backup is expected, not missing
    assert "kept their ids" in report["manual_steps"][0]

    since = len(stack.iam.decisions)
    again = stack.run(sync)  # the same input: the same restore id, run again

    assert again.status == "SUCCEEDED", (again.error, again.cause)
    assert _config_writes(stack, since) == Counter()
    again_report = _report(stack, again)["sync"]
    assert {n: (c["created"], c["updated"]) for n, c in again_report.items() if c["created"] or c["updated"]} == {}


def test_the_dry_run_of_a_sync_lists_the_changes_and_writes_nothing(stack: RestoreStack, source_cognito: Any) -> None:
    source = make_backup(stack, source_cognito, SamplePoolSpec(users=6, groups=3), when=T0)
    restored = stack.run({"user_pool_id": source.pool_id})
    target = restored.output["new_user_pool_id"]
    _put(stack, _changed(source.backup), T0 + timedelta(hours=1))

    since = len(stack.iam.decisions)
    result = stack.run({"user_pool_id": source.pool_id, "mode": "sync", "target_user_pool_id": target, "dry_run": True})

    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert _config_writes(stack, since) == Counter()
    assert not [d for d in stack.iam.decisions[since:] if d.action.startswith("cognito-idp:Admin")]
    plan = _report(stack, result)["plan"]["sync"]
    assert plan["pool_configuration"]["update"] == [{"item": "pool configuration", "settings": ["Policies"]}]
    assert plan["app_clients"]["create"] == ["kiosk"]
    assert plan["app_clients"]["update"] == [{"item": CLIENT_WEB, "settings": ["CallbackURLs", "RefreshTokenValidity"]}]
    assert plan["groups"]["create"] == ["auditors"]
    assert [u["item"] for u in plan["groups"]["update"]] == [source.backup["groups"][0]["GroupName"]]
    assert plan["resource_servers"]["update"] == [] and plan["identity_providers"]["update"] == []
    markdown = (
        stack.client("s3")
        .get_object(
            Bucket=stack.outputs["WorkBucketName"],
            Key=result.output["report"].rsplit("/", 1)[0].split("/", 3)[3] + "/report.md",
        )["Body"]
        .read()
        .decode()
    )
    assert "create `kiosk`" in markdown


WRITE_VERBS = ("Create", "Update", "Set", "Add", "Associate", "Delete", "Admin")


def _aws_writes(stack: RestoreStack, since: int) -> Counter[str]:
    """Every Cognito, WAF and Lambda write any handler made since decision ``since`` (not the ledger or
    the work bucket: bookkeeping). Reads are Describe/Get/List."""
    return Counter(
        d.action
        for d in stack.iam.decisions[since:]
        if d.principal != "RestoreStateMachine"
        and d.action.split(":")[0] in ("cognito-idp", "wafv2", "lambda")
        and d.action.split(":")[1].startswith(WRITE_VERBS)
    )


def test_a_sync_of_an_unchanged_rich_pool_writes_nothing_at_all(stack: RestoreStack) -> None:
    """Triggers, UI customization, threat protection, WAF, domain, MFA, attributes: all in place already."""
    request, _ = _rich_restore_input(stack)
    restored = stack.run(request)
    assert restored.status == "SUCCEEDED", (restored.error, restored.cause)
    target = restored.output["new_user_pool_id"]
    made = _aws_writes(stack, 0)  # not vacuous: the restore made each of the writes the sync then needs not
    for action in (
        "cognito-idp:SetUICustomization",
        "cognito-idp:SetRiskConfiguration",
        "wafv2:AssociateWebACL",
        "lambda:AddPermission",
        "cognito-idp:SetUserPoolMfaConfig",
        "cognito-idp:CreateUserPoolDomain",
    ):
        assert made[action] >= 1, action

    since = len(stack.iam.decisions)
    synced = stack.run({**request, "mode": "sync", "target_user_pool_id": target})

    assert synced.status == "SUCCEEDED", (synced.error, synced.cause)
    assert stack.iam.denied() == []
    writes = _aws_writes(stack, since)
    users_phase = Counter({k: v for k, v in writes.items() if k.startswith("cognito-idp:Admin")})
    assert writes - users_phase == Counter()  # the pool level wrote nothing (users: the users' half)
    report = _report(stack, synced)
    assert report["outcome"]["status"] == "complete", report["outcome"]
    sync_report = report["sync"]
    for category in ("ui_customization", "threat_protection", "waf", "lambda_triggers", "domain"):
        assert sync_report[category]["unchanged"] >= 1 and sync_report[category]["updated"] == 0, category
    assert sync_report["pool_configuration"]["unchanged"] == 2  # the configuration and MFA


def test_the_dry_run_of_a_sync_plans_the_phases_after_the_users_as_the_sync_then_writes_them(
    stack: RestoreStack,
) -> None:
    """Domain, Lambda triggers, UI customization, threat protection and WAF are in the dry run's plan: read
    from the target as each phase compares them, nothing written; the sync then writes exactly the two
    the plan names."""
    request, backup = _rich_restore_input(stack)
    restored = stack.run(request)
    assert restored.status == "SUCCEEDED", (restored.error, restored.cause)
    changed = copy.deepcopy(backup)
    changed["ui_customization"]["CSS"] = ".banner-customizable { background-color: #7c3aed; }"
    changed["risk_configuration"]["RiskExceptionConfiguration"]["BlockedIPRangeList"] = ["203.0.113.0/24"]
    later = datetime.now(UTC) + timedelta(minutes=5)
    put_raw_backup(stack, backup_key(request["user_pool_id"], later), json.dumps(changed).encode())
    sync = {**request, "mode": "sync", "target_user_pool_id": restored.output["new_user_pool_id"]}

    since = len(stack.iam.decisions)
    dry = stack.run({**sync, "dry_run": True})

    assert dry.status == "SUCCEEDED", (dry.error, dry.cause)
    assert stack.iam.denied() == []
    assert _aws_writes(stack, since) == Counter()
    plan = _report(stack, dry)["plan"]["sync"]
    assert plan["ui_customization"]["update"] == [{"item": "UI customization (ALL)", "settings": ["CSS"]}]
    assert plan["threat_protection"]["update"] == [
        {"item": "risk configuration (pool)", "settings": ["RiskExceptionConfiguration"]}
    ]
    for category in ("domain", "lambda_triggers", "waf"):
        assert plan[category]["create"] == plan[category]["update"] == [], (category, plan[category])
        assert plan[category]["unchanged"] >= 1, category  # not vacuous: the backup has each of them
    assert plan["lambda_triggers"]["unchanged"] == len(
        [t for t, v in backup["user_pool_config"]["LambdaConfig"].items() if v and t != "KMSKeyID"]
    )

    since = len(stack.iam.decisions)
    synced = stack.run(sync)
    assert synced.status == "SUCCEEDED", (synced.error, synced.cause)
    writes = _aws_writes(stack, since)
    pool_level = Counter({k: v for k, v in writes.items() if not k.startswith("cognito-idp:Admin")})
    assert pool_level == Counter({"cognito-idp:SetUICustomization": 1, "cognito-idp:SetRiskConfiguration": 1})


def test_a_crash_right_after_a_sync_write_is_retried_without_writing_twice(
    stack: RestoreStack, source_cognito: Any
) -> None:
    source = make_backup(stack, source_cognito, SamplePoolSpec(users=6, groups=3), when=T0)
    target = stack.run({"user_pool_id": source.pool_id}).output["new_user_pool_id"]
    _put(stack, _changed(source.backup), T0 + timedelta(hours=1))
    import cognito_restore.groups as groups_module

    original = groups_module.apply_change
    crashed: list[str] = []

    def crash_after_the_first_write(outcome: Any, change: Any, *args: Any, **kwargs: Any) -> Any:
        response = original(outcome, change, *args, **kwargs)
        if change.kind != "unchanged" and not crashed:
            crashed.append(change.item)
            raise LambdaCrash()  # the write is made, its record is lost with the process
        return response

    since, invoked = len(stack.iam.decisions), len(stack.invocations)
    with mock.patch.object(groups_module, "apply_change", crash_after_the_first_write):
        result = stack.run({"user_pool_id": source.pool_id, "mode": "sync", "target_user_pool_id": target})

    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert crashed and [n for n, _ in stack.invocations[invoked:]].count("RestoreGroupsFunction") == 2
    writes = _config_writes(stack, since)
    assert writes["CreateGroup"] == 1 and writes["UpdateGroup"] == 1  # the retry found the crashed write made
    groups = _report(stack, result)["sync"]["groups"]
    assert groups["created"] + groups["updated"] + groups["unchanged"] == len(source.backup["groups"]) + 1


def test_the_operator_cli_starts_a_sync_through_the_same_schema(
    stack: RestoreStack, source_cognito: Any, monkeypatch: Any
) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", stack.region)
    source = make_backup(stack, source_cognito, SamplePoolSpec(users=5, groups=3), when=T0)
    target = stack.run({"user_pool_id": source.pool_id}).output["new_user_pool_id"]
    start = ["start", "--state-machine-arn", stack.state_machine_arn(), "--pool-id", source.pool_id]

    refused = CliRunner().invoke(restore_cli.main, [*start, "--target-pool-id", target])
    synced = CliRunner().invoke(
        restore_cli.main, [*start, "--mode", "sync", "--target-pool-id", target, "--poll-interval", "0"]
    )

    assert refused.exit_code == 2 and "target_user_pool_id only with mode sync" in refused.output
    assert synced.exit_code == 0, synced.output
    assert "SUCCEEDED" in synced.output and target in synced.output
    assert _pools(stack) == [target]


def test_every_pool_level_category_drifted_is_reconciled_once(stack: RestoreStack, source_cognito: Any) -> None:
    """A scope, a provider's mapping, a custom attribute, the MFA mode and the tags changed in the backup."""
    source = make_backup(stack, source_cognito, SamplePoolSpec(users=5, groups=3), when=T0)
    target = stack.run({"user_pool_id": source.pool_id}).output["new_user_pool_id"]
    changed = copy.deepcopy(source.backup)
    changed["resource_servers"][0]["Scopes"].append({"ScopeName": "orders.audit", "ScopeDescription": "Audit"})
    changed["identity_providers"][0]["AttributeMapping"]["name"] = "name"
    config = changed["user_pool_config"]
    config["SchemaAttributes"].append(
        {
            "Name": "custom:home_region",
            "AttributeDataType": "String",
            "Mutable": True,
            "StringAttributeConstraints": {"MinLength": "0", "MaxLength": "64"},
        }
    )
    config["MfaConfiguration"] = "OFF"
    config["UserPoolTags"] = {**(config.get("UserPoolTags") or {}), "cost-center": "dr"}
    _put(stack, changed, T0 + timedelta(hours=1))
    sync = {"user_pool_id": source.pool_id, "mode": "sync", "target_user_pool_id": target}

    since = len(stack.iam.decisions)
    result = stack.run(sync)

    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert _config_writes(stack, since) == Counter(
        {
            "UpdateResourceServer": 1,
            "UpdateIdentityProvider": 1,
            "AddCustomAttributes": 1,
            "SetUserPoolMfaConfig": 1,
            "UpdateUserPool": 1,  # the tags
        }
    )
    cognito = stack.client("cognito-idp")
    server = cognito.list_resource_servers(UserPoolId=target, MaxResults=50)["ResourceServers"][0]
    assert "orders.audit" in {s["ScopeName"] for s in server["Scopes"]}
    provider = cognito.describe_identity_provider(
        UserPoolId=target, ProviderName=changed["identity_providers"][0]["ProviderName"]
    )["IdentityProvider"]
    assert provider["AttributeMapping"]["name"] == "name"
    pool = cognito.describe_user_pool(UserPoolId=target)["UserPool"]
    assert "custom:home_region" in {a["Name"] for a in pool["SchemaAttributes"]}
    assert pool["UserPoolTags"]["cost-center"] == "dr"
    assert cognito.get_user_pool_mfa_config(UserPoolId=target)["MfaConfiguration"] == "OFF"
    notes = " ".join(n["note"] for n in _report(stack, result)["categories"]["pool_configuration"]["notes"])
    assert "UserPoolTags differed" in notes

    since = len(stack.iam.decisions)
    assert stack.run(sync).status == "SUCCEEDED"
    assert _config_writes(stack, since) == Counter()


def test_a_pool_synced_with_its_own_backup_is_found_unchanged(stack: RestoreStack) -> None:
    """A target that no restore created (its settings set by hand, as a team's own pool): every
    comparison must see its own backup as equal, or each sync would write it again."""
    dr_cognito = stack.client("cognito-idp")
    pool = build_source_pool(dr_cognito, SamplePoolSpec(users=5, groups=3))
    backup = export_backup(dr_cognito, pool.pool_id)
    _put(stack, backup, T0)

    since = len(stack.iam.decisions)
    result = stack.run({"user_pool_id": pool.pool_id, "mode": "sync", "target_user_pool_id": pool.pool_id})

    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert _config_writes(stack, since) == Counter(), _report(stack, result)["sync"]
    report = _report(stack, result)
    assert all(c["created"] == c["updated"] == 0 for c in report["sync"].values()), report["sync"]


def test_a_sync_and_its_dry_run_keep_to_the_state_contract(stack: RestoreStack, source_cognito: Any) -> None:
    """Every state, task event and result of a sync (groups continued over two turns) is typed (state.py)."""
    source = make_backup(stack, source_cognito, SamplePoolSpec(users=8, groups=3), when=T0)
    target = stack.run({"user_pool_id": source.pool_id}).output["new_user_pool_id"]
    _put(stack, _changed(source.backup), T0 + timedelta(hours=1))
    sync = {"user_pool_id": source.pool_id, "mode": "sync", "target_user_pool_id": target}

    since = len(stack.iam.decisions)
    with recorded_invocations(stack) as calls, short_lived(stack, {"RestoreGroupsFunction": 2}):
        result = stack.run(sync)
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    last = check_execution(stack, result, calls)
    restore = last["Verify restored pool"]["restore"]
    assert (restore["mode"], restore["target_pool_id"], restore["delete_missing"], restore["max_deletes"]) == (
        "sync",
        target,
        False,
        0,
    )
    assert [name for name, _, _ in calls].count("RestoreGroupsFunction") == 2  # a continuation
    writes = _config_writes(stack, since)
    assert writes["CreateGroup"] == 1 and writes["UpdateGroup"] == 1  # the second turn went on, not over

    with recorded_invocations(stack) as calls:
        dry = stack.run({**sync, "dry_run": True})
    assert dry.status == "SUCCEEDED", (dry.error, dry.cause)
    check_execution(stack, dry, calls)
