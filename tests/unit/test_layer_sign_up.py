"""cognito_restore.sign_up: the sign-up window that lets UNCONFIRMED users come back UNCONFIRMED, silently."""

from __future__ import annotations

from typing import Any

from cognito_restore.report import user_steps
from cognito_restore.sign_up import (
    client_may_write,
    close_sign_up_request,
    needs_sign_up,
    open_sign_up,
    writable_attributes,
)

REAL = {
    "PoolName": "p",
    "AutoVerifiedAttributes": ["email", "phone_number"],
    "UserAttributeUpdateSettings": {"AttributesRequireVerificationBeforeUpdate": ["email", "phone_number"]},
    "AdminCreateUserConfig": {
        "AllowAdminCreateUserOnly": True,
        "InviteMessageTemplate": {"EmailMessage": "Hi {username} {####}", "EmailSubject": "Welcome"},
    },
    "Policies": {"PasswordPolicy": {"MinimumLength": 10}},
}


def test_the_window_opens_only_for_unconfirmed_users() -> None:
    assert needs_sign_up({"UNCONFIRMED": 1, "CONFIRMED": 5})
    assert not needs_sign_up({"CONFIRMED": 5, "FORCE_CHANGE_PASSWORD": 2})


def test_open_allows_sign_up_and_verifies_nothing_keeping_the_rest() -> None:
    opened = open_sign_up(REAL)
    assert "AutoVerifiedAttributes" not in opened and "UserAttributeUpdateSettings" not in opened
    assert opened["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is False
    assert (
        opened["AdminCreateUserConfig"]["InviteMessageTemplate"]
        == REAL["AdminCreateUserConfig"]["InviteMessageTemplate"]
    )
    assert opened["Policies"] == REAL["Policies"]
    assert REAL["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True  # the request itself is untouched


def _open_pool(**extra: Any) -> dict[str, Any]:
    """DescribeUserPool of the pool while the window is open."""
    return {
        "Id": "us-west-2_new",
        "Policies": {"PasswordPolicy": {"MinimumLength": 10}},
        "AdminCreateUserConfig": {"AllowAdminCreateUserOnly": False, "InviteMessageTemplate": {"SMSMessage": "{####}"}},
        "MfaConfiguration": "OPTIONAL",
        "UserPoolTags": {"cognito-dr:restore-id": "r1"},
        **extra,
    }


def test_close_puts_the_real_settings_back_and_keeps_everything_else() -> None:
    request = close_sign_up_request(_open_pool(SmsConfiguration={"SnsCallerArn": "arn:aws:iam::1:role/sms"}), REAL)
    assert request["UserPoolId"] == "us-west-2_new"
    assert request["AutoVerifiedAttributes"] == ["email", "phone_number"]
    assert request["UserAttributeUpdateSettings"] == REAL["UserAttributeUpdateSettings"]
    # Only the flag changes: the invitation template stays as the pool accepted it.
    assert request["AdminCreateUserConfig"] == {
        "AllowAdminCreateUserOnly": True,
        "InviteMessageTemplate": {"SMSMessage": "{####}"},
    }
    # UpdateUserPool resets what it is not given: the rest of the pool goes with it.
    assert request["MfaConfiguration"] == "OPTIONAL" and request["UserPoolTags"] == {"cognito-dr:restore-id": "r1"}
    assert request["Policies"] == {"PasswordPolicy": {"MinimumLength": 10}}


def test_close_without_sms_leaves_phone_verification_out_as_creation_did() -> None:
    request = close_sign_up_request(_open_pool(), REAL)
    assert request["AutoVerifiedAttributes"] == ["email"]
    assert request["UserAttributeUpdateSettings"] == {"AttributesRequireVerificationBeforeUpdate": ["email"]}


def test_close_for_a_pool_open_to_sign_up_before_keeps_it_open() -> None:
    request = close_sign_up_request(_open_pool(AutoVerifiedAttributes=["email"]), {"PoolName": "p"})
    assert request["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is False
    assert "AutoVerifiedAttributes" not in request  # the source verified nothing either


def test_the_temporary_client_writes_what_a_client_may() -> None:
    schema = [
        {"Name": n} for n in ("sub", "email", "email_verified", "phone_number_verified", "custom:tier", "dev:custom:x")
    ]
    assert writable_attributes(schema) == ["custom:tier", "email"]
    assert not client_may_write("dev:custom:x") and client_may_write("custom:dr_old_sub")


def test_unconfirmed_users_get_their_own_step_not_a_reinvitation() -> None:
    steps = user_steps({"UNCONFIRMED": 3, "FORCE_CHANGE_PASSWORD": 2}, 0, "OFF")
    assert any(s.startswith("2 users hold no usable temporary password") for s in steps)
    assert any(s.startswith("3 users are UNCONFIRMED") and "ResendConfirmationCode" in s for s in steps)


def test_a_pool_found_again_reopens_the_window_without_its_triggers() -> None:
    from cognito_restore.sign_up import without_triggers

    reapplied = {
        "UserPoolId": "p",
        "LambdaConfig": {"PreSignUp": "arn:aws:lambda:us-west-2:1:function:f"},
        "MfaConfiguration": "ON",
    }
    assert without_triggers(reapplied) == {"UserPoolId": "p", "MfaConfiguration": "ON"}
    assert "LambdaConfig" in reapplied
