"""Backup format v2: the reader (manifest -> checksums and counts -> pool.json -> streamed chunk files)
and the requests built from the v2 sections (valid for the installed botocore model)."""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
from typing import Any

import botocore.session
import pytest
from botocore.validate import validate_parameters

from cognito_restore.arn_map import ArnMapper
from cognito_restore.backup_v2 import is_v2_key, read_backup_v2
from cognito_restore.chunks import mfa_preference_request
from cognito_restore.errors import BackupInvalid, NotRestorable
from cognito_restore.users import TOTP_NOTE, UserModel, UserPlan, plan_user
from cognito_restore.v2_settings import (
    REQUEST_BUDGET,
    branding_requests,
    log_configuration,
    mfa_config_plan,
    terms_request,
    v2_counts,
)

POOL = "us-east-1_Source01"
FOLDER = f"cognito-backup/v2/{POOL}/2026/12/01/100000"
MODEL = botocore.session.get_session().get_service_model("cognito-idp")


def _valid(operation: str, request: dict[str, Any]) -> None:
    validate_parameters(request, MODEL.operation_model(operation).input_shape)


def user(name: str, sub: str, **extra: Any) -> dict[str, Any]:
    return {
        "Username": name,
        "Attributes": [
            {"Name": "sub", "Value": sub},
            {"Name": "email", "Value": f"{name}@example.com"},
            {"Name": "email_verified", "Value": "true"},
        ],
        "UserStatus": "CONFIRMED",
        "Enabled": True,
        **extra,
    }


def _lines(items: list[Any]) -> bytes:
    return gzip.compress(b"".join(json.dumps(i).encode() + b"\n" for i in items))


def _entry(key: str, body: bytes, count: int | None = None) -> dict[str, Any]:
    entry: dict[str, Any] = {"key": key, "sha256": hashlib.sha256(body).hexdigest(), "bytes": len(body)}
    if count is not None:
        entry["count"] = count
    return entry


def backup(pool: dict[str, Any] | None = None) -> tuple[dict[str, bytes], dict[str, Any]]:
    pool = pool or {
        "user_pool_id": POOL,
        "timestamp": "2026-12-01T10:00:00Z",
        "user_pool_config": {"Id": POOL, "Name": "p", "SchemaAttributes": []},
        "app_clients": [],
        "groups": [{"GroupName": "admins"}],
        "identity_providers": [],
        "resource_servers": [],
        "mfa_config": {"MfaConfiguration": "OFF"},
        "managed_login_branding": [],
        "terms": [],
    }
    objects: dict[str, bytes] = {}
    pool_body = json.dumps(pool).encode()
    objects[f"{FOLDER}/pool.json"] = pool_body
    users = [user("alice", "0a-1"), user("bob", "0b-2")]
    users_body = _lines(users)
    objects[f"{FOLDER}/users/0-00000.jsonl.gz"] = users_body
    members_body = _lines([{"group": "admins", "username": "alice"}])
    objects[f"{FOLDER}/memberships/00000.jsonl.gz"] = members_body
    manifest = {
        "format": "cognito-dr-backup",
        "version": 2,
        "user_pool_id": POOL,
        "timestamp": "2026-12-01T10:00:00Z",
        "region": "us-east-1",
        "pool": _entry("pool.json", pool_body),
        "users": {"count": 2, "files": [_entry("users/0-00000.jsonl.gz", users_body, 2)]},
        "group_memberships": {"count": 1, "files": [_entry("memberships/00000.jsonl.gz", members_body, 1)]},
        "counts": {"users": 2, "groups": 1, "group_memberships": 1},
        "user_mfa_settings": False,
    }
    return objects, manifest


def read(objects: dict[str, bytes], manifest: dict[str, Any]) -> tuple[Any, list[Any], list[Any], list[str]]:
    users: list[Any] = []
    memberships: list[Any] = []
    sections: list[str] = []
    parts = read_backup_v2(
        io.BytesIO(json.dumps(manifest).encode()),
        f"{FOLDER}/manifest.json",
        lambda key: io.BytesIO(objects[key]),
        users.append,
        lambda group, name: memberships.append((group, name)),
        lambda name, value: sections.append(name),
    )
    return parts, users, memberships, sections


def test_the_reader_feeds_the_v1_callbacks_with_the_pool_configuration_first() -> None:
    assert is_v2_key(f"{FOLDER}/manifest.json") and not is_v2_key(f"cognito-backup/2026/12/01/{POOL}-100000.json")
    parts, users, memberships, sections = read(*backup())
    assert [u["Username"] for u in users] == ["alice", "bob"]
    assert memberships == [("admins", "alice")]
    assert sections[0] == "user_pool_config"
    assert parts.users_seen == 2 and parts.memberships_seen == 1
    assert parts.get("mfa_config") == {"MfaConfiguration": "OFF"}
    assert v2_counts(parts.sections)["mfa_config"] == 0


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda o, m: o.update({f"{FOLDER}/pool.json": o[f"{FOLDER}/pool.json"] + b" "}), "bytes stored"),
        (
            lambda o, m: o.update({f"{FOLDER}/pool.json": o[f"{FOLDER}/pool.json"].replace(b'"p"', b'"q"')}),
            "pool.json: its sha256 differs",
        ),
        (
            lambda o, m: o.update({f"{FOLDER}/users/0-00000.jsonl.gz": _lines([user("eve", "0e-9")])}),
            "users/0-00000.jsonl.gz",
        ),
        (lambda o, m: m["users"]["files"][0].update(count=3), "users/0-00000.jsonl.gz: 2 lines, the manifest says 3"),
        (lambda o, m: m["users"].update(count=5), "counts 5 users"),
        (lambda o, m: m["group_memberships"]["files"][0].update(key="../../x.jsonl.gz"), "not a plain key"),
        (lambda o, m: m.update(version=3), "version 2 manifest"),
        (
            lambda o, m: o.update(
                {f"{FOLDER}/memberships/00000.jsonl.gz": o[f"{FOLDER}/memberships/00000.jsonl.gz"][:-6]}
            ),
            "memberships/00000.jsonl.gz: not a complete gzip file",
        ),
    ],
)
def test_a_damaged_backup_is_refused_naming_the_file_never_its_content(damage: Any, message: str) -> None:
    objects, manifest = backup()
    damage(objects, manifest)
    with pytest.raises(BackupInvalid) as info:
        read(objects, manifest)
    assert message in str(info.value)
    assert "alice" not in str(info.value) and "eve" not in str(info.value)


def test_the_branding_is_split_under_the_request_limit_and_client_ids_are_mapped() -> None:
    big = base64.b64encode(b"\x01" * 900_000).decode()
    style = {
        "ClientId": "old",
        "Settings": {"categories": {}},
        "Assets": [
            {"Category": c, "ColorMode": "LIGHT", "Extension": "PNG", "Bytes": big}
            for c in ("PAGE_BACKGROUND", "FORM_BACKGROUND", "FORM_LOGO")
        ],
    }
    requests = branding_requests(style, "us-west-2_New", {"old": "new"})
    assert len(requests) == 3 and requests[0]["ClientId"] == "new" and "ClientId" not in requests[1]
    assert [len(r["Assets"]) for r in requests] == [1, 1, 1]
    for request in requests:
        assert len(json.dumps(request, default=lambda b: base64.b64encode(b).decode())) < REQUEST_BUDGET
    _valid("CreateManagedLoginBranding", requests[0])
    _valid(
        "UpdateManagedLoginBranding", {**requests[1], "ManagedLoginBrandingId": "0" * 8 + "-0000-4000-8000-" + "0" * 12}
    )
    with pytest.raises(NotRestorable):
        branding_requests(style, "us-west-2_New", {})


NEW_POOL = {
    "_region": "us-west-2",
    "EmailConfiguration": {"EmailSendingAccount": "DEVELOPER", "SourceArn": "arn:aws:ses:us-west-2:1:identity/x"},
    "SmsConfiguration": {"SnsCallerArn": "arn:aws:iam::1:role/sms", "ExternalId": "e"},
}
MFA = {
    "MfaConfiguration": "OPTIONAL",
    "SmsMfaConfiguration": {"SmsAuthenticationMessage": "{####}", "SmsConfiguration": {"SnsCallerArn": "old"}},
    "SoftwareTokenMfaConfiguration": {"Enabled": True},
    "EmailMfaConfiguration": {"Message": "code {####}", "Subject": "s"},
    "WebAuthnConfiguration": {
        "RelyingPartyId": "shop.auth.us-east-1.amazoncognito.com",
        "UserVerification": "required",
    },
}


def test_every_mfa_factor_is_planned_and_the_passkey_relying_party_moves_with_the_prefix_domain() -> None:
    plan = mfa_config_plan(MFA, "us-west-2_New", NEW_POOL, "us-east-1", "shop", "shop")
    assert plan.restored == ["SMS", "TOTP", "EMAIL", "PASSKEYS"] and not plan.left_out
    assert plan.request["WebAuthnConfiguration"]["RelyingPartyId"] == "shop.auth.us-west-2.amazoncognito.com"
    assert plan.request["SmsMfaConfiguration"]["SmsConfiguration"] == NEW_POOL["SmsConfiguration"]
    _valid("SetUserPoolMfaConfig", plan.request)
    custom = {**MFA, "WebAuthnConfiguration": {"RelyingPartyId": "login.example.com"}}
    assert mfa_config_plan(custom, "p_1", NEW_POOL, "us-east-1", "shop", None).request["WebAuthnConfiguration"] == {
        "RelyingPartyId": "login.example.com"
    }


def test_email_mfa_without_ses_here_is_left_out_and_mfa_stays_on_with_totp() -> None:
    no_ses = {"_region": "us-west-2", "EmailConfiguration": {"EmailSendingAccount": "COGNITO_DEFAULT"}}
    only_email = {"MfaConfiguration": "ON", "EmailMfaConfiguration": {"Message": "code {####}"}}
    plan = mfa_config_plan(only_email, "p_1", no_ses, "us-east-1", None, None)
    assert plan.restored == [] and [f for f, _ in plan.left_out] == ["EMAIL"]
    assert plan.request["SoftwareTokenMfaConfiguration"] == {"Enabled": True}  # ON needs a factor
    off = mfa_config_plan({**MFA, "MfaConfiguration": "OFF"}, "p_1", NEW_POOL, "us-east-1", "shop", "shop")
    assert "EmailMfaConfiguration" not in off.request and "WebAuthnConfiguration" in off.request


def test_terms_and_log_delivery_requests() -> None:
    terms = {
        "ClientId": "old",
        "TermsName": "terms-of-use",
        "TermsSource": "LINK",
        "Enforcement": "NONE",
        "Links": {"cognito:default": "https://example.com/t"},
    }
    _valid("CreateTerms", terms_request(terms, "p_1", {"old": "new"}))
    mapper = ArnMapper("us-west-2", {"us-east-1": "us-west-2"})
    group = {
        "EventSource": "userNotification",
        "LogLevel": "ERROR",
        "CloudWatchLogsConfiguration": {"LogGroupArn": "arn:aws:logs:us-east-1:1:log-group:/x"},
    }
    mapped = log_configuration(group, mapper)
    assert mapped["CloudWatchLogsConfiguration"]["LogGroupArn"] == "arn:aws:logs:us-west-2:1:log-group:/x"
    _valid("SetLogDeliveryConfiguration", {"UserPoolId": "p_1", "LogConfigurations": [mapped]})
    with pytest.raises(NotRestorable):
        log_configuration(group, ArnMapper("us-west-2", {}))
    with pytest.raises(NotRestorable):  # the bucket policy is the operator's to grant
        log_configuration(
            {
                "EventSource": "userAuthEvents",
                "LogLevel": "INFO",
                "S3Configuration": {"BucketArn": "arn:aws:s3:::logs"},
            },
            mapper,
        )


def test_per_user_mfa_settings_of_a_v2_backup() -> None:
    model = UserModel.from_pool_config({"Name": "p", "SchemaAttributes": []}, None)
    raw = user("carol", "0c-3", UserMFASettingList=["EMAIL_OTP", "SOFTWARE_TOKEN_MFA"], PreferredMfaSetting="EMAIL_OTP")
    plan = plan_user(raw, model, 0)
    assert isinstance(plan, UserPlan) and plan.email_mfa and not plan.sms_mfa
    assert TOTP_NOTE in plan.notes
    request = mfa_preference_request("p_1", "carol", plan)
    assert request["EmailMfaSettings"] == {"Enabled": True, "PreferredMfa": True} and "SMSMfaSettings" not in request
    _valid("AdminSetUserMFAPreference", request)
