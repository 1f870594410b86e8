"""cognito_restore.pool_config: backed-up DescribeUserPool -> CreateUserPool request (docs/cognito-behaviours.md §1)."""

from __future__ import annotations

import copy

import botocore.session
import pytest

from cognito_restore.pool_config import (
    RESTORE_ID_TAG,
    SOURCE_POOL_TAG,
    create_user_pool_request,
    region_of_arn,
    schema_entry,
)

SOURCE = "us-east-1_AbCdEf123"
TARGET = "us-west-2"


def std(name, data_type="String", required=False, mutable=True, **extra):
    """A standard attribute as DescribeUserPool returns it."""
    entry = {
        "Name": name,
        "AttributeDataType": data_type,
        "DeveloperOnlyAttribute": False,
        "Mutable": mutable,
        "Required": required,
    }
    if data_type == "String":
        entry["StringAttributeConstraints"] = {"MinLength": "0", "MaxLength": "2048"}
    entry.update(extra)
    return entry


def described_pool(**overrides) -> dict:
    config = {
        "Id": SOURCE,
        "Name": "prod-pool",
        "Arn": f"arn:aws:cognito-idp:us-east-1:123456789012:userpool/{SOURCE}",
        "Status": "Enabled",
        "CreationDate": "2026-01-01 00:00:00+00:00",
        "LastModifiedDate": "2026-06-01 00:00:00+00:00",
        "EstimatedNumberOfUsers": 1234,
        "Domain": "prod-prefix",
        "CustomDomain": "auth.example.com",
        "SmsConfigurationFailure": "x",
        "EmailConfigurationFailure": "y",
        "Policies": {
            "PasswordPolicy": {
                "MinimumLength": 10,
                "RequireUppercase": True,
                "RequireLowercase": True,
                "RequireNumbers": True,
                "RequireSymbols": True,
                "TemporaryPasswordValidityDays": 5,
            }
        },
        "DeletionProtection": "ACTIVE",
        "LambdaConfig": {"PreSignUp": "arn:aws:lambda:us-east-1:123456789012:function:pre", "CustomMessage": ""},
        "SchemaAttributes": [
            {
                "Name": "sub",
                "AttributeDataType": "String",
                "DeveloperOnlyAttribute": False,
                "Mutable": False,
                "Required": True,
                "StringAttributeConstraints": {"MinLength": "1", "MaxLength": "2048"},
            },
            std("email", required=True),
            {
                "Name": "custom:tenant_id",
                "AttributeDataType": "String",
                "DeveloperOnlyAttribute": False,
                "Mutable": True,
                "Required": False,
                "StringAttributeConstraints": {"MinLength": "3", "MaxLength": "36"},
            },
        ],
        "AutoVerifiedAttributes": ["email"],
        "UsernameConfiguration": {"CaseSensitive": False},
        "MfaConfiguration": "OPTIONAL",
        "AdminCreateUserConfig": {"AllowAdminCreateUserOnly": True, "UnusedAccountValidityDays": 7},
        "EmailConfiguration": {"EmailSendingAccount": "COGNITO_DEFAULT"},
        "UserPoolTags": {"team": "identity"},
        "AccountRecoverySetting": {"RecoveryMechanisms": [{"Priority": 1, "Name": "verified_email"}]},
        "VerificationMessageTemplate": {
            "DefaultEmailOption": "CONFIRM_WITH_CODE",
            "EmailMessage": "code {####}",
            "EmailSubject": "Verify",
        },
        "EmailVerificationMessage": "code {####}",
        "EmailVerificationSubject": "Verify",
        "UserPoolTier": "ESSENTIALS",
    }
    config.update(overrides)
    return config


def build(config=None, **kwargs):
    return create_user_pool_request(
        config if config is not None else described_pool(),
        restore_id="r-20261102",
        source_pool_id=SOURCE,
        target_region=kwargs.pop("target_region", TARGET),
    )


def schema_names(request) -> dict[str, dict]:
    return {e["Name"]: e for e in request.get("Schema", [])}


# --- top-level fields ---------------------------------------------------------------------------


def test_name_becomes_pool_name():
    request = build().request
    assert request["PoolName"] == "prod-pool"
    assert "Name" not in request


@pytest.mark.parametrize(
    "field",
    [
        "Id",
        "Arn",
        "Status",
        "CreationDate",
        "LastModifiedDate",
        "EstimatedNumberOfUsers",
        "Domain",
        "CustomDomain",
        "SchemaAttributes",
        "SmsConfigurationFailure",
        "EmailConfigurationFailure",
        "LambdaConfig",
        "Name",
    ],
)
def test_output_only_fields_are_dropped(field):
    assert field not in build().request


def test_request_has_only_create_user_pool_members():
    """botocore rejects unknown top-level keys (docs/cognito-behaviours.md §1.1): check against the installed model."""
    model = botocore.session.get_session().get_service_model("cognito-idp")
    allowed = set(model.operation_model("CreateUserPool").input_shape.members)
    config = described_pool(
        UsernameAttributes=["email"],
        DeviceConfiguration={"ChallengeRequiredOnNewDevice": True},
        SmsConfiguration={"SnsCallerArn": "arn:aws:iam::1:role/sns", "ExternalId": "x", "SnsRegion": TARGET},
        UserPoolAddOns={"AdvancedSecurityMode": "AUDIT"},
        UserAttributeUpdateSettings={"AttributesRequireVerificationBeforeUpdate": ["email"]},
        SmsAuthenticationMessage="code {####}",
        SmsVerificationMessage="v {####}",
    )
    request = build(config).request
    assert set(request) <= allowed, set(request) - allowed


def test_request_passes_botocore_parameter_validation():
    from botocore.validate import ParamValidator

    model = botocore.session.get_session().get_service_model("cognito-idp")
    shape = model.operation_model("CreateUserPool").input_shape
    report = ParamValidator().validate(build().request, shape)
    assert not report.has_errors(), report.generate_report()


@pytest.mark.parametrize(
    "field,value",
    [
        ("UsernameAttributes", ["email", "phone_number"]),
        ("AliasAttributes", ["email", "preferred_username"]),
        ("UsernameConfiguration", {"CaseSensitive": True}),
        ("UsernameConfiguration", {"CaseSensitive": False}),
        (
            "Policies",
            {"PasswordPolicy": {"MinimumLength": 12}, "SignInPolicy": {"AllowedFirstAuthFactors": ["PASSWORD"]}},
        ),
        ("AccountRecoverySetting", {"RecoveryMechanisms": [{"Priority": 1, "Name": "admin_only"}]}),
        ("DeletionProtection", "INACTIVE"),
        ("UserPoolTier", "PLUS"),
        ("UserPoolAddOns", {"AdvancedSecurityMode": "ENFORCED"}),
        ("DeviceConfiguration", {"ChallengeRequiredOnNewDevice": False, "DeviceOnlyRememberedOnUserPrompt": True}),
        ("AutoVerifiedAttributes", ["email", "phone_number"]),
        ("UserAttributeUpdateSettings", {"AttributesRequireVerificationBeforeUpdate": ["email"]}),
        ("SmsAuthenticationMessage", "Your code {####}"),
    ],
)
def test_creation_only_and_other_settings_are_kept_verbatim(field, value):
    config = described_pool(**{field: copy.deepcopy(value)})
    assert build(config).request[field] == value


def test_absent_device_configuration_is_not_sent():
    # sending any DeviceConfiguration activates device remembering (docs/cognito-behaviours.md §1.11)
    assert "DeviceConfiguration" not in build().request
    assert "DeviceConfiguration" not in build(described_pool(DeviceConfiguration=None)).request
    assert "DeviceConfiguration" not in build(described_pool(DeviceConfiguration={})).request


def test_empty_alias_attributes_not_sent():
    assert "AliasAttributes" not in build(described_pool(AliasAttributes=[])).request


def test_input_config_is_not_mutated():
    config = described_pool(
        EmailConfiguration={
            "EmailSendingAccount": "DEVELOPER",
            "SourceArn": "arn:aws:ses:us-east-1:123456789012:identity/example.com",
        },
        SmsConfiguration={"SnsCallerArn": "arn:aws:iam::1:role/sns", "SnsRegion": "us-east-1"},
    )
    before = copy.deepcopy(config)
    result = build(config)
    result.request["Policies"]["PasswordPolicy"]["MinimumLength"] = 99
    result.request["Schema"][0]["Name"] = "changed"
    assert config == before


def test_mfa_configuration_returned_for_later():
    result = build()
    assert result.mfa_configuration == "OPTIONAL"
    assert "MfaConfiguration" not in result.request
    assert build(described_pool(MfaConfiguration=None)).mfa_configuration == "OFF"


def test_lambda_config_waits_for_the_triggers_phase():
    assert "LambdaConfig" not in build().request
    assert "LambdaConfig" not in build(described_pool(LambdaConfig=None)).request


def test_legacy_verification_fields_are_not_sent_next_to_the_template():
    request = build().request
    assert "EmailVerificationMessage" not in request and "EmailVerificationSubject" not in request
    assert request["VerificationMessageTemplate"]["EmailMessage"] == "code {####}"


# --- UnusedAccountValidityDays ------------------------------------------------------------------


def test_unused_account_validity_dropped_when_temporary_password_validity_set():
    request = build().request
    assert "UnusedAccountValidityDays" not in request["AdminCreateUserConfig"]
    assert request["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    assert request["Policies"]["PasswordPolicy"]["TemporaryPasswordValidityDays"] == 5


def test_unused_account_validity_kept_without_temporary_password_validity():
    config = described_pool(Policies={"PasswordPolicy": {"MinimumLength": 8}})
    assert build(config).request["AdminCreateUserConfig"]["UnusedAccountValidityDays"] == 7
    config = described_pool(Policies=None)
    assert build(config).request["AdminCreateUserConfig"]["UnusedAccountValidityDays"] == 7


# --- tags ---------------------------------------------------------------------------------------


def test_restore_tags_added_and_existing_kept():
    tags = build().request["UserPoolTags"]
    assert tags == {"team": "identity", RESTORE_ID_TAG: "r-20261102", SOURCE_POOL_TAG: SOURCE}


def test_restore_tags_added_without_existing_tags():
    tags = build(described_pool(UserPoolTags=None)).request["UserPoolTags"]
    assert tags == {RESTORE_ID_TAG: "r-20261102", SOURCE_POOL_TAG: SOURCE}


def test_restore_tags_override_stale_restore_tags_of_the_source():
    config = described_pool(UserPoolTags={RESTORE_ID_TAG: "old", SOURCE_POOL_TAG: "us-east-1_Old", "a": "b"})
    tags = build(config).request["UserPoolTags"]
    assert tags[RESTORE_ID_TAG] == "r-20261102" and tags[SOURCE_POOL_TAG] == SOURCE and tags["a"] == "b"


# --- Region-bound dependencies ------------------------------------------------------------------


def test_region_of_arn():
    assert region_of_arn("arn:aws:ses:eu-west-1:123456789012:identity/example.com") == "eu-west-1"
    assert region_of_arn("arn:aws-us-gov:ses:us-gov-west-1:1:identity/x") == "us-gov-west-1"
    assert region_of_arn("not-an-arn") is None
    assert region_of_arn("arn:aws:ses") is None


def test_ses_identity_in_another_region_falls_back_to_cognito_default_and_is_reported():
    arn = "arn:aws:ses:us-east-1:123456789012:identity/example.com"
    config = described_pool(
        EmailConfiguration={
            "EmailSendingAccount": "DEVELOPER",
            "SourceArn": arn,
            "From": "Example <no-reply@example.com>",
            "ConfigurationSet": "cs",
        }
    )
    result = build(config)
    assert result.request["EmailConfiguration"] == {"EmailSendingAccount": "COGNITO_DEFAULT"}
    (entry,) = [e for e in result.left_out if e["item"] == "EmailConfiguration.SourceArn"]
    assert arn in entry["reason"]
    # developer-only template texts are not allowed with COGNITO_DEFAULT (docs/cognito-behaviours.md §1.9)
    template = result.request.get("VerificationMessageTemplate") or {}
    assert not {"EmailMessage", "EmailSubject", "EmailMessageByLink", "EmailSubjectByLink"} & set(template)


def test_ses_identity_in_the_target_region_is_kept():
    arn = f"arn:aws:ses:{TARGET}:123456789012:identity/example.com"
    email = {"EmailSendingAccount": "DEVELOPER", "SourceArn": arn, "From": "no-reply@example.com"}
    result = build(described_pool(EmailConfiguration=email))
    assert result.request["EmailConfiguration"] == email
    assert result.left_out == []
    assert result.request["VerificationMessageTemplate"]["EmailMessage"] == "code {####}"


def test_invite_email_texts_removed_when_falling_back_to_cognito_default():
    config = described_pool(
        EmailConfiguration={
            "EmailSendingAccount": "DEVELOPER",
            "SourceArn": "arn:aws:ses:us-east-1:123456789012:identity/example.com",
        },
        AdminCreateUserConfig={
            "AllowAdminCreateUserOnly": True,
            "InviteMessageTemplate": {
                "EmailMessage": "Hi {username}, {####}",
                "EmailSubject": "Welcome",
                "SMSMessage": "{username} {####}",
            },
        },
    )
    invite = build(config).request["AdminCreateUserConfig"].get("InviteMessageTemplate") or {}
    assert "EmailMessage" not in invite and "EmailSubject" not in invite
    assert invite.get("SMSMessage") == "{username} {####}"


def test_sms_region_of_another_region_removed_and_reported():
    sms = {"SnsCallerArn": "arn:aws:iam::123456789012:role/sns", "ExternalId": "ext", "SnsRegion": "us-east-1"}
    result = build(described_pool(SmsConfiguration=sms))
    assert result.request["SmsConfiguration"] == {"SnsCallerArn": sms["SnsCallerArn"], "ExternalId": "ext"}
    assert any(e["item"] == "SmsConfiguration.SnsRegion" for e in result.left_out)


def test_sms_region_of_target_region_kept():
    sms = {"SnsCallerArn": "arn:aws:iam::123456789012:role/sns", "SnsRegion": TARGET}
    result = build(described_pool(SmsConfiguration=sms))
    assert result.request["SmsConfiguration"] == sms and result.left_out == []


# --- schema -------------------------------------------------------------------------------------


def test_custom_prefix_stripped():
    entry = schema_entry(
        {
            "Name": "custom:tenant_id",
            "AttributeDataType": "String",
            "DeveloperOnlyAttribute": False,
            "Mutable": True,
            "Required": False,
            "StringAttributeConstraints": {"MinLength": "3", "MaxLength": "36"},
        }
    )
    assert entry == {
        "Name": "tenant_id",
        "AttributeDataType": "String",
        "Mutable": True,
        "Required": False,
        "StringAttributeConstraints": {"MinLength": "3", "MaxLength": "36"},
    }


@pytest.mark.parametrize("name", ["dev:custom:legacy_id", "dev:legacy_id"])
def test_dev_prefix_stripped_and_developer_only_set(name):
    entry = schema_entry(
        {
            "Name": name,
            "AttributeDataType": "String",
            "DeveloperOnlyAttribute": True,
            "Mutable": True,
            "Required": False,
            "StringAttributeConstraints": {},
        }
    )
    assert entry["Name"] == "legacy_id"
    assert entry["DeveloperOnlyAttribute"] is True
    assert "StringAttributeConstraints" not in entry


def test_dev_prefix_sets_developer_only_even_if_flag_missing():
    entry = schema_entry({"Name": "dev:custom:x", "AttributeDataType": "String"})
    assert entry == {"Name": "x", "AttributeDataType": "String", "DeveloperOnlyAttribute": True}


@pytest.mark.parametrize("base", ["loyalty_tier_code_x", "abcdefghijklmnopqrst", "a", "signup_source_origin"])
def test_long_base_names_are_kept_never_filtered_by_length(base):
    assert len(base) <= 20
    config = described_pool(
        SchemaAttributes=[
            {
                "Name": f"custom:{base}",
                "AttributeDataType": "String",
                "DeveloperOnlyAttribute": False,
                "Mutable": True,
                "Required": False,
            }
        ]
    )
    assert base in schema_names(build(config).request)


def test_all_names_sent_are_at_most_20_characters_and_unprefixed():
    config = described_pool(
        SchemaAttributes=[
            std("email", required=True),
            std("phone_number"),
            std("phone_number_verified", "Boolean"),
            std("email_verified", "Boolean"),
            {"Name": "custom:loyalty_tier_code_x", "AttributeDataType": "String"},
            {"Name": "dev:custom:abcdefghijklmnopqrst", "AttributeDataType": "String", "DeveloperOnlyAttribute": True},
        ]
    )
    for entry in build(config).request["Schema"]:
        assert len(entry["Name"]) <= 20, entry
        assert not entry["Name"].startswith(("custom:", "dev:"))


def test_sub_is_omitted():
    assert schema_entry({"Name": "sub", "AttributeDataType": "String", "Mutable": False, "Required": True}) is None
    assert "sub" not in schema_names(build().request)


def test_standard_attribute_with_plain_defaults_is_omitted():
    assert (
        schema_entry(
            {
                "Name": "given_name",
                "AttributeDataType": "String",
                "DeveloperOnlyAttribute": False,
                "Mutable": True,
                "Required": False,
            }
        )
        is None
    )
    assert (
        schema_entry(
            {
                "Name": "email_verified",
                "AttributeDataType": "Boolean",
                "DeveloperOnlyAttribute": False,
                "Mutable": True,
                "Required": False,
            }
        )
        is None
    )
    assert (
        schema_entry(
            {"Name": "phone_number_verified", "AttributeDataType": "Boolean", "Mutable": True, "Required": False}
        )
        is None
    )


def test_standard_attribute_with_empty_constraints_is_omitted():
    assert (
        schema_entry(
            {
                "Name": "nickname",
                "AttributeDataType": "String",
                "Mutable": True,
                "Required": False,
                "StringAttributeConstraints": {},
            }
        )
        is None
    )


def test_standard_attributes_with_cognito_default_constraints_are_omitted():
    assert schema_entry(std("given_name")) is None
    assert schema_entry(std("updated_at", "Number", NumberAttributeConstraints={"MinValue": "0"})) is None


def test_required_standard_attribute_is_kept():
    entry = schema_entry(std("email", required=True))
    assert entry["Name"] == "email" and entry["Required"] is True
    assert "DeveloperOnlyAttribute" not in entry


def test_immutable_standard_attribute_is_kept():
    entry = schema_entry({"Name": "birthdate", "AttributeDataType": "String", "Mutable": False, "Required": False})
    assert entry == {"Name": "birthdate", "AttributeDataType": "String", "Mutable": False, "Required": False}


def test_standard_attribute_with_custom_constraints_is_kept():
    entry = schema_entry(std("name", StringAttributeConstraints={"MinLength": "2", "MaxLength": "64"}))
    assert entry["StringAttributeConstraints"] == {"MinLength": "2", "MaxLength": "64"}


def test_empty_constraint_dicts_are_dropped_from_custom_attributes():
    entry = schema_entry(
        {
            "Name": "custom:n",
            "AttributeDataType": "Number",
            "NumberAttributeConstraints": {},
            "StringAttributeConstraints": {},
            "Mutable": True,
        }
    )
    assert entry == {"Name": "n", "AttributeDataType": "Number", "Mutable": True}


def test_schema_entry_does_not_share_nested_dicts_with_the_backup():
    attribute = {"Name": "custom:t", "AttributeDataType": "String", "StringAttributeConstraints": {"MaxLength": "5"}}
    entry = schema_entry(attribute)
    entry["StringAttributeConstraints"]["MaxLength"] = "9"
    assert attribute["StringAttributeConstraints"]["MaxLength"] == "5"


def test_schema_in_the_request():
    schema = schema_names(build().request)
    assert set(schema) == {"email", "tenant_id"}
    assert schema["tenant_id"]["StringAttributeConstraints"] == {"MinLength": "3", "MaxLength": "36"}
    assert schema["email"]["Required"] is True


def test_no_schema_member_when_nothing_to_send():
    config = described_pool(
        SchemaAttributes=[{"Name": "sub", "AttributeDataType": "String", "Mutable": False, "Required": True}]
    )
    assert "Schema" not in build(config).request
    assert "Schema" not in build(described_pool(SchemaAttributes=None)).request
