"""Sync mode's planning (pure): what differs between a backed-up item and the target's."""

from __future__ import annotations

from cognito_restore.pool_config import RESTORE_ID_TAG
from cognito_restore.reconcile import (
    client_plan,
    covers,
    custom_attributes_plan,
    group_plan,
    mfa_plan,
    mfa_request,
    named_plan,
    pool_update_plan,
    sync_tags,
)

POOL = "us-west-2_Target9"


def test_covers_compares_what_the_request_sets() -> None:
    assert covers({"a": 1}, {"a": 1, "added_by_cognito": True})
    assert not covers({"a": 1}, {"a": 2})
    assert covers(["email", "phone_number"], ["phone_number", "email"])  # order of names is Cognito's
    assert not covers(["email"], ["email", "phone_number"])
    assert covers({"MinLength": 8}, {"MinLength": "8"})  # DescribeUserPool gives some numbers as strings
    assert not covers(True, 1) and not covers(False, None)
    assert covers([{"Name": "x", "Priority": 1}], [{"Name": "x", "Priority": 1, "extra": 0}])


def _pool(**settings: object) -> dict[str, object]:
    return {"Id": POOL, "Arn": "arn", "Name": "p", "Policies": {"PasswordPolicy": {"MinimumLength": 8}}, **settings}


def test_the_pool_is_unchanged_when_every_setting_is_in_place() -> None:
    request = {"UserPoolId": POOL, "Policies": {"PasswordPolicy": {"MinimumLength": 8}}}
    plan = pool_update_plan({}, request, _pool())
    assert [(c.kind, c.settings) for c in plan.changes] == [("unchanged", ())]


def test_a_differing_setting_and_one_the_target_has_alone_are_updates() -> None:
    request = {"UserPoolId": POOL, "Policies": {"PasswordPolicy": {"MinimumLength": 10}}}
    plan = pool_update_plan({}, request, _pool(SmsConfiguration={"SnsCallerArn": "arn:role"}))
    assert plan.changes[0].kind == "update"
    assert plan.changes[0].settings == ("Policies", "SmsConfiguration")  # names only, never values


def test_legacy_messages_derived_from_the_template_are_no_difference() -> None:
    request = {"UserPoolId": POOL, "VerificationMessageTemplate": {"DefaultEmailOption": "CONFIRM_WITH_CODE"}}
    current = _pool(VerificationMessageTemplate={"DefaultEmailOption": "CONFIRM_WITH_CODE"})
    current["EmailVerificationMessage"] = "Your code is {####}"
    plan = pool_update_plan({}, {**request, "EmailVerificationMessage": "other"}, current)
    assert plan.changes[0].kind == "unchanged"


def test_tags_are_the_backups_and_the_targets_own_restore_tags_stay() -> None:
    current = _pool(UserPoolTags={RESTORE_ID_TAG: "first-restore", "team": "old"})
    request = sync_tags({"UserPoolId": POOL, "UserPoolTags": {RESTORE_ID_TAG: "this-sync", "team": "id"}}, current)
    assert request["UserPoolTags"] == {RESTORE_ID_TAG: "first-restore", "team": "id"}
    plan = pool_update_plan({}, request, current)
    assert plan.changes[0].settings == ("UserPoolTags",)
    assert pool_update_plan({}, request, {**current, "UserPoolTags": request["UserPoolTags"]}).changes[0].kind == (
        "unchanged"
    )


def test_creation_only_settings_that_differ_are_reported_not_written() -> None:
    plan = pool_update_plan({"UsernameAttributes": ["email"]}, {"UserPoolId": POOL}, _pool())
    assert plan.changes[0].kind == "unchanged"
    assert [n["item"] for n in plan.notes] == ["UsernameAttributes"]


def test_custom_attributes_the_target_lacks_are_added_and_differing_ones_reported() -> None:
    schema = [
        {"Name": "tenant", "AttributeDataType": "String", "Mutable": True},
        {"Name": "plan", "AttributeDataType": "String", "Mutable": True},
        {"Name": "email", "AttributeDataType": "String", "Required": True, "Mutable": True},
    ]
    current = {
        "SchemaAttributes": [
            {"Name": "custom:plan", "AttributeDataType": "String", "Mutable": False},
            {"Name": "email", "AttributeDataType": "String", "Required": True, "Mutable": True},
        ]
    }
    missing, notes = custom_attributes_plan(schema, current)
    assert [m["Name"] for m in missing] == ["tenant"]
    assert [n["item"] for n in notes] == ["attribute custom:plan"]


def test_mfa_is_set_only_when_it_differs() -> None:
    request = mfa_request(POOL, "OPTIONAL", {})
    current = {"MfaConfiguration": "OPTIONAL", "SoftwareTokenMfaConfiguration": {"Enabled": True}}
    assert mfa_plan(request, current).kind == "unchanged"
    assert mfa_plan(request, {"MfaConfiguration": "OFF"}).settings == ("MfaConfiguration",)
    # the backup does not say which factors were on: a target in the backed-up mode keeps its own
    assert mfa_plan(request, {"MfaConfiguration": "OPTIONAL", "SmsMfaConfiguration": {}}).kind == "unchanged"
    assert mfa_plan(mfa_request(POOL, "OFF", {}), {"MfaConfiguration": "OFF"}).kind == "unchanged"


def test_named_items_are_created_updated_or_unchanged_and_the_others_absent() -> None:
    desired = {"a": {"UserPoolId": POOL, "Name": "A"}, "b": {"UserPoolId": POOL, "Name": "B"}, "c": {"Name": "C"}}
    current = {"a": {"Name": "A"}, "b": {"Name": "old"}, "z": {"Name": "Z"}}
    plan = named_plan("resource_servers", desired, current, skip=("UserPoolId",))
    assert [(c.item, c.kind, c.settings) for c in plan.changes] == [
        ("a", "unchanged", ()),
        ("b", "update", ("Name",)),
        ("c", "create", ()),
    ]
    assert plan.absent == ["z"]
    assert plan.to_dict()["update"] == [{"item": "b", "settings": ["Name"]}]


def test_clients_keep_their_secret_and_a_new_one_is_created_with_the_backups() -> None:
    desired = {
        "web": {"UserPoolId": POOL, "ClientName": "web", "ClientSecret": "s3cret", "CallbackURLs": ["https://a"]},
        "new": {"UserPoolId": POOL, "ClientName": "new", "ClientSecret": "n3w"},
    }
    current = {"web": {"ClientName": "web", "ClientId": "id1", "ClientSecret": "other", "CallbackURLs": ["https://a"]}}
    plan = client_plan(desired, current)
    kinds = {c.item: c for c in plan.changes}
    assert kinds["web"].kind == "unchanged"  # the secret is no setting an update can write
    assert kinds["new"].kind == "create" and kinds["new"].request["ClientSecret"] == "n3w"
    assert [n["item"] for n in plan.notes] == ["web"] and "s3cret" not in str(plan.notes)
    removed = client_plan({"web": {"ClientName": "web"}}, current)
    assert removed.changes[0].settings == ("CallbackURLs",)  # UpdateUserPoolClient would keep none


def test_a_group_only_memberships_name_is_left_as_the_target_has_it() -> None:
    groups = [{"GroupName": "g", "_note": "named by memberships only"}, {"GroupName": "h", "Precedence": 1}]
    desired = {
        "g": {"UserPoolId": POOL, "GroupName": "g"},
        "h": {"UserPoolId": POOL, "GroupName": "h", "Precedence": 1},
    }
    plan = group_plan(
        groups, desired, {"g": {"GroupName": "g", "Description": "x"}, "h": {"GroupName": "h", "Precedence": 2}}
    )
    assert [(c.item, c.kind) for c in plan.changes] == [("g", "unchanged"), ("h", "update")]
