"""cognito_restore.users: how one ListUsers item is recreated (docs/cognito-behaviours.md §2)."""

from __future__ import annotations

import pytest

from cognito_restore.users import (
    MAX_ATTRIBUTE_VALUE,
    NEEDS_PERMANENT_PASSWORD,
    STANDARD_ATTRIBUTES,
    STATUS_OUTCOMES,
    UserModel,
    UserPlan,
    UserProblem,
    plan_user,
)

SUB = "0f1e2d3c-aaaa-bbbb-cccc-111122223333"
CONFIG = {
    "Name": "p",
    "SchemaAttributes": [
        {"Name": "sub", "AttributeDataType": "String", "Mutable": False, "Required": True},
        {"Name": "email", "AttributeDataType": "String", "Required": True},
        {"Name": "custom:tenant_id", "AttributeDataType": "String"},
        {"Name": "custom:loyalty_tier_code_x", "AttributeDataType": "String"},
        {"Name": "dev:custom:legacy_id", "AttributeDataType": "String", "DeveloperOnlyAttribute": True},
    ],
}
MODEL = UserModel.from_pool_config(CONFIG)
EMAIL_MODEL = UserModel.from_pool_config({**CONFIG, "UsernameAttributes": ["email"]})
EMAIL_OR_PHONE_MODEL = UserModel.from_pool_config({**CONFIG, "UsernameAttributes": ["email", "phone_number"]})


def user(username="alice", status="CONFIRMED", enabled=True, **attrs):
    attributes = {"sub": SUB, "email": "alice@example.com", "email_verified": "true", **attrs}
    return {
        "Username": username,
        "Attributes": [{"Name": k, "Value": v} for k, v in attributes.items() if v is not None],
        "UserCreateDate": "2026-11-02 10:14:07.123000+00:00",
        "UserLastModifiedDate": "2026-11-02 10:14:07.123000+00:00",
        "Enabled": enabled,
        "UserStatus": status,
    }


def names(plan: UserPlan) -> set[str]:
    return {a["Name"] for a in plan.attributes}


def values(plan: UserPlan) -> dict[str, str]:
    return {a["Name"]: a["Value"] for a in plan.attributes}


# --- the pool model -----------------------------------------------------------------------------


def test_model_declares_standard_and_schema_attributes():
    assert MODEL.declared_attributes >= STANDARD_ATTRIBUTES
    assert {"custom:tenant_id", "dev:custom:legacy_id"} <= MODEL.declared_attributes
    assert "custom:other" not in MODEL.declared_attributes
    assert not MODEL.sign_in_by_attribute
    assert EMAIL_MODEL.sign_in_by_attribute and EMAIL_MODEL.username_attributes == ("email",)


def test_model_tolerates_missing_or_odd_schema():
    model = UserModel.from_pool_config({"Name": "p", "SchemaAttributes": None, "UsernameAttributes": None})
    assert model.declared_attributes == STANDARD_ATTRIBUTES and model.username_attributes == ()
    model = UserModel.from_pool_config({"Name": "p", "SchemaAttributes": ["x", {"Name": 5}, {"Name": "custom:a"}]})
    assert "custom:a" in model.declared_attributes


# --- attributes ---------------------------------------------------------------------------------


def test_cognito_managed_attributes_are_not_sent():
    raw = user(
        **{
            "identities": '[{"providerName":"Google"}]',
            "cognito:user_status": "CONFIRMED",
            "cognito:mfa_enabled": "false",
            "cognito:username": "alice",
        }
    )
    plan = plan_user(raw, MODEL)
    assert isinstance(plan, UserPlan)
    assert not any(n == "sub" or n == "identities" or n.startswith("cognito:") for n in names(plan))
    # managed attributes are expected to go: not reported as data loss
    assert not any(n in ("sub", "identities") or n.startswith("cognito:") for n in plan.dropped_attributes)
    assert not any("identities" in note or "cognito:" in note for note in plan.notes)


def test_managed_attributes_dropped_even_when_the_schema_lists_them():
    # a real DescribeUserPool lists sub and identities among SchemaAttributes
    config = {
        **CONFIG,
        "SchemaAttributes": CONFIG["SchemaAttributes"] + [{"Name": "identities", "AttributeDataType": "String"}],
    }
    model = UserModel.from_pool_config(config)
    plan = plan_user(user(identities='[{"providerName":"Google"}]', **{"cognito:user_status": "x"}), model)
    assert "identities" not in names(plan) and "sub" not in names(plan) and "cognito:user_status" not in names(plan)


def test_old_sub_is_kept_for_the_id_map():
    plan = plan_user(user(), MODEL)
    assert plan.old_sub == SUB
    assert plan_user(user(sub=None), MODEL).old_sub is None


def test_verified_flags_are_kept():
    plan = plan_user(user(phone_number="+15550001111", phone_number_verified="true"), MODEL)
    assert values(plan)["email_verified"] == "true"
    assert values(plan)["phone_number_verified"] == "true"
    assert values(plan)["email"] == "alice@example.com" and values(plan)["phone_number"] == "+15550001111"


def test_false_verified_flag_is_kept_as_false():
    plan = plan_user(user(email_verified="false"), MODEL)
    assert values(plan)["email_verified"] == "false"


@pytest.mark.parametrize("flag,base", [("email_verified", "email"), ("phone_number_verified", "phone_number")])
def test_verified_flag_without_its_attribute_is_dropped(flag, base):
    raw = user(**{"email": None, "email_verified": None, flag: "true"})
    plan = plan_user(raw, MODEL)
    assert isinstance(plan, UserPlan)
    assert flag not in names(plan) and base not in names(plan)
    assert flag in plan.dropped_attributes
    assert any(flag in note for note in plan.notes)


def test_verified_flag_dropped_when_its_attribute_is_itself_dropped():
    raw = user(email="x" * (MAX_ATTRIBUTE_VALUE + 1))
    plan = plan_user(raw, MODEL)
    assert "email" not in names(plan) and "email_verified" not in names(plan)
    assert {"email", "email_verified"} <= set(plan.dropped_attributes)


def test_undeclared_custom_attribute_is_dropped_and_named():
    plan = plan_user(user(**{"custom:favorite_flavor": "vanilla", "custom:tenant_id": "t-1"}), MODEL)
    assert "custom:favorite_flavor" not in names(plan)
    assert values(plan)["custom:tenant_id"] == "t-1"
    assert plan.dropped_attributes == ["custom:favorite_flavor"]
    assert any("custom:favorite_flavor" in note for note in plan.notes)


def test_long_custom_attribute_name_declared_in_schema_is_kept():
    plan = plan_user(user(**{"custom:loyalty_tier_code_x": "GOLD"}), MODEL)
    assert values(plan)["custom:loyalty_tier_code_x"] == "GOLD"


def test_developer_only_attribute_declared_in_schema_is_kept():
    plan = plan_user(user(**{"dev:custom:legacy_id": "L-1"}), MODEL)
    assert values(plan)["dev:custom:legacy_id"] == "L-1"


def test_value_of_2048_is_kept_and_2049_dropped():
    ok = plan_user(user(name="n" * MAX_ATTRIBUTE_VALUE), MODEL)
    assert MAX_ATTRIBUTE_VALUE == 2048
    assert values(ok)["name"] == "n" * 2048
    too_long = plan_user(user(name="n" * 2049, **{"custom:tenant_id": "t"}), MODEL)
    assert "name" not in names(too_long) and "name" in too_long.dropped_attributes
    assert any("name" in note and "2048" in note for note in too_long.notes)
    assert values(too_long)["custom:tenant_id"] == "t"


def test_null_attribute_value_becomes_empty_string_not_none():
    raw = user()
    raw["Attributes"].append({"Name": "nickname", "Value": None})
    plan = plan_user(raw, MODEL)
    assert all(isinstance(a["Value"], str) for a in plan.attributes)


def test_attributes_are_name_value_dicts_ready_for_admin_create_user():
    plan = plan_user(user(), MODEL)
    assert all(set(a) == {"Name", "Value"} for a in plan.attributes)


# --- usernames ----------------------------------------------------------------------------------


def test_username_pool_uses_old_username():
    plan = plan_user(user("alice"), MODEL)
    assert plan.create_username == "alice" and plan.old_username == "alice"


def test_email_as_username_pool_creates_with_the_email():
    plan = plan_user(user(SUB, email="Alice@Example.com"), EMAIL_MODEL)
    assert isinstance(plan, UserPlan)
    assert plan.old_username == SUB
    assert plan.create_username == "Alice@Example.com"


def test_email_or_phone_pool_falls_back_to_phone():
    raw = user(SUB, email=None, email_verified=None, phone_number="+15550001111", phone_number_verified="true")
    plan = plan_user(raw, EMAIL_OR_PHONE_MODEL)
    assert plan.create_username == "+15550001111"


def test_email_or_phone_pool_prefers_the_first_username_attribute():
    plan = plan_user(user(SUB, phone_number="+15550001111"), EMAIL_OR_PHONE_MODEL)
    assert plan.create_username == "alice@example.com"


def test_phone_only_pool_uses_phone():
    model = UserModel.from_pool_config({**CONFIG, "UsernameAttributes": ["phone_number"]})
    plan = plan_user(user(SUB, phone_number="+15550001111"), model)
    assert plan.create_username == "+15550001111"


def test_email_pool_user_without_email_fails():
    problem = plan_user(user(SUB, email=None, email_verified=None), EMAIL_MODEL)
    assert isinstance(problem, UserProblem)
    assert problem.outcome == "failed" and problem.username == SUB
    assert "email" in problem.reason


def test_email_pool_user_with_empty_email_fails():
    problem = plan_user(user(SUB, email=""), EMAIL_MODEL)
    assert isinstance(problem, UserProblem) and problem.outcome == "failed"


def test_email_or_phone_pool_user_with_neither_fails_naming_both():
    problem = plan_user(user(SUB, email=None, email_verified=None), EMAIL_OR_PHONE_MODEL)
    assert isinstance(problem, UserProblem) and problem.outcome == "failed"
    assert "email" in problem.reason and "phone_number" in problem.reason


# --- statuses -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "status,target,permanent",
    [
        ("CONFIRMED", "CONFIRMED", True),
        ("RESET_REQUIRED", "CONFIRMED", True),
        ("FORCE_CHANGE_PASSWORD", "FORCE_CHANGE_PASSWORD", False),
        ("UNCONFIRMED", "UNCONFIRMED", False),
        ("COMPROMISED", "CONFIRMED", True),
        ("UNKNOWN", "CONFIRMED", True),
        ("ARCHIVED", "CONFIRMED", True),
    ],
)
def test_status_mapping(status, target, permanent):
    assert STATUS_OUTCOMES[status][0] == target
    plan = plan_user(user(status=status), MODEL)
    assert isinstance(plan, UserPlan)
    assert plan.status == status and plan.target_status == target
    assert plan.set_permanent_password is permanent
    assert (status in NEEDS_PERMANENT_PASSWORD) is permanent


@pytest.mark.parametrize("status", sorted(STATUS_OUTCOMES))
def test_every_documented_status_is_planned_consistently(status):
    plan = plan_user(user(status=status), MODEL)
    target, why = STATUS_OUTCOMES[status]
    assert plan.target_status == target
    # AdminCreateUser only yields FORCE_CHANGE_PASSWORD, a permanent password only CONFIRMED, SignUp UNCONFIRMED
    assert target in ("CONFIRMED", "FORCE_CHANGE_PASSWORD", "UNCONFIRMED")
    assert (target == "UNCONFIRMED") == (status == "UNCONFIRMED")
    assert plan.set_permanent_password == (target == "CONFIRMED")
    if target != status:
        assert any(status in note and target in note and why in note for note in plan.notes)


def test_unconfirmed_users_come_back_unconfirmed_without_a_status_note():
    # Through SignUp (sign_up.py): the same status, so nothing to note on each user.
    plan = plan_user(user(status="UNCONFIRMED"), MODEL)
    assert plan.target_status == "UNCONFIRMED" and not plan.set_permanent_password
    assert plan.notes == [] and plan.username_generated is False
    assert plan_user(user(status="UNCONFIRMED"), EMAIL_OR_PHONE_MODEL).username_generated is True


def test_confirmed_user_has_no_status_note():
    assert plan_user(user(status="CONFIRMED"), MODEL).notes == []


def test_force_change_password_user_carries_the_resend_note():
    # docs/cognito-behaviours.md §2.3: FORCE_CHANGE_PASSWORD users cannot use forgot-password; the temp password is new
    plan = plan_user(user(status="FORCE_CHANGE_PASSWORD"), MODEL)
    assert any(STATUS_OUTCOMES["FORCE_CHANGE_PASSWORD"][1] in note for note in plan.notes)


GOOGLE = '[{"userId":"1234567890","providerName":"Google","providerType":"Google","issuer":null,"primary":true,"dateCreated":1}]'


def test_federated_user_becomes_a_placeholder_linked_to_its_provider():
    plan = plan_user(user("Google_1234567890", status="EXTERNAL_PROVIDER", identities=GOOGLE), MODEL)
    assert isinstance(plan, UserPlan)
    assert plan.links == [{"provider_name": "Google", "provider_type": "Google", "user_id": "1234567890"}]
    # The old name would block the next Google sign-in: a native user must not hold it.
    assert plan.create_username == f"federated-{SUB}"
    assert plan.target_status == "FORCE_CHANGE_PASSWORD" and not plan.set_permanent_password
    assert "identities" not in names(plan)
    assert any("placeholder" in note for note in plan.notes)


def test_federated_placeholder_in_email_pool_signs_in_with_its_email():
    plan = plan_user(user("Google_1234567890", status="EXTERNAL_PROVIDER", identities=GOOGLE), EMAIL_MODEL)
    assert isinstance(plan, UserPlan)
    assert plan.create_username == "alice@example.com"


def test_federated_placeholder_drops_immutable_attributes_and_says_so():
    model = UserModel.from_pool_config(
        {
            **CONFIG,
            "SchemaAttributes": CONFIG["SchemaAttributes"]
            + [{"Name": "custom:signup_source", "AttributeDataType": "String", "Mutable": False}],
        }
    )
    raw = user("Google_1", status="EXTERNAL_PROVIDER", identities=GOOGLE, **{"custom:signup_source": "ads"})
    plan = plan_user(raw, model)
    assert isinstance(plan, UserPlan)
    assert "custom:signup_source" not in names(plan)
    assert "custom:signup_source" in plan.dropped_attributes


def test_federated_user_without_identities_is_skipped_by_name():
    problem = plan_user(user("Google_1234567890", status="EXTERNAL_PROVIDER"), MODEL)
    assert isinstance(problem, UserProblem)
    assert problem.outcome == "skipped" and problem.username == "Google_1234567890"
    assert "federated" in problem.reason


TWO_LINKS = (
    '[{"userId":"1234567890","providerName":"Google","providerType":"Google","issuer":null,"primary":false,"dateCreated":1},'
    '{"userId":"corp-77","providerName":"CorpOIDC","providerType":"OIDC","issuer":null,"primary":false,"dateCreated":2}]'
)


@pytest.mark.parametrize("model", [MODEL, EMAIL_MODEL], ids=["username", "email"])
def test_native_user_with_linked_identities_keeps_its_name_and_status_and_gets_every_link(model):
    plan = plan_user(user("alice", status="CONFIRMED", identities=TWO_LINKS), model)
    assert isinstance(plan, UserPlan)
    assert plan.create_username == ("alice@example.com" if model is EMAIL_MODEL else "alice")
    assert plan.target_status == "CONFIRMED" and plan.set_permanent_password
    assert plan.links == [
        {"provider_name": "Google", "provider_type": "Google", "user_id": "1234567890"},
        {"provider_name": "CorpOIDC", "provider_type": "OIDC", "user_id": "corp-77"},
    ]
    assert "identities" not in names(plan)
    assert not any("placeholder" in note for note in plan.notes)
    assert any("linked again to 2" in note for note in plan.notes)


def test_native_user_without_identities_has_no_links():
    plan = plan_user(user("bob", status="FORCE_CHANGE_PASSWORD"), MODEL)
    assert isinstance(plan, UserPlan) and plan.links == []


def test_sms_mfa_option_is_kept_when_the_user_has_a_phone():
    options = [{"DeliveryMedium": "SMS", "AttributeName": "phone_number"}]
    with_phone = plan_user({**user(phone_number="+15555550100"), "MFAOptions": options}, MODEL)
    without_phone = plan_user({**user(), "MFAOptions": options}, MODEL)
    assert with_phone.sms_mfa is True
    assert without_phone.sms_mfa is False


def test_old_sub_is_kept_in_the_opt_in_attribute():
    model = UserModel.from_pool_config(CONFIG, old_sub_attribute="custom:dr_old_sub")
    plan = plan_user(user(), model)
    assert {"Name": "custom:dr_old_sub", "Value": SUB} in plan.attributes
    assert not any(a["Name"] == "custom:dr_old_sub" for a in plan_user(user(), MODEL).attributes)


def test_unknown_status_fails_naming_the_status():
    problem = plan_user(user(status="SOMETHING_NEW"), MODEL)
    assert isinstance(problem, UserProblem)
    assert problem.outcome == "failed" and "SOMETHING_NEW" in problem.reason


@pytest.mark.parametrize("status", [None, 3, ["CONFIRMED"]])
def test_missing_or_non_string_status_fails(status):
    raw = user()
    raw["UserStatus"] = status
    problem = plan_user(raw, MODEL)
    assert isinstance(problem, UserProblem) and problem.outcome == "failed"


# --- enabled ------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["CONFIRMED", "FORCE_CHANGE_PASSWORD", "UNCONFIRMED", "RESET_REQUIRED"])
def test_disabled_users_stay_disabled(status):
    assert plan_user(user(status=status, enabled=False), MODEL).enabled is False
    assert plan_user(user(status=status, enabled=True), MODEL).enabled is True


def test_missing_enabled_means_enabled():
    raw = user()
    del raw["Enabled"]
    assert plan_user(raw, MODEL).enabled is True


# --- malformed items ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        {"Attributes": [], "UserStatus": "CONFIRMED"},
        {"Username": None, "UserStatus": "CONFIRMED"},
        {"Username": "", "UserStatus": "CONFIRMED"},
        {"Username": 42, "UserStatus": "CONFIRMED"},
        {"Username": "x" * 129, "UserStatus": "CONFIRMED"},
        "alice",
        None,
        ["alice"],
        17,
    ],
)
def test_item_without_usable_username_fails(raw):
    problem = plan_user(raw, MODEL)
    assert isinstance(problem, UserProblem) and problem.outcome == "failed"
    assert isinstance(problem.username, str) and len(problem.username) <= 128


@pytest.mark.parametrize(
    "attributes",
    [
        {"Name": "email", "Value": "a@b.c"},
        "email=a@b.c",
        None,
        [["email", "a@b.c"]],
        [{"Value": "a@b.c"}],
        [{"Name": 1, "Value": "x"}],
    ],
)
def test_attributes_not_a_list_of_name_value_fails(attributes):
    raw = user()
    raw["Attributes"] = attributes
    problem = plan_user(raw, MODEL)
    assert isinstance(problem, UserProblem) and problem.outcome == "failed" and problem.username == "alice"


def test_item_without_attributes_key_is_planned_with_no_attributes():
    plan = plan_user({"Username": "bob", "UserStatus": "CONFIRMED"}, MODEL)
    assert isinstance(plan, UserPlan) and plan.attributes == []


def test_plan_round_trips_through_chunk_items():
    plan = plan_user(user(status="UNCONFIRMED", enabled=False, **{"custom:x": "1"}), MODEL)
    item = plan.to_item()
    import json

    assert UserPlan.from_item(json.loads(json.dumps(item))) == plan


def test_plan_user_does_not_mutate_the_backup_item():
    import copy

    raw = user(email=None, email_verified="true", **{"custom:x": "1"})
    before = copy.deepcopy(raw)
    plan_user(raw, EMAIL_OR_PHONE_MODEL)
    plan_user(raw, MODEL)
    assert raw == before
