"""cognito_restore.scrub: text bound for alerts, logs and Step Functions state loses personal data and secrets."""

from __future__ import annotations

import pytest

from cognito_restore.scrub import MAX_LENGTH, scrub


@pytest.mark.parametrize(
    "email",
    [
        "ada@example.com",
        "ada.lovelace+dr@mail.example.co.uk",
        "o'brien@example.ie",
        "x_y-z@sub-domain.example.org",
        "UPPER@EXAMPLE.COM",
    ],
)
def test_emails_are_redacted(email):
    text = f"AdminCreateUser failed for {email}: AliasExistsException"
    result = scrub(text)
    assert email not in result and "<email>" in result
    assert result.startswith("AdminCreateUser failed for ") and result.endswith(": AliasExistsException")


@pytest.mark.parametrize("phone", ["+15550001111", "+44 20 7946 0958", "+1 (555) 000-1111", "+4915112345678"])
def test_phone_numbers_are_redacted(phone):
    result = scrub(f"user {phone} has no verified contact")
    assert phone not in result and "<phone>" in result
    assert "".join(c for c in phone if c.isdigit())[-7:] not in result


@pytest.mark.parametrize(
    "text,secret",
    [
        ("secret=abc123XYZ", "abc123XYZ"),
        ("client secret=abc123XYZ and more", "abc123XYZ"),
        ('{"client_secret": "oidc-secret-42", "client_id": "x"}', "oidc-secret-42"),
        ("{'ClientSecret': 'a1b2c3d4e5f6g7h8i9j0'}", "a1b2c3d4e5f6g7h8i9j0"),
        ('"ClientSecret":"a1b2c3d4e5f6"', "a1b2c3d4e5f6"),
        ("Password: Hunter2!", "Hunter2!"),
        ("password=Tr0ub4dor&3", "Tr0ub4dor&3"),
        ("refresh_token=eyJhbGciOiJIUzI1NiJ9.payload.sig", "eyJhbGciOiJIUzI1NiJ9.payload.sig"),
        ("SECRET = spaced", "spaced"),
    ],
)
def test_secret_assignments_are_redacted(text, secret):
    result = scrub(text)
    assert secret not in result and "<redacted>" in result


def test_redaction_keeps_the_key_name_for_context():
    assert scrub('"client_secret": "s3cr3t"') == '"client_secret": "<redacted>"'
    assert scrub("secret=s3cr3t") == "secret=<redacted>"


def test_other_text_is_unchanged():
    text = "BackupInvalid: users must be a list, found an object. Pool us-east-1_AbCdEf123, chunk 000042."
    assert scrub(text) == text


def test_several_kinds_in_one_text():
    text = 'ada@example.com +15550001111 {"client_secret": "zzz"} grace@example.org'
    result = scrub(text)
    assert result.count("<email>") == 2 and "<phone>" in result and "zzz" not in result


def test_long_text_is_truncated():
    result = scrub("x" * 5000)
    assert len(result) <= MAX_LENGTH + 10
    assert result.startswith("x" * 100) and result.endswith("...")
    assert scrub("x" * MAX_LENGTH) == "x" * MAX_LENGTH


def test_email_at_the_truncation_point_does_not_leak_partially():
    text = "x" * (MAX_LENGTH - 10) + " margaret.hamilton@example.com " + "y" * 100
    result = scrub(text)
    assert "margaret" not in result and "hamilton" not in result


def test_scrub_is_idempotent_on_short_text():
    once = scrub('ada@example.com +15550001111 secret=abc "client_secret": "x"')
    assert scrub(once) == once


def test_quoted_secret_with_spaces_or_commas_is_fully_redacted():
    result = scrub('{"client_secret": "abc def,ghi", "password": "correct horse battery staple"}')
    assert "def" not in result and "ghi" not in result and "horse" not in result and "staple" not in result


def test_json_escaped_secret_is_redacted():
    result = scrub('{"Cause": "{\\"client_secret\\": \\"oidc-secret-42\\"}"}')
    assert "oidc-secret-42" not in result
