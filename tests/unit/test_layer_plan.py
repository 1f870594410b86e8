"""cognito_restore.plan.prepare_backup: validate the whole backup and split it into chunk files.

Checks that every backed-up user and membership is either planned or reported (skipped/failed) by
name, that chunk files and manifests are consistent, and that nothing is written for a bad backup.
"""

from __future__ import annotations

import io
import json
from collections import Counter
from datetime import UTC, datetime

import boto3
import pytest
from moto import mock_aws

from cognito_restore import plan as plan_module
from cognito_restore.errors import BackupInvalid
from cognito_restore.plan import MEMBERSHIP_ONLY_GROUP_NOTE, PreparedBackup, prepare_backup
from cognito_restore.state import PreparedPlan
from tools.sample_pool import SamplePoolSpec, build_source_pool, export_backup, group_names

POOL = "us-east-1_AbCdEf123"


class MemorySink:
    """The ChunkSink protocol in memory: expiring chunk files and durable objects under two prefixes."""

    def __init__(self) -> None:
        self.objects: dict[str, object] = {}

    def key(self, name: str) -> str:
        return f"restores/r-1/{name}"

    def chunk_key(self, name: str) -> str:
        return f"expiring/r-1/{name}"

    def put_json(self, key: str, value) -> str:
        assert key not in self.objects, f"{key} written twice"
        self.objects[key] = json.loads(json.dumps(value))  # must be JSON as-is
        return key


def user(username, status="CONFIRMED", enabled=True, **attrs):
    return {
        "Username": username,
        "Attributes": [{"Name": k, "Value": v} for k, v in attrs.items()],
        "Enabled": enabled,
        "UserStatus": status,
        "UserCreateDate": "2026-01-01 00:00:00+00:00",
    }


def document(users=(), memberships=None, groups=None, config=None, **extra) -> dict:
    doc = {
        "timestamp": "2026-11-02T10:14:07",
        "user_pool_id": POOL,
        "user_pool_config": {"Id": POOL, "Name": "prod-pool", **(config or {})},
        "app_clients": [],
        "users": list(users),
        "groups": [{"GroupName": g} for g in (groups or [])],
        "group_memberships": memberships or {},
        "identity_providers": [],
        "resource_servers": [],
        "user_pool_domain": {},
        "ui_customization": None,
    }
    doc.update(extra)
    return doc


def prepare(
    doc, *, sink=None, expected=POOL, user_chunk_size=1000, tmp_dir=None, raw: bytes | None = None
) -> tuple[PreparedBackup, MemorySink]:
    sink = sink or MemorySink()
    data = raw if raw is not None else json.dumps(doc).encode()
    prepared = prepare_backup(
        io.BytesIO(data), expected_pool_id=expected, sink=sink, user_chunk_size=user_chunk_size, tmp_dir=tmp_dir
    )
    return prepared, sink


def manifest_items(sink: MemorySink, manifest_key: str) -> list:
    items = []
    for entry in sink.objects[manifest_key]:
        chunk = sink.objects[entry["key"]]
        assert len(chunk) == entry["count"]
        items.extend(chunk)
    return items


def planned_users(sink, prepared):
    return manifest_items(sink, prepared.users_manifest_key)


def planned_memberships(sink, prepared):
    """Memberships travel with their user: (group, sign-in name, old username) per group of each planned user."""
    return [
        {"group": g, "username": u["create_username"], "old_username": u["old_username"]}
        for u in planned_users(sink, prepared)
        for g in u["groups"]
    ]


def problems(sink, prepared, category=None):
    found = manifest_items(sink, prepared.problems_manifest_key)
    return [p for p in found if category is None or p["category"] == category]


def parts(sink, prepared):
    return sink.objects[prepared.parts_key]


def assert_users_add_up(sink, prepared):
    assert prepared.planned["users"] == len(planned_users(sink, prepared))
    assert prepared.planned["users"] + len(problems(sink, prepared, "users")) == prepared.counts["users"]


def assert_memberships_add_up(sink, prepared):
    assert prepared.planned["memberships"] == len(planned_memberships(sink, prepared))
    assert (
        prepared.planned["memberships"] + len(problems(sink, prepared, "memberships")) == prepared.counts["memberships"]
    )


# --- chunking -----------------------------------------------------------------------------------


def test_users_are_split_into_chunks_with_a_manifest():
    doc = document(users=[user(f"u{i}") for i in range(5)])
    prepared, sink = prepare(doc, user_chunk_size=2)
    manifest = sink.objects[prepared.users_manifest_key]
    assert prepared.users_manifest_key == sink.key("users/manifest.json")
    assert [m["count"] for m in manifest] == [2, 2, 1]
    assert [m["index"] for m in manifest] == [0, 1, 2]
    assert all(set(m) == {"index", "key", "count"} for m in manifest)  # the users Map's items (state.ChunkItem)
    assert [m["key"] for m in manifest] == [sink.chunk_key(f"users/chunk-{i:06d}.json") for i in range(3)]
    assert prepared.user_chunks == 3 and prepared.planned["users"] == 5
    assert [u["old_username"] for u in planned_users(sink, prepared)] == [f"u{i}" for i in range(5)]


def test_exact_multiple_of_chunk_size_leaves_no_empty_chunk():
    prepared, sink = prepare(document(users=[user(f"u{i}") for i in range(4)]), user_chunk_size=2)
    assert [m["count"] for m in sink.objects[prepared.users_manifest_key]] == [2, 2]
    assert prepared.user_chunks == 2


def test_no_users_gives_empty_manifests():
    prepared, sink = prepare(document())
    assert sink.objects[prepared.users_manifest_key] == []
    assert sink.objects[prepared.problems_manifest_key] == []
    assert prepared.user_chunks == 0
    assert prepared.planned == {"users": 0, "memberships": 0, "identity_links": 0, "mfa_preferences": 0}


def test_each_user_carries_its_groups():
    users = [user(f"u{i}") for i in range(3)]
    memberships = {"b": ["u0", "u2"], "a": ["u0", "u1", "u2"]}
    prepared, sink = prepare(document(users, memberships), user_chunk_size=2)
    planned = {u["old_username"]: u["groups"] for u in planned_users(sink, prepared)}
    assert planned == {"u0": ["a", "b"], "u1": ["a"], "u2": ["a", "b"]}
    assert [u["old_username"] for u in planned_users(sink, prepared)] == ["u0", "u1", "u2"]  # backup order
    assert prepared.planned["memberships"] == 5


def test_problem_lists_are_chunked_and_do_not_expire(monkeypatch):
    monkeypatch.setattr(plan_module, "PROBLEM_CHUNK_SIZE", 2)
    doc = document(users=[user(f"Google_{i}", status="EXTERNAL_PROVIDER") for i in range(5)])
    prepared, sink = prepare(doc)
    manifest = sink.objects[prepared.problems_manifest_key]
    assert [m["count"] for m in manifest] == [2, 2, 1]
    # the report is written after the chunk files may have expired: problems are kept
    assert all(m["key"].startswith(sink.key("problems/")) for m in manifest)
    assert len(problems(sink, prepared, "users")) == 5


def test_manifest_counts_match_planned_totals():
    users = [user(f"u{i}") for i in range(7)]
    memberships = {"g": [f"u{i}" for i in range(7)]}
    prepared, sink = prepare(document(users, memberships), user_chunk_size=3)
    assert sum(m["count"] for m in sink.objects[prepared.users_manifest_key]) == prepared.planned["users"] == 7
    assert len(planned_memberships(sink, prepared)) == prepared.planned["memberships"] == 7


def test_chunk_items_are_user_plans():
    from cognito_restore.users import UserPlan

    prepared, sink = prepare(document([user("ada", email="ada@example.com", email_verified="true", sub="s-1")]))
    (item,) = planned_users(sink, prepared)
    plan = UserPlan.from_item(item)
    assert plan.create_username == "ada" and plan.old_sub == "s-1"
    assert {a["Name"] for a in plan.attributes} == {"email", "email_verified"}


# --- users --------------------------------------------------------------------------------------


def test_duplicate_user_planned_once_and_reported_once_as_skipped():
    doc = document([user("ada"), user("grace"), user("ada")])
    prepared, sink = prepare(doc)
    assert [u["old_username"] for u in planned_users(sink, prepared)] == ["ada", "grace"]
    dupes = problems(sink, prepared, "users")
    assert len(dupes) == 1
    assert dupes[0]["item"] == "ada" and dupes[0]["outcome"] == "skipped"
    assert_users_add_up(sink, prepared)


def test_duplicate_of_a_skipped_user_reported_once_more():
    doc = document([user("Google_1", status="EXTERNAL_PROVIDER"), user("Google_1", status="EXTERNAL_PROVIDER")])
    prepared, sink = prepare(doc)
    found = problems(sink, prepared, "users")
    assert [p["item"] for p in found] == ["Google_1", "Google_1"]
    assert {p["outcome"] for p in found} == {"skipped"}
    assert_users_add_up(sink, prepared)


def test_same_email_twice_in_email_pool_fails_one():
    config = {"UsernameAttributes": ["email"]}
    doc = document([user("uuid-1", email="ada@example.com"), user("uuid-2", email="ada@example.com")], config=config)
    prepared, sink = prepare(doc)
    planned = planned_users(sink, prepared)
    assert [(u["old_username"], u["create_username"]) for u in planned] == [("uuid-1", "ada@example.com")]
    (problem,) = problems(sink, prepared, "users")
    assert problem["item"] == "uuid-2" and problem["outcome"] == "failed"
    assert_users_add_up(sink, prepared)


def test_case_insensitive_pool_treats_case_variants_as_one_sign_in():
    config = {"UsernameConfiguration": {"CaseSensitive": False}}
    prepared, sink = prepare(document([user("Ada"), user("ada")], config=config))
    assert [u["old_username"] for u in planned_users(sink, prepared)] == ["Ada"]
    (problem,) = problems(sink, prepared, "users")
    assert problem["item"] == "ada" and problem["outcome"] == "failed"


def test_case_sensitive_pool_keeps_case_variants():
    prepared, sink = prepare(
        document([user("Ada"), user("ada")], config={"UsernameConfiguration": {"CaseSensitive": True}})
    )
    assert {u["old_username"] for u in planned_users(sink, prepared)} == {"Ada", "ada"}
    prepared, sink = prepare(document([user("Ada"), user("ada")]))  # default: case sensitive
    assert prepared.planned["users"] == 2


def test_email_pool_user_without_email_fails_and_is_named():
    config = {"UsernameAttributes": ["email"]}
    prepared, sink = prepare(document([user("uuid-1", email="ada@example.com"), user("uuid-2")], config=config))
    (problem,) = problems(sink, prepared, "users")
    assert problem == {"category": "users", "item": "uuid-2", "outcome": "failed", "reason": problem["reason"]}
    assert_users_add_up(sink, prepared)


def test_malformed_users_are_failed_by_name():
    doc = document(["just a string", {"Username": "bob", "Attributes": "nope", "UserStatus": "CONFIRMED"}, user("ok")])
    prepared, sink = prepare(doc)
    found = {p["item"]: p for p in problems(sink, prepared, "users")}
    assert found["bob"]["outcome"] == "failed"
    assert len(found) == 2 and all(p["outcome"] == "failed" for p in found.values())
    assert_users_add_up(sink, prepared)


def test_several_users_without_username_are_all_failed():
    prepared, sink = prepare(document([{"UserStatus": "CONFIRMED"}, {"UserStatus": "UNCONFIRMED"}, 7]))
    found = problems(sink, prepared, "users")
    assert len(found) == 3
    assert [p["outcome"] for p in found] == ["failed", "failed", "failed"]


def test_users_streamed_before_the_config_are_still_planned_with_the_pool_model():
    doc = document(
        [user("uuid-1", email="ada@example.com", **{"custom:tenant": "t1", "custom:undeclared": "x"})],
        config={
            "UsernameAttributes": ["email"],
            "SchemaAttributes": [{"Name": "custom:tenant", "AttributeDataType": "String"}],
        },
    )
    ordered = {"users": doc.pop("users"), **doc}
    assert next(iter(ordered)) == "users"
    prepared, sink = prepare(ordered)
    (planned,) = planned_users(sink, prepared)
    assert planned["create_username"] == "ada@example.com"
    names = {a["Name"] for a in planned["attributes"]}
    assert "custom:tenant" in names and "custom:undeclared" not in names


def test_key_order_does_not_change_the_plan():
    users = [user("ada", email="ada@example.com"), user("grace")]
    doc = document(users, {"g": ["ada", "nobody"]}, groups=["g"])
    reversed_doc = dict(reversed(list(doc.items())))
    a, sink_a = prepare(doc)
    b, sink_b = prepare(reversed_doc)
    assert planned_users(sink_a, a) == planned_users(sink_b, b)
    assert planned_memberships(sink_a, a) == planned_memberships(sink_b, b)
    assert sorted(map(json.dumps, problems(sink_a, a))) == sorted(map(json.dumps, problems(sink_b, b)))
    assert a.counts == b.counts


# --- memberships --------------------------------------------------------------------------------


def test_membership_of_unknown_user_is_failed_by_name():
    prepared, sink = prepare(document([user("ada")], {"admins": ["ada", "ghost"]}))
    (problem,) = problems(sink, prepared, "memberships")
    assert problem["outcome"] == "failed"
    assert "admins" in problem["item"] and "ghost" in problem["item"]
    assert [(m["group"], m["old_username"]) for m in planned_memberships(sink, prepared)] == [("admins", "ada")]
    assert_memberships_add_up(sink, prepared)


def test_membership_of_federated_user_is_skipped():
    users = [user("Google_1", status="EXTERNAL_PROVIDER"), user("ada")]
    prepared, sink = prepare(document(users, {"admins": ["Google_1", "ada"]}))
    (problem,) = problems(sink, prepared, "memberships")
    assert problem["outcome"] == "skipped" and "Google_1" in problem["item"] and "admins" in problem["item"]
    assert_memberships_add_up(sink, prepared)


def test_membership_of_failed_user_is_not_planned_but_reported():
    config = {"UsernameAttributes": ["email"]}
    users = [user("uuid-1", email="a@example.com"), user("uuid-2")]
    prepared, sink = prepare(document(users, {"g": ["uuid-1", "uuid-2"]}, config=config))
    assert [m["old_username"] for m in planned_memberships(sink, prepared)] == ["uuid-1"]
    (problem,) = problems(sink, prepared, "memberships")
    assert "uuid-2" in problem["item"] and problem["outcome"] in ("skipped", "failed")
    assert_memberships_add_up(sink, prepared)


def test_memberships_in_email_pool_use_the_new_sign_in_name():
    config = {"UsernameAttributes": ["email"]}
    users = [user("uuid-1", email="ada@example.com"), user("uuid-2", email="grace@example.com")]
    prepared, sink = prepare(document(users, {"admins": ["uuid-2", "uuid-1"]}, config=config))
    items = sorted(planned_memberships(sink, prepared), key=lambda m: m["old_username"])
    assert items == [
        {"group": "admins", "username": "ada@example.com", "old_username": "uuid-1"},
        {"group": "admins", "username": "grace@example.com", "old_username": "uuid-2"},
    ]


def test_duplicate_membership_planned_once_and_skipped_once():
    prepared, sink = prepare(document([user("ada")], {"g": ["ada", "ada"]}))
    assert prepared.planned["memberships"] == 1
    (problem,) = problems(sink, prepared, "memberships")
    assert problem["outcome"] == "skipped" and "ada" in problem["item"]
    assert_memberships_add_up(sink, prepared)


def test_non_string_members_are_failed():
    prepared, sink = prepare(document([user("ada")], {"g": ["ada", 5, None, {"Username": "ada"}]}))
    found = problems(sink, prepared, "memberships")
    assert len(found) == 3 and {p["outcome"] for p in found} == {"failed"}
    assert prepared.planned["memberships"] == 1
    assert_memberships_add_up(sink, prepared)


# --- groups -------------------------------------------------------------------------------------


def test_groups_only_named_by_memberships_are_added_with_a_note():
    doc = document([user("ada")], {"admins": ["ada"], "group-061": ["ada"]}, groups=["admins"])
    doc["groups"][0].update(
        {
            "Description": "Admins",
            "Precedence": 0,
            "RoleArn": "arn:aws:iam::1:role/r",
            "UserPoolId": POOL,
            "CreationDate": "2026-01-01",
        }
    )
    prepared, sink = prepare(doc)
    to_create = parts(sink, prepared)["groups_to_create"]
    by_name = {g["GroupName"]: g for g in to_create}
    assert set(by_name) == {"admins", "group-061"}
    assert by_name["admins"]["Description"] == "Admins" and "_note" not in by_name["admins"]
    assert by_name["group-061"]["_note"] == MEMBERSHIP_ONLY_GROUP_NOTE
    assert prepared.counts["groups"] == 2
    assert prepared.planned["memberships"] == 2


def test_group_with_members_that_are_all_unknown_is_still_created():
    prepared, sink = prepare(document([], {"orphans": ["ghost"]}))
    assert [g["GroupName"] for g in parts(sink, prepared)["groups_to_create"]] == ["orphans"]


def test_listed_group_without_members_is_created():
    prepared, sink = prepare(document([], {}, groups=["empty"]))
    assert [g["GroupName"] for g in parts(sink, prepared)["groups_to_create"]] == ["empty"]
    assert prepared.counts["groups"] == 1


def test_group_without_name_is_not_lost_silently():
    doc = document([], {}, groups=["ok"])
    doc["groups"].append({"Description": "no name"})
    try:
        prepared, sink = prepare(doc)
    except BackupInvalid:
        return  # rejecting the backup is acceptable too
    found = problems(sink, prepared, "groups")
    assert prepared.counts["groups"] == 2 and len(found) == 1 and found[0]["outcome"] == "failed"


# --- counts -------------------------------------------------------------------------------------


def test_counts_add_up_with_every_kind_of_problem():
    config = {"UsernameAttributes": ["email"], "UsernameConfiguration": {"CaseSensitive": False}}
    users = [
        user("u1", email="one@example.com"),
        user("u2", email="two@example.com", status="UNCONFIRMED", enabled=False),
        user("u1", email="one@example.com"),  # duplicate
        user("u3", email="ONE@example.com"),  # same sign-in (case-insensitive)
        user("u4"),  # no email
        user("Google_9", status="EXTERNAL_PROVIDER"),
        user("u5", email="five@example.com", status="MYSTERY"),  # unknown status
        {"Username": "u6", "Attributes": {}, "UserStatus": "CONFIRMED"},
        "garbage",
    ]
    memberships = {"a": ["u1", "u2", "u3", "u4", "Google_9", "nobody", "u1", 3], "b": ["u2", "u5"], "c": None}
    prepared, sink = prepare(document(users, memberships, groups=["a"], config=config), user_chunk_size=1)
    assert prepared.counts["users"] == len(users)
    assert prepared.counts["memberships"] == 10
    assert_users_add_up(sink, prepared)
    assert_memberships_add_up(sink, prepared)
    assert {u["old_username"] for u in planned_users(sink, prepared)} == {"u1", "u2"}
    assert {(m["group"], m["old_username"]) for m in planned_memberships(sink, prepared)} == {
        ("a", "u1"),
        ("a", "u2"),
        ("b", "u2"),
    }
    outcomes = Counter((p["category"], p["outcome"]) for p in problems(sink, prepared))
    assert outcomes[("users", "skipped")] == 2  # duplicate u1, Google_9
    assert outcomes[("users", "failed")] == 5  # u3, u4, u5, u6, garbage
    assert outcomes[("memberships", "failed")] == 2  # nobody, 3
    every_problem_has_a_reason = all(p["reason"] for p in problems(sink, prepared))
    assert every_problem_has_a_reason


def test_other_category_counts():
    doc = document(
        config={"Domain": "my-prefix", "CustomDomain": "auth.example.com"},
        app_clients=[{"ClientId": "a", "ClientName": "a"}, {"ClientId": "b", "ClientName": "b"}],
        identity_providers=[{"ProviderName": "Google", "ProviderType": "Google"}],
        resource_servers=[
            {"Identifier": "x", "Name": "x"},
            {"Identifier": "y", "Name": "y"},
            {"Identifier": "z", "Name": "z"},
        ],
        ui_customization={"CSS": ".x{}"},
        risk_configuration={"CompromisedCredentialsRiskConfiguration": {"Actions": {"EventAction": "BLOCK"}}},
        waf_configuration={"WebACLArn": "arn:aws:wafv2:us-west-2:1:regional/webacl/x/1"},
    )
    prepared, _ = prepare(doc)
    assert prepared.counts == {
        "users": 0,
        "groups": 0,
        "memberships": 0,
        "app_clients": 2,
        "identity_providers": 1,
        "resource_servers": 3,
        "domain": 2,
        "lambda_triggers": 0,
        "ui_customization": 1,
        "threat_protection": 1,
        "waf": 1,
    }


def test_absent_optional_sections_count_zero():
    doc = document(ui_customization=None, user_pool_domain=None, app_clients=None, identity_providers=None)
    prepared, _ = prepare(doc)
    assert prepared.counts["app_clients"] == prepared.counts["ui_customization"] == prepared.counts["domain"] == 0


# --- the prepared result --------------------------------------------------------------------------


def test_prepared_state_is_pointers_and_counts_only():
    doc = document(
        [user("ada", email="ada@example.com")],
        {"g": ["ada"]},
        app_clients=[{"ClientId": "c", "ClientName": "web", "ClientSecret": "TopSecretValue123456789"}],
    )
    prepared, sink = prepare(doc)
    state = prepared.to_state()
    text = json.dumps(state)
    assert "ada@example.com" not in text and "TopSecretValue" not in text and '"ada"' not in text
    assert state["backup_timestamp"] == "2026-11-02T10:14:07"
    assert set(state) == set(PreparedPlan.__required_keys__)
    for key in ("parts_key", "users_manifest_key", "problems_manifest_key"):
        assert state[key] in sink.objects


def test_parts_hold_the_small_sections_not_users_or_memberships():
    doc = document([user("ada", email="ada@example.com")], {"g": ["ada"]}, groups=["g"])
    prepared, sink = prepare(doc)
    stored = parts(sink, prepared)
    assert stored["user_pool_config"] == doc["user_pool_config"]
    assert stored["groups"] == doc["groups"]
    assert "users" not in stored and "group_memberships" not in stored
    assert "ada@example.com" not in json.dumps(stored)


# --- nothing is written for a bad backup ------------------------------------------------------------


def test_pool_id_mismatch_with_the_key_is_invalid_and_writes_nothing(tmp_path):
    sink = MemorySink()
    with pytest.raises(BackupInvalid) as info:
        prepare(document([user("ada")]), sink=sink, expected="us-east-1_Different1", tmp_dir=str(tmp_path))
    assert "us-east-1_Different1" in str(info.value) and POOL in str(info.value)
    assert sink.objects == {}
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("cut", [0.3, 0.6, 0.95])
def test_truncated_backup_leaves_nothing_a_later_phase_could_use(tmp_path, cut):
    """Chunk files may already be streamed out (they expire), but no manifest or parts: nothing restores from them."""
    data = json.dumps(document([user(f"u{i}") for i in range(50)], {"g": [f"u{i}" for i in range(50)]})).encode()
    sink = MemorySink()
    with pytest.raises(BackupInvalid):
        prepare(None, sink=sink, raw=data[: int(len(data) * cut)], user_chunk_size=5, tmp_dir=str(tmp_path))
    assert [k for k in sink.objects if k.endswith("manifest.json") or k.endswith("parts.json")] == []
    assert all(k.startswith("expiring/") for k in sink.objects)
    assert list(tmp_path.iterdir()) == []


def test_temporary_files_are_removed_after_success(tmp_path):
    doc = {"users": [user(f"u{i}") for i in range(10)], **document()}
    prepare(doc, tmp_dir=str(tmp_path))
    assert list(tmp_path.iterdir()) == []


# --- a real producer-shaped backup (moto + tools.sample_pool) ---------------------------------------


@pytest.fixture(scope="module")
def producer_backups():
    with mock_aws():
        cognito = boto3.client("cognito-idp", region_name="us-east-1")
        many = build_source_pool(cognito, SamplePoolSpec(name="many-groups", users=40, groups=65, seed=3))
        email = build_source_pool(cognito, SamplePoolSpec(name="email-pool", users=25, username_mode="email", seed=5))
        when = datetime(2026, 11, 2, 10, 14, 7, tzinfo=UTC)
        yield export_backup(cognito, many.pool_id, now=when), export_backup(cognito, email.pool_id, now=when)


def test_producer_backup_with_65_groups(producer_backups):
    backup, _ = producer_backups
    assert len(backup["groups"]) == 60  # the producer's quirk
    prepared, sink = prepare(backup, expected=backup["user_pool_id"], user_chunk_size=7)
    to_create = parts(sink, prepared)["groups_to_create"]
    assert sorted(g["GroupName"] for g in to_create) == sorted(group_names(65))
    extra = [g for g in to_create if g.get("_note") == MEMBERSHIP_ONLY_GROUP_NOTE]
    assert len(extra) == 5
    assert not set(g["GroupName"] for g in extra) & {g["GroupName"] for g in backup["groups"]}
    assert prepared.counts["groups"] == 65
    # every user and membership of the producer's backup is planned
    assert prepared.counts["users"] == prepared.planned["users"] == 40
    expected_memberships = sum(len(v) for v in backup["group_memberships"].values())
    assert prepared.counts["memberships"] == prepared.planned["memberships"] == expected_memberships
    assert problems(sink, prepared) == []
    # Users who can sign in fill the first chunk files, the others the later ones: each class ends in a partial chunk.
    can_sign_in = sum(1 for u in backup["users"] if u["Enabled"] and u["UserStatus"] == "CONFIRMED")
    assert prepared.sign_in_chunks == -(-can_sign_in // 7)
    assert prepared.user_chunks == -(-can_sign_in // 7) + -(-(40 - can_sign_in) // 7)
    assert_users_add_up(sink, prepared)
    assert_memberships_add_up(sink, prepared)
    # statuses and disabled flags carried over
    by_name = {u["old_username"]: u for u in planned_users(sink, prepared)}
    for raw in backup["users"]:
        planned = by_name[raw["Username"]]
        assert planned["status"] == raw["UserStatus"] and planned["enabled"] == raw["Enabled"]
        assert planned["set_permanent_password"] == (raw["UserStatus"] in ("CONFIRMED", "RESET_REQUIRED"))
        backed_up = {a["Name"]: a["Value"] for a in raw["Attributes"]}
        kept = {a["Name"]: a["Value"] for a in planned["attributes"]}
        assert kept == {k: v for k, v in backed_up.items() if k != "sub"}
        assert planned["old_sub"] == backed_up["sub"]


def test_producer_email_pool_plans_by_email(producer_backups):
    _, backup = producer_backups
    prepared, sink = prepare(backup, expected=backup["user_pool_id"], user_chunk_size=10)
    emails = {u["Username"]: {a["Name"]: a["Value"] for a in u["Attributes"]}["email"] for u in backup["users"]}
    users = planned_users(sink, prepared)
    assert len(users) == 25 and problems(sink, prepared) == []
    assert all(u["create_username"] == emails[u["old_username"]] for u in users)
    for membership in planned_memberships(sink, prepared):
        assert membership["username"] == emails[membership["old_username"]]
    assert prepared.planned["memberships"] == sum(len(v) for v in backup["group_memberships"].values())
    text = json.dumps(prepared.to_state())
    assert not any(e in text for e in emails.values())
    assert not any(c.get("ClientSecret", "\0") in text for c in backup["app_clients"])


def test_the_password_policy_travels_in_the_plan():
    """User chunks make random passwords from it without reading the backup parts (which hold secrets)."""
    policy = {"MinimumLength": 40, "RequireSymbols": True}
    doc = document([user("u0")])
    doc["user_pool_config"]["Policies"] = {"PasswordPolicy": policy}
    prepared, _ = prepare(doc)
    assert prepared.password_policy == policy
    assert prepared.to_state()["password_policy"] == policy
