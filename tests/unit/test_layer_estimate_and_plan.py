"""cognito_restore.estimate and dry_run: the duration at the quotas, and the plan's readiness findings."""

from __future__ import annotations

from cognito_restore.arn_map import ArnMapper
from cognito_restore.dry_run import build_plan, readiness
from cognito_restore.estimate import duration_text, estimate
from cognito_restore.pacing import DEFAULT_QUOTAS


def test_100k_users_with_one_group_each_take_about_67_minutes_at_the_default_quotas() -> None:
    plan = {"planned": {"users": 100_000, "memberships": 100_000}, "status_counts": {"CONFIRMED": 100_000}}

    result = estimate(plan, DEFAULT_QUOTAS)

    assert result["bounding_quota"] == "UserUpdate"  # one AdminAddUserToGroup per user at 25/s
    assert result["users_per_second_bound"] == 25.0
    assert round(result["users_seconds"] / 60) == 67
    assert "67 min at 25.0 users/s" in result["text"]


def test_without_groups_the_password_quota_bounds_confirmed_users() -> None:
    plan = {"planned": {"users": 3_000, "memberships": 0}, "status_counts": {"CONFIRMED": 3_000}}
    result = estimate(plan, DEFAULT_QUOTAS)
    assert result["bounding_quota"] == "UserAccountRecovery" and result["users_seconds"] == 100


def test_raised_quotas_shorten_the_estimate_and_groups_add_their_own_time() -> None:
    plan = {"planned": {"users": 10_000, "memberships": 0}, "status_counts": {"FORCE_CHANGE_PASSWORD": 10_000}}
    plan["counts"] = {"groups": 100}
    raised = {**DEFAULT_QUOTAS, "UserCreation": 100.0}
    assert estimate(plan, raised)["users_seconds"] == 100
    assert estimate(plan, DEFAULT_QUOTAS)["users_seconds"] == 200
    assert estimate(plan, DEFAULT_QUOTAS)["groups_seconds"] == 20  # CreateGroup at 5/s


def test_duration_text() -> None:
    assert duration_text(42) == "42 s" and duration_text(600) == "10 min" and duration_text(4 * 3600) == "4 h 00 min"


def test_readiness_names_region_bound_settings_that_will_not_apply() -> None:
    parts = {
        "user_pool_config": {
            "Arn": "arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_Old",  # read-only: no finding
            "LambdaConfig": {"PreSignUp": "arn:aws:lambda:us-east-1:123456789012:function:pre"},
            "SmsConfiguration": {"SnsCallerArn": "arn:aws:iam::123456789012:role/sms", "ExternalId": "x"},
            "EmailConfiguration": {"EmailSendingAccount": "DEVELOPER"},
            "CustomDomain": "login.example.com",
        },
        "identity_providers": [{"ProviderName": "Corp", "ProviderType": "SAML"}],
        "waf_configuration": {"WebACLArn": "arn:aws:wafv2:us-east-1:123456789012:regional/webacl/w/1"},
    }

    findings = readiness(parts, ArnMapper("us-west-2"))

    text = "\n".join(findings)
    assert "userpool/us-east-1_Old" not in text
    assert "user_pool_config.LambdaConfig.PreSignUp: arn:aws:lambda:us-east-1" in text
    assert "SMS role arn:aws:iam::123456789012:role/sms" in text  # IAM is global: not "unmapped", but checked
    assert "waf_configuration.WebACLArn: arn:aws:wafv2:us-east-1" in text
    assert "SES e-mail" in text and "custom domain login.example.com" in text and "SAML IdP Corp" in text
    assert "PreSignUp" not in "\n".join(readiness(parts, ArnMapper("us-west-2", {"us-east-1": "us-west-2"})))


def test_plan_counts_add_up_and_name_what_is_left_out() -> None:
    plan = build_plan(
        {"users": 5, "groups": 3, "app_clients": 2},
        {"users": 4, "memberships": 6},
        {"users": [{"item": "dup", "reason": "listed twice in the backup"}], "groups": []},
        [],
        [],
        {"text": "about 2 min"},
    )
    for counts in plan["categories"].values():
        assert set(counts) == {"backup", "would_create", "would_skip"}
    users = plan["categories"]["users"]
    assert users["would_create"] + users["would_skip"] == users["backup"] == 5
    assert plan["categories"]["groups"] == {"backup": 3, "would_create": 3, "would_skip": 0}
    assert plan["would_skip"] == {"users": [{"item": "dup", "reason": "listed twice in the backup"}]}
