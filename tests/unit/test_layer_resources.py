"""cognito_restore.resources: resource servers, identity providers, app clients, groups -> Create* requests
(docs/cognito-behaviours.md §5, §6, §9)."""

from __future__ import annotations

import copy

import botocore.session
import pytest
from botocore.validate import ParamValidator

from cognito_restore.resources import (
    Request,
    app_client_request,
    group_request,
    identity_provider_request,
    resource_server_request,
)
from cognito_restore.security import NotRestorable

OLD_POOL = "us-east-1_AbCdEf123"
NEW_POOL = "us-west-2_NewPool99"
MODEL = botocore.session.get_session().get_service_model("cognito-idp")


def assert_valid(operation: str, request: dict) -> None:
    shape = MODEL.operation_model(operation).input_shape
    report = ParamValidator().validate(request, shape)
    assert not report.has_errors(), report.generate_report()


# --- resource servers ---------------------------------------------------------------------------


def test_resource_server_request():
    server = {
        "UserPoolId": OLD_POOL,
        "Identifier": "https://api.example.com",
        "Name": "orders-api",
        "Scopes": [{"ScopeName": "orders.read", "ScopeDescription": "Read"}],
    }
    result = resource_server_request(server, NEW_POOL)
    assert result.request == {
        "UserPoolId": NEW_POOL,
        "Identifier": "https://api.example.com",
        "Name": "orders-api",
        "Scopes": [{"ScopeName": "orders.read", "ScopeDescription": "Read"}],
    }
    assert_valid("CreateResourceServer", result.request)
    result.request["Scopes"][0]["ScopeName"] = "changed"
    assert server["Scopes"][0]["ScopeName"] == "orders.read"


def test_resource_server_without_scopes():
    result = resource_server_request({"Identifier": "x", "Name": "x", "Scopes": []}, NEW_POOL)
    assert "Scopes" not in result.request


# --- identity providers -------------------------------------------------------------------------

DATES = {"CreationDate": "2026-01-01 00:00:00+00:00", "LastModifiedDate": "2026-01-02 00:00:00+00:00"}
SOCIAL_DESCRIBE_ONLY = {
    "attributes_url": "https://x",
    "attributes_url_add_attributes": "true",
    "authorize_url": "https://x/auth",
    "token_url": "https://x/token",
    "token_request_method": "POST",
    "oidc_issuer": "https://x",
}


def provider(name, provider_type, details, **extra):
    return {
        "UserPoolId": OLD_POOL,
        "ProviderName": name,
        "ProviderType": provider_type,
        "ProviderDetails": details,
        "AttributeMapping": {"email": "email"},
        "IdpIdentifiers": [],
        **DATES,
        **extra,
    }


def test_saml_describe_only_details_stripped_and_url_preferred():
    details = {
        "MetadataURL": "https://idp.example.com/metadata",
        "MetadataFile": "<xml/>",
        "IDPSignout": "true",
        "ActiveEncryptionCertificate": "MIIC...",
        "SLORedirectBindingURI": "https://idp/slo",
        "SSORedirectBindingURI": "https://idp/sso",
        "EncryptedResponses": "true",
        "RequestSigningAlgorithm": "rsa-sha256",
        "IDPInit": "true",
    }
    result = identity_provider_request(provider("CorpSAML", "SAML", details), NEW_POOL)
    assert result.request["ProviderDetails"] == {
        "MetadataURL": "https://idp.example.com/metadata",
        "IDPSignout": "true",
        "EncryptedResponses": "true",
        "RequestSigningAlgorithm": "rsa-sha256",
        "IDPInit": "true",
    }
    assert result.request["UserPoolId"] == NEW_POOL
    assert_valid("CreateIdentityProvider", result.request)


def test_saml_metadata_file_kept_without_url():
    details = {"MetadataFile": "<EntityDescriptor/>", "ActiveEncryptionCertificate": "x"}
    result = identity_provider_request(provider("CorpSAML", "SAML", details), NEW_POOL)
    assert result.request["ProviderDetails"] == {"MetadataFile": "<EntityDescriptor/>"}


def test_oidc_keeps_create_keys_including_secret():
    details = {
        "client_id": "cid",
        "client_secret": "oidc-secret-1",
        "attributes_request_method": "GET",
        "oidc_issuer": "https://issuer",
        "authorize_scopes": "openid email",
        "authorize_url": "https://issuer/auth",
        "token_url": "https://issuer/token",
        "attributes_url": "https://issuer/userinfo",
        "jwks_uri": "https://issuer/jwks",
        "attributes_url_add_attributes": "false",
    }
    result = identity_provider_request(provider("CorpOIDC", "OIDC", details), NEW_POOL)
    expected = dict(details)
    del expected["attributes_url_add_attributes"]
    assert result.request["ProviderDetails"] == expected


@pytest.mark.parametrize(
    "provider_type,create_keys",
    [
        ("Google", {"client_id": "g", "client_secret": "gs", "authorize_scopes": "profile email openid"}),
        (
            "Facebook",
            {
                "client_id": "f",
                "client_secret": "fs",
                "authorize_scopes": "public_profile,email",
                "api_version": "v17.0",
            },
        ),
        ("LoginWithAmazon", {"client_id": "a", "client_secret": "as", "authorize_scopes": "profile"}),
    ],
)
def test_social_providers_send_only_create_keys(provider_type, create_keys):
    details = {**create_keys, **SOCIAL_DESCRIBE_ONLY}
    result = identity_provider_request(provider(provider_type, provider_type, details), NEW_POOL)
    assert result.request["ProviderDetails"] == create_keys
    assert result.request["ProviderName"] == provider_type and result.request["ProviderType"] == provider_type


def test_apple_describe_only_keys_stripped():
    details = {
        "client_id": "com.example",
        "team_id": "T",
        "key_id": "K",
        "authorize_scopes": "email name",
        "private_key": "-----BEGIN PRIVATE KEY-----x",
        **SOCIAL_DESCRIBE_ONLY,
    }
    result = identity_provider_request(provider("SignInWithApple", "SignInWithApple", details), NEW_POOL)
    assert result.request["ProviderDetails"] == {
        "client_id": "com.example",
        "team_id": "T",
        "key_id": "K",
        "authorize_scopes": "email name",
        "private_key": "-----BEGIN PRIVATE KEY-----x",
    }


def test_apple_without_private_key_is_flagged():
    details = {"client_id": "com.example", "team_id": "T", "key_id": "K", "authorize_scopes": "email"}
    try:
        result = identity_provider_request(provider("SignInWithApple", "SignInWithApple", details), NEW_POOL)
    except (KeyError, ValueError, NotRestorable):
        return  # reported as an unusable entry: acceptable
    assert "private_key" in result.request["ProviderDetails"] or any("private_key" in n for n in result.notes)


def test_provider_dates_and_old_pool_dropped_and_mapping_kept():
    result = identity_provider_request(
        provider("CorpOIDC", "OIDC", {"client_id": "c"}, IdpIdentifiers=["corp.example.com"]), NEW_POOL
    )
    assert set(result.request) == {
        "UserPoolId",
        "ProviderName",
        "ProviderType",
        "ProviderDetails",
        "AttributeMapping",
        "IdpIdentifiers",
    }
    assert result.request["UserPoolId"] == NEW_POOL
    assert result.request["AttributeMapping"] == {"email": "email"}
    assert result.request["IdpIdentifiers"] == ["corp.example.com"]


def test_empty_mapping_and_identifiers_not_sent():
    raw = provider("CorpOIDC", "OIDC", {"client_id": "c"})
    raw["AttributeMapping"] = {}
    result = identity_provider_request(raw, NEW_POOL)
    assert "AttributeMapping" not in result.request and "IdpIdentifiers" not in result.request


def test_provider_request_does_not_mutate_backup():
    raw = provider("CorpSAML", "SAML", {"MetadataURL": "u", "MetadataFile": "f", "ActiveEncryptionCertificate": "c"})
    before = copy.deepcopy(raw)
    identity_provider_request(raw, NEW_POOL)
    assert raw == before


# --- app clients --------------------------------------------------------------------------------


def described_client(**overrides):
    client = {
        "UserPoolId": OLD_POOL,
        "ClientName": "backend-service",
        "ClientId": "oldclientid123",
        "ClientSecret": "a" * 51,
        "CreationDate": "2026-01-01 00:00:00+00:00",
        "LastModifiedDate": "2026-01-02 00:00:00+00:00",
        "RefreshTokenValidity": 30,
        "AccessTokenValidity": 60,
        "IdTokenValidity": 60,
        "TokenValidityUnits": {"AccessToken": "minutes", "IdToken": "minutes", "RefreshToken": "days"},
        "ReadAttributes": ["email", "custom:tenant_id"],
        "WriteAttributes": ["email", "name"],
        "ExplicitAuthFlows": ["ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_SRP_AUTH"],
        "SupportedIdentityProviders": ["COGNITO", "CorpOIDC", "Google"],
        "CallbackURLs": ["https://app.example.com/cb"],
        "LogoutURLs": ["https://app.example.com/out"],
        "DefaultRedirectURI": "https://app.example.com/cb",
        "AllowedOAuthFlows": ["code"],
        "AllowedOAuthScopes": ["openid", "https://api.example.com/orders.read"],
        "AllowedOAuthFlowsUserPoolClient": True,
        "PreventUserExistenceErrors": "ENABLED",
        "EnableTokenRevocation": False,
        "EnablePropagateAdditionalUserContextData": False,
        "AuthSessionValidity": 3,
        "RefreshTokenRotation": {"Feature": "DISABLED"},
    }
    client.update(overrides)
    return client


def test_client_fields_copied_and_describe_only_fields_dropped():
    client = described_client()
    result = app_client_request(client, NEW_POOL, available_providers={"CorpOIDC", "Google"})
    expected = {k: v for k, v in client.items() if k not in ("ClientId", "CreationDate", "LastModifiedDate")}
    expected["UserPoolId"] = NEW_POOL
    assert result.request == expected
    assert result.notes == ()
    assert_valid("CreateUserPoolClient", result.request)


def test_false_and_zero_settings_are_kept():
    result = app_client_request(described_client(RefreshTokenValidity=0), NEW_POOL, available_providers=set())
    assert result.request["EnableTokenRevocation"] is False
    assert result.request["AllowedOAuthFlowsUserPoolClient"] is True
    assert result.request["RefreshTokenValidity"] == 0


def test_read_and_write_attributes_passed_verbatim():
    result = app_client_request(described_client(), NEW_POOL, available_providers=set())
    assert result.request["ReadAttributes"] == ["email", "custom:tenant_id"]
    assert result.request["WriteAttributes"] == ["email", "name"]


def test_client_secret_kept_by_default():
    result = app_client_request(described_client(), NEW_POOL, available_providers=set())
    assert result.request["ClientSecret"] == "a" * 51
    assert "GenerateSecret" not in result.request


def test_operator_opt_out_generates_a_new_secret():
    result = app_client_request(described_client(), NEW_POOL, available_providers=set(), keep_secret=False)
    assert "ClientSecret" not in result.request
    assert result.request["GenerateSecret"] is True
    assert any("secret" in n for n in result.notes)
    assert not any("a" * 51 in n for n in result.notes)


def test_public_client_gets_no_secret():
    client = described_client()
    del client["ClientSecret"]
    for keep in (True, False):
        result = app_client_request(client, NEW_POOL, available_providers=set(), keep_secret=keep)
        assert "ClientSecret" not in result.request and "GenerateSecret" not in result.request


def test_unknown_identity_providers_removed_with_a_note():
    result = app_client_request(described_client(), NEW_POOL, available_providers={"CorpOIDC"})
    assert result.request["SupportedIdentityProviders"] == ["COGNITO", "CorpOIDC"]
    (note,) = [n for n in result.notes if "Google" in n]
    assert "CorpOIDC" not in note


def test_cognito_provider_always_kept():
    result = app_client_request(
        described_client(SupportedIdentityProviders=["COGNITO"]), NEW_POOL, available_providers=set()
    )
    assert result.request["SupportedIdentityProviders"] == ["COGNITO"] and result.notes == ()


def test_all_providers_missing_leaves_an_empty_list_and_a_note():
    result = app_client_request(
        described_client(SupportedIdentityProviders=["Google"]), NEW_POOL, available_providers=set()
    )
    assert result.request.get("SupportedIdentityProviders", []) == []
    assert any("Google" in n for n in result.notes)


def test_analytics_configuration_left_out_with_a_note():
    client = described_client(AnalyticsConfiguration={"ApplicationId": "x", "RoleArn": "arn:aws:iam::1:role/r"})
    result = app_client_request(client, NEW_POOL, available_providers={"CorpOIDC", "Google"})
    assert "AnalyticsConfiguration" not in result.request
    assert any("analytics" in n.lower() for n in result.notes)


def test_client_request_does_not_mutate_backup():
    client = described_client()
    before = copy.deepcopy(client)
    result = app_client_request(client, NEW_POOL, available_providers=set())
    result.request["CallbackURLs"].append("https://evil")
    assert client == before


# --- groups -------------------------------------------------------------------------------------


def test_group_request_fields():
    group = {
        "GroupName": "admins",
        "Description": "Admins",
        "Precedence": 0,
        "RoleArn": "arn:aws:iam::123456789012:role/cognito-admins",
        "UserPoolId": OLD_POOL,
        **DATES,
    }
    result = group_request(group, NEW_POOL)
    assert result.request == {
        "UserPoolId": NEW_POOL,
        "GroupName": "admins",
        "Description": "Admins",
        "Precedence": 0,
        "RoleArn": "arn:aws:iam::123456789012:role/cognito-admins",
    }
    assert result.notes == ()
    assert_valid("CreateGroup", result.request)


def test_group_with_only_a_name():
    result = group_request({"GroupName": "viewers"}, NEW_POOL)
    assert result.request == {"UserPoolId": NEW_POOL, "GroupName": "viewers"}


def test_membership_only_group_carries_its_note_not_in_the_request():
    result = group_request({"GroupName": "group-061", "_note": "named only by memberships"}, NEW_POOL)
    assert result.notes == ("named only by memberships",)
    assert "_note" not in result.request
    assert_valid("CreateGroup", result.request)


def test_request_type_is_immutable_value():
    r = Request({"a": 1})
    assert r.notes == ()
    with pytest.raises(AttributeError):
        r.notes = ("x",)


def test_client_analytics_follow_the_arn_map():
    from cognito_restore.arn_map import ArnMapper

    old = "arn:aws:mobiletargeting:us-east-1:123456789012:apps/abc"
    client = {
        "ClientName": "web",
        "AnalyticsConfiguration": {
            "ApplicationArn": old,
            "ApplicationId": "abc",
            "RoleArn": "arn:aws:iam::123456789012:role/pinpoint",
            "UserDataShared": True,
        },
    }
    mapped = app_client_request(
        client, NEW_POOL, available_providers=set(), mapper=ArnMapper("us-west-2", {"us-east-1": "us-west-2"})
    )
    unmapped = app_client_request(client, NEW_POOL, available_providers=set(), mapper=ArnMapper("us-west-2"))
    assert mapped.request["AnalyticsConfiguration"] == {
        "ApplicationArn": old.replace("us-east-1", "us-west-2"),
        "RoleArn": "arn:aws:iam::123456789012:role/pinpoint",
        "UserDataShared": True,
    }
    assert "AnalyticsConfiguration" not in unmapped.request
    assert any("arn_map" in note for note in unmapped.notes)
