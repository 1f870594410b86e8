"""Fixture generator: build a realistic SOURCE Cognito user pool and export it like the producer.

``build_source_pool`` only needs a boto3 ``cognito-idp`` client, so it works against moto
(``mock_aws``) and against real Cognito. ``export_backup`` reproduces the primary-region backup
Lambda (see ``docs/backup-format.md``), quirks included:

* ``groups`` is the FIRST ``ListGroups`` page only (``Limit=60``), while ``group_memberships``
  covers every group of the pool;
* ``user_pool_domain`` is described with the pool id instead of the domain name (usually ``{}``);
* ``ui_customization`` is ``None`` when ``GetUICustomization`` fails (moto does not implement it);
* the document goes through ``json.dumps(default=str)``, so datetimes are strings.

Everything is deterministic for a given ``SamplePoolSpec`` (``random.Random(seed)``), except
what the service generates (pool/client ids, ``sub``, secrets, dates).
"""

from __future__ import annotations

import functools
import json
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import boto3

# --- constants of the sample pool --------------------------------------------------------------

RESOURCE_SERVER_ID = "https://api.example.com"
RESOURCE_SERVER_NAME = "orders-api"
OIDC_PROVIDER_NAME = "CorpOIDC"
ADMIN_ROLE_ARN = "arn:aws:iam::123456789012:role/cognito-admins"
BASE_GROUP_NAMES = ("admins", "editors", "viewers", "billing")
CLIENT_WEB = "web-spa"
CLIENT_BACKEND = "backend-service"
CLIENT_MOBILE = "mobile-app"
PRODUCER_GROUPS_LIMIT = 60  # the producer writes only the first ListGroups page

CONFIRMED = "CONFIRMED"
FORCE_CHANGE_PASSWORD = "FORCE_CHANGE_PASSWORD"
UNCONFIRMED = "UNCONFIRMED"
RESET_REQUIRED = "RESET_REQUIRED"

_FIRST_NAMES = (
    "Ada",
    "Grace",
    "Alan",
    "Linus",
    "Margaret",
    "Ken",
    "Barbara",
    "Dennis",
    "Frances",
    "Edsger",
    "Radia",
    "Tim",
    "Hedy",
    "John",
    "Katherine",
    "Guido",
)
_LAST_NAMES = (
    "Lovelace",
    "Hopper",
    "Turing",
    "Torvalds",
    "Hamilton",
    "Thompson",
    "Liskov",
    "Ritchie",
    "Allen",
    "Dijkstra",
    "Perlman",
    "Berners-Lee",
    "Lamarr",
    "Backus",
    "Johnson",
    "van Rossum",
)
_TENANTS = ("tenant-acme", "tenant-globex", "tenant-initech", "tenant-umbrella", "tenant-hooli")
_PLANS = ("free", "pro", "enterprise")
_LOYALTY_TIERS = ("BRONZE", "SILVER", "GOLD", "PLATINUM")
_SIGNUP_SOURCES = ("web", "mobile", "partner-import")


# --- public types ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SamplePoolSpec:
    """What to build. ``groups`` > 60 makes the export show the producer's truncation quirk."""

    name: str = "sample-pool"
    users: int = 200
    username_mode: Literal["username", "email"] = "username"  # "email" => UsernameAttributes=["email"]
    groups: int = 4
    seed: int = 7
    with_domain: bool = True
    # Everything a PLUS pool can carry: hosted UI CSS, threat protection, Lambda triggers, a WAF web ACL.
    rich: bool = False

    def __post_init__(self) -> None:
        if self.username_mode not in ("username", "email"):
            raise ValueError(f"username_mode must be 'username' or 'email', not {self.username_mode!r}")
        if self.groups < 3:
            raise ValueError("groups must be >= 3")
        if self.users < 1:
            raise ValueError("users must be >= 1 (every group needs a member)")
        if self.groups > 3 * self.users:
            raise ValueError("groups must be <= 3 * users (users are in at most 3 groups)")


@dataclass
class SamplePool:
    """Handle on a built pool."""

    pool_id: str
    spec: SamplePoolSpec
    client_ids: dict[str, str] = field(default_factory=dict)  # client name -> client id
    domain: str | None = None


# --- deterministic plans (pure; usable by tests) ----------------------------------------------


def intended_status_counts(users: int) -> dict[str, int]:
    """Status mix: 15% FORCE_CHANGE_PASSWORD, 10% UNCONFIRMED, 5% RESET_REQUIRED, rest CONFIRMED.

    The brief's "roughly 60% CONFIRMED" leaves 10% unassigned; CONFIRMED takes the remainder
    (70% for round numbers). See ``intended_disabled_counts`` for disabled users.
    """
    fcp = users * 15 // 100
    unconfirmed = users * 10 // 100
    reset = users * 5 // 100
    return {
        CONFIRMED: users - fcp - unconfirmed - reset,
        FORCE_CHANGE_PASSWORD: fcp,
        UNCONFIRMED: unconfirmed,
        RESET_REQUIRED: reset,
    }


def intended_disabled_counts(users: int) -> dict[str, int]:
    """Disabled users per status: about 10% of each status, at least one where it is non-empty."""
    return {
        status: max(1, round(count / 10)) if count else 0 for status, count in intended_status_counts(users).items()
    }


def group_names(count: int) -> list[str]:
    """``admins, editors, viewers, billing, group-005, group-006, ...``."""
    return [BASE_GROUP_NAMES[i] if i < len(BASE_GROUP_NAMES) else f"group-{i + 1:03d}" for i in range(count)]


def domain_prefix(spec: SamplePoolSpec) -> str:
    """Hosted-UI domain prefix ``f"{name}-{seed}"`` reduced to ``[a-z0-9-]``."""
    prefix = re.sub(r"[^a-z0-9-]+", "-", f"{spec.name}-{spec.seed}".lower()).strip("-")
    return prefix[:63]


@dataclass(frozen=True)
class _UserPlan:
    index: int
    login: str  # username (username mode) or email (email mode) passed to the API
    email: str
    status: str
    email_verified: bool
    disabled: bool
    attributes: tuple[tuple[str, str], ...]
    password: str
    groups: tuple[str, ...]


def _plan_users(spec: SamplePoolSpec) -> list[_UserPlan]:
    rng = random.Random(spec.seed)
    n = spec.users
    statuses = [s for s, c in intended_status_counts(n).items() for _ in range(c)]
    rng.shuffle(statuses)

    # email_verified: ~70% true; RESET_REQUIRED needs it (AdminResetUserPassword requires a
    # verified contact); UNCONFIRMED self-sign-ups never have it.
    target_verified = round(n * 0.7)
    verified = {i for i in range(n) if statuses[i] == RESET_REQUIRED}
    candidates = [i for i in range(n) if statuses[i] in (CONFIRMED, FORCE_CHANGE_PASSWORD)]
    rng.shuffle(candidates)
    verified.update(candidates[: max(0, target_verified - len(verified))])

    disabled: set[int] = set()
    for status, count in intended_disabled_counts(n).items():
        disabled.update(rng.sample([i for i in range(n) if statuses[i] == status], count))
    names = group_names(spec.groups)
    memberships = _plan_memberships(rng, n, names)

    plans = []
    for i in range(n):
        email = f"user{i:04d}@example.com"
        attrs: dict[str, str] = {
            "email": email,
            "name": f"{rng.choice(_FIRST_NAMES)} {rng.choice(_LAST_NAMES)}",
            "custom:tenant_id": rng.choice(_TENANTS),
            "custom:plan": rng.choice(_PLANS),
            "custom:employee_number": str(rng.randint(1000, 99999)),
        }
        if statuses[i] != UNCONFIRMED:
            attrs["email_verified"] = "true" if i in verified else "false"
        if rng.random() < 0.5:
            # +1555 and 7 unique digits (7919 is coprime with 10**7)
            attrs["phone_number"] = f"+1555{(i * 7919 + spec.seed) % 10**7:07d}"
            if statuses[i] != UNCONFIRMED:
                attrs["phone_number_verified"] = rng.choice(("true", "false"))
        if rng.random() < 0.4:
            attrs["custom:loyalty_tier_code_x"] = rng.choice(_LOYALTY_TIERS)
        if rng.random() < 0.6:
            attrs["custom:signup_source"] = rng.choice(_SIGNUP_SOURCES)
        if statuses[i] != UNCONFIRMED and rng.random() < 0.3:
            attrs["dev:custom:legacy_id"] = f"L-{rng.randrange(16**8):08x}"
        plans.append(
            _UserPlan(
                index=i,
                login=email if spec.username_mode == "email" else f"user{i:04d}",
                email=email,
                status=statuses[i],
                email_verified=i in verified,
                disabled=i in disabled,
                attributes=tuple(attrs.items()),
                password=f"Sample#Pass{i:04d}x",
                groups=tuple(memberships[i]),
            )
        )
    return plans


def _plan_memberships(rng: random.Random, n: int, names: list[str]) -> list[list[str]]:
    """Each user in 0-3 groups; every group gets at least one member."""
    per_user = [rng.sample(names, rng.choice((0, 1, 1, 2, 3))) for _ in range(n)]
    covered = {g for gs in per_user for g in gs}
    cursor = rng.randrange(n)
    for g in names:
        if g in covered:
            continue
        while len(per_user[cursor]) >= 3:  # terminates: groups <= 3 * users
            cursor = (cursor + 1) % n
        per_user[cursor].append(g)
        cursor = (cursor + 1) % n
    return per_user


# --- building ----------------------------------------------------------------------------------


def _pool_kwargs(spec: SamplePoolSpec, region: str) -> dict[str, Any]:
    schema = [
        {"Name": "email", "AttributeDataType": "String", "Required": True, "Mutable": True},
        {"Name": "phone_number", "AttributeDataType": "String", "Required": False, "Mutable": True},
        {"Name": "name", "AttributeDataType": "String", "Required": False, "Mutable": True},
        {
            "Name": "tenant_id",
            "AttributeDataType": "String",
            "Mutable": True,
            "StringAttributeConstraints": {"MinLength": "3", "MaxLength": "36"},
        },
        {
            "Name": "plan",
            "AttributeDataType": "String",
            "Mutable": True,
            "StringAttributeConstraints": {"MinLength": "1", "MaxLength": "32"},
        },
        {
            "Name": "employee_number",
            "AttributeDataType": "Number",
            "Mutable": True,
            "NumberAttributeConstraints": {"MinValue": "1", "MaxValue": "999999"},
        },
        # base name 19 chars (Cognito allows 20); moto/Cognito add the "custom:" prefix
        {"Name": "loyalty_tier_code_x", "AttributeDataType": "String", "Mutable": True},
        {"Name": "signup_source", "AttributeDataType": "String", "Mutable": False},
        {"Name": "legacy_id", "AttributeDataType": "String", "Mutable": True, "DeveloperOnlyAttribute": True},
    ]
    kwargs: dict[str, Any] = {
        "PoolName": spec.name,
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
        "Schema": schema,
        "MfaConfiguration": "OPTIONAL",
        "AutoVerifiedAttributes": ["email"],
        # SignUp is then refused: build_source_pool signs its UNCONFIRMED users up before it sets this.
        "AdminCreateUserConfig": {"AllowAdminCreateUserOnly": True},
        "VerificationMessageTemplate": {
            "DefaultEmailOption": "CONFIRM_WITH_CODE",
            "EmailMessage": "Your sample-pool verification code is {####}.",
            "EmailSubject": "Verify your sample-pool account",
        },
        "AccountRecoverySetting": {"RecoveryMechanisms": [{"Priority": 1, "Name": "verified_email"}]},
        "UserAttributeUpdateSettings": {"AttributesRequireVerificationBeforeUpdate": ["email"]},
        "UserPoolTags": {"team": "identity", "env": "test"},
        "DeletionProtection": "ACTIVE",
        "UsernameConfiguration": {"CaseSensitive": False},
    }
    if spec.username_mode == "email":
        kwargs["UsernameAttributes"] = ["email"]
    if spec.rich:
        kwargs["UserPoolTier"] = "PLUS"
        kwargs["UserPoolAddOns"] = {"AdvancedSecurityMode": "ENFORCED"}
        kwargs["LambdaConfig"] = {trigger: trigger_arn(region, trigger) for trigger in TRIGGERS}
    return kwargs


TRIGGERS = ("PreSignUp", "PostConfirmation", "PreTokenGeneration")


def trigger_arn(region: str, trigger: str) -> str:
    return f"arn:aws:lambda:{region}:123456789012:function:sample-{trigger.lower()}"


def ses_identity_arn(region: str) -> str:
    return f"arn:aws:ses:{region}:123456789012:identity/example.com"


UI_CSS = ".banner-customizable { background-color: #1f2937; } .submitButton-customizable { background-color: #2563eb; }"


def _add_rich_settings(cognito: Any, pool_id: str, region: str) -> None:
    """Hosted UI CSS, threat protection and a regional web ACL, as a production PLUS pool has."""
    cognito.set_ui_customization(UserPoolId=pool_id, ClientId="ALL", CSS=UI_CSS)
    cognito.set_risk_configuration(
        UserPoolId=pool_id,
        CompromisedCredentialsRiskConfiguration={
            "EventFilter": ["SIGN_IN", "PASSWORD_CHANGE"],
            "Actions": {"EventAction": "BLOCK"},
        },
        AccountTakeoverRiskConfiguration={
            "NotifyConfiguration": {
                "From": "security@example.com",
                "SourceArn": ses_identity_arn(region),
                "BlockEmail": {"Subject": "Blocked sign-in", "TextBody": "We blocked a sign-in."},
            },
            "Actions": {
                "LowAction": {"Notify": False, "EventAction": "NO_ACTION"},
                "MediumAction": {"Notify": True, "EventAction": "MFA_IF_CONFIGURED"},
                "HighAction": {"Notify": True, "EventAction": "BLOCK"},
            },
        },
        RiskExceptionConfiguration={"BlockedIPRangeList": ["192.0.2.0/24"], "SkippedIPRangeList": ["198.51.100.0/24"]},
    )
    waf = boto3.client("wafv2", region_name=region)
    acl = waf.create_web_acl(
        Name="sample-cognito-acl",
        Scope="REGIONAL",
        DefaultAction={"Allow": {}},
        VisibilityConfig={
            "SampledRequestsEnabled": False,
            "CloudWatchMetricsEnabled": False,
            "MetricName": "sample-cognito-acl",
        },
    )["Summary"]
    pool_arn = cognito.describe_user_pool(UserPoolId=pool_id)["UserPool"]["Arn"]
    waf.associate_web_acl(WebACLArn=acl["ARN"], ResourceArn=pool_arn)


def _create_resource_server(cognito: Any, pool_id: str) -> None:
    cognito.create_resource_server(
        UserPoolId=pool_id,
        Identifier=RESOURCE_SERVER_ID,
        Name=RESOURCE_SERVER_NAME,
        Scopes=[
            {"ScopeName": "orders.read", "ScopeDescription": "Read orders"},
            {"ScopeName": "orders.write", "ScopeDescription": "Create and update orders"},
        ],
    )


def _create_identity_provider(cognito: Any, pool_id: str, rng: random.Random) -> None:
    issuer = "https://idp.example.com"
    cognito.create_identity_provider(
        UserPoolId=pool_id,
        ProviderName=OIDC_PROVIDER_NAME,
        ProviderType="OIDC",
        ProviderDetails={
            "client_id": "corp-oidc-client",
            "client_secret": f"oidc-secret-{rng.randrange(16**32):032x}",
            "authorize_scopes": "openid email",
            "oidc_issuer": issuer,
            "attributes_request_method": "GET",
            # explicit endpoints so real Cognito need not run discovery on the fake issuer
            "authorize_url": f"{issuer}/oauth2/authorize",
            "token_url": f"{issuer}/oauth2/token",
            "attributes_url": f"{issuer}/oauth2/userinfo",
            "jwks_uri": f"{issuer}/.well-known/jwks.json",
        },
        AttributeMapping={"email": "email"},
    )


def _create_clients(cognito: Any, pool_id: str) -> dict[str, str]:
    token_units = {"AccessToken": "minutes", "IdToken": "minutes", "RefreshToken": "days"}
    specs: dict[str, dict[str, Any]] = {
        CLIENT_WEB: {
            "GenerateSecret": False,
            "ExplicitAuthFlows": ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
            "ReadAttributes": [
                "email",
                "email_verified",
                "name",
                "phone_number",
                "phone_number_verified",
                "custom:tenant_id",
                "custom:plan",
            ],
            "WriteAttributes": ["email", "name", "custom:plan"],
            "AllowedOAuthFlowsUserPoolClient": True,
            "AllowedOAuthFlows": ["code"],
            "AllowedOAuthScopes": ["openid", "email", f"{RESOURCE_SERVER_ID}/orders.read"],
            "CallbackURLs": ["https://app.example.com/callback", "http://localhost:3000/callback"],
            "LogoutURLs": ["https://app.example.com/logout"],
            "DefaultRedirectURI": "https://app.example.com/callback",
            "SupportedIdentityProviders": ["COGNITO", OIDC_PROVIDER_NAME],
            "AccessTokenValidity": 60,
            "IdTokenValidity": 60,
            "RefreshTokenValidity": 30,
            "TokenValidityUnits": token_units,
            "PreventUserExistenceErrors": "ENABLED",
            "EnableTokenRevocation": True,
        },
        CLIENT_BACKEND: {
            "GenerateSecret": True,
            "ExplicitAuthFlows": ["ALLOW_REFRESH_TOKEN_AUTH"],
            "AllowedOAuthFlowsUserPoolClient": True,
            "AllowedOAuthFlows": ["client_credentials"],
            "AllowedOAuthScopes": [f"{RESOURCE_SERVER_ID}/orders.write"],
            "SupportedIdentityProviders": ["COGNITO"],
            "AccessTokenValidity": 15,
            "TokenValidityUnits": token_units,
            "PreventUserExistenceErrors": "ENABLED",
            "EnableTokenRevocation": True,
        },
        CLIENT_MOBILE: {
            "GenerateSecret": False,
            "ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
            "AccessTokenValidity": 1,
            "IdTokenValidity": 1,
            "RefreshTokenValidity": 90,
            "TokenValidityUnits": {"AccessToken": "hours", "IdToken": "hours", "RefreshToken": "days"},
            # The app users sign up through: it writes what sign-up collects (without WriteAttributes
            # a client writes only the standard attributes, and SignUp refuses the custom ones).
            "WriteAttributes": [
                "email",
                "name",
                "phone_number",
                "custom:tenant_id",
                "custom:plan",
                "custom:employee_number",
                "custom:loyalty_tier_code_x",
                "custom:signup_source",
            ],
            "PreventUserExistenceErrors": "LEGACY",
            "EnableTokenRevocation": True,
        },
    }
    ids = {}
    for name, kwargs in specs.items():
        resp = cognito.create_user_pool_client(UserPoolId=pool_id, ClientName=name, **kwargs)
        ids[name] = resp["UserPoolClient"]["ClientId"]
    return ids


def _create_groups(cognito: Any, pool_id: str, names: list[str]) -> None:
    for i, name in enumerate(names):
        kwargs: dict[str, Any] = {
            "UserPoolId": pool_id,
            "GroupName": name,
            "Description": f"Sample group {name}",
            "Precedence": i * 10,
        }
        if name == "admins":
            kwargs["RoleArn"] = ADMIN_ROLE_ARN
        cognito.create_group(**kwargs)


def _create_user(cognito: Any, pool_id: str, mobile_client_id: str, plan: _UserPlan, email_mode: bool) -> str:
    """Create one user in its planned status; returns the pool's Username for it."""
    attrs = [{"Name": k, "Value": v} for k, v in plan.attributes]
    if plan.status == UNCONFIRMED:
        # SignUp cannot set developer-only or verification attributes (none are planned here)
        resp = cognito.sign_up(
            ClientId=mobile_client_id, Username=plan.login, Password=plan.password, UserAttributes=attrs
        )
        # email mode: the generated UUID (= sub); username mode: the login
        username = resp["UserSub"] if email_mode else plan.login
    else:
        resp = cognito.admin_create_user(
            UserPoolId=pool_id,
            Username=plan.login,
            UserAttributes=attrs,
            TemporaryPassword=plan.password,
            MessageAction="SUPPRESS",
        )
        username = resp["User"]["Username"]
        if plan.status in (CONFIRMED, RESET_REQUIRED):
            cognito.admin_set_user_password(
                UserPoolId=pool_id, Username=username, Password=plan.password, Permanent=True
            )
        if plan.status == RESET_REQUIRED:
            cognito.admin_reset_user_password(UserPoolId=pool_id, Username=username)
    if plan.disabled:
        cognito.admin_disable_user(UserPoolId=pool_id, Username=username)
    return username


SMS_ROLE_NAME = "sample-cognito-sms"
SMS_EXTERNAL_ID = "sample-pool-sms-external-id"
SMS_AUTHENTICATION_MESSAGE = "Your sample-pool sign-in code is {####}."
NATIVE_LINKED_USERS = 3  # native users of a rich pool linked to an identity of the OIDC provider


def sms_trust_statement(source_arn: str, external_id: str = SMS_EXTERNAL_ID) -> dict[str, Any]:
    """The trust statement AWS recommends for a Cognito SMS role: only this pool (or ARN pattern) and account."""
    account = source_arn.split(":")[4]
    return {
        "Effect": "Allow",
        "Principal": {"Service": "cognito-idp.amazonaws.com"},
        "Action": "sts:AssumeRole",
        "Condition": {
            "StringEquals": {"sts:ExternalId": external_id, "aws:SourceAccount": account},
            "ArnLike": {"aws:SourceArn": source_arn},
        },
    }


def update_pool(cognito: Any, pool_id: str, **changes: Any) -> None:
    """UpdateUserPool resets what it is not given: send the pool's settings back, with the changes."""
    pool = cognito.describe_user_pool(UserPoolId=pool_id)["UserPool"]
    members = cognito.meta.service_model.operation_model("UpdateUserPool").input_shape.members
    request = {k: v for k, v in pool.items() if k in members and k != "PoolName" and v not in (None, {}, [])}
    admin = request.get("AdminCreateUserConfig") or {}
    if "TemporaryPasswordValidityDays" in ((request.get("Policies") or {}).get("PasswordPolicy") or {}):
        admin.pop("UnusedAccountValidityDays", None)
    cognito.update_user_pool(UserPoolId=pool_id, **{**request, **changes})


def add_sms_configuration(cognito: Any, pool_id: str, role_name: str = SMS_ROLE_NAME) -> str:
    """An SMS role that trusts only this pool (as AWS recommends), then SMS on the pool with phone
    verification. The trust policy can name the pool only once it exists, hence the update."""
    iam = boto3.client("iam", region_name=cognito.meta.region_name)
    pool_arn = cognito.describe_user_pool(UserPoolId=pool_id)["UserPool"]["Arn"]
    trust = {"Version": "2012-10-17", "Statement": [sms_trust_statement(pool_arn)]}
    role_arn = iam.create_role(RoleName=role_name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    publish = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sns:Publish", "Resource": "*"}]}
    iam.put_role_policy(RoleName=role_name, PolicyName="sns-publish", PolicyDocument=json.dumps(publish))
    auto = cognito.describe_user_pool(UserPoolId=pool_id)["UserPool"].get("AutoVerifiedAttributes") or []
    update_pool(
        cognito,
        pool_id,
        SmsConfiguration={"SnsCallerArn": role_arn, "ExternalId": SMS_EXTERNAL_ID},
        SmsAuthenticationMessage=SMS_AUTHENTICATION_MESSAGE,
        AutoVerifiedAttributes=sorted({*auto, "phone_number"}),
    )
    return role_arn


def link_native_users(cognito: Any, pool_id: str, provider_name: str, count: int) -> dict[str, str]:
    """Link `count` CONFIRMED native users (without immutable values) to an identity of the provider,
    as AdminLinkProviderForUser does after a user signed up natively. Returns username -> linked user id."""
    pool = cognito.describe_user_pool(UserPoolId=pool_id)["UserPool"]
    immutable = {
        a["Name"] for a in pool.get("SchemaAttributes", []) if a.get("Mutable") is False and a["Name"] != "sub"
    }
    linked: dict[str, str] = {}
    for user in cognito.get_paginator("list_users").paginate(UserPoolId=pool_id).build_full_result()["Users"]:
        if len(linked) == count:
            break
        if user["UserStatus"] != CONFIRMED or {a["Name"] for a in user["Attributes"]} & immutable:
            continue
        user_id = f"corp-{len(linked) + 1:04d}"
        cognito.admin_link_provider_for_user(
            UserPoolId=pool_id,
            DestinationUser={"ProviderName": "Cognito", "ProviderAttributeValue": user["Username"]},
            SourceUser={
                "ProviderName": provider_name,
                "ProviderAttributeName": "Cognito_Subject",
                "ProviderAttributeValue": user_id,
            },
        )
        linked[user["Username"]] = user_id
    if len(linked) < count:
        raise ValueError(f"only {len(linked)} CONFIRMED users without immutable attributes to link")
    return linked


_CREATION_ONLY = ("PoolName", "Schema", "UsernameAttributes", "AliasAttributes", "UsernameConfiguration")


def _open_for_sign_up(kwargs: dict[str, Any]) -> dict[str, Any]:
    opened = {k: v for k, v in kwargs.items() if k not in ("AutoVerifiedAttributes", "UserAttributeUpdateSettings")}
    opened["AdminCreateUserConfig"] = {**kwargs.get("AdminCreateUserConfig", {}), "AllowAdminCreateUserOnly": False}
    return opened


def build_source_pool(cognito: Any, spec: SamplePoolSpec, on_user: Callable[[int], None] | None = None) -> SamplePool:
    """Create the sample pool (config, resource server, IdP, clients, groups, users, domain).

    on_user(n): called after each user created (the drill's progress bar)."""
    rng = random.Random(spec.seed)
    region = cognito.meta.region_name
    kwargs = _pool_kwargs(spec, region)
    # UNCONFIRMED users exist only through SignUp, which needs self-registration on; with e-mail
    # auto-verified each would get a code. So the pool is built open and silent, its users are
    # signed up, then its real sign-up settings are set (UpdateUserPool: everything but the
    # creation-only settings, which it cannot change). Plain moto (no strict Cognito) neither
    # refuses that SignUp nor keeps the creation-only settings through UpdateUserPool: there the
    # pool is created as it is meant to be.
    from tools.emulation.cognito import is_installed

    reopen = is_installed()
    pool_id = cognito.create_user_pool(**(_open_for_sign_up(kwargs) if reopen else kwargs))["UserPool"]["Id"]
    _create_resource_server(cognito, pool_id)
    _create_identity_provider(cognito, pool_id, rng)
    client_ids = _create_clients(cognito, pool_id)
    _create_groups(cognito, pool_id, group_names(spec.groups))
    for created, plan in enumerate(_plan_users(spec), start=1):
        username = _create_user(
            cognito, pool_id, client_ids[CLIENT_MOBILE], plan, email_mode=spec.username_mode == "email"
        )
        for group in plan.groups:
            cognito.admin_add_user_to_group(UserPoolId=pool_id, Username=username, GroupName=group)
        if on_user is not None:
            on_user(created)
    if reopen:
        cognito.update_user_pool(UserPoolId=pool_id, **{k: v for k, v in kwargs.items() if k not in _CREATION_ONLY})
    domain = None
    if spec.with_domain:
        domain = domain_prefix(spec)
        cognito.create_user_pool_domain(Domain=domain, UserPoolId=pool_id)
    if spec.rich:
        _add_rich_settings(cognito, pool_id, region)
        add_sms_configuration(cognito, pool_id)
        link_native_users(cognito, pool_id, OIDC_PROVIDER_NAME, NATIVE_LINKED_USERS)
    return SamplePool(pool_id=pool_id, spec=spec, client_ids=client_ids, domain=domain)


# --- export: the producer ----------------------------------------------------------------------


def _pages(call: Any, items_key: str, token_in: str, token_out: str, **kwargs: Any) -> list[dict]:
    items: list[dict] = []
    while True:
        resp = call(**kwargs)
        items.extend(resp.get(items_key, []))
        token = resp.get(token_out)
        if not token:
            return items
        kwargs[token_in] = token


def _all_group_names(cognito: Any, pool_id: str) -> list[str]:
    groups = _pages(
        cognito.list_groups, "Groups", "NextToken", "NextToken", UserPoolId=pool_id, Limit=PRODUCER_GROUPS_LIMIT
    )
    return [g["GroupName"] for g in groups]


def export_backup(cognito: Any, pool_id: str, *, now: datetime | None = None) -> dict:
    """The backup document the producer writes for ``pool_id`` (after its JSON round trip)."""
    when = now or datetime.now(UTC)
    if when.tzinfo is not None:
        when = when.astimezone(UTC).replace(tzinfo=None)
    clients = _pages(
        cognito.list_user_pool_clients, "UserPoolClients", "NextToken", "NextToken", UserPoolId=pool_id, MaxResults=60
    )
    providers = _pages(
        cognito.list_identity_providers, "Providers", "NextToken", "NextToken", UserPoolId=pool_id, MaxResults=60
    )
    memberships = {
        name: [
            u["Username"]
            for u in _pages(
                cognito.list_users_in_group,
                "Users",
                "NextToken",
                "NextToken",
                UserPoolId=pool_id,
                GroupName=name,
                Limit=60,
            )
        ]
        for name in _all_group_names(cognito, pool_id)
    }
    try:
        ui_customization = cognito.get_ui_customization(UserPoolId=pool_id)["UICustomization"]
    except Exception:  # noqa: BLE001 - the producer's try/except; moto raises NotImplementedError
        ui_customization = None
    optional = _optional_sections(cognito, pool_id)
    backup = {
        "timestamp": when.isoformat(),
        "user_pool_id": pool_id,
        "user_pool_config": cognito.describe_user_pool(UserPoolId=pool_id)["UserPool"],
        "app_clients": [
            cognito.describe_user_pool_client(UserPoolId=pool_id, ClientId=c["ClientId"])["UserPoolClient"]
            for c in clients
        ],
        "users": _pages(
            cognito.list_users, "Users", "PaginationToken", "PaginationToken", UserPoolId=pool_id, Limit=60
        ),
        # producer quirk: first page only
        "groups": cognito.list_groups(UserPoolId=pool_id, Limit=PRODUCER_GROUPS_LIMIT)["Groups"],
        "group_memberships": memberships,
        "identity_providers": [
            cognito.describe_identity_provider(UserPoolId=pool_id, ProviderName=p["ProviderName"])["IdentityProvider"]
            for p in providers
        ],
        "resource_servers": _pages(
            cognito.list_resource_servers,
            "ResourceServers",
            "NextToken",
            "NextToken",
            UserPoolId=pool_id,
            MaxResults=50,
        ),
        # producer quirk: asks with the pool id instead of the domain name
        "user_pool_domain": cognito.describe_user_pool_domain(Domain=pool_id)["DomainDescription"],
        "ui_customization": ui_customization,
        **optional,
    }
    return json.loads(json.dumps(backup, default=str))


def _optional_sections(cognito: Any, pool_id: str) -> dict[str, Any]:
    """risk_configuration and waf_configuration: written by the producer only when the pool has them."""
    sections: dict[str, Any] = {}
    try:
        risk = cognito.describe_risk_configuration(UserPoolId=pool_id)["RiskConfiguration"]
        if set(risk) - {"UserPoolId", "ClientId"}:
            sections["risk_configuration"] = risk
    except Exception:  # noqa: BLE001 - the producer's try/except
        pass
    try:
        pool_arn = cognito.describe_user_pool(UserPoolId=pool_id)["UserPool"]["Arn"]
        acl = boto3.client("wafv2", region_name=cognito.meta.region_name).get_web_acl_for_resource(ResourceArn=pool_arn)
        if acl.get("WebACL"):
            sections["waf_configuration"] = {
                "WebACLArn": acl["WebACL"]["ARN"],
                "WebACLName": acl["WebACL"]["Name"],
                "WebACLId": acl["WebACL"]["Id"],
            }
    except Exception:  # noqa: BLE001
        pass
    return sections


def add_federated_users(backup: dict, provider_name: str, count: int, group: str | None = None) -> list[str]:
    """Users who only ever signed in through an IdP, as ListUsers reports them (moto cannot create them)."""
    usernames = []
    for index in range(count):
        user_id = f"{9000 + index:08d}"
        username = f"{provider_name}_{user_id}"
        sub = f"f3d0{index:04d}-0000-4000-8000-{index:012d}"
        identities = json.dumps(
            [
                {
                    "userId": user_id,
                    "providerName": provider_name,
                    "providerType": "OIDC",
                    "issuer": None,
                    "primary": True,
                    "dateCreated": 1730000000000,
                }
            ],
            separators=(",", ":"),
        )
        backup["users"].append(
            {
                "Username": sub if backup["user_pool_config"].get("UsernameAttributes") else username,
                "Attributes": [
                    {"Name": "sub", "Value": sub},
                    {"Name": "email", "Value": f"partner{index:04d}@partner.example"},
                    {"Name": "email_verified", "Value": "false"},
                    {"Name": "name", "Value": f"Partner User {index}"},
                    {"Name": "identities", "Value": identities},
                ],
                "UserCreateDate": "2026-10-01 08:00:00.000000+00:00",
                "UserLastModifiedDate": "2026-10-01 08:00:00.000000+00:00",
                "Enabled": True,
                "UserStatus": "EXTERNAL_PROVIDER",
            }
        )
        usernames.append(backup["users"][-1]["Username"])
        if group:
            backup["group_memberships"].setdefault(group, []).append(usernames[-1])
    return usernames


def add_sms_mfa_options(backup: dict, every: int = 5) -> int:
    """Legacy SMS MFAOptions on some users with a phone (moto's ListUsers always reports [])."""
    marked = 0
    for index, user in enumerate(backup["users"]):
        has_phone = any(a["Name"] == "phone_number" for a in user["Attributes"])
        if has_phone and index % every == 0 and user["UserStatus"] == "CONFIRMED":
            user["MFAOptions"] = [{"DeliveryMedium": "SMS", "AttributeName": "phone_number"}]
            marked += 1
    return marked


def backup_key(pool_id: str, when: datetime) -> str:
    """``cognito-backup/YYYY/MM/DD/<pool_id>-HHMMSS.json`` (UTC)."""
    if when.tzinfo is not None:
        when = when.astimezone(UTC)
    return f"cognito-backup/{when:%Y/%m/%d}/{pool_id}-{when:%H%M%S}.json"


def write_backup(s3: Any, bucket: str, backup: dict, when: datetime) -> str:
    """Put the backup at its key (as the producer does) and return the key."""
    key = backup_key(backup["user_pool_id"], when)
    s3.put_object(
        Bucket=bucket, Key=key, Body=json.dumps(backup, default=str).encode("utf-8"), ContentType="application/json"
    )
    return key


# --- format v2 (docs/backup-format.md, "Format v2"): a stand-in for the producer of issue 11 ------

V2_LOG_GROUP = "/aws/vendedlogs/cognito/sample-pool"
V2_EMAIL_MFA = {"Message": "Your sample-pool sign-in code is {####}.", "Subject": "Your sign-in code"}
V2_BRANDING_SETTINGS = {
    "categories": {"global": {"colorSchemeMode": "DARK", "pageHeader": {"enabled": True}}},
    "components": {"primaryButton": {"lightMode": {"defaults": {"backgroundColor": "0972d3ff"}}}},
}
V2_ASSET_BYTES = 900_000  # two of them exceed one 2 MB request: the restore must split
V2_CLIENT_CSS = ".banner-customizable { background-color: #0f766e; }"
V2_EMAIL_MFA_USERS = 5
V2_TERMS = {"terms-of-use": "https://example.com/terms", "privacy-policy": "https://example.com/privacy"}


def v2_asset(category: str, size: int, fill: int) -> dict[str, Any]:
    return {"Category": category, "ColorMode": "LIGHT", "Extension": "PNG", "Bytes": bytes([fill]) * size}


def add_v2_settings(cognito: Any, pool: SamplePool) -> None:
    """What a 2024+ pool carries beyond v1: Amazon SES sending (for e-mail MFA), every MFA factor
    (TOTP, SMS when configured, e-mail, passkeys on the prefix domain), a managed login (v2) domain,
    branding with assets and terms for the web client, user-notification logs to CloudWatch Logs.
    The prefix domain is created again with ManagedLoginVersion 2 (managed login)."""
    region = cognito.meta.region_name
    boto3.client("ses", region_name=region).verify_domain_identity(Domain="example.com")
    update_pool(
        cognito,
        pool.pool_id,
        EmailConfiguration={
            "EmailSendingAccount": "DEVELOPER",
            "SourceArn": ses_identity_arn(region),
            "From": "no-reply@example.com",
        },
    )
    prefix = domain_prefix(pool.spec)
    if pool.domain:
        cognito.delete_user_pool_domain(UserPoolId=pool.pool_id, Domain=pool.domain)
    cognito.create_user_pool_domain(UserPoolId=pool.pool_id, Domain=prefix, ManagedLoginVersion=2)
    pool.domain = prefix
    described = cognito.describe_user_pool(UserPoolId=pool.pool_id)["UserPool"]
    mfa: dict[str, Any] = {
        "UserPoolId": pool.pool_id,
        "MfaConfiguration": "OPTIONAL",
        "SoftwareTokenMfaConfiguration": {"Enabled": True},
        "EmailMfaConfiguration": V2_EMAIL_MFA,
        "WebAuthnConfiguration": {
            "RelyingPartyId": f"{prefix}.auth.{region}.amazoncognito.com",
            "UserVerification": "required",
        },
    }
    if described.get("SmsConfiguration"):
        mfa["SmsMfaConfiguration"] = {
            "SmsAuthenticationMessage": SMS_AUTHENTICATION_MESSAGE,
            "SmsConfiguration": described["SmsConfiguration"],
        }
    cognito.set_user_pool_mfa_config(**mfa)
    web = pool.client_ids[CLIENT_WEB]
    style = cognito.create_managed_login_branding(
        UserPoolId=pool.pool_id,
        ClientId=web,
        Settings=V2_BRANDING_SETTINGS,
        Assets=[v2_asset("PAGE_BACKGROUND", V2_ASSET_BYTES, 1), v2_asset("FORM_LOGO", 2_000, 3)],
    )["ManagedLoginBranding"]
    cognito.update_managed_login_branding(
        UserPoolId=pool.pool_id,
        ManagedLoginBrandingId=style["ManagedLoginBrandingId"],
        Assets=[v2_asset("FORM_BACKGROUND", V2_ASSET_BYTES, 2)],
    )
    cognito.create_managed_login_branding(
        UserPoolId=pool.pool_id, ClientId=pool.client_ids[CLIENT_MOBILE], UseCognitoProvidedValues=True
    )
    for name, url in V2_TERMS.items():
        cognito.create_terms(
            UserPoolId=pool.pool_id,
            ClientId=web,
            TermsName=name,
            TermsSource="LINK",
            Enforcement="NONE",
            Links={"cognito:default": url, "cognito:french": url + "/fr"},
        )
    # The web client's own hosted UI CSS and threat protection, over the pool's
    cognito.set_ui_customization(UserPoolId=pool.pool_id, ClientId=web, CSS=V2_CLIENT_CSS)
    cognito.set_risk_configuration(
        UserPoolId=pool.pool_id,
        ClientId=web,
        CompromisedCredentialsRiskConfiguration={"EventFilter": ["SIGN_IN"], "Actions": {"EventAction": "BLOCK"}},
    )
    # Users who chose e-mail MFA (AdminGetUser lists EMAIL_OTP, preferred)
    chosen = 0
    for user in cognito.get_paginator("list_users").paginate(UserPoolId=pool.pool_id).build_full_result()["Users"]:
        if chosen == V2_EMAIL_MFA_USERS:
            break
        if user["UserStatus"] == CONFIRMED and any(a["Name"] == "email" for a in user["Attributes"]):
            cognito.admin_set_user_mfa_preference(
                UserPoolId=pool.pool_id,
                Username=user["Username"],
                EmailMfaSettings={"Enabled": True, "PreferredMfa": True},
            )
            chosen += 1
    logs = boto3.client("logs", region_name=region)
    logs.create_log_group(logGroupName=V2_LOG_GROUP)
    cognito.set_log_delivery_configuration(
        UserPoolId=pool.pool_id,
        LogConfigurations=[
            {
                "EventSource": "userNotification",
                "LogLevel": "ERROR",
                "CloudWatchLogsConfiguration": {"LogGroupArn": log_group_arn(region)},
            }
        ],
    )


def log_group_arn(region: str) -> str:
    return f"arn:aws:logs:{region}:123456789012:log-group:{V2_LOG_GROUP}"


def backup_prefix_v2(pool_id: str, when: datetime) -> str:
    """``cognito-backup/v2/<pool_id>/YYYY/MM/DD/HHMMSS`` (UTC): the backup's folder."""
    if when.tzinfo is not None:
        when = when.astimezone(UTC)
    return f"cognito-backup/v2/{pool_id}/{when:%Y/%m/%d/%H%M%S}"


def _jsonable(value: Any) -> Any:
    """Datetimes as ISO strings, asset bytes as base64 (the v2 contract)."""
    import base64

    def default(item: Any) -> Any:
        if isinstance(item, bytes):
            return base64.b64encode(item).decode()
        if isinstance(item, datetime):
            return item.isoformat()
        return str(item)

    return json.loads(json.dumps(value, default=default))


def _optional(call: Callable[[], Any]) -> Any:
    try:
        return call()
    except Exception:  # noqa: BLE001 - null = not backed up (the contract), as the producer writes it
        return None


def export_backup_v2(
    cognito: Any,
    pool_id: str,
    s3: Any,
    bucket: str,
    *,
    now: datetime | None = None,
    users_per_file: int = 50,
    memberships_per_file: int = 100,
    user_mfa_settings: bool = True,
) -> str:
    """Write a v2 backup of ``pool_id`` (manifest last) and return the manifest's key. Every page of
    every list, the domain by its name, the v2 sections, per-user MFA settings from AdminGetUser."""
    import gzip
    import hashlib

    when = now or datetime.now(UTC)
    folder = backup_prefix_v2(pool_id, when)
    config = cognito.describe_user_pool(UserPoolId=pool_id)["UserPool"]
    clients = [
        cognito.describe_user_pool_client(UserPoolId=pool_id, ClientId=c["ClientId"])["UserPoolClient"]
        for c in _pages(
            cognito.list_user_pool_clients,
            "UserPoolClients",
            "NextToken",
            "NextToken",
            UserPoolId=pool_id,
            MaxResults=60,
        )
    ]
    groups = _pages(cognito.list_groups, "Groups", "NextToken", "NextToken", UserPoolId=pool_id, Limit=60)
    providers = _pages(
        cognito.list_identity_providers, "Providers", "NextToken", "NextToken", UserPoolId=pool_id, MaxResults=60
    )

    def domain(name: str | None) -> Any:
        return cognito.describe_user_pool_domain(Domain=name)["DomainDescription"] if name else None

    def per_client(call: Callable[..., Any], key: str) -> list[dict[str, Any]]:
        found = []
        for client in clients:
            value = _optional(
                functools.partial(lambda c: call(UserPoolId=pool_id, ClientId=c)[key], client["ClientId"])
            )
            if value and value.get("ClientId") == client["ClientId"] and set(value) - {"UserPoolId", "ClientId"}:
                found.append(value)
        return found

    branding = []
    for client in clients:
        style = _optional(
            functools.partial(
                lambda c: cognito.describe_managed_login_branding_by_client(
                    UserPoolId=pool_id, ClientId=c, ReturnMergedResources=False
                )["ManagedLoginBranding"],
                client["ClientId"],
            )
        )
        if style:
            branding.append({**style, "ClientId": client["ClientId"]})
    terms = [
        cognito.describe_terms(UserPoolId=pool_id, TermsId=t["TermsId"])["Terms"]
        for t in _pages(cognito.list_terms, "Terms", "NextToken", "NextToken", UserPoolId=pool_id, MaxResults=60)
    ]
    pool_arn = config["Arn"]
    acl = _optional(
        lambda: boto3.client("wafv2", region_name=cognito.meta.region_name).get_web_acl_for_resource(
            ResourceArn=pool_arn
        )
    )
    mfa = _optional(lambda: cognito.get_user_pool_mfa_config(UserPoolId=pool_id))
    pool_json = {
        "user_pool_id": pool_id,
        "timestamp": when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "user_pool_config": config,
        "app_clients": clients,
        "groups": groups,
        "identity_providers": [
            cognito.describe_identity_provider(UserPoolId=pool_id, ProviderName=p["ProviderName"])["IdentityProvider"]
            for p in providers
        ],
        "resource_servers": _pages(
            cognito.list_resource_servers,
            "ResourceServers",
            "NextToken",
            "NextToken",
            UserPoolId=pool_id,
            MaxResults=50,
        ),
        "user_pool_domain": domain(config.get("Domain")),
        "custom_domain": domain(config.get("CustomDomain")),
        "ui_customization": _optional(lambda: cognito.get_ui_customization(UserPoolId=pool_id)["UICustomization"]),
        "risk_configuration": _optional(
            lambda: cognito.describe_risk_configuration(UserPoolId=pool_id)["RiskConfiguration"]
        ),
        "waf_configuration": (
            {"WebACLArn": acl["WebACL"]["ARN"], "WebACLName": acl["WebACL"]["Name"]}
            if acl and acl.get("WebACL")
            else None
        ),
        "mfa_config": {k: v for k, v in mfa.items() if k != "ResponseMetadata"} if mfa else None,
        "ui_customizations": per_client(cognito.get_ui_customization, "UICustomization"),
        "risk_configurations": per_client(cognito.describe_risk_configuration, "RiskConfiguration"),
        "managed_login_branding": branding,
        "terms": terms,
        "log_delivery_configuration": _optional(
            lambda: cognito.get_log_delivery_configuration(UserPoolId=pool_id)["LogDeliveryConfiguration"]
        ),
    }

    def put(relative: str, body: bytes) -> dict[str, Any]:
        s3.put_object(Bucket=bucket, Key=f"{folder}/{relative}", Body=body)
        return {"key": relative, "sha256": hashlib.sha256(body).hexdigest(), "bytes": len(body)}

    def put_lines(relative: str, lines: list[Any]) -> dict[str, Any]:
        body = gzip.compress(b"".join(json.dumps(line).encode() + b"\n" for line in _jsonable(lines)))
        return {**put(relative, body), "count": len(lines)}

    pool_entry = put("pool.json", json.dumps(_jsonable(pool_json)).encode())
    users = _pages(cognito.list_users, "Users", "PaginationToken", "PaginationToken", UserPoolId=pool_id, Limit=60)
    if user_mfa_settings:
        for user in users:
            got = cognito.admin_get_user(UserPoolId=pool_id, Username=user["Username"])
            for key in ("UserMFASettingList", "PreferredMfaSetting"):
                if key in got:
                    user[key] = got[key]
    shards: dict[str, list[dict[str, Any]]] = {}
    for user in users:
        sub = next(a["Value"] for a in user["Attributes"] if a["Name"] == "sub")
        shards.setdefault(sub[:1], []).append(user)
    user_files = []
    for shard, members in sorted(shards.items()):
        for start in range(0, len(members), users_per_file):
            part = members[start : start + users_per_file]
            user_files.append(put_lines(f"users/{shard}-{start // users_per_file:05d}.jsonl.gz", part))
    memberships = [
        {"group": g["GroupName"], "username": u["Username"]}
        for g in groups
        for u in _pages(
            cognito.list_users_in_group,
            "Users",
            "NextToken",
            "NextToken",
            UserPoolId=pool_id,
            GroupName=g["GroupName"],
            Limit=60,
        )
    ]
    membership_files = [
        put_lines(f"memberships/{n:05d}.jsonl.gz", memberships[start : start + memberships_per_file])
        for n, start in enumerate(range(0, len(memberships), memberships_per_file))
    ]
    manifest = {
        "format": "cognito-dr-backup",
        "version": 2,
        "user_pool_id": pool_id,
        "timestamp": pool_json["timestamp"],
        "region": cognito.meta.region_name,
        "pool": pool_entry,
        "users": {"count": len(users), "files": user_files},
        "group_memberships": {"count": len(memberships), "files": membership_files},
        "counts": {
            "users": len(users),
            "groups": len(groups),
            "group_memberships": len(memberships),
            "app_clients": len(clients),
            "identity_providers": len(providers),
            "resource_servers": len(pool_json["resource_servers"]),
            "managed_login_branding": len(branding),
            "terms": len(terms),
        },
        "user_mfa_settings": user_mfa_settings,
    }
    key = f"{folder}/manifest.json"
    s3.put_object(Bucket=bucket, Key=key, Body=json.dumps(manifest).encode())  # last: the backup now exists
    return key
