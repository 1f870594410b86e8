"""cognito_restore.sync_users: the sync's partitions, the per-user diff, the target listing and deletions."""

from __future__ import annotations

import io
import json
from collections import Counter
from typing import Any

import boto3
import pytest
from moto import mock_aws

from cognito_restore.chunks import ChunkOutcome
from cognito_restore.plan import prepare_backup
from cognito_restore.sync_users import (
    KEPT_NOT_IN_BACKUP,
    KEPT_OVER_CAP,
    SyncOptions,
    diff_user,
    finish_partition,
    new_sync_counts,
    partition_of,
    read_target,
    sign_in_key,
    sync_user,
    target_sign_in,
)
from cognito_restore.users import UserPlan
from tests.unit.test_layer_plan import POOL, MemorySink, document, user


def plan(**changes: Any) -> UserPlan:
    base = {
        "old_username": "alice",
        "create_username": "alice",
        "attributes": [{"Name": "email", "Value": "a@example.com"}, {"Name": "email_verified", "Value": "true"}],
        "status": "CONFIRMED",
        "target_status": "CONFIRMED",
        "enabled": True,
        "set_permanent_password": True,
        "groups": ["admins"],
    }
    return UserPlan(**{**base, **changes})


def target(**changes: Any) -> dict[str, Any]:
    base = {
        "key": "alice",
        "username": "alice",
        "attributes": [
            {"Name": "email", "Value": "a@example.com"},
            {"Name": "email_verified", "Value": "true"},
            {"Name": "sub", "Value": "0000-sub"},
        ],
        "status": "CONFIRMED",
        "enabled": True,
        "mfa_options": [],
        "groups": ["admins"],
    }
    return {**base, **changes}


# ---------------------------------------------------------------- keys and partitions


def test_partitions_are_stable_and_spread() -> None:
    keys = [f"user{i}" for i in range(4000)]
    parts = Counter(partition_of(k, 8) for k in keys)
    assert set(parts) == set(range(8))
    assert max(parts.values()) < 1.2 * 4000 / 8  # a hash, not a range: chunks stay near their size
    assert partition_of("alice", 8) == 7  # sha256: the same in every process


def test_the_sign_in_name_is_the_key_never_the_sub() -> None:
    listed = {"Username": "1d2c-uuid", "Attributes": [{"Name": "email", "Value": "A@Example.com"}]}
    assert target_sign_in(listed, ("email",)) == "A@Example.com"
    assert target_sign_in(listed, ()) == "1d2c-uuid"
    assert target_sign_in({"Username": "x", "Attributes": []}, ("email", "phone_number")) is None
    assert sign_in_key("A@Example.com", case_sensitive=False) == "a@example.com"
    assert sign_in_key("A@Example.com", case_sensitive=True) == "A@Example.com"


def test_sync_preparation_puts_each_user_in_the_chunk_of_its_partition() -> None:
    users = [user(f"user{i:03d}", email=f"u{i}@example.com") for i in range(120)]
    sink = MemorySink()
    doc = document(users, config={"UsernameConfiguration": {"CaseSensitive": False}})
    prepared = prepare_backup(
        io.BytesIO(json.dumps(doc).encode()),
        expected_pool_id=POOL,
        sink=sink,
        user_chunk_size=25,
        partition_by_sign_in=True,
    )
    assert prepared.user_chunks == 5  # ceil(120 / 25), empty partitions included
    manifest = sink.objects[prepared.users_manifest_key]
    assert [c["index"] for c in manifest] == list(range(5))
    assert sum(c["count"] for c in manifest) == 120
    for chunk in manifest:
        for item in sink.objects[chunk["key"]]:
            assert partition_of(item["create_username"].lower(), 5) == chunk["index"]


def test_sync_preparation_of_a_tiny_backup_writes_every_partition() -> None:
    sink = MemorySink()
    doc = document([user("only")])
    prepared = prepare_backup(
        io.BytesIO(json.dumps(doc).encode()),
        expected_pool_id=POOL,
        sink=sink,
        user_chunk_size=1,
        partition_by_sign_in=True,
    )
    assert prepared.user_chunks == 1
    assert [c["count"] for c in sink.objects[prepared.users_manifest_key]] == [1]


# ---------------------------------------------------------------- the diff


def test_an_identical_user_needs_no_write() -> None:
    diff = diff_user(plan(), target())
    assert not diff.writes and diff.changes() == []


def test_an_absent_verified_flag_is_false() -> None:
    wanted = plan(attributes=[{"Name": "email", "Value": "a@example.com"}])
    listed = target(
        attributes=[{"Name": "email", "Value": "a@example.com"}, {"Name": "email_verified", "Value": "false"}]
    )
    assert not diff_user(wanted, listed).writes


def test_every_kind_of_difference_is_a_write() -> None:
    wanted = plan(
        attributes=[{"Name": "email", "Value": "new@example.com"}, {"Name": "given_name", "Value": "Al"}],
        enabled=False,
        groups=["staff"],
        links=[{"provider_name": "Google", "provider_type": "Google", "user_id": "123"}],
    )
    listed = target(
        status="FORCE_CHANGE_PASSWORD",
        attributes=[*target()["attributes"], {"Name": "custom:old", "Value": "x"}],
        mfa_options=[{"DeliveryMedium": "SMS", "AttributeName": "phone_number"}],
    )
    diff = diff_user(wanted, listed)
    assert diff.set_attributes == {"email": "new@example.com", "given_name": "Al", "email_verified": "false"}
    assert diff.delete_attributes == ["custom:old"]
    assert diff.enable is False and diff.confirm == "password" and diff.sms_mfa is False
    assert diff.add_groups == ["staff"] and diff.remove_groups == ["admins"]
    assert [link["provider_name"] for link in diff.add_links] == ["Google"]
    assert "attributes set: email, email_verified, given_name" in diff.changes()


def test_status_moves_cognito_forbids_are_reported_not_tried() -> None:
    diff = diff_user(plan(target_status="FORCE_CHANGE_PASSWORD", status="FORCE_CHANGE_PASSWORD"), target())
    assert diff.confirm is None and "CONFIRMED kept" in (diff.status_kept or "")
    assert not diff.writes
    assert diff_user(plan(), target(status="UNCONFIRMED")).confirm == "sign_up"  # keeps the user's password


def test_an_immutable_attribute_that_differs_is_kept() -> None:
    wanted = plan(attributes=[*plan().attributes, {"Name": "custom:tenant", "Value": "b"}])
    listed = target(attributes=[*target()["attributes"], {"Name": "custom:tenant", "Value": "a"}])
    diff = diff_user(wanted, listed, immutable=frozenset({"custom:tenant"}))
    assert diff.immutable_differs == ["custom:tenant"] and not diff.set_attributes


# ---------------------------------------------------------------- against (strict) moto


@pytest.fixture
def cognito() -> Any:
    with mock_aws():
        yield boto3.client("cognito-idp", region_name="us-west-2")


def _pool(cognito: Any, users: int, groups: int = 2) -> str:
    pool = cognito.create_user_pool(PoolName="target")["UserPool"]["Id"]
    for g in range(groups):
        cognito.create_group(UserPoolId=pool, GroupName=f"g{g}")
    for i in range(users):
        cognito.admin_create_user(
            UserPoolId=pool,
            Username=f"user{i:03d}",
            UserAttributes=[{"Name": "email", "Value": f"u{i}@example.com"}],
            MessageAction="SUPPRESS",
        )
        cognito.admin_add_user_to_group(UserPoolId=pool, Username=f"user{i:03d}", GroupName=f"g{i % groups}")
    return pool


def _caller(cognito: Any, calls: Counter[str]) -> Any:
    methods = {"ListUsers": "list_users", "ListUsersInGroup": "list_users_in_group", "ListGroups": "list_groups"}

    def call(operation: str, **params: Any) -> dict[str, Any]:
        calls[operation] += 1
        result: dict[str, Any] = getattr(cognito, methods[operation])(**params)
        return result

    return call


def test_the_target_is_read_in_pages_and_partitioned(cognito: Any) -> None:
    pool = _pool(cognito, 130)
    calls: Counter[str] = Counter()
    backup_keys = {f"user{i:03d}" for i in range(125)}
    snapshot = read_target(_caller(cognito, calls), pool, 4, (), True, backup_keys, SyncOptions())
    assert calls == {"ListUsers": 3, "ListGroups": 1, "ListUsersInGroup": 4}  # 130 users, 65 per group
    assert snapshot.users == 130 and snapshot.memberships == 130
    entries = [e for part in snapshot.partitions for e in part]
    assert all(partition_of(e["key"], 4) == i for i, part in enumerate(snapshot.partitions) for e in part)
    only = sorted(e["key"] for e in entries if "action" in e)
    assert only == [f"user{i}" for i in range(125, 130)]
    assert all(e["action"] == "keep" and e["reason"] == KEPT_NOT_IN_BACKUP for e in entries if "action" in e)


def test_deletions_stop_at_max_deletes_and_the_rest_is_named(cognito: Any) -> None:
    pool = _pool(cognito, 10)
    snapshot = read_target(
        _caller(cognito, Counter()), pool, 1, (), True, {"user000"}, SyncOptions(delete_missing=True, max_deletes=4)
    )
    assert (snapshot.target_only, snapshot.to_delete, snapshot.kept) == (9, 4, 5)
    outcome = ChunkOutcome(0, cognito=cognito, sync=new_sync_counts())
    finish_partition(pool, snapshot.partitions[0], outcome)
    assert [d["item"] for d in outcome.sync["deleted"]] == ["user001", "user002", "user003", "user004"]
    assert {k["reason"] for k in outcome.sync["kept"]} == {KEPT_OVER_CAP}
    assert len(outcome.sync["kept"]) == 5
    assert len(cognito.list_users(UserPoolId=pool)["Users"]) == 6
    finish_partition(pool, snapshot.partitions[0], outcome)  # a throttled turn again: nothing twice
    assert len(outcome.sync["deleted"]) == 4 and outcome.calls["AdminDeleteUser"] == 4


def test_a_user_is_synced_with_the_fewest_writes_and_a_second_pass_writes_nothing(cognito: Any) -> None:
    pool = _pool(cognito, 1)
    wanted = plan(
        old_username="user000",
        create_username="user000",
        attributes=[{"Name": "email", "Value": "new@example.com"}, {"Name": "email_verified", "Value": "true"}],
        enabled=False,
        groups=["g1"],
    )

    def snapshot() -> dict[str, Any]:
        [part] = read_target(_caller(cognito, Counter()), pool, 1, (), True, {"user000"}, SyncOptions()).partitions
        return dict(part[0])

    outcome = ChunkOutcome(0, cognito=cognito, sync=new_sync_counts())
    sync_user(pool, wanted, snapshot(), {}, outcome)
    assert outcome.calls == {
        "AdminUpdateUserAttributes": 1,
        "AdminSetUserPassword": 1,
        "AdminDisableUser": 1,
        "AdminAddUserToGroup": 1,
        "AdminRemoveUserFromGroup": 1,
    }
    assert outcome.sync["updated"] == 1 and outcome.restored == 1 and outcome.memberships_restored == 1
    listed = cognito.admin_get_user(UserPoolId=pool, Username="user000")
    assert {a["Name"]: a["Value"] for a in listed["UserAttributes"]}["email"] == "new@example.com"
    assert listed["UserStatus"] == "CONFIRMED" and listed["Enabled"] is False

    again = ChunkOutcome(0, cognito=cognito, sync=new_sync_counts())
    sync_user(pool, wanted, snapshot(), {}, again)
    assert again.calls == {} and again.sync["unchanged"] == 1


def test_a_changed_email_never_asks_cognito_for_a_code(cognito: Any) -> None:
    """The new value goes with email_verified true in the same request; a false flag is set after."""
    pool = cognito.create_user_pool(PoolName="t", AutoVerifiedAttributes=["email"])["UserPool"]["Id"]
    cognito.admin_create_user(
        UserPoolId=pool,
        Username="bob",
        UserAttributes=[{"Name": "email", "Value": "b@example.com"}],
        MessageAction="SUPPRESS",
    )
    sent: list[dict[str, Any]] = []
    cognito.meta.events.register(
        "before-parameter-build.cognito-identity-provider.AdminUpdateUserAttributes",
        lambda params=None, **_: sent.append(params),
    )
    wanted = plan(
        old_username="bob", create_username="bob", attributes=[{"Name": "email", "Value": "c@example.com"}], groups=[]
    )
    [part] = read_target(_caller(cognito, Counter()), pool, 1, (), True, {"bob"}, SyncOptions()).partitions
    sync_user(pool, wanted, part[0], {}, ChunkOutcome(0, cognito=cognito, sync=new_sync_counts()))
    first, second = (dict((a["Name"], a["Value"]) for a in p["UserAttributes"]) for p in sent)
    assert first == {"email": "c@example.com", "email_verified": "true"}
    assert second == {"email_verified": "false"}
