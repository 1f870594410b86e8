"""Tests for tools.sample_pool (the SOURCE pool fixture generator and producer export) on moto."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import UTC, datetime

import boto3
import pytest
from moto import mock_aws

from tools.emulation.cognito import strict_cognito
from tools.sample_pool import (
    ADMIN_ROLE_ARN,
    CLIENT_BACKEND,
    CLIENT_MOBILE,
    CLIENT_WEB,
    SamplePoolSpec,
    backup_key,
    build_source_pool,
    domain_prefix,
    export_backup,
    group_names,
    intended_disabled_counts,
    intended_status_counts,
    write_backup,
)

REGION = "us-east-1"
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
DATETIME_STR_RE = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d+)?\+00:00$")
TOP_LEVEL_KEYS = [
    "timestamp",
    "user_pool_id",
    "user_pool_config",
    "app_clients",
    "users",
    "groups",
    "group_memberships",
    "identity_providers",
    "resource_servers",
    "user_pool_domain",
    "ui_customization",
]


def _attrs(user: dict) -> dict[str, str]:
    return {a["Name"]: a["Value"] for a in user["Attributes"]}


@pytest.fixture(scope="module")
def aws():
    # Strict Cognito, as every stack builds it: plain moto's UpdateUserPool (which the builder uses
    # after signing up its UNCONFIRMED users) drops the creation-only settings.
    with mock_aws(), strict_cognito():
        yield boto3.client("cognito-idp", region_name=REGION), boto3.client("s3", region_name=REGION)


@pytest.fixture(scope="module")
def username_pool(aws):
    cognito, _ = aws
    spec = SamplePoolSpec(name="Sample_Pool", users=200)
    pool = build_source_pool(cognito, spec)
    now = datetime(2026, 11, 2, 10, 14, 7, tzinfo=UTC)
    return pool, export_backup(cognito, pool.pool_id, now=now)


@pytest.fixture(scope="module")
def email_pool(aws):
    cognito, _ = aws
    spec = SamplePoolSpec(name="email-pool", users=40, username_mode="email", seed=11)
    pool = build_source_pool(cognito, spec)
    return pool, export_backup(cognito, pool.pool_id)


def test_status_mix_and_disabled(username_pool):
    _pool, backup = username_pool
    users = backup["users"]
    assert len(users) == 200
    assert Counter(u["UserStatus"] for u in users) == Counter(intended_status_counts(200))
    assert intended_status_counts(200) == {
        "CONFIRMED": 140,
        "FORCE_CHANGE_PASSWORD": 30,
        "UNCONFIRMED": 20,
        "RESET_REQUIRED": 10,
    }
    disabled = Counter(u["UserStatus"] for u in users if not u["Enabled"])
    assert disabled == Counter(intended_disabled_counts(200))
    assert sum(disabled.values()) == 20
    assert set(disabled) == {"CONFIRMED", "FORCE_CHANGE_PASSWORD", "UNCONFIRMED", "RESET_REQUIRED"}


def test_user_attributes(username_pool):
    _, backup = username_pool
    users = backup["users"]
    attrs = [_attrs(u) for u in users]
    verified = Counter(a.get("email_verified") for a in attrs)
    assert verified["true"] == 140 and verified["false"] > 0
    for user, a in zip(users, attrs, strict=False):
        assert re.fullmatch(r"user\d{4}", user["Username"])
        assert a["email"] == f"{user['Username']}@example.com"
        assert UUID_RE.match(a["sub"])
        if user["UserStatus"] == "RESET_REQUIRED":
            assert a["email_verified"] == "true"
        if "phone_number" in a:
            assert re.fullmatch(r"\+1555\d{7}", a["phone_number"])
    assert len({a["email"] for a in attrs}) == 200
    assert len({a["phone_number"] for a in attrs if "phone_number" in a}) == sum("phone_number" in a for a in attrs)
    assert 60 < sum("phone_number" in a for a in attrs) < 140
    for name in ("custom:tenant_id", "custom:plan", "custom:employee_number"):
        assert all(name in a for a in attrs)
    for name in ("custom:loyalty_tier_code_x", "custom:signup_source", "dev:custom:legacy_id"):
        assert 0 < sum(name in a for a in attrs) < 200


def test_pool_config(username_pool):
    pool, backup = username_pool
    cfg = backup["user_pool_config"]
    assert cfg["Id"] == pool.pool_id == backup["user_pool_id"]
    schema = {a["Name"]: a for a in cfg["SchemaAttributes"]}
    assert schema["email"]["Required"] is True
    assert schema["custom:tenant_id"]["StringAttributeConstraints"] == {"MinLength": "3", "MaxLength": "36"}
    assert schema["custom:employee_number"]["NumberAttributeConstraints"] == {"MinValue": "1", "MaxValue": "999999"}
    assert len("loyalty_tier_code_x") == 19 and "custom:loyalty_tier_code_x" in schema
    assert schema["custom:signup_source"]["Mutable"] is False
    assert schema["dev:custom:legacy_id"]["DeveloperOnlyAttribute"] is True
    assert cfg["Policies"]["PasswordPolicy"]["MinimumLength"] == 10
    assert cfg["MfaConfiguration"] == "OPTIONAL"
    assert cfg["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    assert cfg["UserPoolTags"] == {"team": "identity", "env": "test"}
    assert cfg["DeletionProtection"] == "ACTIVE"
    assert cfg["UsernameConfiguration"] == {"CaseSensitive": False}
    assert "UsernameAttributes" not in cfg
    assert cfg["Domain"] == pool.domain == domain_prefix(pool.spec) == "sample-pool-7"


def test_export_shape(username_pool):
    pool, backup = username_pool
    assert list(backup) == TOP_LEVEL_KEYS
    assert backup["timestamp"] == "2026-11-02T10:14:07"
    assert json.loads(json.dumps(backup)) == backup

    clients = {c["ClientName"]: c for c in backup["app_clients"]}
    assert set(clients) == {CLIENT_WEB, CLIENT_BACKEND, CLIENT_MOBILE}
    assert {n: c["ClientId"] for n, c in clients.items()} == pool.client_ids
    assert clients[CLIENT_BACKEND]["ClientSecret"]
    assert "ClientSecret" not in clients[CLIENT_WEB]
    assert clients[CLIENT_WEB]["SupportedIdentityProviders"] == ["COGNITO", "CorpOIDC"]

    groups = backup["groups"]
    assert [g["GroupName"] for g in groups] == group_names(4)
    assert [g.get("RoleArn") for g in groups].count(ADMIN_ROLE_ARN) == 1
    memberships = backup["group_memberships"]
    assert set(memberships) == set(group_names(4))
    assert all(memberships.values())
    usernames = {u["Username"] for u in backup["users"]}
    per_user = Counter(name for members in memberships.values() for name in members)
    assert set(per_user) <= usernames and max(per_user.values()) <= 3

    (idp,) = backup["identity_providers"]
    assert idp["ProviderName"] == "CorpOIDC" and idp["ProviderType"] == "OIDC"
    assert idp["ProviderDetails"]["client_secret"].startswith("oidc-secret-")
    assert idp["AttributeMapping"] == {"email": "email"}
    (rs,) = backup["resource_servers"]
    assert rs["Identifier"] == "https://api.example.com"
    assert {s["ScopeName"] for s in rs["Scopes"]} == {"orders.read", "orders.write"}
    assert backup["user_pool_domain"] == {}
    assert backup["ui_customization"] == {}  # strict Cognito serves GetUICustomization (plain moto raises: None)

    # datetimes went through json.dumps(default=str)
    assert DATETIME_STR_RE.match(backup["user_pool_config"]["CreationDate"])
    assert DATETIME_STR_RE.match(backup["users"][0]["UserCreateDate"])
    assert DATETIME_STR_RE.match(groups[0]["CreationDate"])


def test_build_is_deterministic(aws):
    cognito, _ = aws
    spec = SamplePoolSpec(name="again", users=30, seed=7, with_domain=False)
    a = export_backup(cognito, build_source_pool(cognito, spec).pool_id)
    b = export_backup(cognito, build_source_pool(cognito, spec).pool_id)

    def stable(backup: dict) -> list:
        return [
            (u["Username"], u["UserStatus"], u["Enabled"], sorted((k, v) for k, v in _attrs(u).items() if k != "sub"))
            for u in backup["users"]
        ]

    assert stable(a) == stable(b)
    assert a["group_memberships"] == b["group_memberships"]
    assert "Domain" not in a["user_pool_config"]


def test_email_mode_usernames_are_subs(email_pool):
    _pool, backup = email_pool
    assert backup["user_pool_config"]["UsernameAttributes"] == ["email"]
    users = backup["users"]
    assert len(users) == 40
    for user in users:
        a = _attrs(user)
        assert UUID_RE.match(user["Username"])
        assert user["Username"] == a["sub"]
        assert re.fullmatch(r"user\d{4}@example\.com", a["email"])
    assert "UNCONFIRMED" in {u["UserStatus"] for u in users}
    usernames = {u["Username"] for u in users}
    members = [name for names in backup["group_memberships"].values() for name in names]
    assert members and set(members) <= usernames


def test_groups_beyond_first_page(aws):
    cognito, _ = aws
    pool = build_source_pool(cognito, SamplePoolSpec(name="many-groups", users=30, groups=65))
    backup = export_backup(cognito, pool.pool_id)
    assert len(backup["groups"]) == 60
    memberships = backup["group_memberships"]
    assert len(memberships) == 65 and set(memberships) == set(group_names(65))
    assert all(memberships.values())
    listed = {g["GroupName"] for g in backup["groups"]}
    assert len(set(memberships) - listed) == 5
    assert group_names(6)[4:] == ["group-005", "group-006"]


def test_spec_validation():
    with pytest.raises(ValueError):
        SamplePoolSpec(groups=2)
    with pytest.raises(ValueError):
        SamplePoolSpec(users=1, groups=4)


def test_backup_key():
    when = datetime(2026, 11, 2, 9, 5, 7, 123000)
    assert backup_key("us-east-1_AbCdEf123", when) == ("cognito-backup/2026/11/02/us-east-1_AbCdEf123-090507.json")
    aware = datetime(2026, 1, 31, 23, 59, 59, tzinfo=UTC)
    assert backup_key("eu-west-1_X", aware) == "cognito-backup/2026/01/31/eu-west-1_X-235959.json"


def test_write_backup(aws, email_pool):
    _, s3 = aws
    _, backup = email_pool
    s3.create_bucket(Bucket="cognito-backup-dr-test-123456789012")
    when = datetime(2026, 11, 2, 10, 14, 7, tzinfo=UTC)
    key = write_backup(s3, "cognito-backup-dr-test-123456789012", backup, when)
    assert key == backup_key(backup["user_pool_id"], when)
    body = s3.get_object(Bucket="cognito-backup-dr-test-123456789012", Key=key)["Body"].read()
    assert json.loads(body) == backup


def test_building_the_sample_pools_messages_only_the_reset_required_users(username_pool, email_pool):
    # UNCONFIRMED users are signed up while the pool auto-verifies nothing, the others created with
    # SUPPRESS; only AdminResetUserPassword (how a user becomes RESET_REQUIRED) sends a code in AWS.
    from tools.emulation.cognito import message_log

    for pool, _ in (username_pool, email_pool):
        log = message_log(pool.pool_id)
        assert {m["operation"] for m in log} == {"AdminResetUserPassword"}
        assert len(log) == intended_status_counts(pool.spec.users)["RESET_REQUIRED"]
