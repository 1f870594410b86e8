"""Ready-to-paste application configuration for the new pool, in the formats real SDKs read. Pure.

- Amplify Gen 2 `amplify_outputs.json` (schema version 1.5 of @aws-amplify/client-config; a gate
  type-checks it against the AWSAmplifyBackendOutputs type that package publishes from the schema);
- Amplify Gen 1 `aws-exports.js` (the `aws_user_pools_*` keys and the `oauth` block);
- Android / iOS SDK `awsconfiguration.json` (`CognitoUserPool`, and `Auth.Default.OAuth` for the hosted UI);
- a `.env` file (KEY=VALUE) for web apps;
- for back ends that verify tokens: the issuer and the JWKS URL.

No client secret is written (kept secrets are unchanged; new ones are in the Cognito console).
"""

from __future__ import annotations

import json
from typing import Any

from cognito_restore.users import STANDARD_ATTRIBUTES

# Cognito's SupportedIdentityProviders names -> the amplify_outputs enum (the only social ones it lists).
_AMPLIFY_SOCIAL = {
    "Google": "GOOGLE",
    "Facebook": "FACEBOOK",
    "LoginWithAmazon": "LOGIN_WITH_AMAZON",
    "SignInWithApple": "SIGN_IN_WITH_APPLE",
}
# Amplify lists standard attributes by name; the *_verified flags are not among them.
_STANDARD = STANDARD_ATTRIBUTES - {"email_verified", "phone_number_verified"}


def app_context(parts: dict[str, Any]) -> dict[str, Any]:
    """What the app configuration needs from the backup (no personal data): sign-in model and OAuth settings."""
    config = parts.get("user_pool_config") or {}
    policy = (config.get("Policies") or {}).get("PasswordPolicy") or {}
    clients = {}
    for client in parts.get("app_clients") or []:
        if isinstance(client, dict) and client.get("ClientName"):
            clients[client["ClientName"]] = {
                "callback_urls": list(client.get("CallbackURLs") or []),
                "logout_urls": list(client.get("LogoutURLs") or []),
                "oauth_flows": list(client.get("AllowedOAuthFlows") or []),
                "oauth_scopes": list(client.get("AllowedOAuthScopes") or []),
                "identity_providers": list(client.get("SupportedIdentityProviders") or []),
            }
    return {
        "username_attributes": list(config.get("UsernameAttributes") or []),
        "auto_verified_attributes": list(config.get("AutoVerifiedAttributes") or []),
        "required_attributes": sorted(
            a["Name"]
            for a in config.get("SchemaAttributes") or config.get("Schema") or []
            if isinstance(a, dict) and a.get("Required") and a.get("Name") in _STANDARD
        ),
        "mfa_configuration": config.get("MfaConfiguration") or "OFF",
        "password_policy": {
            "min_length": int(policy.get("MinimumLength", 8)),
            "require_numbers": bool(policy.get("RequireNumbers", False)),
            "require_lowercase": bool(policy.get("RequireLowercase", False)),
            "require_uppercase": bool(policy.get("RequireUppercase", False)),
            "require_symbols": bool(policy.get("RequireSymbols", False)),
        },
        "clients": clients,
    }


def issuer(pool_id: str, region: str) -> str:
    return f"https://cognito-idp.{region}.amazonaws.com/{pool_id}"


def _oauth(client: dict[str, Any], domain: str) -> dict[str, Any] | None:
    """Hosted UI settings, only for a client that has them (a domain, OAuth flows and callback URLs)."""
    if not (domain and client.get("oauth_flows") and client.get("callback_urls")):
        return None
    return {
        "domain": domain,
        "scopes": client.get("oauth_scopes") or [],
        "redirect_sign_in": client["callback_urls"],
        "redirect_sign_out": client.get("logout_urls") or client["callback_urls"],
        "response_type": "code" if "code" in client["oauth_flows"] else "token",
        "social": [_AMPLIFY_SOCIAL[p] for p in client.get("identity_providers") or [] if p in _AMPLIFY_SOCIAL],
    }


def amplify_outputs(
    pool_id: str, region: str, client_id: str, context: dict[str, Any], client: dict[str, Any], domain: str
) -> dict[str, Any]:
    """Amplify Gen 2 amplify_outputs.json (schema 1.5)."""
    username_attributes = [a for a in context.get("username_attributes") or [] if a in ("email", "phone_number")]
    auth: dict[str, Any] = {
        "aws_region": region,
        "user_pool_id": pool_id,
        "user_pool_client_id": client_id,
        "password_policy": context["password_policy"],
        "standard_required_attributes": context.get("required_attributes") or [],
        "username_attributes": username_attributes or ["username"],
        "user_verification_types": [
            a for a in context.get("auto_verified_attributes") or [] if a in ("email", "phone_number")
        ],
        "mfa_configuration": {"ON": "REQUIRED", "OPTIONAL": "OPTIONAL"}.get(
            str(context.get("mfa_configuration")), "NONE"
        ),
    }
    if auth["mfa_configuration"] != "NONE":
        auth["mfa_methods"] = ["TOTP"]  # SMS comes back only where the SMS role allows it (report's manual steps)
    oauth = _oauth(client, domain)
    if oauth:
        auth["oauth"] = {
            "identity_providers": oauth["social"],
            "domain": oauth["domain"],
            "scopes": oauth["scopes"],
            "redirect_sign_in_uri": oauth["redirect_sign_in"],
            "redirect_sign_out_uri": oauth["redirect_sign_out"],
            "response_type": oauth["response_type"],
        }
    return {"version": "1.5", "auth": auth}


def aws_exports(
    pool_id: str, region: str, client_id: str, context: dict[str, Any], client: dict[str, Any], domain: str
) -> str:
    """Amplify Gen 1 aws-exports.js."""
    config: dict[str, Any] = {
        "aws_project_region": region,
        "aws_cognito_region": region,
        "aws_user_pools_id": pool_id,
        "aws_user_pools_web_client_id": client_id,
        "aws_cognito_username_attributes": [a.upper() for a in context.get("username_attributes") or []],
        "aws_cognito_signup_attributes": [a.upper() for a in context.get("required_attributes") or []],
        "aws_cognito_mfa_configuration": context.get("mfa_configuration") or "OFF",
        "aws_cognito_verification_mechanisms": [a.upper() for a in context.get("auto_verified_attributes") or []],
    }
    oauth = _oauth(client, domain)
    if oauth:
        config["oauth"] = {
            "domain": oauth["domain"],
            "scope": oauth["scopes"],
            "redirectSignIn": ",".join(oauth["redirect_sign_in"]),
            "redirectSignOut": ",".join(oauth["redirect_sign_out"]),
            "responseType": oauth["response_type"],
        }
    return f"const awsmobile = {json.dumps(config, indent=4)};\n\nexport default awsmobile;\n"


def aws_configuration(pool_id: str, region: str, client_id: str, client: dict[str, Any], domain: str) -> dict[str, Any]:
    """awsconfiguration.json of the AWS Mobile SDKs for Android and iOS."""
    document: dict[str, Any] = {
        "UserAgent": "aws-amplify/cli",
        "Version": "1.0",
        "IdentityManager": {"Default": {}},
        "CognitoUserPool": {"Default": {"PoolId": pool_id, "AppClientId": client_id, "Region": region}},
    }
    oauth = _oauth(client, domain)
    if oauth:
        document["Auth"] = {
            "Default": {
                "OAuth": {
                    "WebDomain": oauth["domain"],
                    "AppClientId": client_id,
                    "SignInRedirectURI": ",".join(oauth["redirect_sign_in"]),
                    "SignOutRedirectURI": ",".join(oauth["redirect_sign_out"]),
                    "Scopes": oauth["scopes"],
                }
            }
        }
    return document


def dotenv(pool_id: str, region: str, client_id: str, domain: str) -> str:
    lines = {
        "COGNITO_USER_POOL_ID": pool_id,
        "COGNITO_CLIENT_ID": client_id,
        "COGNITO_REGION": region,
        "COGNITO_DOMAIN": domain,
        "COGNITO_ISSUER": issuer(pool_id, region),
    }
    return "".join(f"{key}={value}\n" for key, value in lines.items())


def for_client(
    pool_id: str, region: str, client_id: str, name: str, context: dict[str, Any], domain: str
) -> dict[str, Any]:
    context = context or app_context({})
    client = (context.get("clients") or {}).get(name) or {}
    return {
        "amplify_outputs.json": amplify_outputs(pool_id, region, client_id, context, client, domain),
        "aws-exports.js": aws_exports(pool_id, region, client_id, context, client, domain),
        "awsconfiguration.json": aws_configuration(pool_id, region, client_id, client, domain),
        ".env": dotenv(pool_id, region, client_id, domain),
        "backend": {
            "issuer": issuer(pool_id, region),
            "jwks_url": f"{issuer(pool_id, region)}/.well-known/jwks.json",
            "audience (id tokens) / client_id (access tokens)": client_id,
        },
    }
