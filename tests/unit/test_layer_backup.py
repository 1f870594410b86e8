"""cognito_restore.backup.read_backup: the streaming reader/validator of the producer's document.

docs/backup-format.md: untrusted input; a truncated/corrupt object, a pool-id mismatch or an unexpected
shape must fail with a clear reason; error messages never quote the document (personal data).
"""

from __future__ import annotations

import io
import json
import random

import pytest

from cognito_restore.backup import BackupParts, read_backup
from cognito_restore.errors import BackupInvalid, RestoreError

POOL = "us-east-1_AbCdEf123"
EMAIL = "margaret.hamilton@example.com"


def document(**overrides) -> dict:
    doc = {
        "timestamp": "2026-11-02T10:14:07",
        "user_pool_id": POOL,
        "user_pool_config": {
            "Id": POOL,
            "Name": "prod-pool",
            "Arn": f"arn:aws:cognito-idp:us-east-1:123456789012:userpool/{POOL}",
            "CreationDate": "2026-01-01 00:00:00+00:00",
            "EstimatedNumberOfUsers": 2,
        },
        "app_clients": [{"ClientId": "c1", "ClientName": "web", "ClientSecret": "s3cr3t"}],
        "users": [
            {
                "Username": "ada",
                "Attributes": [{"Name": "email", "Value": EMAIL}],
                "Enabled": True,
                "UserStatus": "CONFIRMED",
            },
            {"Username": "grace", "Attributes": [], "Enabled": False, "UserStatus": "UNCONFIRMED"},
        ],
        "groups": [{"GroupName": "admins", "Precedence": 1}],
        "group_memberships": {"admins": ["ada", "grace"], "viewers": ["ada"]},
        "identity_providers": [],
        "resource_servers": [],
        "user_pool_domain": {},
        "ui_customization": None,
    }
    for key, value in overrides.items():
        if value is ...:
            doc.pop(key, None)
        else:
            doc[key] = value
    return doc


def encode(doc) -> bytes:
    return json.dumps(doc, default=str).encode()


class Collector:
    def __init__(self):
        self.users: list = []
        self.memberships: list = []

    def read(self, data: bytes) -> BackupParts:
        return read_backup(io.BytesIO(data), self.users.append, lambda g, m: self.memberships.append((g, m)))


def read(data: bytes):
    c = Collector()
    parts = c.read(data)
    return parts, c.users, c.memberships


def invalid(data: bytes) -> BackupInvalid:
    with pytest.raises(BackupInvalid) as info:
        read(data)
    return info.value


# --- a valid document ---------------------------------------------------------------------------


def test_valid_document_streams_users_and_memberships_and_keeps_small_sections():
    doc = document()
    parts, users, memberships = read(encode(doc))
    assert users == doc["users"]
    assert memberships == [("admins", "ada"), ("admins", "grace"), ("viewers", "ada")]
    assert parts.users_seen == 2 and parts.memberships_seen == 3
    assert parts.pool_id == POOL and parts.config == doc["user_pool_config"]
    assert parts.get("app_clients") == doc["app_clients"]
    assert parts.get("groups") == doc["groups"]
    assert parts.get("timestamp") == "2026-11-02T10:14:07"
    # streamed sections are not kept in memory
    assert "users" not in parts.sections and "group_memberships" not in parts.sections
    assert {"users", "group_memberships", "user_pool_config"} <= parts.present


def test_error_class_is_a_restore_error():
    assert issubclass(BackupInvalid, RestoreError)


def test_whitespace_around_the_document_is_fine():
    parts, users, _ = read(b"\n  " + encode(document()) + b"\r\n\n")
    assert len(users) == 2 and parts.pool_id == POOL


def test_pretty_printed_and_unicode_document_is_fine():
    doc = document(
        users=[
            {
                "Username": "zoë",
                "Attributes": [{"Name": "name", "Value": "Zoë Ünïcödé 山田"}],
                "UserStatus": "CONFIRMED",
            }
        ]
    )
    _, users, _ = read(json.dumps(doc, indent=2, ensure_ascii=False).encode("utf-8"))
    assert users[0]["Attributes"][0]["Value"] == "Zoë Ünïcödé 山田"


def test_numbers_are_plain_python_numbers_not_decimals():
    doc = document(
        groups=[{"GroupName": "g", "Precedence": 3}],
        user_pool_config={"Id": POOL, "Name": "p", "Policies": {"PasswordPolicy": {"MinimumLength": 10}}},
    )
    parts, _, _ = read(encode(doc))
    assert type(parts.get("groups")[0]["Precedence"]) is int
    json.dumps(parts.sections)  # serialisable as-is (goes to S3 as JSON)


def test_unknown_extra_keys_are_ignored_wherever_they_are():
    doc = document()
    doc = {
        "producer_version": {"nested": [1, {"deep": [EMAIL]}]},
        **doc,
        "future_section": [[], {}, "x"],
        "another": None,
        "scalar": 5,
    }
    parts, users, memberships = read(encode(doc))
    assert len(users) == 2 and len(memberships) == 3
    assert "future_section" not in parts.sections and "producer_version" not in parts.sections


@pytest.mark.parametrize(
    "section",
    [
        "app_clients",
        "groups",
        "identity_providers",
        "resource_servers",
        "user_pool_domain",
        "ui_customization",
        "risk_configuration",
        "waf_configuration",
        "group_memberships",
        "timestamp",
    ],
)
def test_null_sections_mean_not_backed_up(section):
    parts, users, _memberships = read(encode(document(**{section: None})))
    assert parts.get(section) is None
    assert len(users) == 2


@pytest.mark.parametrize(
    "section",
    [
        "app_clients",
        "groups",
        "identity_providers",
        "resource_servers",
        "user_pool_domain",
        "ui_customization",
        "risk_configuration",
        "waf_configuration",
        "group_memberships",
        "timestamp",
    ],
)
def test_absent_optional_sections_mean_not_backed_up(section):
    parts, _, _ = read(encode(document(**{section: ...})))
    assert parts.get(section) is None


def test_optional_security_sections_are_kept():
    doc = document(
        risk_configuration={"UserPoolId": POOL, "CompromisedCredentialsRiskConfiguration": {}},
        waf_configuration={"WebACLArn": "arn:aws:wafv2:us-east-1:1:regional/webacl/x/1", "WebACLName": "x"},
    )
    parts, _, _ = read(encode(doc))
    assert parts.get("waf_configuration")["WebACLName"] == "x"
    assert parts.get("risk_configuration")["UserPoolId"] == POOL


def test_empty_lists_mean_backed_up_none():
    parts, users, memberships = read(encode(document(users=[], group_memberships={}, groups=[])))
    assert users == [] and memberships == [] and parts.get("groups") == []
    assert parts.users_seen == 0 and parts.memberships_seen == 0


def test_null_member_list_of_a_group_is_skipped():
    _, _, memberships = read(encode(document(group_memberships={"admins": None, "viewers": ["ada"]})))
    assert memberships == [("viewers", "ada")]


def test_memberships_with_non_string_members_are_handed_over_not_fatal():
    members = ["ada", 7, None, {"Username": "grace"}, ["x"], True]
    parts, _, memberships = read(encode(document(group_memberships={"admins": members})))
    assert [m for _, m in memberships] == members
    assert parts.memberships_seen == len(members)


def test_users_that_are_not_objects_are_handed_over_not_fatal():
    weird = ["ada", 3, None, [], {"Username": "x", "Attributes": {"a": 1}}]
    parts, users, _ = read(encode(document(users=weird)))
    assert users == weird and parts.users_seen == 5


# --- key order ----------------------------------------------------------------------------------


def test_users_and_memberships_before_the_config():
    doc = document()
    reordered = {k: doc[k] for k in ("group_memberships", "users")}
    reordered.update({k: v for k, v in doc.items() if k not in reordered})
    parts, users, memberships = read(encode(reordered))
    assert users == doc["users"] and len(memberships) == 3
    assert parts.config == doc["user_pool_config"]


@pytest.mark.parametrize("seed", range(8))
def test_any_key_order_gives_the_same_result(seed):
    doc = document()
    items = list(doc.items())
    random.Random(seed).shuffle(items)
    parts, users, memberships = read(encode(dict(items)))
    expected_parts, expected_users, expected_memberships = read(encode(doc))
    assert parts.sections == expected_parts.sections
    assert users == expected_users and sorted(memberships) == sorted(expected_memberships)


# --- not JSON, truncated, garbage ---------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"   \n",
        b"not json",
        b"<html><body>Access Denied</body></html>",
        b"\x00\x01\x02",
        b"\xff\xfe{\x00}\x00",
        b"{'user_pool_id': 'x'}",
        b"{user_pool_id: 1}",
        b"PK\x03\x04zipped",
    ],
)
def test_not_json_is_invalid(data):
    invalid(data)


def test_truncated_at_ten_offsets_is_invalid():
    data = encode(document())
    length = len(data)
    offsets = sorted(
        {
            1,
            2,
            length // 10,
            length // 4,
            length // 3,
            length // 2,
            2 * length // 3,
            3 * length // 4,
            length - 2,
            length - 1,
        }
    )
    assert len(offsets) == 10
    for offset in offsets:
        with pytest.raises(BackupInvalid):
            read(data[:offset])


def test_truncated_at_every_offset_never_escapes_as_another_exception():
    data = encode(document())
    for offset in range(len(data)):
        try:
            read(data[:offset])
        except BackupInvalid:
            continue
        pytest.fail(f"truncation at {offset} was accepted")


def test_truncated_users_are_not_all_handed_over_without_an_error():
    data = encode(document())
    cut = data.index(b'"grace"')
    c = Collector()
    with pytest.raises(BackupInvalid):
        c.read(data[:cut])


@pytest.mark.parametrize("tail", [b" {}", b"x", b"]", b"}", b',"extra": 1', b"\x00", b" null", b"[]"])
def test_trailing_garbage_is_invalid(tail):
    invalid(encode(document()) + tail)


@pytest.mark.parametrize("data", [b"[]", b'[{"user_pool_id": "us-east-1_AbCdEf123"}]', b'"x"', b"42", b"null", b"true"])
def test_top_level_must_be_an_object(data):
    error = invalid(data)
    assert "object" in str(error)


def test_top_level_array_of_a_valid_document_is_invalid():
    invalid(b"[" + encode(document()) + b"]")


# --- shape --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "section,value",
    [
        ("users", {"ada": {"Username": "ada"}}),
        ("users", "ada"),
        ("users", 3),
        ("group_memberships", [["admins", "ada"]]),
        ("group_memberships", "admins"),
        ("groups", "admins"),
        ("groups", {"GroupName": "admins"}),
        ("groups", ["admins"]),
        ("app_clients", {"ClientId": "c"}),
        ("app_clients", ["c"]),
        ("identity_providers", "Google"),
        ("identity_providers", [1]),
        ("resource_servers", {"Identifier": "x"}),
        ("resource_servers", [None]),
        ("user_pool_config", ["Name", "p"]),
        ("user_pool_config", "prod-pool"),
        ("user_pool_domain", "auth.example.com"),
        ("ui_customization", []),
        ("risk_configuration", "on"),
        ("waf_configuration", ["arn"]),
        ("timestamp", 1730542447),
        ("user_pool_id", 5),
    ],
)
def test_wrong_section_types_are_invalid_and_named(section, value):
    error = invalid(encode(document(**{section: value})))
    assert section in str(error)


def test_group_member_list_that_is_not_a_list_is_invalid():
    invalid(encode(document(group_memberships={"admins": "ada"})))
    invalid(encode(document(group_memberships={"admins": {"ada": True}})))


def test_missing_user_pool_id_is_invalid():
    assert "user_pool_id" in str(invalid(encode(document(user_pool_id=...))))


@pytest.mark.parametrize("pool_id", [None, "", "not a pool", "us-east-1", "us-east-1_Abc/../x"])
def test_unusable_user_pool_id_is_invalid(pool_id):
    assert "user_pool_id" in str(invalid(encode(document(user_pool_id=pool_id))))


def test_missing_config_or_config_without_name_is_invalid():
    assert "user_pool_config" in str(invalid(encode(document(user_pool_config=...))))
    assert "user_pool_config" in str(invalid(encode(document(user_pool_config=None))))
    assert "user_pool_config" in str(invalid(encode(document(user_pool_config={"Id": POOL}))))
    assert "user_pool_config" in str(invalid(encode(document(user_pool_config={"Id": POOL, "Name": 5}))))


def test_config_id_differing_from_user_pool_id_is_invalid():
    doc = document(user_pool_config={"Id": "us-east-1_Other99", "Name": "p"})
    message = str(invalid(encode(doc)))
    assert "user_pool_config.Id" in message and "user_pool_id" in message


def test_config_id_may_be_absent():
    parts, _, _ = read(encode(document(user_pool_config={"Name": "p"})))
    assert parts.pool_id == POOL


def test_missing_users_section_is_invalid():
    assert "users" in str(invalid(encode(document(users=...))))


def test_error_names_a_clear_reason_for_truncation():
    message = str(invalid(encode(document())[:-1]))
    assert "truncated" in message


# --- no personal data in errors -----------------------------------------------------------------


def _broken_documents_with_email() -> list[tuple[str, bytes]]:
    good = encode(document())
    cut = good.index(EMAIL.encode()) + 5
    return [
        ("truncated inside the e-mail", good[:cut]),
        ("unquoted e-mail", good.replace(f'"{EMAIL}"'.encode(), EMAIL.encode())),
        ("missing comma after e-mail", good.replace(f'"{EMAIL}"}}'.encode(), f'"{EMAIL}" "x": 1}}'.encode())),
        ("control char in e-mail", good.replace(EMAIL.encode(), EMAIL.encode().replace(b"@", b"\x01@"))),
        ("bad escape in e-mail", good.replace(EMAIL.encode(), EMAIL.encode().replace(b"@", b"\\q@"))),
        ("invalid utf-8 in e-mail", good.replace(EMAIL.encode(), EMAIL.encode() + b"\xff\xfe")),
        ("garbage after e-mail", good + b" " + EMAIL.encode()),
        ("e-mail as pool id", encode(document(user_pool_id=EMAIL))),
        ("e-mail as users object key", encode(document(users={EMAIL: {}}))),
        ("e-mail as groups string", encode(document(groups=EMAIL))),
        ("e-mail as config", encode(document(user_pool_config=EMAIL))),
        ("e-mail as top-level array", json.dumps([EMAIL]).encode()),
        ("e-mail as bare string document", json.dumps(EMAIL).encode()),
        ("e-mail in a number", good.replace(b'"Precedence": 1', f'"Precedence": 1{EMAIL}'.encode())),
    ]


@pytest.mark.parametrize(
    "label,data", _broken_documents_with_email(), ids=[label for label, _ in _broken_documents_with_email()]
)
def test_errors_never_quote_the_document(label, data):
    message = str(invalid(data))
    assert EMAIL not in message
    assert "margaret" not in message and "example.com" not in message


def test_error_for_bad_member_list_does_not_quote_the_group_name():
    message = str(invalid(encode(document(group_memberships={EMAIL: "not a list"}))))
    assert EMAIL not in message


def test_error_for_config_id_mismatch_does_not_quote_arbitrary_values():
    message = str(invalid(encode(document(user_pool_config={"Id": EMAIL, "Name": "p"}))))
    assert EMAIL not in message


def test_secrets_never_appear_in_errors():
    doc = document()
    doc["app_clients"] = "s3cr3t-client-secret"
    message = str(invalid(encode(doc)))
    assert "s3cr3t" not in message
