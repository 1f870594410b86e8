"""tools/emulation/cognito: moto's Cognito refuses what real Cognito refuses.

Each behaviour: the naive call gets the real error code and message, the correct call passes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import inspect
import json
import re
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

import tools.emulation.cognito as strict
from tools.emulation.cognito import features, strict_cognito
from tools.emulation.cognito import features_v2 as v2
from tools.emulation.cognito import messages as msg

REGION = "us-east-1"
ACCOUNT = "123456789012"
GOOD_PASSWORD = "Valid#Pass123"
STANDARD = [
    "sub",
    "name",
    "given_name",
    "family_name",
    "middle_name",
    "nickname",
    "preferred_username",
    "profile",
    "picture",
    "website",
    "email",
    "email_verified",
    "gender",
    "birthdate",
    "zoneinfo",
    "locale",
    "phone_number",
    "phone_number_verified",
    "address",
    "updated_at",
]


@pytest.fixture
def cognito() -> Iterator[Any]:
    with mock_aws(), strict_cognito():
        yield boto3.client("cognito-idp", region_name=REGION)


def fails(call: Any, code: str, message: str | None = None, **kwargs: Any) -> str:
    with pytest.raises(ClientError) as info:
        call(**kwargs)
    error = info.value.response["Error"]
    assert error["Code"] == code, error
    if message is not None:
        assert error["Message"] == message, error
    return error["Message"]


def pool(cognito: Any, **kwargs: Any) -> dict[str, Any]:
    kwargs.setdefault("PoolName", "p")
    return cognito.create_user_pool(**kwargs)["UserPool"]


def schema_of(cognito: Any, pool_id: str) -> dict[str, dict[str, Any]]:
    attributes = cognito.describe_user_pool(UserPoolId=pool_id)["UserPool"]["SchemaAttributes"]
    return {a["Name"]: a for a in attributes}


def attrs(**values: str) -> list[dict[str, str]]:
    return [{"Name": k.replace("__", ":"), "Value": v} for k, v in values.items()]


# ------------------------------------------------------------------------- installation


def test_installation_is_scoped_reference_counted_and_the_emulator_can_opt_out() -> None:
    assert not strict.is_installed()
    with mock_aws():
        cognito = boto3.client("cognito-idp", region_name=REGION)
        pool_id = pool(cognito)["Id"]
        cognito.admin_create_user(UserPoolId=pool_id, Username="u", MessageAction="SUPPRESS")
        with strict_cognito():
            with strict_cognito():
                assert strict.is_installed()
            assert strict.is_installed()  # the inner exit did not remove the outer patches
            fails(cognito.admin_confirm_sign_up, "NotAuthorizedException", UserPoolId=pool_id, Username="u")
        assert not strict.is_installed()
        cognito.admin_confirm_sign_up(UserPoolId=pool_id, Username="u")  # moto's leniency is back
    from tools.emulation import RestoreStack

    assert inspect.signature(RestoreStack).parameters["strict_cognito"].default is True


# ------------------------------------------------------------------------- 1. AdminConfirmSignUp


def test_admin_confirm_sign_up_only_for_unconfirmed_users(cognito: Any) -> None:
    pool_id = pool(cognito)["Id"]
    client_id = cognito.create_user_pool_client(UserPoolId=pool_id, ClientName="c")["UserPoolClient"]["ClientId"]
    cognito.admin_create_user(
        UserPoolId=pool_id, Username="invited", MessageAction="SUPPRESS", TemporaryPassword=GOOD_PASSWORD
    )
    fails(
        cognito.admin_confirm_sign_up,
        "NotAuthorizedException",
        "User cannot be confirmed. Current status is FORCE_CHANGE_PASSWORD",
        UserPoolId=pool_id,
        Username="invited",
    )
    # the right way to CONFIRMED for an admin-created user
    cognito.admin_set_user_password(UserPoolId=pool_id, Username="invited", Password=GOOD_PASSWORD, Permanent=True)
    fails(
        cognito.admin_confirm_sign_up,
        "NotAuthorizedException",
        "User cannot be confirmed. Current status is CONFIRMED",
        UserPoolId=pool_id,
        Username="invited",
    )

    cognito.sign_up(ClientId=client_id, Username="selfservice", Password=GOOD_PASSWORD)
    cognito.admin_confirm_sign_up(UserPoolId=pool_id, Username="selfservice")
    assert cognito.admin_get_user(UserPoolId=pool_id, Username="selfservice")["UserStatus"] == "CONFIRMED"


# ------------------------------------------------------------------------- 2. pool schema


def test_schema_names_over_20_characters_are_refused(cognito: Any) -> None:
    message = fails(
        cognito.create_user_pool,
        "InvalidParameterException",
        PoolName="p",
        Schema=[
            {"Name": "email", "Required": True},
            {"Name": "custom:loyalty_tier_code_x", "AttributeDataType": "String"},  # 26 chars as sent
        ],
    )
    assert message == (
        "1 validation error detected: Value 'custom:loyalty_tier_code_x' at 'schema.2.member.name' "
        "failed to satisfy constraint: Member must have length less than or equal to 20"
    )
    pool_id = pool(cognito, Schema=[{"Name": "loyalty_tier_code_xy", "AttributeDataType": "String"}])["Id"]  # 20
    assert "custom:loyalty_tier_code_xy" in schema_of(cognito, pool_id)
    fails(
        cognito.add_custom_attributes,
        "InvalidParameterException",
        UserPoolId=pool_id,
        CustomAttributes=[{"Name": "a_twenty_one_chars_xx", "AttributeDataType": "String"}],
    )


def test_at_most_50_custom_attributes(cognito: Any) -> None:
    def customs(count: int, prefix: str = "a") -> list[dict[str, str]]:
        return [{"Name": f"{prefix}{i}", "AttributeDataType": "String"} for i in range(count)]

    fails(
        cognito.create_user_pool,
        "InvalidParameterException",
        msg.MSG_TOO_MANY_CUSTOM,
        PoolName="p",
        Schema=customs(51),
    )
    pool_id = pool(cognito, Schema=customs(49))["Id"]
    cognito.add_custom_attributes(UserPoolId=pool_id, CustomAttributes=customs(1, "b"))
    fails(
        cognito.add_custom_attributes,
        "InvalidParameterException",
        msg.MSG_TOO_MANY_CUSTOM,
        UserPoolId=pool_id,
        CustomAttributes=customs(1, "c"),
    )
    assert sum(1 for n in schema_of(cognito, pool_id) if n.startswith("custom:")) == 50


def test_prefixed_custom_name_is_prefixed_again_and_required_custom_is_refused(cognito: Any) -> None:
    pool_id = pool(
        cognito,
        Schema=[
            {"Name": "custom:plan", "AttributeDataType": "String"},
            {"Name": "tier", "AttributeDataType": "String"},
        ],
    )["Id"]
    names = set(schema_of(cognito, pool_id))
    assert {"custom:custom:plan", "custom:tier"} <= names and "custom:plan" not in names
    fails(
        cognito.create_user_pool,
        "InvalidParameterException",
        "Required custom attributes are not supported currently.",
        PoolName="p",
        Schema=[{"Name": "tier", "AttributeDataType": "String", "Required": True}],
    )


def test_alias_and_username_attributes_are_exclusive(cognito: Any) -> None:
    fails(
        cognito.create_user_pool,
        "InvalidParameterException",
        "Only one of the aliasAttributes or usernameAttributes can be set in a User Pool.",
        PoolName="p",
        AliasAttributes=["email"],
        UsernameAttributes=["email"],
    )
    assert pool(cognito, UsernameAttributes=["email"])["UsernameAttributes"] == ["email"]
    assert pool(cognito, AliasAttributes=["email"])["AliasAttributes"] == ["email"]


def test_unused_account_validity_days_with_temporary_password_validity_days(cognito: Any) -> None:
    naive = {
        "PoolName": "p",
        "AdminCreateUserConfig": {"UnusedAccountValidityDays": 7},
        "Policies": {"PasswordPolicy": {"MinimumLength": 8, "TemporaryPasswordValidityDays": 7}},
    }
    message = "Please use TemporaryPasswordValidityDays in PasswordPolicy instead of UnusedAccountValidityDays"
    fails(cognito.create_user_pool, "InvalidParameterException", message, **naive)
    pool_id = pool(cognito, Policies={"PasswordPolicy": {"MinimumLength": 8, "TemporaryPasswordValidityDays": 7}})["Id"]
    naive.pop("PoolName")
    fails(cognito.update_user_pool, "InvalidParameterException", message, UserPoolId=pool_id, **naive)


def test_schema_attributes_list_every_standard_attribute_with_its_defaults(cognito: Any) -> None:
    pool_id = pool(
        cognito, Schema=[{"Name": "email", "Required": True}, {"Name": "tenant", "AttributeDataType": "String"}]
    )["Id"]
    attributes = cognito.describe_user_pool(UserPoolId=pool_id)["UserPool"]["SchemaAttributes"]
    assert [a["Name"] for a in attributes] == [*STANDARD, "custom:tenant"]
    by_name = {a["Name"]: a for a in attributes}
    assert by_name["sub"] == {
        "Name": "sub",
        "AttributeDataType": "String",
        "DeveloperOnlyAttribute": False,
        "Mutable": False,
        "Required": True,
        "StringAttributeConstraints": {"MinLength": "1", "MaxLength": "2048"},
    }
    assert by_name["email"] == {
        "Name": "email",
        "AttributeDataType": "String",
        "DeveloperOnlyAttribute": False,
        "Mutable": True,
        "Required": True,
        "StringAttributeConstraints": {"MinLength": "0", "MaxLength": "2048"},
    }
    assert by_name["given_name"]["StringAttributeConstraints"] == {"MinLength": "0", "MaxLength": "2048"}
    assert by_name["given_name"]["Required"] is False and by_name["given_name"]["Mutable"] is True
    for flag in ("email_verified", "phone_number_verified"):
        assert by_name[flag] == {
            "Name": flag,
            "AttributeDataType": "Boolean",
            "DeveloperOnlyAttribute": False,
            "Mutable": True,
            "Required": False,
        }
    assert by_name["updated_at"]["AttributeDataType"] == "Number"
    assert by_name["updated_at"]["NumberAttributeConstraints"] == {"MinValue": "0"}
    described = cognito.describe_user_pool(UserPoolId=pool_id)["UserPool"]
    assert described["UserPoolTier"] == "ESSENTIALS" and described["DeletionProtection"] == "INACTIVE"


# ------------------------------------------------------------------------- 3. AdminCreateUser


@pytest.fixture
def user_pool(cognito: Any) -> str:
    return pool(
        cognito,
        Schema=[
            {"Name": "tenant", "AttributeDataType": "String"},
            {"Name": "legacy", "AttributeDataType": "String", "DeveloperOnlyAttribute": True},
        ],
        Policies={
            "PasswordPolicy": {
                "MinimumLength": 10,
                "RequireUppercase": True,
                "RequireLowercase": True,
                "RequireNumbers": True,
                "RequireSymbols": True,
            }
        },
    )["Id"]


def test_admin_create_user_refuses_system_and_undeclared_attributes(cognito: Any, user_pool: str) -> None:
    create = cognito.admin_create_user
    fails(
        create,
        "InvalidParameterException",
        "Cannot modify the non-mutable attribute sub",
        UserPoolId=user_pool,
        Username="u",
        UserAttributes=attrs(sub="0c4e3c0a-1111-2222-3333-444455556666"),
    )
    for name in ("identities", "cognito:user_status", "cognito:mfa_enabled", "custom:undeclared", "favorite_flavor"):
        fails(
            create,
            "InvalidParameterException",
            f"Attributes did not conform to the schema: {name}: Attribute does not exist in the schema.",
            UserPoolId=user_pool,
            Username="u",
            UserAttributes=[{"Name": name, "Value": "x"}],
        )
    user = create(
        UserPoolId=user_pool,
        Username="u",
        MessageAction="SUPPRESS",
        UserAttributes=attrs(
            email="u@example.com", email_verified="true", name="U", custom__tenant="t1", dev__custom__legacy="L1"
        ),
    )["User"]
    assert {a["Name"] for a in user["Attributes"]} >= {"email", "custom:tenant", "dev:custom:legacy", "sub"}


def test_admin_create_user_verified_flags_need_the_value(cognito: Any, user_pool: str) -> None:
    fails(
        cognito.admin_create_user,
        "InvalidParameterException",
        "Cannot set email_verified to true without providing a value for email.",
        UserPoolId=user_pool,
        Username="u",
        UserAttributes=attrs(email_verified="true"),
    )
    fails(
        cognito.admin_create_user,
        "InvalidParameterException",
        "Cannot set phone_number_verified to true without providing a value for phone_number.",
        UserPoolId=user_pool,
        Username="u",
        UserAttributes=attrs(phone_number_verified="true"),
    )
    cognito.admin_create_user(
        UserPoolId=user_pool, Username="u", MessageAction="SUPPRESS", UserAttributes=attrs(email_verified="false")
    )
    email_pool = pool(cognito, UsernameAttributes=["email"])["Id"]
    # the username IS the email in a UsernameAttributes pool
    cognito.admin_create_user(
        UserPoolId=email_pool,
        Username="a@example.com",
        MessageAction="SUPPRESS",
        UserAttributes=attrs(email_verified="true"),
    )


def test_admin_create_user_checks_the_temporary_password(cognito: Any, user_pool: str) -> None:
    cases = {
        "Short#1a": "Password not long enough",
        "nouppercase#12": "Password must have uppercase characters",
        "NOLOWERCASE#12": "Password must have lowercase characters",
        "NoNumbers#abc": "Password must have numeric characters",
        "NoSymbols1234": "Password must have symbol characters",
    }
    for password, reason in cases.items():
        fails(
            cognito.admin_create_user,
            "InvalidPasswordException",
            f"Password does not conform to policy: {reason}",
            UserPoolId=user_pool,
            Username="u",
            TemporaryPassword=password,
            MessageAction="SUPPRESS",
        )
    cognito.admin_create_user(
        UserPoolId=user_pool, Username="u", TemporaryPassword="Valid#Pass12", MessageAction="SUPPRESS"
    )


def test_resend_reuses_the_existing_user(cognito: Any) -> None:
    email_pool = pool(cognito, UsernameAttributes=["email"])["Id"]
    first = cognito.admin_create_user(
        UserPoolId=email_pool, Username="a@example.com", MessageAction="SUPPRESS", TemporaryPassword=GOOD_PASSWORD
    )["User"]
    again = cognito.admin_create_user(UserPoolId=email_pool, Username="a@example.com", MessageAction="RESEND")["User"]
    assert again["Username"] == first["Username"]
    users = cognito.list_users(UserPoolId=email_pool)["Users"]
    assert [u["Username"] for u in users] == [first["Username"]]  # moto: a second user, new sub

    plain = pool(cognito)["Id"]
    cognito.create_group(UserPoolId=plain, GroupName="g")
    cognito.admin_create_user(UserPoolId=plain, Username="bob", MessageAction="SUPPRESS")
    cognito.admin_add_user_to_group(UserPoolId=plain, Username="bob", GroupName="g")
    sub = cognito.admin_get_user(UserPoolId=plain, Username="bob")["UserAttributes"]
    cognito.admin_create_user(UserPoolId=plain, Username="bob", MessageAction="RESEND")
    assert cognito.admin_get_user(UserPoolId=plain, Username="bob")["UserAttributes"] == sub
    assert [g["GroupName"] for g in cognito.admin_list_groups_for_user(UserPoolId=plain, Username="bob")["Groups"]] == [
        "g"
    ]
    fails(
        cognito.admin_create_user, "UserNotFoundException", UserPoolId=plain, Username="nobody", MessageAction="RESEND"
    )


# ------------------------------------------------------------------------- 4. app clients


@pytest.fixture
def client_pool(cognito: Any) -> str:
    return pool(
        cognito,
        Schema=[
            {"Name": "email", "Required": True},
            {"Name": "name", "Required": True},
            {"Name": "plan", "AttributeDataType": "String"},
        ],
    )["Id"]


def test_write_attributes_must_include_the_required_attributes(cognito: Any, client_pool: str) -> None:
    create = cognito.create_user_pool_client
    fails(
        create,
        "InvalidParameterException",
        "Invalid write attributes specified while creating a client",
        UserPoolId=client_pool,
        ClientName="c",
        WriteAttributes=["name"],
    )
    client_id = create(UserPoolId=client_pool, ClientName="c", WriteAttributes=["email", "name", "custom:plan"])[
        "UserPoolClient"
    ]["ClientId"]
    create(UserPoolId=client_pool, ClientName="defaults")  # omitted: the defaults are fine
    fails(
        cognito.update_user_pool_client,
        "InvalidParameterException",
        "Invalid write attributes specified while updating a client",
        UserPoolId=client_pool,
        ClientId=client_id,
        WriteAttributes=["email"],
    )
    cognito.update_user_pool_client(UserPoolId=client_pool, ClientId=client_id, WriteAttributes=["email", "name"])


def test_read_and_write_attributes_must_exist_and_be_writable(cognito: Any, client_pool: str) -> None:
    create = cognito.create_user_pool_client
    fails(
        create,
        "InvalidParameterException",
        "Invalid read attributes specified while creating a client",
        UserPoolId=client_pool,
        ClientName="c",
        ReadAttributes=["email", "custom:dropped"],
    )
    fails(
        create,
        "InvalidParameterException",
        "Invalid write attributes specified while creating a client",
        UserPoolId=client_pool,
        ClientName="c",
        WriteAttributes=["email", "name", "custom:dropped"],
    )
    fails(
        create,
        "InvalidParameterException",
        "Invalid write attributes specified while creating a client",
        UserPoolId=client_pool,
        ClientName="c",
        WriteAttributes=["email", "name", "email_verified"],
    )
    create(
        UserPoolId=client_pool,
        ClientName="c",
        ReadAttributes=["email", "email_verified", "name", "phone_number_verified", "custom:plan"],
    )


def test_supported_identity_providers_and_custom_scopes_must_exist(cognito: Any, client_pool: str) -> None:
    oauth = {
        "AllowedOAuthFlowsUserPoolClient": True,
        "AllowedOAuthFlows": ["code"],
        "CallbackURLs": ["https://app.example.com/cb"],
    }
    fails(
        cognito.create_user_pool_client,
        "InvalidParameterException",
        f"The provider CorpOIDC does not exist for User Pool {client_pool}",
        UserPoolId=client_pool,
        ClientName="c",
        SupportedIdentityProviders=["COGNITO", "CorpOIDC"],
    )
    fails(
        cognito.create_user_pool_client,
        "ScopeDoesNotExistException",
        "Invalid scope requested: https://api.example.com/orders.read",
        UserPoolId=client_pool,
        ClientName="c",
        AllowedOAuthScopes=["openid", "https://api.example.com/orders.read"],
        **oauth,
    )
    cognito.create_identity_provider(
        UserPoolId=client_pool,
        ProviderName="CorpOIDC",
        ProviderType="OIDC",
        ProviderDetails={
            "client_id": "x",
            "client_secret": "y",
            "authorize_scopes": "openid",
            "oidc_issuer": "https://idp.example.com",
        },
    )
    cognito.create_resource_server(
        UserPoolId=client_pool,
        Identifier="https://api.example.com",
        Name="api",
        Scopes=[{"ScopeName": "orders.read", "ScopeDescription": "read"}],
    )
    client_id = cognito.create_user_pool_client(
        UserPoolId=client_pool,
        ClientName="c",
        SupportedIdentityProviders=["COGNITO", "CorpOIDC"],
        AllowedOAuthScopes=["openid", "email", "https://api.example.com/orders.read"],
        **oauth,
    )["UserPoolClient"]["ClientId"]
    fails(
        cognito.update_user_pool_client,
        "ScopeDoesNotExistException",
        "Invalid scope requested: https://api.example.com/orders.write",
        UserPoolId=client_pool,
        ClientId=client_id,
        AllowedOAuthScopes=["https://api.example.com/orders.write"],
        **oauth,
    )


def _secret_hash(secret: str, username: str, client_id: str) -> str:
    digest = hmac.new(secret.encode(), (username + client_id).encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def test_client_secret_is_kept_and_cannot_be_combined_with_generate_secret(cognito: Any) -> None:
    pool_id = pool(cognito)["Id"]
    secret = "kept1secret2from3the4backup5abcdefghijklmnop"
    fails(
        cognito.create_user_pool_client,
        "InvalidParameterException",
        msg.MSG_SECRET_AND_GENERATE,
        UserPoolId=pool_id,
        ClientName="c",
        GenerateSecret=True,
        ClientSecret=secret,
    )
    fails(
        cognito.create_user_pool_client,
        "InvalidParameterException",
        "1 validation error detected: Value at 'clientSecret' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: [\\w+]+",
        UserPoolId=pool_id,
        ClientName="c",
        ClientSecret="not-a-valid-secret-with-hyphens",
    )
    client = cognito.create_user_pool_client(UserPoolId=pool_id, ClientName="c", ClientSecret=secret)["UserPoolClient"]
    client_id = client["ClientId"]
    assert client["ClientSecret"] == secret
    assert (
        cognito.describe_user_pool_client(UserPoolId=pool_id, ClientId=client_id)["UserPoolClient"]["ClientSecret"]
        == secret
    )
    cognito.admin_create_user(UserPoolId=pool_id, Username="bob", MessageAction="SUPPRESS")
    cognito.admin_set_user_password(UserPoolId=pool_id, Username="bob", Password=GOOD_PASSWORD, Permanent=True)
    srp = {"USERNAME": "bob", "SRP_A": "0123abcd"}  # moto checks SECRET_HASH in the SRP flow
    result = cognito.initiate_auth(
        ClientId=client_id,
        AuthFlow="USER_SRP_AUTH",
        AuthParameters={**srp, "SECRET_HASH": _secret_hash(secret, "bob", client_id)},
    )
    assert result["ChallengeName"] == "PASSWORD_VERIFIER"  # the custom secret is the client's real secret
    fails(
        cognito.initiate_auth,
        "NotAuthorizedException",
        ClientId=client_id,
        AuthFlow="USER_SRP_AUTH",
        AuthParameters={**srp, "SECRET_HASH": _secret_hash("another1secret2value3abcdefgh", "bob", client_id)},
    )

    generated = cognito.create_user_pool_client(UserPoolId=pool_id, ClientName="g", GenerateSecret=True)[
        "UserPoolClient"
    ]
    assert re.fullmatch(r"[\w+]+", generated["ClientSecret"])  # can be given back as ClientSecret
    cognito.create_user_pool_client(UserPoolId=pool_id, ClientName="copy", ClientSecret=generated["ClientSecret"])


# ------------------------------------------------------------------------- 5. UpdateUserPool


def test_update_user_pool_keeps_creation_settings_and_resets_the_rest(cognito: Any) -> None:
    pool_id = pool(
        cognito,
        UsernameAttributes=["email"],
        UsernameConfiguration={"CaseSensitive": False},
        AutoVerifiedAttributes=["email"],
        MfaConfiguration="OPTIONAL",
        UserPoolTier="PLUS",
        UserPoolTags={"team": "identity"},
        Schema=[{"Name": "tenant", "AttributeDataType": "String"}],
    )["Id"]
    cognito.update_user_pool(UserPoolId=pool_id, DeletionProtection="ACTIVE")
    after = cognito.describe_user_pool(UserPoolId=pool_id)["UserPool"]
    assert after["UsernameAttributes"] == ["email"]
    assert after["UsernameConfiguration"] == {"CaseSensitive": False}
    assert "custom:tenant" in {a["Name"] for a in after["SchemaAttributes"]}
    assert after["UserPoolTier"] == "PLUS"  # the one setting Cognito keeps when omitted
    assert after["DeletionProtection"] == "ACTIVE"
    assert after["MfaConfiguration"] == "OFF"
    assert not after.get("AutoVerifiedAttributes") and not after.get("UserPoolTags")
    cognito.update_user_pool(UserPoolId=pool_id, UserPoolTags={"team": "identity"}, AutoVerifiedAttributes=["email"])
    after = cognito.describe_user_pool(UserPoolId=pool_id)["UserPool"]
    assert after["UserPoolTags"] == {"team": "identity"} and after["AutoVerifiedAttributes"] == ["email"]
    assert after["DeletionProtection"] == "INACTIVE"


# ------------------------------------------------------------------------- 6. domains


def test_prefix_domains_are_unique_per_region_and_one_per_pool(cognito: Any) -> None:
    first, second = pool(cognito)["Id"], pool(cognito)["Id"]
    cognito.create_user_pool_domain(UserPoolId=first, Domain="my-login")
    fails(
        cognito.create_user_pool_domain,
        "InvalidParameterException",
        "Domain already associated with another user pool.",
        UserPoolId=second,
        Domain="my-login",
    )
    fails(
        cognito.create_user_pool_domain,
        "InvalidParameterException",
        "User pool already has a domain configured.",
        UserPoolId=first,
        Domain="my-other-login",
    )
    other_region = boto3.client("cognito-idp", region_name="us-west-2")
    other_pool = other_region.create_user_pool(PoolName="p")["UserPool"]["Id"]
    other_region.create_user_pool_domain(UserPoolId=other_pool, Domain="my-login")  # another Region: free
    cognito.create_user_pool_domain(UserPoolId=second, Domain="my-login-2")
    response = cognito.create_user_pool_domain(
        UserPoolId=first,
        Domain="auth.example.com",
        CustomDomainConfig={"CertificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/x"},
    )
    assert response["CloudFrontDomain"].endswith(".cloudfront.net")
    described = cognito.describe_user_pool(UserPoolId=first)["UserPool"]
    assert described["Domain"] == "my-login" and described["CustomDomain"] == "auth.example.com"


def test_prefix_domain_reserved_words_and_pattern(cognito: Any) -> None:
    pool_id = pool(cognito)["Id"]
    for domain, word in (("my-aws-login", "aws"), ("amazon-shop", "amazon"), ("cognito-dr", "cognito")):
        fails(
            cognito.create_user_pool_domain,
            "InvalidParameterException",
            f"Domain cannot contain reserved word: {word}",
            UserPoolId=pool_id,
            Domain=domain,
        )
    fails(cognito.create_user_pool_domain, "InvalidParameterException", UserPoolId=pool_id, Domain="Upper_Case")
    cognito.create_user_pool_domain(UserPoolId=pool_id, Domain="restored-login-1")


def test_domain_status_goes_creating_then_active(cognito: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    pool_id = pool(cognito)["Id"]
    assert cognito.describe_user_pool_domain(Domain="unknown-domain")["DomainDescription"] == {}
    cognito.create_user_pool_domain(UserPoolId=pool_id, Domain="my-login")
    first = cognito.describe_user_pool_domain(Domain="my-login")["DomainDescription"]
    assert first["Status"] == "CREATING" and first["UserPoolId"] == pool_id and first["AWSAccountId"] == ACCOUNT
    assert cognito.describe_user_pool_domain(Domain="my-login")["DomainDescription"]["Status"] == "ACTIVE"

    monkeypatch.setattr(features, "DOMAIN_DESCRIBES_BEFORE_ACTIVE", 3)
    other = pool(cognito)["Id"]
    cognito.create_user_pool_domain(UserPoolId=other, Domain="slow-login")
    statuses = [cognito.describe_user_pool_domain(Domain="slow-login")["DomainDescription"]["Status"] for _ in range(4)]
    assert statuses == ["CREATING", "CREATING", "CREATING", "ACTIVE"]


# ------------------------------------------------------------------------- 7. deletion protection


def test_deletion_protection_blocks_delete_user_pool(cognito: Any) -> None:
    pool_id = pool(cognito, DeletionProtection="ACTIVE")["Id"]
    fails(
        cognito.delete_user_pool,
        "InvalidParameterException",
        "The user pool cannot be deleted because deletion protection is activated. "
        "Deletion protection must be inactivated first.",
        UserPoolId=pool_id,
    )
    cognito.update_user_pool(UserPoolId=pool_id, DeletionProtection="INACTIVE")
    cognito.delete_user_pool(UserPoolId=pool_id)
    assert cognito.list_user_pools(MaxResults=10)["UserPools"] == []


# ------------------------------------------------------------------------- 8. MFA preferences


def test_sms_mfa_needs_a_phone_number_and_email_mfa_is_recorded(cognito: Any) -> None:
    pool_id = pool(cognito, MfaConfiguration="OPTIONAL")["Id"]
    cognito.admin_create_user(
        UserPoolId=pool_id, Username="nophone", MessageAction="SUPPRESS", UserAttributes=attrs(email="n@example.com")
    )
    fails(
        cognito.admin_set_user_mfa_preference,
        "InvalidParameterException",
        "User does not have delivery config set to turn on SMS_MFA",
        UserPoolId=pool_id,
        Username="nophone",
        SMSMfaSettings={"Enabled": True, "PreferredMfa": True},
    )
    cognito.admin_set_user_mfa_preference(
        UserPoolId=pool_id, Username="nophone", EmailMfaSettings={"Enabled": True, "PreferredMfa": True}
    )
    user = cognito.admin_get_user(UserPoolId=pool_id, Username="nophone")
    assert user["UserMFASettingList"] == ["EMAIL_OTP"] and user["PreferredMfaSetting"] == "EMAIL_OTP"

    cognito.admin_create_user(
        UserPoolId=pool_id,
        Username="phone",
        MessageAction="SUPPRESS",
        UserAttributes=attrs(phone_number="+15555550100"),
    )
    cognito.admin_set_user_mfa_preference(
        UserPoolId=pool_id, Username="phone", SMSMfaSettings={"Enabled": True, "PreferredMfa": True}
    )
    user = cognito.admin_get_user(UserPoolId=pool_id, Username="phone")
    assert user["UserMFASettingList"] == ["SMS_MFA"] and user["PreferredMfaSetting"] == "SMS_MFA"
    fails(
        cognito.admin_set_user_mfa_preference,
        "InvalidParameterException",
        "User does not have delivery config set to turn on EMAIL_OTP",
        UserPoolId=pool_id,
        Username="phone",
        EmailMfaSettings={"Enabled": True},
    )


# ------------------------------------------------------------------------- 9. UI customization


def test_ui_customization_needs_a_domain_and_an_existing_client(cognito: Any) -> None:
    pool_id = pool(cognito)["Id"]
    css = ".banner-customizable { background-color: #123456; }"
    fails(
        cognito.set_ui_customization,
        "InvalidParameterException",
        "There has to be an existing domain associated with this user pool",
        UserPoolId=pool_id,
        CSS=css,
    )
    cognito.create_user_pool_domain(UserPoolId=pool_id, Domain="my-login")
    assert cognito.get_ui_customization(UserPoolId=pool_id)["UICustomization"] == {}
    fails(
        cognito.set_ui_customization, "ResourceNotFoundException", UserPoolId=pool_id, ClientId="nosuchclient", CSS=css
    )
    fails(cognito.set_ui_customization, "InvalidParameterException", UserPoolId=pool_id, CSS="x" * 131073)

    pool_level = cognito.set_ui_customization(
        UserPoolId=pool_id, ClientId="ALL", CSS=css, ImageFile=b"\x89PNG\r\n\x1a\nlogo"
    )["UICustomization"]
    assert pool_level["UserPoolId"] == pool_id and pool_level["ClientId"] == "ALL" and pool_level["CSS"] == css
    assert pool_level["ImageUrl"].startswith("https://") and ".cloudfront.net/" in pool_level["ImageUrl"]
    assert pool_level["CSSVersion"] and pool_level["CreationDate"] and pool_level["LastModifiedDate"]
    assert cognito.get_ui_customization(UserPoolId=pool_id)["UICustomization"]["CSS"] == css

    client_id = cognito.create_user_pool_client(UserPoolId=pool_id, ClientName="c")["UserPoolClient"]["ClientId"]
    inherited = cognito.get_ui_customization(UserPoolId=pool_id, ClientId=client_id)["UICustomization"]
    assert inherited["ClientId"] == "ALL"  # no client branding: the pool's
    cognito.set_ui_customization(UserPoolId=pool_id, ClientId=client_id, CSS=".label-customizable { color: red; }")
    own = cognito.get_ui_customization(UserPoolId=pool_id, ClientId=client_id)["UICustomization"]
    assert own["ClientId"] == client_id and "ImageUrl" not in own
    assert cognito.get_ui_customization(UserPoolId=pool_id)["UICustomization"]["CSS"] == css


# ------------------------------------------------------------------------- 9. risk configuration


def test_risk_configuration_needs_threat_protection(cognito: Any) -> None:
    compromised = {"Actions": {"EventAction": "BLOCK"}, "EventFilter": ["SIGN_IN"]}
    essentials = pool(cognito)["Id"]
    fails(
        cognito.set_risk_configuration,
        "UserPoolAddOnNotEnabledException",
        msg.MSG_ADDON_NOT_ENABLED,
        UserPoolId=essentials,
        CompromisedCredentialsRiskConfiguration=compromised,
    )

    plus = pool(cognito, UserPoolTier="PLUS", UserPoolAddOns={"AdvancedSecurityMode": "ENFORCED"})["Id"]
    assert cognito.describe_risk_configuration(UserPoolId=plus)["RiskConfiguration"] == {"UserPoolId": plus}
    fails(
        cognito.set_risk_configuration,
        "ResourceNotFoundException",
        UserPoolId=plus,
        ClientId="nosuchclient",
        CompromisedCredentialsRiskConfiguration=compromised,
    )
    result = cognito.set_risk_configuration(
        UserPoolId=plus,
        CompromisedCredentialsRiskConfiguration=compromised,
        RiskExceptionConfiguration={"BlockedIPRangeList": ["192.0.2.0/24"]},
    )
    described = cognito.describe_risk_configuration(UserPoolId=plus)["RiskConfiguration"]
    assert described == result["RiskConfiguration"]
    assert described["CompromisedCredentialsRiskConfiguration"] == compromised and "LastModifiedDate" in described
    client_id = cognito.create_user_pool_client(UserPoolId=plus, ClientName="c")["UserPoolClient"]["ClientId"]
    cognito.set_risk_configuration(
        UserPoolId=plus, ClientId=client_id, CompromisedCredentialsRiskConfiguration=compromised
    )
    assert (
        cognito.describe_risk_configuration(UserPoolId=plus, ClientId=client_id)["RiskConfiguration"]["ClientId"]
        == client_id
    )
    cognito.set_risk_configuration(UserPoolId=plus)  # only the pool id: back to the defaults
    assert cognito.describe_risk_configuration(UserPoolId=plus)["RiskConfiguration"] == {"UserPoolId": plus}

    audit = pool(cognito, UserPoolAddOns={"AdvancedSecurityMode": "AUDIT"})["Id"]
    cognito.set_risk_configuration(UserPoolId=audit, CompromisedCredentialsRiskConfiguration=compromised)


# ------------------------------------------------------------------------- 9. AdminLinkProviderForUser


@pytest.fixture
def link_pool(cognito: Any) -> str:
    pool_id = pool(cognito, Schema=[{"Name": "signup_source", "AttributeDataType": "String", "Mutable": False}])["Id"]
    cognito.create_identity_provider(
        UserPoolId=pool_id,
        ProviderName="Google",
        ProviderType="Google",
        ProviderDetails={"client_id": "g", "client_secret": "s", "authorize_scopes": "openid"},
    )
    cognito.create_identity_provider(
        UserPoolId=pool_id,
        ProviderName="CorpOIDC",
        ProviderType="OIDC",
        ProviderDetails={
            "client_id": "c",
            "client_secret": "s",
            "authorize_scopes": "openid",
            "oidc_issuer": "https://idp.example.com",
        },
        AttributeMapping={"email": "email"},
    )
    for name in ("alice", "bob"):
        cognito.admin_create_user(
            UserPoolId=pool_id,
            Username=name,
            MessageAction="SUPPRESS",
            UserAttributes=attrs(email=f"{name}@example.com"),
        )
    return pool_id


def link(cognito: Any, pool_id: str, username: str, provider: str, attribute: str, value: str) -> Any:
    return cognito.admin_link_provider_for_user(
        UserPoolId=pool_id,
        DestinationUser={"ProviderName": "Cognito", "ProviderAttributeValue": username},
        SourceUser={"ProviderName": provider, "ProviderAttributeName": attribute, "ProviderAttributeValue": value},
    )


def test_link_provider_validates_users_providers_and_attribute_names(cognito: Any, link_pool: str) -> None:
    def refused(
        code: str, username: str, provider: str, attribute: str, value: str, message: str | None = None
    ) -> None:
        fails(
            link,
            code,
            message,
            cognito=cognito,
            pool_id=link_pool,
            username=username,
            provider=provider,
            attribute=attribute,
            value=value,
        )

    refused("UserNotFoundException", "nobody", "Google", "Cognito_Subject", "1", "User does not exist.")
    refused(
        "InvalidParameterException",
        "alice",
        "Facebook",
        "Cognito_Subject",
        "1",
        f"The provider Facebook does not exist for User Pool {link_pool}",
    )
    refused("InvalidParameterException", "alice", "Cognito", "Cognito_Subject", "bob")
    refused("InvalidParameterException", "alice", "Google", "email", "alice@gmail.com")  # social: Cognito_Subject only
    refused("InvalidParameterException", "alice", "CorpOIDC", "given_name", "x")  # not mapped by the IdP
    link(cognito, link_pool, "alice", "Google", "Cognito_Subject", "10001")
    link(cognito, link_pool, "alice", "CorpOIDC", "email", "alice@corp.example.com")  # a mapped attribute

    identities = json.loads(
        {
            a["Name"]: a["Value"]
            for a in cognito.admin_get_user(UserPoolId=link_pool, Username="alice")["UserAttributes"]
        }["identities"]
    )
    assert [(i["userId"], i["providerName"], i["providerType"]) for i in identities] == [
        ("10001", "Google", "Google"),
        ("alice@corp.example.com", "CorpOIDC", "OIDC"),
    ]
    assert all(i["issuer"] is None and i["primary"] is False and isinstance(i["dateCreated"], int) for i in identities)

    refused(
        "AliasExistsException",
        "bob",
        "Google",
        "Cognito_Subject",
        "10001",  # linked to alice already
        "The external identity Google:10001 is already linked to another user.",
    )
    link(cognito, link_pool, "alice", "Google", "Cognito_Subject", "10001")  # same pair again: accepted

    cognito.admin_disable_provider_for_user(
        UserPoolId=link_pool,
        User={"ProviderName": "Google", "ProviderAttributeName": "Cognito_Subject", "ProviderAttributeValue": "10001"},
    )
    identities = json.loads(
        {
            a["Name"]: a["Value"]
            for a in cognito.admin_get_user(UserPoolId=link_pool, Username="alice")["UserAttributes"]
        }["identities"]
    )
    assert [i["providerName"] for i in identities] == ["CorpOIDC"]
    link(cognito, link_pool, "bob", "Google", "Cognito_Subject", "10001")  # free again


def test_link_provider_limits_and_immutable_destination(cognito: Any, link_pool: str) -> None:
    for i in range(5):
        link(cognito, link_pool, "alice", "Google", "Cognito_Subject", f"g{i}")
    fails(
        link,
        "LimitExceededException",
        msg.MSG_LINK_LIMIT,
        cognito=cognito,
        pool_id=link_pool,
        username="alice",
        provider="Google",
        attribute="Cognito_Subject",
        value="g5",
    )
    cognito.admin_create_user(
        UserPoolId=link_pool,
        Username="carol",
        MessageAction="SUPPRESS",
        UserAttributes=attrs(custom__signup_source="web"),
    )
    fails(
        link,
        "InvalidParameterException",
        cognito=cognito,
        pool_id=link_pool,
        username="carol",
        provider="Google",
        attribute="Cognito_Subject",
        value="c1",
    )


# ------------------------------------------------------------------------- 9. tags


def test_tags_follow_user_pool_tags(cognito: Any) -> None:
    created = pool(cognito, UserPoolTags={"team": "identity"})
    arn = created["Arn"]
    assert cognito.list_tags_for_resource(ResourceArn=arn)["Tags"] == {"team": "identity"}
    cognito.tag_resource(ResourceArn=arn, Tags={"env": "dr", "team": "iam"})
    assert cognito.describe_user_pool(UserPoolId=created["Id"])["UserPool"]["UserPoolTags"] == {
        "team": "iam",
        "env": "dr",
    }
    cognito.untag_resource(ResourceArn=arn, TagKeys=["team"])
    assert cognito.list_tags_for_resource(ResourceArn=arn)["Tags"] == {"env": "dr"}
    fails(
        cognito.list_tags_for_resource,
        "ResourceNotFoundException",
        ResourceArn=f"arn:aws:cognito-idp:{REGION}:{ACCOUNT}:userpool/{REGION}_missing",
    )


# ------------------------------------------------------------------------- 9. UpdateResourceServer


def test_update_resource_server_sets_the_name_and_every_scope(cognito: Any) -> None:
    pool_id = pool(cognito)["Id"]
    scopes = [{"ScopeName": "read", "ScopeDescription": "Read"}, {"ScopeName": "write", "ScopeDescription": "Write"}]
    cognito.create_resource_server(UserPoolId=pool_id, Identifier="https://api", Name="api", Scopes=scopes)
    cognito.update_resource_server(UserPoolId=pool_id, Identifier="https://api", Name="api v2", Scopes=scopes[:1])
    server = cognito.describe_resource_server(UserPoolId=pool_id, Identifier="https://api")["ResourceServer"]
    assert server["Name"] == "api v2" and server["Scopes"] == scopes[:1]
    cognito.update_resource_server(UserPoolId=pool_id, Identifier="https://api", Name="api v2")
    assert (
        "Scopes" not in cognito.describe_resource_server(UserPoolId=pool_id, Identifier="https://api")["ResourceServer"]
    )
    fails(cognito.update_resource_server, "ResourceNotFoundException", UserPoolId=pool_id, Identifier="x", Name="x")


# ------------------------------------------------------------------------- atomic requests


def test_concurrent_requests_do_not_crash_moto(cognito: Any) -> None:
    """Cognito calls are atomic; moto's are not (without the lock this fails within a few dozen
    calls: "RuntimeError: OrderedDict mutated during iteration" in the UsernameAttributes lookup)."""
    import sys
    from concurrent.futures import ThreadPoolExecutor

    pool_id = pool(cognito, UsernameAttributes=["email"])["Id"]
    clients = [boto3.client("cognito-idp", region_name=REGION) for _ in range(8)]

    def work(worker: int) -> None:
        for i in range(40):
            email = f"w{worker}-{i}@example.com"
            clients[worker].admin_create_user(UserPoolId=pool_id, Username=email, MessageAction="SUPPRESS")
            clients[worker].admin_get_user(UserPoolId=pool_id, Username=email)

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible
    try:
        with ThreadPoolExecutor(max_workers=8) as executor:
            list(executor.map(work, range(8)))
    finally:
        sys.setswitchinterval(interval)
    assert len(list(cognito.get_paginator("list_users").paginate(UserPoolId=pool_id).search("Users[]"))) == 320


# ------------------------------------------------------------------------- 10. messaging

SNS_PUBLISH = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sns:Publish", "Resource": "*"}]}


def sms_role(name: str, statement: dict[str, Any], publish: dict[str, Any] | None = SNS_PUBLISH) -> str:
    iam = boto3.client("iam", region_name=REGION)
    trust = {"Version": "2012-10-17", "Statement": [statement]}
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    if publish:
        iam.put_role_policy(RoleName=name, PolicyName="publish", PolicyDocument=json.dumps(publish))
    return arn


def cognito_trust(source_arn: str, external_id: str = "ext") -> dict[str, Any]:
    return {
        "Effect": "Allow",
        "Principal": {"Service": "cognito-idp.amazonaws.com"},
        "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"sts:ExternalId": external_id}, "ArnLike": {"aws:SourceArn": source_arn}},
    }


REGION_POOLS = f"arn:aws:cognito-idp:{REGION}:{ACCOUNT}:userpool/*"


def test_sms_role_trust_is_checked_like_cognito_assumes_it(cognito: Any) -> None:
    other_pool = f"arn:aws:cognito-idp:us-west-2:{ACCOUNT}:userpool/us-west-2_Source"
    cases = {
        "missing role": f"arn:aws:iam::{ACCOUNT}:role/missing",
        "not cognito": sms_role("ec2", {**cognito_trust(REGION_POOLS), "Principal": {"Service": "ec2.amazonaws.com"}}),
        "other external id": sms_role("ext", cognito_trust(REGION_POOLS, external_id="other")),
        "pinned to another pool": sms_role("pinned", cognito_trust(other_pool)),
    }
    for case, role in cases.items():
        fails(
            cognito.create_user_pool,
            "InvalidSmsRoleTrustRelationshipException",
            msg.MSG_SMS_TRUST,
            PoolName=case,
            SmsConfiguration={"SnsCallerArn": role, "ExternalId": "ext"},
        )
    # The role requires sts:ExternalId and the request names none: the same code and text
    # ([BC]: "the external ID provided in the role does not match"; docs/messaging.md).
    fails(
        cognito.create_user_pool,
        "InvalidSmsRoleTrustRelationshipException",
        msg.MSG_SMS_TRUST,
        PoolName="no external id",
        SmsConfiguration={"SnsCallerArn": sms_role("needs-ext", cognito_trust(REGION_POOLS))},
    )
    assert cognito.list_user_pools(MaxResults=60)["UserPools"] == []  # a refused create leaves no pool


def test_sms_role_must_publish_to_phone_numbers(cognito: Any) -> None:
    topic_only = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "sns:Publish", "Resource": "arn:aws:sns:*:*:t"}],
    }
    role = sms_role("topic-only", cognito_trust(REGION_POOLS), publish=topic_only)
    fails(
        cognito.create_user_pool,
        "InvalidSmsRoleAccessPolicyException",
        msg.MSG_SMS_PUBLISH,
        PoolName="p",
        SmsConfiguration={"SnsCallerArn": role, "ExternalId": "ext"},
    )


def test_sms_role_naming_the_pool_is_accepted_by_update_and_mfa_config(cognito: Any) -> None:
    created = pool(cognito)
    role = sms_role("exact", cognito_trust(created["Arn"]))
    sms = {"SnsCallerArn": role, "ExternalId": "ext"}
    fails(cognito.create_user_pool, "InvalidSmsRoleTrustRelationshipException", PoolName="q", SmsConfiguration=sms)
    cognito.update_user_pool(UserPoolId=created["Id"], SmsConfiguration=sms)
    assert cognito.describe_user_pool(UserPoolId=created["Id"])["UserPool"]["SmsConfiguration"] == sms
    cognito.set_user_pool_mfa_config(
        UserPoolId=created["Id"],
        MfaConfiguration="OPTIONAL",
        SmsMfaConfiguration={"SmsAuthenticationMessage": "{####}", "SmsConfiguration": sms},
    )
    fails(
        cognito.set_user_pool_mfa_config,
        "InvalidSmsRoleTrustRelationshipException",
        UserPoolId=created["Id"],
        MfaConfiguration="OPTIONAL",
        SmsMfaConfiguration={"SmsConfiguration": {**sms, "ExternalId": "wrong"}},
    )
    # A wildcard for the Region's pools is the only way to be trusted at CreateUserPool.
    wildcard = sms_role("region-pools", cognito_trust(REGION_POOLS))
    pool(cognito, PoolName="r", SmsConfiguration={"SnsCallerArn": wildcard, "ExternalId": "ext"})


def test_ses_identity_must_be_verified_in_its_region(cognito: Any) -> None:
    identity = f"arn:aws:ses:{REGION}:{ACCOUNT}:identity/no-reply@example.com"
    developer = {"EmailSendingAccount": "DEVELOPER", "SourceArn": identity}
    # Real Cognito's answer, as public reports quote it (docs/messaging.md).
    unverified = (
        "Cognito received the following error from Amazon SES when attempting to send email: Email address is "
        f"not verified. The following identities failed the check in region {REGION.upper()}: {identity}"
    )
    fails(cognito.create_user_pool, "InvalidParameterException", unverified, PoolName="p", EmailConfiguration=developer)
    fails(
        cognito.create_user_pool,
        "InvalidParameterException",
        unverified,
        PoolName="p",
        EmailConfiguration={"EmailSendingAccount": "COGNITO_DEFAULT", "SourceArn": identity},
    )
    boto3.client("ses", region_name="us-west-2").verify_domain_identity(Domain="example.com")  # another Region
    fails(cognito.create_user_pool, "InvalidParameterException", unverified, PoolName="p", EmailConfiguration=developer)
    for not_ours in (identity.replace(ACCOUNT, "999999999999"), f"arn:aws:ses:{REGION}:{ACCOUNT}:identity/"):
        fails(
            cognito.create_user_pool,
            "NotAuthorizedException",
            "Email arn does not belong to your account.",
            PoolName="p",
            EmailConfiguration={**developer, "SourceArn": not_ours},
        )
    boto3.client("ses", region_name=REGION).verify_domain_identity(Domain="example.com")  # the domain covers it
    pool(cognito, EmailConfiguration=developer)
    fails(
        cognito.create_user_pool,
        "InvalidParameterException",
        msg.MSG_NO_CONFIGURATION_SET.format(name="events", region=REGION),
        PoolName="p",
        EmailConfiguration={**developer, "ConfigurationSet": "events"},
    )
    boto3.client("ses", region_name=REGION).create_configuration_set(ConfigurationSet={"Name": "events"})
    pool(cognito, EmailConfiguration={**developer, "ConfigurationSet": "events"})


def test_cognito_default_takes_no_from_address(cognito: Any) -> None:
    fails(
        cognito.create_user_pool,
        "InvalidParameterException",
        msg.MSG_DEFAULT_FROM,
        PoolName="p",
        EmailConfiguration={"EmailSendingAccount": "COGNITO_DEFAULT", "From": "x@example.com"},
    )


# ============================================================================ 11. v2 settings

IAE = "InvalidParameterException"


def ses_pool(cognito: Any, **kwargs: Any) -> str:
    boto3.client("ses", region_name=REGION).verify_email_identity(EmailAddress="no-reply@example.com")
    developer = {
        "EmailSendingAccount": "DEVELOPER",
        "SourceArn": f"arn:aws:ses:{REGION}:{ACCOUNT}:identity/no-reply@example.com",
    }
    return str(pool(cognito, EmailConfiguration=developer, **kwargs)["Id"])


def test_email_mfa_needs_ses_sending_a_paid_plan_and_the_code_placeholder(cognito: Any) -> None:
    email = {"Message": "Your code is {####}", "Subject": "Sign-in code"}
    plain = pool(cognito)["Id"]
    fails(
        cognito.set_user_pool_mfa_config,
        IAE,
        v2.MSG_EMAIL_MFA_NEEDS_SES,
        UserPoolId=plain,
        MfaConfiguration="OPTIONAL",
        EmailMfaConfiguration=email,
    )
    lite = ses_pool(cognito, UserPoolTier="LITE")
    fails(
        cognito.set_user_pool_mfa_config,
        "FeatureUnavailableInTierException",
        UserPoolId=lite,
        MfaConfiguration="OPTIONAL",
        EmailMfaConfiguration=email,
    )
    pool_id = ses_pool(cognito)
    fails(
        cognito.set_user_pool_mfa_config,
        IAE,
        v2.MSG_EMAIL_MFA_MESSAGE,
        UserPoolId=pool_id,
        MfaConfiguration="OPTIONAL",
        EmailMfaConfiguration={"Message": "Your code is 1234"},
    )
    cognito.set_user_pool_mfa_config(UserPoolId=pool_id, MfaConfiguration="OPTIONAL", EmailMfaConfiguration=email)
    assert cognito.get_user_pool_mfa_config(UserPoolId=pool_id)["EmailMfaConfiguration"] == email


def test_mfa_off_takes_no_factor_and_on_needs_one(cognito: Any) -> None:
    pool_id = pool(cognito)["Id"]
    fails(
        cognito.set_user_pool_mfa_config,
        IAE,
        v2.MSG_MFA_OFF_WITH_FACTOR,
        UserPoolId=pool_id,
        MfaConfiguration="OFF",
        SoftwareTokenMfaConfiguration={"Enabled": True},
    )
    fails(cognito.set_user_pool_mfa_config, IAE, v2.MSG_MFA_NO_FACTOR, UserPoolId=pool_id, MfaConfiguration="ON")
    # passkeys are no MFA factor: OFF with WebAuthn is accepted (go-to-k/cdkd#1923)
    cognito.set_user_pool_mfa_config(
        UserPoolId=pool_id, MfaConfiguration="OFF", WebAuthnConfiguration={"UserVerification": "required"}
    )
    got = cognito.get_user_pool_mfa_config(UserPoolId=pool_id)
    assert got["MfaConfiguration"] == "OFF"
    assert got["WebAuthnConfiguration"] == {"UserVerification": "required", "FactorConfiguration": "SINGLE_FACTOR"}


def test_passkey_relying_party_is_a_host_and_a_cognito_host_only_the_pools_own(cognito: Any) -> None:
    pool_id = pool(cognito)["Id"]
    cognito.create_user_pool_domain(UserPoolId=pool_id, Domain="shop-login")

    def rp(value: str) -> dict[str, Any]:
        return {"UserPoolId": pool_id, "MfaConfiguration": "OFF", "WebAuthnConfiguration": {"RelyingPartyId": value}}

    for bad in ("https://login.example.com", "login.example.com/path", "Login Example"):
        fails(cognito.set_user_pool_mfa_config, IAE, v2.MSG_RP_ID.format(rp=bad), **rp(bad))
    other_region = "shop-login.auth.eu-west-1.amazoncognito.com"
    fails(
        cognito.set_user_pool_mfa_config,
        IAE,
        v2.MSG_RP_ID_COGNITO.format(rp=other_region, pool=pool_id),
        **rp(other_region),
    )
    cognito.set_user_pool_mfa_config(**rp(f"shop-login.auth.{REGION}.amazoncognito.com"))
    cognito.set_user_pool_mfa_config(**rp("login.example.com"))  # a domain the owner serves
    fails(
        cognito.set_user_pool_mfa_config,
        IAE,
        UserPoolId=pool_id,
        MfaConfiguration="OFF",
        WebAuthnConfiguration={"UserVerification": "always"},
    )


def test_managed_login_version_is_1_or_2_and_2_needs_a_paid_plan(cognito: Any) -> None:
    fails(
        cognito.create_user_pool_domain,
        IAE,
        v2.MSG_MANAGED_LOGIN_VERSION,
        UserPoolId=pool(cognito)["Id"],
        Domain="v3-login",
        ManagedLoginVersion=3,
    )
    lite = pool(cognito, UserPoolTier="LITE")["Id"]
    fails(
        cognito.create_user_pool_domain,
        "FeatureUnavailableInTierException",
        UserPoolId=lite,
        Domain="lite-login",
        ManagedLoginVersion=2,
    )
    cognito.create_user_pool_domain(UserPoolId=lite, Domain="lite-login", ManagedLoginVersion=1)


def client_of(cognito: Any, pool_id: str, name: str = "web") -> str:
    return str(cognito.create_user_pool_client(UserPoolId=pool_id, ClientName=name)["UserPoolClient"]["ClientId"])


def asset(category: str, size: int, mode: str = "LIGHT") -> dict[str, Any]:
    return {"Category": category, "ColorMode": mode, "Extension": "PNG", "Bytes": b"\x89" * size}


def test_one_branding_style_per_client_with_the_models_asset_limits(cognito: Any) -> None:
    pool_id = pool(cognito)["Id"]
    client_id = client_of(cognito, pool_id)
    fails(
        cognito.create_managed_login_branding,
        "ResourceNotFoundException",
        UserPoolId=pool_id,
        ClientId="nosuchclient",
        UseCognitoProvidedValues=True,
    )
    fails(
        cognito.create_managed_login_branding,
        IAE,
        v2.MSG_BRANDING_DEFAULTS,
        UserPoolId=pool_id,
        ClientId=client_id,
        UseCognitoProvidedValues=True,
        Settings={"components": {}},
    )
    fails(
        cognito.create_managed_login_branding,
        IAE,
        v2.MSG_ASSET_BYTES.format(n=1),
        UserPoolId=pool_id,
        ClientId=client_id,
        Assets=[asset("PAGE_BACKGROUND", v2.MAX_ASSET_BYTES + 1)],
    )
    fails(
        cognito.create_managed_login_branding,
        IAE,
        v2.MSG_REQUEST_TOO_LARGE.format(operation="CreateManagedLoginBranding"),
        UserPoolId=pool_id,
        ClientId=client_id,
        Assets=[asset("PAGE_BACKGROUND", 900_000), asset("FORM_BACKGROUND", 900_000)],  # 2.4 MB in base64
    )
    created = cognito.create_managed_login_branding(
        UserPoolId=pool_id,
        ClientId=client_id,
        Settings={"categories": {"global": {"colorSchemeMode": "DARK"}}},
        Assets=[asset("PAGE_BACKGROUND", 900_000)],
    )["ManagedLoginBranding"]
    fails(
        cognito.create_managed_login_branding,
        "ManagedLoginBrandingExistsException",
        v2.MSG_BRANDING_EXISTS.format(client=client_id),
        UserPoolId=pool_id,
        ClientId=client_id,
        UseCognitoProvidedValues=True,
    )
    # the rest of the assets in a second request: the update keeps what it does not name
    cognito.update_managed_login_branding(
        UserPoolId=pool_id,
        ManagedLoginBrandingId=created["ManagedLoginBrandingId"],
        Assets=[asset("FORM_BACKGROUND", 900_000)],
    )
    got = cognito.describe_managed_login_branding_by_client(UserPoolId=pool_id, ClientId=client_id)
    style = got["ManagedLoginBranding"]
    assert style["Settings"] == {"categories": {"global": {"colorSchemeMode": "DARK"}}}
    assert sorted((a["Category"], len(a["Bytes"])) for a in style["Assets"]) == [
        ("FORM_BACKGROUND", 900_000),
        ("PAGE_BACKGROUND", 900_000),
    ]
    cognito.delete_managed_login_branding(UserPoolId=pool_id, ManagedLoginBrandingId=created["ManagedLoginBrandingId"])
    fails(
        cognito.describe_managed_login_branding,
        "ResourceNotFoundException",
        UserPoolId=pool_id,
        ManagedLoginBrandingId=created["ManagedLoginBrandingId"],
    )


def test_terms_are_unique_per_client_with_the_models_names_and_languages(cognito: Any) -> None:
    pool_id = pool(cognito)["Id"]
    client_id = client_of(cognito, pool_id)
    terms = {
        "UserPoolId": pool_id,
        "ClientId": client_id,
        "TermsSource": "LINK",
        "Enforcement": "NONE",
        "Links": {"cognito:default": "https://example.com/terms", "cognito:french": "https://example.com/fr/terms"},
    }
    fails(cognito.create_terms, IAE, TermsName="cookies", **terms)
    fails(cognito.create_terms, IAE, TermsName="terms-of-use", **{**terms, "Links": {"klingon": "https://x"}})
    created = cognito.create_terms(TermsName="terms-of-use", **terms)["Terms"]
    fails(
        cognito.create_terms,
        "TermsExistsException",
        v2.MSG_TERMS_EXISTS.format(name="terms-of-use", client=client_id),
        TermsName="terms-of-use",
        **terms,
    )
    privacy = cognito.create_terms(TermsName="privacy-policy", **terms)["Terms"]
    fails(
        cognito.update_terms,
        "TermsExistsException",
        UserPoolId=pool_id,
        TermsId=privacy["TermsId"],
        TermsName="terms-of-use",
    )
    listed = cognito.list_terms(UserPoolId=pool_id, MaxResults=1)
    assert len(listed["Terms"]) == 1 and listed["NextToken"]
    described = cognito.describe_terms(UserPoolId=pool_id, TermsId=created["TermsId"])["Terms"]
    assert described["Links"] == terms["Links"] and described["ClientId"] == client_id
    cognito.delete_terms(UserPoolId=pool_id, TermsId=created["TermsId"])
    fails(cognito.describe_terms, "ResourceNotFoundException", UserPoolId=pool_id, TermsId=created["TermsId"])


def test_log_delivery_destinations_exist_and_follow_the_event_source_rules(cognito: Any) -> None:
    logs = boto3.client("logs", region_name=REGION)
    pool_id = pool(cognito)["Id"]
    group = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/vendedlogs/cognito"

    def notification(arn: str, level: str = "ERROR") -> dict[str, Any]:
        return {
            "EventSource": "userNotification",
            "LogLevel": level,
            "CloudWatchLogsConfiguration": {"LogGroupArn": arn},
        }

    fails(cognito.set_log_delivery_configuration, IAE, UserPoolId=pool_id, LogConfigurations=[notification(group)])
    logs.create_log_group(logGroupName="/aws/vendedlogs/cognito")
    fails(
        cognito.set_log_delivery_configuration, IAE, UserPoolId=pool_id, LogConfigurations=[notification(group, "INFO")]
    )
    fails(
        cognito.set_log_delivery_configuration,
        IAE,
        UserPoolId=pool_id,
        LogConfigurations=[notification(group.replace(ACCOUNT, "999999999999"))],
    )
    auth_events = {
        "EventSource": "userAuthEvents",
        "LogLevel": "INFO",
        "CloudWatchLogsConfiguration": {"LogGroupArn": group},
    }
    fails(
        cognito.set_log_delivery_configuration,
        "FeatureUnavailableInTierException",
        UserPoolId=pool_id,
        LogConfigurations=[auth_events],
    )
    kms = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/0b0b0b0b-1111-2222-3333-444455556666"
    logs.create_log_group(logGroupName="/aws/vendedlogs/encrypted", kmsKeyId=kms)
    fails(
        cognito.set_log_delivery_configuration,
        IAE,
        UserPoolId=pool_id,
        LogConfigurations=[notification(group.replace("/cognito", "/encrypted"))],
    )
    plus = pool(cognito, UserPoolTier="PLUS")["Id"]
    cognito.set_log_delivery_configuration(UserPoolId=plus, LogConfigurations=[notification(group), auth_events])
    got = cognito.get_log_delivery_configuration(UserPoolId=plus)["LogDeliveryConfiguration"]
    assert got["LogConfigurations"] == [notification(group), auth_events]
    assert (
        cognito.get_log_delivery_configuration(UserPoolId=pool_id)["LogDeliveryConfiguration"]["LogConfigurations"]
        == []
    )


# ============================================================================ 11. messages to users, SignUp


def _open_pool(cognito: Any, **kwargs: Any) -> str:
    """A pool open to self-registration (the API default is AllowAdminCreateUserOnly false)."""
    kwargs.setdefault("AdminCreateUserConfig", {"AllowAdminCreateUserOnly": False})
    return pool(cognito, **kwargs)["Id"]


def _client(cognito: Any, pool_id: str, **kwargs: Any) -> dict[str, Any]:
    return cognito.create_user_pool_client(UserPoolId=pool_id, ClientName="c", **kwargs)["UserPoolClient"]


def test_sign_up_follows_the_pool_and_the_client(cognito: Any) -> None:
    closed = pool(cognito, AdminCreateUserConfig={"AllowAdminCreateUserOnly": True})["Id"]
    fails(
        cognito.sign_up,
        "NotAuthorizedException",
        "SignUp is not permitted for this user pool",
        ClientId=_client(cognito, closed)["ClientId"],
        Username="n",
        Password=GOOD_PASSWORD,
    )
    schema = [
        {"Name": "email", "AttributeDataType": "String", "Required": True, "Mutable": True},
        {"Name": "tier", "AttributeDataType": "String", "Mutable": True},
        {"Name": "legacy", "AttributeDataType": "String", "Mutable": True, "DeveloperOnlyAttribute": True},
    ]
    pool_id = _open_pool(cognito, Schema=schema, Policies={"PasswordPolicy": {"MinimumLength": 12}})
    client_id = _client(cognito, pool_id)["ClientId"]
    base = {"ClientId": client_id, "Username": "n", "Password": "Valid#Pass1234"}
    unauthorized = "A client attempted to write unauthorized attribute"
    for flag in (
        attrs(email="n@example.com", email_verified="true"),
        attrs(email="n@example.com", dev__custom__legacy="x"),
    ):
        fails(cognito.sign_up, "NotAuthorizedException", unauthorized, **base, UserAttributes=flag)
    fails(
        cognito.sign_up,
        "InvalidParameterException",
        msg.MSG_NOT_IN_SCHEMA.format(name="custom:nope"),
        **base,
        UserAttributes=attrs(email="n@example.com", custom__nope="x"),
    )
    fails(cognito.sign_up, "InvalidParameterException", msg.MSG_REQUIRED_ATTRIBUTE.format(name="email"), **base)
    fails(
        cognito.sign_up,
        "InvalidPasswordException",
        "Password does not conform to policy: Password not long enough",
        **{**base, "Password": "Short#1a"},
        UserAttributes=attrs(email="n@example.com"),
    )
    # Only what the client's WriteAttributes name; without them, only the standard attributes.
    fails(
        cognito.sign_up,
        "NotAuthorizedException",
        unauthorized,
        **base,
        UserAttributes=attrs(email="n@example.com", custom__tier="gold"),
    )
    narrow = _client(cognito, pool_id, WriteAttributes=["email"])["ClientId"]
    fails(
        cognito.sign_up,
        "NotAuthorizedException",
        unauthorized,
        **{**base, "ClientId": narrow},
        UserAttributes=attrs(email="n@example.com", custom__tier="gold"),
    )
    wide = _client(cognito, pool_id, WriteAttributes=["email", "custom:tier"])["ClientId"]
    answer = cognito.sign_up(
        **{**base, "ClientId": wide}, UserAttributes=attrs(email="n@example.com", custom__tier="gold")
    )
    assert answer["UserConfirmed"] is False and "CodeDeliveryDetails" not in answer
    assert cognito.admin_get_user(UserPoolId=pool_id, Username="n")["UserStatus"] == "UNCONFIRMED"
    fails(cognito.sign_up, "UsernameExistsException", None, **base, UserAttributes=attrs(email="n@example.com"))
    assert strict.messages_sent(pool_id) == 0  # nothing auto-verified: nothing sent


def test_sign_up_through_a_client_with_a_secret_needs_its_secret_hash(cognito: Any) -> None:
    pool_id = _open_pool(cognito)
    client = _client(cognito, pool_id, GenerateSecret=True)
    client_id, secret = client["ClientId"], client["ClientSecret"]
    base = {"ClientId": client_id, "Username": "n", "Password": GOOD_PASSWORD}
    fails(cognito.sign_up, "NotAuthorizedException", msg.MSG_SECRET_HASH_MISSING.format(client=client_id), **base)
    fails(
        cognito.sign_up,
        "NotAuthorizedException",
        msg.MSG_SECRET_HASH_WRONG.format(client=client_id),
        **base,
        SecretHash=secret_hash(secret, "other", client_id),
    )
    cognito.sign_up(**base, SecretHash=secret_hash(secret, "n", client_id))


def secret_hash(secret: str, username: str, client_id: str) -> str:
    return base64.b64encode(
        hmac.new(secret.encode(), (username + client_id).encode(), hashlib.sha256).digest()
    ).decode()


def test_every_call_that_would_message_a_user_is_counted(cognito: Any) -> None:
    pool_id = _open_pool(
        cognito,
        AutoVerifiedAttributes=["email"],
        AccountRecoverySetting={"RecoveryMechanisms": [{"Priority": 1, "Name": "verified_email"}]},
    )
    client_id = _client(cognito, pool_id)["ClientId"]
    silent = attrs(email="a@example.com", email_verified="true")
    cognito.admin_create_user(UserPoolId=pool_id, Username="a", MessageAction="SUPPRESS", UserAttributes=silent)
    cognito.admin_set_user_password(UserPoolId=pool_id, Username="a", Password=GOOD_PASSWORD, Permanent=True)
    # A new e-mail with its flag set true in the same call: no code is sent.
    cognito.admin_update_user_attributes(
        UserPoolId=pool_id, Username="a", UserAttributes=attrs(email="a2@example.com", email_verified="true")
    )
    cognito.admin_update_user_attributes(UserPoolId=pool_id, Username="a", UserAttributes=attrs(name="A"))
    assert strict.messages_sent(pool_id) == 0

    cognito.admin_create_user(UserPoolId=pool_id, Username="b", UserAttributes=attrs(email="b@example.com"))
    cognito.sign_up(
        ClientId=client_id, Username="c", Password=GOOD_PASSWORD, UserAttributes=attrs(email="c@example.com")
    )
    cognito.resend_confirmation_code(ClientId=client_id, Username="c")
    cognito.admin_update_user_attributes(UserPoolId=pool_id, Username="a", UserAttributes=attrs(email="a3@example.com"))
    cognito.admin_reset_user_password(UserPoolId=pool_id, Username="a")
    cognito.forgot_password(ClientId=client_id, Username="a")
    operations = [m["operation"] for m in strict.message_log(pool_id)]
    assert operations == [
        "AdminCreateUser",
        "SignUp",
        "ResendConfirmationCode",
        "AdminUpdateUserAttributes",
        "AdminResetUserPassword",
        "ForgotPassword",
    ]
    assert strict.messages_sent() == 6 and strict_cognito().messages_sent(pool_id) == 6
    fails(
        cognito.resend_confirmation_code,
        "InvalidParameterException",
        msg.MSG_ALREADY_CONFIRMED,
        ClientId=client_id,
        Username="a",
    )


def test_resend_confirmation_code_needs_auto_verification(cognito: Any) -> None:
    pool_id = _open_pool(cognito)
    client_id = _client(cognito, pool_id)["ClientId"]
    cognito.sign_up(
        ClientId=client_id, Username="c", Password=GOOD_PASSWORD, UserAttributes=attrs(email="c@example.com")
    )
    fails(
        cognito.resend_confirmation_code,
        "InvalidParameterException",
        msg.MSG_CANNOT_RESEND,
        ClientId=client_id,
        Username="c",
    )
    fails(cognito.resend_confirmation_code, "UserNotFoundException", None, ClientId=client_id, Username="nobody")
    assert strict.messages_sent(pool_id) == 0
