"""cognito_restore.passwords: random permanent passwords that satisfy any Cognito password policy."""

from __future__ import annotations

import string

import pytest

from cognito_restore.passwords import SYMBOLS, random_password

# Cognito's documented special characters (password policy "RequireSymbols").
COGNITO_SYMBOLS = set("^$*.[]{}()?\"!@#%&/\\,><':;|_~`=+-")
ALLOWED = set(string.ascii_letters + string.digits) | COGNITO_SYMBOLS
SAMPLES = 400


def classes(password: str) -> dict[str, bool]:
    return {
        "upper": any(c in string.ascii_uppercase for c in password),
        "lower": any(c in string.ascii_lowercase for c in password),
        "digit": any(c in string.digits for c in password),
        "symbol": any(c in COGNITO_SYMBOLS for c in password),
    }


def test_symbols_are_cognito_special_characters():
    assert set(SYMBOLS) <= COGNITO_SYMBOLS


@pytest.mark.parametrize(
    "policy",
    [
        None,
        {},
        {"MinimumLength": 6},
        {
            "MinimumLength": 8,
            "RequireUppercase": True,
            "RequireLowercase": True,
            "RequireNumbers": True,
            "RequireSymbols": True,
        },
        {"MinimumLength": 10, "TemporaryPasswordValidityDays": 5, "PasswordHistorySize": 24},
    ],
)
def test_every_sample_has_all_four_classes_and_only_allowed_characters(policy):
    for _ in range(SAMPLES):
        password = random_password(policy)
        assert all(classes(password).values()), password
        assert set(password) <= ALLOWED
        assert not password[0].isspace() and not password[-1].isspace()
        assert len(password) >= ((policy or {}).get("MinimumLength") or 8)


@pytest.mark.parametrize("minimum", [6, 8, 31, 32, 33, 64, 99])
def test_policy_minimum_length_is_honoured(minimum):
    for _ in range(50):
        password = random_password({"MinimumLength": minimum})
        assert len(password) >= minimum
        assert len(password) <= 256  # AdminSetUserPassword limit
        assert all(classes(password).values())


def test_long_policy_still_has_every_class_at_minimum_length():
    for _ in range(SAMPLES):
        assert all(classes(random_password({"MinimumLength": 99})).values())


@pytest.mark.parametrize("pick", [lambda seq: seq[0], lambda seq: seq[-1], lambda seq: seq[len(seq) // 2]])
def test_all_classes_present_even_with_an_adversarial_random_source(monkeypatch, pick):
    """The classes must be guaranteed by construction, not by luck of the draw."""
    import cognito_restore.passwords as passwords

    monkeypatch.setattr(passwords.secrets, "choice", pick)
    for minimum in (None, 6, 40):
        password = random_password({"MinimumLength": minimum} if minimum else None)
        assert all(classes(password).values()), password
        assert len(password) >= (minimum or 8)


def test_passwords_are_random():
    passwords = {random_password() for _ in range(200)}
    assert len(passwords) == 200


def test_character_classes_are_not_always_at_fixed_positions():
    # the four guaranteed characters are shuffled in, not always the first four
    firsts = {random_password()[0] in string.ascii_uppercase for _ in range(200)}
    assert firsts == {True, False}
