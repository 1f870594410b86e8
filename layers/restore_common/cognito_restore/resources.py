"""Backed-up resource servers, identity providers, app clients and groups -> Create* requests. Pure."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from cognito_restore.arn_map import ArnMapper
from cognito_restore.errors import NotRestorable

# ProviderDetails keys that DescribeIdentityProvider adds and Create does not take (docs/cognito-behaviours.md §6).
_DESCRIBE_ONLY_PROVIDER_DETAILS = {
    "SAML": {"ActiveEncryptionCertificate", "SLORedirectBindingURI", "SSORedirectBindingURI"},
    "OIDC": {"attributes_url_add_attributes"},
    "Google": {
        "attributes_url",
        "attributes_url_add_attributes",
        "authorize_url",
        "token_url",
        "token_request_method",
        "oidc_issuer",
    },
    "Facebook": {
        "attributes_url",
        "attributes_url_add_attributes",
        "authorize_url",
        "token_url",
        "token_request_method",
        "oidc_issuer",
    },
    "LoginWithAmazon": {
        "attributes_url",
        "attributes_url_add_attributes",
        "authorize_url",
        "token_url",
        "token_request_method",
        "oidc_issuer",
    },
    "SignInWithApple": {
        "attributes_url",
        "attributes_url_add_attributes",
        "authorize_url",
        "token_url",
        "token_request_method",
        "oidc_issuer",
    },
}
# CreateUserPoolClient input members (DescribeUserPoolClient adds ClientId, UserPoolId and dates).
_CLIENT_FIELDS = (
    "ClientName",
    "RefreshTokenValidity",
    "AccessTokenValidity",
    "IdTokenValidity",
    "TokenValidityUnits",
    "ReadAttributes",
    "WriteAttributes",
    "ExplicitAuthFlows",
    "SupportedIdentityProviders",
    "CallbackURLs",
    "LogoutURLs",
    "DefaultRedirectURI",
    "AllowedOAuthFlows",
    "AllowedOAuthScopes",
    "AllowedOAuthFlowsUserPoolClient",
    "PreventUserExistenceErrors",
    "EnableTokenRevocation",
    "EnablePropagateAdditionalUserContextData",
    "AuthSessionValidity",
    "RefreshTokenRotation",
)


@dataclass(frozen=True)
class Request:
    request: dict[str, Any]
    notes: tuple[str, ...] = ()


def resource_server_request(server: dict[str, Any], pool_id: str) -> Request:
    request = {"UserPoolId": pool_id, "Identifier": server["Identifier"], "Name": server["Name"]}
    if server.get("Scopes"):
        request["Scopes"] = copy.deepcopy(server["Scopes"])
    return Request(request)


def identity_provider_request(provider: dict[str, Any], pool_id: str) -> Request:
    provider_type = provider["ProviderType"]
    if provider_type == "SignInWithApple" and not (provider.get("ProviderDetails") or {}).get("private_key"):
        raise NotRestorable(
            "Sign in with Apple needs its private_key, which DescribeIdentityProvider never returns: recreate it with the key"
        )
    drop = _DESCRIBE_ONLY_PROVIDER_DETAILS.get(provider_type, set())
    details = {k: v for k, v in (provider.get("ProviderDetails") or {}).items() if k not in drop}
    notes: tuple[str, ...] = ()
    if provider_type == "SAML" and details.get("MetadataURL"):
        details.pop("MetadataFile", None)  # Create takes one of the two
    request = {
        "UserPoolId": pool_id,
        "ProviderName": provider["ProviderName"],
        "ProviderType": provider_type,
        "ProviderDetails": details,
    }
    if provider.get("AttributeMapping"):
        request["AttributeMapping"] = dict(provider["AttributeMapping"])
    if provider.get("IdpIdentifiers"):
        request["IdpIdentifiers"] = list(provider["IdpIdentifiers"])
    return Request(request, notes)


def app_client_request(
    client: dict[str, Any],
    pool_id: str,
    *,
    available_providers: set[str],
    keep_secret: bool = True,
    mapper: ArnMapper | None = None,
) -> Request:
    request: dict[str, Any] = {"UserPoolId": pool_id}
    notes: list[str] = []
    for key in _CLIENT_FIELDS:
        if client.get(key) not in (None, [], {}):
            request[key] = copy.deepcopy(client[key])
    if client.get("ClientSecret"):
        if keep_secret:
            request["ClientSecret"] = client["ClientSecret"]
        else:
            request["GenerateSecret"] = True
            notes.append("new client secret generated (operator opted out of keeping secrets)")
    providers = request.get("SupportedIdentityProviders")
    if providers:
        kept = [p for p in providers if p == "COGNITO" or p in available_providers]
        missing = [p for p in providers if p not in kept]
        if missing:
            notes.append(f"identity providers not restored, removed from the client: {', '.join(missing)}")
        request["SupportedIdentityProviders"] = kept
    analytics = client.get("AnalyticsConfiguration")
    if analytics:
        mapped = mapper.map(analytics["ApplicationArn"]) if mapper and analytics.get("ApplicationArn") else None
        if mapped:
            request["AnalyticsConfiguration"] = {
                **{k: v for k, v in analytics.items() if k != "ApplicationId"},
                "ApplicationArn": mapped,
            }
        else:
            notes.append("analytics (Pinpoint) project is Region-bound and not in arn_map: left out")
    return Request(request, tuple(notes))


def group_request(group: dict[str, Any], pool_id: str) -> Request:
    request = {"UserPoolId": pool_id, "GroupName": group["GroupName"]}
    for key in ("Description", "RoleArn", "Precedence"):
        if group.get(key) is not None:
            request[key] = group[key]
    notes = (group["_note"],) if group.get("_note") else ()
    return Request(request, notes)
