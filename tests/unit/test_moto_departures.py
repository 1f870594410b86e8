"""Every departure of moto 5.2.5 from AWS that tools/emulation corrects, shown against plain moto.

Each case runs the same naive call (or state machine) twice: in plain moto (``mock_aws()`` alone:
no strict Cognito, no Step Functions corrections, no Lambda dispatch), where it passes or behaves
wrongly, and in the emulation, where it behaves like AWS. The plain-moto half is the reason the
correction exists: when a moto upgrade fixes a departure, that half fails, and the correction (and
its row here) can go. The AWS behaviour of each case is documented in docs/cognito-behaviours.md
(§12 lists them); tests/unit/test_strict_cognito.py and tests/workflow/test_emulator.py test the
corrections themselves in depth.

Not listed: what the emulation adds for speed or for one process (Wait states and Retry back-off
made instant, joinable interpreter threads, the boto3 client lock), which are no AWS behaviour.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import re
import threading
import uuid
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.stepfunctions.parser.utils import TMP_THREADS

import tools.emulation.cognito as strict
from tools.emulation import RestoreStack
from tools.emulation.cognito import features_v2 as v2
from tools.emulation.cognito import messages as msg
from tools.emulation.cognito import strict_cognito
from tools.emulation.stepfunctions import StepFunctions, moto_compatible_definition

REGION = "us-east-1"
ACCOUNT = "123456789012"
GOOD_PASSWORD = "Valid#Pass123"
CERTIFICATE = f"arn:aws:acm:{REGION}:{ACCOUNT}:certificate/0b0b0b0b-1111-2222-3333-444455556666"


@contextmanager
def plain_cognito() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("cognito-idp", region_name=REGION)


@contextmanager
def emulated_cognito() -> Iterator[Any]:
    with mock_aws(), strict_cognito():
        yield boto3.client("cognito-idp", region_name=REGION)


def new_pool(cognito: Any, **kwargs: Any) -> str:
    kwargs.setdefault("PoolName", "p")
    return cognito.create_user_pool(**kwargs)["UserPool"]["Id"]


def new_user(cognito: Any, pool_id: str, username: str = "u", **attributes: str) -> None:
    cognito.admin_create_user(
        UserPoolId=pool_id,
        Username=username,
        MessageAction="SUPPRESS",
        TemporaryPassword=GOOD_PASSWORD,
        UserAttributes=[{"Name": k, "Value": v} for k, v in attributes.items()],
    )


def attributes(**values: str) -> list[dict[str, str]]:
    return [{"Name": k.replace("__", ":"), "Value": v} for k, v in values.items()]


def sms_role(name: str, trusted: str = "cognito-idp.amazonaws.com", publish: bool = True) -> str:
    iam = boto3.client("iam", region_name=REGION)
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": trusted}, "Action": "sts:AssumeRole"}],
    }
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    if publish:
        policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sns:Publish", "Resource": "*"}]}
        iam.put_role_policy(RoleName=name, PolicyName="publish", PolicyDocument=json.dumps(policy))
    return arn


def secret_hash(secret: str, username: str, client_id: str) -> str:
    digest = hmac.new(secret.encode(), (username + client_id).encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


# ============================================================================ Cognito: refusals

Naive = Callable[[Any], Callable[[], Any]]  # setup in the given client's moto, returns the naive call


@dataclass(frozen=True)
class Refusal:
    name: str
    naive: Naive
    code: str
    message: str | None = None  # None: the code is checked, the text by test_strict_cognito.py


def _confirm_admin_created(c: Any) -> Callable[[], Any]:
    pool_id = new_pool(c)
    new_user(c, pool_id)  # FORCE_CHANGE_PASSWORD
    return lambda: c.admin_confirm_sign_up(UserPoolId=pool_id, Username="u")


def _on_pool(call: Callable[[Any, str], Any], **pool_kwargs: Any) -> Naive:
    def naive(c: Any) -> Callable[[], Any]:
        pool_id = new_pool(c, **pool_kwargs)
        return lambda: call(c, pool_id)

    return naive


def _create_user(**values: str) -> Naive:
    return _on_pool(
        lambda c, p: c.admin_create_user(
            UserPoolId=p, Username="n", MessageAction="SUPPRESS", UserAttributes=attributes(**values)
        )
    )


def _create_client(**kwargs: Any) -> Naive:
    schema = [{"Name": "email", "AttributeDataType": "String", "Required": True, "Mutable": True}]
    return _on_pool(lambda c, p: c.create_user_pool_client(UserPoolId=p, ClientName="c", **kwargs), Schema=schema)


def _update_client_writing_unknown(c: Any) -> Callable[[], Any]:
    pool_id = new_pool(c)
    client_id = c.create_user_pool_client(UserPoolId=pool_id, ClientName="c")["UserPoolClient"]["ClientId"]
    return lambda: c.update_user_pool_client(
        UserPoolId=pool_id, ClientId=client_id, ClientName="c", WriteAttributes=["custom:nope"]
    )


def _domain_of_another_pool(c: Any) -> Callable[[], Any]:
    c.create_user_pool_domain(UserPoolId=new_pool(c), Domain="my-login")
    other = new_pool(c)
    return lambda: c.create_user_pool_domain(UserPoolId=other, Domain="my-login")


def _custom_domain_of_another_pool(c: Any) -> Callable[[], Any]:
    config = {"CertificateArn": CERTIFICATE}
    c.create_user_pool_domain(UserPoolId=new_pool(c), Domain="auth.example.com", CustomDomainConfig=config)
    other = new_pool(c)
    return lambda: c.create_user_pool_domain(UserPoolId=other, Domain="auth.example.com", CustomDomainConfig=config)


def _second_prefix_domain(c: Any) -> Callable[[], Any]:
    pool_id = new_pool(c)
    c.create_user_pool_domain(UserPoolId=pool_id, Domain="my-login")
    return lambda: c.create_user_pool_domain(UserPoolId=pool_id, Domain="my-login-2")


def _mfa_without_delivery(settings: str) -> Naive:
    def naive(c: Any) -> Callable[[], Any]:
        pool_id = new_pool(c)
        new_user(c, pool_id)  # neither phone_number nor email
        return lambda: c.admin_set_user_mfa_preference(
            UserPoolId=pool_id, Username="u", **{settings: {"Enabled": True}}
        )

    return naive


def _pool_with_sms_role(role: Callable[[], str]) -> Naive:
    return lambda c: (
        lambda: c.create_user_pool(PoolName="p", SmsConfiguration={"SnsCallerArn": role(), "ExternalId": "ext"})
    )


def _update_with_missing_sms_role(c: Any) -> Callable[[], Any]:
    pool_id = new_pool(c)
    missing = f"arn:aws:iam::{ACCOUNT}:role/missing"
    return lambda: c.update_user_pool(UserPoolId=pool_id, SmsConfiguration={"SnsCallerArn": missing})


def _mfa_config_with_missing_sms_role(c: Any) -> Callable[[], Any]:
    pool_id = new_pool(c)
    sms = {"SmsConfiguration": {"SnsCallerArn": f"arn:aws:iam::{ACCOUNT}:role/missing", "ExternalId": "ext"}}
    return lambda: c.set_user_pool_mfa_config(UserPoolId=pool_id, SmsMfaConfiguration=sms, MfaConfiguration="OPTIONAL")


def _email(**config: str) -> Naive:
    return lambda c: lambda: c.create_user_pool(PoolName="p", EmailConfiguration=config)


def _delete_protected(c: Any) -> Callable[[], Any]:
    pool_id = new_pool(c, DeletionProtection="ACTIVE")
    return lambda: c.delete_user_pool(UserPoolId=pool_id)


def _wrong_secret_hash(c: Any) -> Callable[[], Any]:
    """A custom ClientSecret (restored from a backup) must be the client's secret: moto echoes it
    but checks no SECRET_HASH at all for such a client."""
    pool_id = new_pool(c)
    secret = "kept1secret2from3the4backup5abcdefghijklmnop"
    client_id = c.create_user_pool_client(UserPoolId=pool_id, ClientName="c", ClientSecret=secret)["UserPoolClient"][
        "ClientId"
    ]
    new_user(c, pool_id, "bob")
    c.admin_set_user_password(UserPoolId=pool_id, Username="bob", Password=GOOD_PASSWORD, Permanent=True)
    wrong = secret_hash("another1secret2value3abcdefgh", "bob", client_id)
    return lambda: c.initiate_auth(
        ClientId=client_id,
        AuthFlow="USER_SRP_AUTH",
        AuthParameters={"USERNAME": "bob", "SRP_A": "0123abcd", "SECRET_HASH": wrong},
    )


LONG_NAME = "loyalty_tier_code_xyz"  # 21 characters
MANY_CUSTOM = [{"Name": f"a{i}", "AttributeDataType": "String"} for i in range(51)]
WEAK_POLICY = {"PasswordPolicy": {"MinimumLength": 10, "RequireSymbols": True}}
IAE = "InvalidParameterException"


def _sign_up(
    client_kwargs: dict[str, Any] | None = None,
    pool: dict[str, Any] | None = None,
    password: str = GOOD_PASSWORD,
    **values: str,
) -> Naive:
    """SignUp through a client of a pool open to self-registration (unless ``pool`` says otherwise)."""

    def naive(c: Any) -> Callable[[], Any]:
        pool_id = new_pool(c, **{"AdminCreateUserConfig": {"AllowAdminCreateUserOnly": False}, **(pool or {})})
        client_id = c.create_user_pool_client(UserPoolId=pool_id, ClientName="c", **(client_kwargs or {}))[
            "UserPoolClient"
        ]["ClientId"]
        return lambda: c.sign_up(
            ClientId=client_id, Username="n", Password=password, UserAttributes=attributes(**values)
        )

    return naive


REQUIRED_EMAIL = [{"Name": "email", "AttributeDataType": "String", "Required": True, "Mutable": True}]


REFUSALS = [
    Refusal(
        "AdminConfirmSignUp of an admin-created user",
        _confirm_admin_created,
        "NotAuthorizedException",
        msg.MSG_CANNOT_CONFIRM.format(status="FORCE_CHANGE_PASSWORD"),
    ),
    Refusal(
        "CreateUserPool schema name over 20 characters",
        lambda c: lambda: c.create_user_pool(PoolName="p", Schema=[{"Name": LONG_NAME, "AttributeDataType": "String"}]),
        IAE,
        msg.MSG_VALIDATION_LENGTH.format(value=LONG_NAME, path="schema.1.member.name", limit=20),
    ),
    Refusal(
        "CreateUserPool with 51 custom attributes",
        lambda c: lambda: c.create_user_pool(PoolName="p", Schema=MANY_CUSTOM),
        IAE,
        msg.MSG_TOO_MANY_CUSTOM,
    ),
    Refusal(
        "AddCustomAttributes name over 20 characters",
        _on_pool(
            lambda c, p: c.add_custom_attributes(
                UserPoolId=p, CustomAttributes=[{"Name": LONG_NAME, "AttributeDataType": "String"}]
            )
        ),
        IAE,
        msg.MSG_VALIDATION_LENGTH.format(value=LONG_NAME, path="customAttributes.1.member.name", limit=20),
    ),
    Refusal(
        "AddCustomAttributes beyond 50",
        _on_pool(lambda c, p: c.add_custom_attributes(UserPoolId=p, CustomAttributes=MANY_CUSTOM)),
        IAE,
        msg.MSG_TOO_MANY_CUSTOM,
    ),
    Refusal(
        "CreateUserPool with alias and username attributes",
        lambda c: lambda: c.create_user_pool(PoolName="p", AliasAttributes=["email"], UsernameAttributes=["email"]),
        IAE,
        msg.MSG_ALIAS_AND_USERNAME,
    ),
    Refusal(
        "CreateUserPool with UnusedAccountValidityDays and TemporaryPasswordValidityDays",
        lambda c: (
            lambda: c.create_user_pool(
                PoolName="p",
                AdminCreateUserConfig={"UnusedAccountValidityDays": 7},
                Policies={"PasswordPolicy": {"MinimumLength": 8, "TemporaryPasswordValidityDays": 7}},
            )
        ),
        IAE,
        msg.MSG_UNUSED_ACCOUNT_DAYS,
    ),
    Refusal(
        "AdminCreateUser with sub",
        _create_user(sub="0c4e3c0a-1111-2222-3333-444455556666"),
        IAE,
        msg.MSG_NON_MUTABLE.format(name="sub"),
    ),
    Refusal(
        "AdminCreateUser with identities",
        _create_user(identities="[]"),
        IAE,
        msg.MSG_NOT_IN_SCHEMA.format(name="identities"),
    ),
    Refusal(
        "AdminCreateUser with cognito:user_status",
        _create_user(cognito__user_status="CONFIRMED"),
        IAE,
        msg.MSG_NOT_IN_SCHEMA.format(name="cognito:user_status"),
    ),
    Refusal(
        "AdminCreateUser with an undeclared custom attribute",
        _create_user(custom__undeclared="x"),
        IAE,
        msg.MSG_NOT_IN_SCHEMA.format(name="custom:undeclared"),
    ),
    Refusal(
        "AdminCreateUser email_verified without email",
        _create_user(email_verified="true"),
        IAE,
        msg.MSG_VERIFIED_WITHOUT_VALUE.format(flag="email_verified", attribute="email"),
    ),
    Refusal(
        "AdminCreateUser phone_number_verified without phone_number",
        _create_user(phone_number_verified="true"),
        IAE,
        msg.MSG_VERIFIED_WITHOUT_VALUE.format(flag="phone_number_verified", attribute="phone_number"),
    ),
    Refusal(
        "AdminCreateUser temporary password against the policy",
        _on_pool(
            lambda c, p: c.admin_create_user(
                UserPoolId=p, Username="n", MessageAction="SUPPRESS", TemporaryPassword="short"
            ),
            Policies=WEAK_POLICY,
        ),
        "InvalidPasswordException",
        msg.MSG_PASSWORD.format(reason="Password not long enough"),
    ),
    Refusal(
        "CreateUserPoolClient writing an undeclared attribute",
        _create_client(WriteAttributes=["email", "custom:nope"]),
        IAE,
        msg.MSG_INVALID_WRITE.format(action="creating"),
    ),
    Refusal(
        "CreateUserPoolClient not writing a required attribute",
        _create_client(WriteAttributes=["name"]),
        IAE,
        msg.MSG_INVALID_WRITE.format(action="creating"),
    ),
    Refusal(
        "CreateUserPoolClient writing email_verified",
        _create_client(WriteAttributes=["email", "email_verified"]),
        IAE,
        msg.MSG_INVALID_WRITE.format(action="creating"),
    ),
    Refusal(
        "CreateUserPoolClient reading an undeclared attribute",
        _create_client(ReadAttributes=["custom:nope"]),
        IAE,
        msg.MSG_INVALID_READ.format(action="creating"),
    ),
    Refusal(
        "UpdateUserPoolClient writing an undeclared attribute",
        _update_client_writing_unknown,
        IAE,
        msg.MSG_INVALID_WRITE.format(action="updating"),
    ),
    Refusal(
        "CreateUserPoolClient naming a missing identity provider",
        _create_client(SupportedIdentityProviders=["COGNITO", "Missing"]),
        IAE,
        None,  # names the pool id
    ),
    Refusal(
        "CreateUserPoolClient with a missing custom scope",
        _create_client(
            AllowedOAuthFlows=["code"],
            AllowedOAuthFlowsUserPoolClient=True,
            AllowedOAuthScopes=["openid", "api/read"],
            CallbackURLs=["https://app.example.com/cb"],
        ),
        "ScopeDoesNotExistException",
        msg.MSG_NO_SCOPE.format(scope="api/read"),
    ),
    Refusal(
        "CreateUserPoolClient with GenerateSecret and ClientSecret",
        _create_client(GenerateSecret=True, ClientSecret="kept1secret2from3the4backup5abcdefghijklmnop"),
        IAE,
        msg.MSG_SECRET_AND_GENERATE,
    ),
    Refusal(
        "CreateUserPoolClient ClientSecret outside its pattern",
        _create_client(ClientSecret="not-a-valid-secret-with-hyphens"),
        IAE,
        msg.MSG_VALIDATION_PATTERN_HIDDEN.format(path="clientSecret", pattern=msg.CLIENT_SECRET_PATTERN),
    ),
    Refusal(
        "CreateUserPoolClient ClientSecret over 64 characters",
        _create_client(ClientSecret="a" * 65),
        IAE,
        msg.MSG_VALIDATION_LENGTH_HIDDEN.format(path="clientSecret", limit=64),
    ),
    Refusal(
        "InitiateAuth with the wrong secret of a custom ClientSecret", _wrong_secret_hash, "NotAuthorizedException"
    ),
    Refusal("CreateUserPoolDomain prefix of another pool", _domain_of_another_pool, IAE, msg.MSG_DOMAIN_TAKEN),
    Refusal(
        "CreateUserPoolDomain custom domain of another pool",
        _custom_domain_of_another_pool,
        IAE,
        msg.MSG_DOMAIN_TAKEN,
    ),
    Refusal("CreateUserPoolDomain second prefix of a pool", _second_prefix_domain, IAE, msg.MSG_POOL_HAS_DOMAIN),
    Refusal(
        "CreateUserPoolDomain with a reserved word",
        _on_pool(lambda c, p: c.create_user_pool_domain(UserPoolId=p, Domain="my-aws-login")),
        IAE,
        msg.MSG_RESERVED_WORD.format(word="aws"),
    ),
    Refusal(
        "CreateUserPoolDomain prefix outside its pattern",
        _on_pool(lambda c, p: c.create_user_pool_domain(UserPoolId=p, Domain="Upper_Case")),
        IAE,
        msg.MSG_VALIDATION_PATTERN.format(value="Upper_Case", path="domain", pattern=msg.PREFIX_DOMAIN_PATTERN),
    ),
    Refusal("DeleteUserPool under deletion protection", _delete_protected, IAE, msg.MSG_DELETION_PROTECTION),
    Refusal(
        "AdminSetUserMFAPreference SMS without phone_number",
        _mfa_without_delivery("SMSMfaSettings"),
        IAE,
        msg.MSG_NO_DELIVERY.format(factor="SMS_MFA"),
    ),
    Refusal(
        "AdminSetUserMFAPreference e-mail without email",
        _mfa_without_delivery("EmailMfaSettings"),
        IAE,
        msg.MSG_NO_DELIVERY.format(factor="EMAIL_OTP"),
    ),
    Refusal(
        "CreateUserPool with a missing SMS role",
        _pool_with_sms_role(lambda: f"arn:aws:iam::{ACCOUNT}:role/missing"),
        "InvalidSmsRoleTrustRelationshipException",
        msg.MSG_SMS_TRUST,
    ),
    Refusal(
        "CreateUserPool with an SMS role Cognito may not assume",
        _pool_with_sms_role(lambda: sms_role("lambda-only", trusted="lambda.amazonaws.com")),
        "InvalidSmsRoleTrustRelationshipException",
        msg.MSG_SMS_TRUST,
    ),
    Refusal(
        "CreateUserPool with an SMS role that cannot publish",
        _pool_with_sms_role(lambda: sms_role("no-publish", publish=False)),
        "InvalidSmsRoleAccessPolicyException",
        msg.MSG_SMS_PUBLISH,
    ),
    Refusal(
        "UpdateUserPool with a missing SMS role",
        _update_with_missing_sms_role,
        "InvalidSmsRoleTrustRelationshipException",
        msg.MSG_SMS_TRUST,
    ),
    Refusal(
        "SetUserPoolMfaConfig with a missing SMS role",
        _mfa_config_with_missing_sms_role,
        "InvalidSmsRoleTrustRelationshipException",
        msg.MSG_SMS_TRUST,
    ),
    Refusal(
        "CreateUserPool with an unverified SES identity",
        _email(EmailSendingAccount="DEVELOPER", SourceArn=f"arn:aws:ses:{REGION}:{ACCOUNT}:identity/no@example.com"),
        IAE,
        msg.MSG_EMAIL_NOT_VERIFIED.format(
            arn=f"arn:aws:ses:{REGION}:{ACCOUNT}:identity/no@example.com", region=REGION.upper()
        ),
    ),
    Refusal(
        "CreateUserPool with a From address for COGNITO_DEFAULT",
        _email(EmailSendingAccount="COGNITO_DEFAULT", From="noreply@example.com"),
        IAE,
        msg.MSG_DEFAULT_FROM,
    ),
    Refusal(
        "CreateUserPool with a missing SES configuration set",
        _email(EmailSendingAccount="DEVELOPER", ConfigurationSet="missing"),
        IAE,
        msg.MSG_NO_CONFIGURATION_SET.format(name="missing", region=REGION),
    ),
    # 11. v2 settings (tools/emulation/cognito/features_v2.py); moto ignores the v2 members
    Refusal(
        "SetUserPoolMfaConfig with e-mail MFA on a pool sending with COGNITO_DEFAULT",
        _on_pool(
            lambda c, p: c.set_user_pool_mfa_config(
                UserPoolId=p,
                MfaConfiguration="OPTIONAL",
                SoftwareTokenMfaConfiguration={"Enabled": True},
                EmailMfaConfiguration={"Message": "Code {####}"},
            )
        ),
        IAE,
        v2.MSG_EMAIL_MFA_NEEDS_SES,
    ),
    Refusal(
        "SetUserPoolMfaConfig OFF with a TOTP factor",
        _on_pool(
            lambda c, p: c.set_user_pool_mfa_config(
                UserPoolId=p, MfaConfiguration="OFF", SoftwareTokenMfaConfiguration={"Enabled": True}
            )
        ),
        IAE,
        v2.MSG_MFA_OFF_WITH_FACTOR,
    ),
    Refusal(
        "SetUserPoolMfaConfig with passkeys on a Lite pool",
        _on_pool(
            lambda c, p: c.set_user_pool_mfa_config(
                UserPoolId=p, MfaConfiguration="OFF", WebAuthnConfiguration={"UserVerification": "preferred"}
            ),
            UserPoolTier="LITE",
        ),
        "FeatureUnavailableInTierException",
    ),
    Refusal(
        "SetUserPoolMfaConfig with another Region's prefix domain as passkey relying party",
        _on_pool(
            lambda c, p: c.set_user_pool_mfa_config(
                UserPoolId=p,
                MfaConfiguration="OFF",
                WebAuthnConfiguration={"RelyingPartyId": "old.auth.eu-west-1.amazoncognito.com"},
            )
        ),
        IAE,
    ),
    Refusal(
        "CreateUserPoolDomain with ManagedLoginVersion 2 on a Lite pool",
        _on_pool(
            lambda c, p: c.create_user_pool_domain(UserPoolId=p, Domain="lite-prefix", ManagedLoginVersion=2),
            UserPoolTier="LITE",
        ),
        "FeatureUnavailableInTierException",
    ),
    Refusal(
        "SignUp in a pool that allows only administrators to create users",
        _sign_up(pool={"AdminCreateUserConfig": {"AllowAdminCreateUserOnly": True}}),
        "NotAuthorizedException",
        msg.MSG_SIGN_UP_NOT_PERMITTED,
    ),
    Refusal(
        "SignUp writing email_verified (no client may)",
        _sign_up(email="n@example.com", email_verified="true"),
        "NotAuthorizedException",
        msg.MSG_UNAUTHORIZED_ATTRIBUTE,
    ),
    Refusal(
        "SignUp through a client with a secret, without SecretHash",
        _sign_up({"GenerateSecret": True}),
        "NotAuthorizedException",
        None,
    ),
    Refusal(
        "SignUp without a required attribute",
        _sign_up(pool={"Schema": REQUIRED_EMAIL}),
        IAE,
        msg.MSG_REQUIRED_ATTRIBUTE.format(name="email"),
    ),
]


@pytest.mark.parametrize("case", REFUSALS, ids=[c.name for c in REFUSALS])
def test_plain_moto_accepts_what_cognito_refuses(case: Refusal) -> None:
    with plain_cognito() as cognito:
        case.naive(cognito)()  # no error: code tested only on moto would pass here and fail in AWS

    with emulated_cognito() as cognito:
        call = case.naive(cognito)
        with pytest.raises(ClientError) as info:
            call()
    error = info.value.response["Error"]
    assert error["Code"] == case.code, error
    if case.message is not None:
        assert error["Message"] == case.message, error


# ============================================================================ Cognito: wrong answers


@dataclass(frozen=True)
class WrongAnswer:
    name: str
    observe: Callable[[Any], Any]  # makes the calls in the given client's moto, returns what it saw
    moto: Any  # what plain moto answers
    aws: Any  # what Cognito answers (and the emulation)


def _schema_lists_standard_attributes(c: Any) -> bool:
    pool_id = new_pool(c, Schema=[{"Name": "email", "AttributeDataType": "String", "Required": True}])
    names = {a["Name"] for a in c.describe_user_pool(UserPoolId=pool_id)["UserPool"]["SchemaAttributes"]}
    return {"given_name", "phone_number", "updated_at"} <= names


def _pool_defaults(c: Any) -> tuple[Any, Any]:
    described = c.describe_user_pool(UserPoolId=new_pool(c))["UserPool"]
    return described.get("UserPoolTier"), described.get("DeletionProtection")


def _resend_keeps_the_user(c: Any) -> bool:
    pool_id = new_pool(c)
    new_user(c, pool_id)

    def sub() -> str:
        found = c.admin_get_user(UserPoolId=pool_id, Username="u")["UserAttributes"]
        return next(a["Value"] for a in found if a["Name"] == "sub")

    before = sub()
    c.admin_create_user(UserPoolId=pool_id, Username="u", MessageAction="RESEND")
    return sub() == before


def _generated_secret_can_be_given_back(c: Any) -> bool:
    client = c.create_user_pool_client(UserPoolId=new_pool(c), ClientName="c", GenerateSecret=True)["UserPoolClient"]
    return re.fullmatch(msg.CLIENT_SECRET_PATTERN, client["ClientSecret"]) is not None


def _update_keeps_creation_settings(c: Any) -> Any:
    pool_id = new_pool(c, UsernameAttributes=["email"])
    c.update_user_pool(UserPoolId=pool_id)
    return c.describe_user_pool(UserPoolId=pool_id)["UserPool"].get("UsernameAttributes")


def _update_resets_omitted_mfa_configuration(c: Any) -> Any:
    """Omitted settings go back to their defaults (moto does it for the rest, UserPoolTags included)."""
    pool_id = new_pool(c, MfaConfiguration="OPTIONAL")
    c.update_user_pool(UserPoolId=pool_id)
    return c.get_user_pool_mfa_config(UserPoolId=pool_id)["MfaConfiguration"]


def _new_domain_description(c: Any) -> tuple[Any, Any]:
    c.create_user_pool_domain(UserPoolId=new_pool(c), Domain="my-login")
    described = c.describe_user_pool_domain(Domain="my-login")["DomainDescription"]
    return described.get("Status"), described.get("AWSAccountId") == ACCOUNT  # moto: a random UUID


def _prefix_domain_with_managed_login(c: Any) -> tuple[bool, Any]:
    created = c.create_user_pool_domain(UserPoolId=new_pool(c), Domain="my-login", ManagedLoginVersion=2)
    described = c.describe_user_pool_domain(Domain="my-login")["DomainDescription"]
    return "CloudFrontDomain" in created, described.get("ManagedLoginVersion")


def _custom_domain_member(c: Any) -> tuple[Any, Any]:
    pool_id = new_pool(c)
    c.create_user_pool_domain(
        UserPoolId=pool_id, Domain="auth.example.com", CustomDomainConfig={"CertificateArn": CERTIFICATE}
    )
    described = c.describe_user_pool(UserPoolId=pool_id)["UserPool"]
    return described.get("Domain"), described.get("CustomDomain")


def _email_mfa_listed(c: Any) -> bool:
    pool_id = new_pool(c)
    new_user(c, pool_id, email="u@example.com")
    c.admin_set_user_mfa_preference(UserPoolId=pool_id, Username="u", EmailMfaSettings={"Enabled": True})
    return "EMAIL_OTP" in (c.admin_get_user(UserPoolId=pool_id, Username="u").get("UserMFASettingList") or [])


def _messages_of_naive_calls(c: Any) -> int:
    """Calls that send a user an e-mail or SMS in AWS; moto sends and counts nothing."""
    pool_id = new_pool(c, AutoVerifiedAttributes=["email"], AdminCreateUserConfig={"AllowAdminCreateUserOnly": False})
    c.admin_create_user(UserPoolId=pool_id, Username="invited", UserAttributes=attributes(email="i@example.com"))
    client_id = c.create_user_pool_client(UserPoolId=pool_id, ClientName="c")["UserPoolClient"]["ClientId"]
    c.sign_up(
        ClientId=client_id, Username="self", Password=GOOD_PASSWORD, UserAttributes=attributes(email="s@example.com")
    )
    return strict.messages_sent(pool_id)


def _sign_up_without_auto_verification_counts_nothing(c: Any) -> tuple[int, str]:
    pool_id = new_pool(c, AdminCreateUserConfig={"AllowAdminCreateUserOnly": False})
    client_id = c.create_user_pool_client(UserPoolId=pool_id, ClientName="c")["UserPoolClient"]["ClientId"]
    c.sign_up(
        ClientId=client_id, Username="self", Password=GOOD_PASSWORD, UserAttributes=attributes(email="s@example.com")
    )
    status = c.admin_get_user(UserPoolId=pool_id, Username="self")["UserStatus"]
    return strict.messages_sent(pool_id), status


WRONG_ANSWERS = [
    WrongAnswer("DescribeUserPool lists every standard attribute", _schema_lists_standard_attributes, False, True),
    WrongAnswer(
        "DescribeUserPool reports the tier and deletion protection",
        _pool_defaults,
        (None, None),
        ("ESSENTIALS", "INACTIVE"),
    ),
    WrongAnswer("AdminCreateUser RESEND keeps the user (same sub)", _resend_keeps_the_user, False, True),
    WrongAnswer(
        "a generated ClientSecret matches ClientSecret's pattern", _generated_secret_can_be_given_back, False, True
    ),
    WrongAnswer("UpdateUserPool keeps UsernameAttributes", _update_keeps_creation_settings, None, ["email"]),
    WrongAnswer(
        "UpdateUserPool resets an omitted MfaConfiguration", _update_resets_omitted_mfa_configuration, "OPTIONAL", "OFF"
    ),
    WrongAnswer(
        "DescribeUserPoolDomain of a new domain: CREATING, the account id",
        _new_domain_description,
        ("ACTIVE", False),
        ("CREATING", True),
    ),
    WrongAnswer(
        "CreateUserPoolDomain prefix: no CloudFront target, ManagedLoginVersion kept",
        _prefix_domain_with_managed_login,
        (True, None),
        (False, 2),
    ),
    WrongAnswer(
        "DescribeUserPool reports a custom domain as CustomDomain",
        _custom_domain_member,
        ("auth.example.com", None),
        (None, "auth.example.com"),
    ),
    WrongAnswer("AdminGetUser lists e-mail MFA once enabled", _email_mfa_listed, False, True),
    WrongAnswer("an invitation and a sign-up code are counted as messages", _messages_of_naive_calls, 0, 2),
    WrongAnswer(
        "SignUp without auto-verification: UNCONFIRMED, nothing sent",
        _sign_up_without_auto_verification_counts_nothing,
        (0, "UNCONFIRMED"),
        (0, "UNCONFIRMED"),
    ),
]


@pytest.mark.parametrize("case", WRONG_ANSWERS, ids=[c.name for c in WRONG_ANSWERS])
def test_plain_moto_answers_what_cognito_does_not(case: WrongAnswer) -> None:
    with plain_cognito() as cognito:
        assert case.observe(cognito) == case.moto

    with emulated_cognito() as cognito:
        assert case.observe(cognito) == case.aws


# ============================================================================ Cognito: missing operations


def _plus_pool_with_domain(c: Any) -> str:
    pool_id = new_pool(c, UserPoolTier="PLUS", UserPoolAddOns={"AdvancedSecurityMode": "ENFORCED"})
    c.create_user_pool_domain(UserPoolId=pool_id, Domain="my-login")
    return pool_id


def _on_plus_pool(call: Callable[[Any, str], Any]) -> Naive:
    def naive(c: Any) -> Callable[[], Any]:
        pool_id = _plus_pool_with_domain(c)
        return lambda: call(c, pool_id)

    return naive


def _on_pool_arn(call: Callable[[Any, str], Any]) -> Naive:
    def naive(c: Any) -> Callable[[], Any]:
        arn = c.describe_user_pool(UserPoolId=new_pool(c))["UserPool"]["Arn"]
        return lambda: call(c, arn)

    return naive


def _pool_with_google_and_alice(c: Any) -> str:
    pool_id = new_pool(c)
    c.create_identity_provider(
        UserPoolId=pool_id,
        ProviderName="Google",
        ProviderType="Google",
        ProviderDetails={"client_id": "g", "client_secret": "s", "authorize_scopes": "openid"},
    )
    new_user(c, pool_id, "alice", email="alice@example.com")
    return pool_id


def _link(c: Any) -> Callable[[], Any]:
    pool_id = _pool_with_google_and_alice(c)
    return lambda: c.admin_link_provider_for_user(
        UserPoolId=pool_id,
        DestinationUser={"ProviderName": "Cognito", "ProviderAttributeValue": "alice"},
        SourceUser={
            "ProviderName": "Google",
            "ProviderAttributeName": "Cognito_Subject",
            "ProviderAttributeValue": "1",
        },
    )


def _disable(c: Any) -> Callable[[], Any]:
    pool_id = _pool_with_google_and_alice(c)
    return lambda: c.admin_disable_provider_for_user(
        UserPoolId=pool_id, User={"ProviderName": "Cognito", "ProviderAttributeValue": "alice"}
    )


def _on_client(call: Callable[[Any, str, str], Any]) -> Naive:
    def naive(c: Any) -> Callable[[], Any]:
        pool_id = new_pool(c)
        client_id = c.create_user_pool_client(UserPoolId=pool_id, ClientName="web")["UserPoolClient"]["ClientId"]
        return lambda: call(c, pool_id, client_id)

    return naive


def _branding_of(c: Any, pool_id: str, client_id: str) -> str:
    created = c.create_managed_login_branding(UserPoolId=pool_id, ClientId=client_id, UseCognitoProvidedValues=True)
    return str(created["ManagedLoginBranding"]["ManagedLoginBrandingId"])


def _terms_of(c: Any, pool_id: str, client_id: str) -> str:
    created = c.create_terms(
        UserPoolId=pool_id,
        ClientId=client_id,
        TermsName="terms-of-use",
        TermsSource="LINK",
        Enforcement="NONE",
        Links={"cognito:default": "https://example.com/terms"},
    )
    return str(created["Terms"]["TermsId"])


def _log_group() -> str:
    logs = boto3.client("logs", region_name=REGION)
    logs.create_log_group(logGroupName="/aws/vendedlogs/cognito")
    return f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/vendedlogs/cognito"


def _update_resource_server(c: Any) -> Callable[[], Any]:
    pool_id = new_pool(c)
    c.create_resource_server(UserPoolId=pool_id, Identifier="https://api", Name="api")
    return lambda: c.update_resource_server(UserPoolId=pool_id, Identifier="https://api", Name="api v2")


def _resend_confirmation_code(c: Any) -> Callable[[], Any]:
    pool_id = new_pool(c, AutoVerifiedAttributes=["email"], AdminCreateUserConfig={"AllowAdminCreateUserOnly": False})
    client_id = c.create_user_pool_client(UserPoolId=pool_id, ClientName="c")["UserPoolClient"]["ClientId"]
    c.sign_up(
        ClientId=client_id, Username="self", Password=GOOD_PASSWORD, UserAttributes=attributes(email="s@example.com")
    )
    return lambda: c.resend_confirmation_code(ClientId=client_id, Username="self")


COMPROMISED = {"Actions": {"EventAction": "BLOCK"}, "EventFilter": ["SIGN_IN"]}
MISSING_OPERATIONS: list[tuple[str, Naive]] = [
    ("SetUICustomization", _on_plus_pool(lambda c, p: c.set_ui_customization(UserPoolId=p, CSS=".x { }"))),
    ("GetUICustomization", _on_plus_pool(lambda c, p: c.get_ui_customization(UserPoolId=p))),
    (
        "SetRiskConfiguration",
        _on_plus_pool(
            lambda c, p: c.set_risk_configuration(UserPoolId=p, CompromisedCredentialsRiskConfiguration=COMPROMISED)
        ),
    ),
    ("DescribeRiskConfiguration", _on_plus_pool(lambda c, p: c.describe_risk_configuration(UserPoolId=p))),
    ("AdminLinkProviderForUser", _link),
    ("AdminDisableProviderForUser", _disable),
    ("TagResource", _on_pool_arn(lambda c, arn: c.tag_resource(ResourceArn=arn, Tags={"team": "identity"}))),
    ("UntagResource", _on_pool_arn(lambda c, arn: c.untag_resource(ResourceArn=arn, TagKeys=["team"]))),
    ("ListTagsForResource", _on_pool_arn(lambda c, arn: c.list_tags_for_resource(ResourceArn=arn))),
    (
        "CreateManagedLoginBranding",
        _on_client(
            lambda c, p, k: c.create_managed_login_branding(UserPoolId=p, ClientId=k, UseCognitoProvidedValues=True)
        ),
    ),
    (
        "DescribeManagedLoginBrandingByClient",
        _on_client(
            lambda c, p, k: (
                _branding_of(c, p, k),
                c.describe_managed_login_branding_by_client(UserPoolId=p, ClientId=k),
            )
        ),
    ),
    (
        "DescribeManagedLoginBranding",
        _on_client(
            lambda c, p, k: c.describe_managed_login_branding(
                UserPoolId=p, ManagedLoginBrandingId=_branding_of(c, p, k)
            )
        ),
    ),
    (
        "UpdateManagedLoginBranding",
        _on_client(
            lambda c, p, k: c.update_managed_login_branding(
                UserPoolId=p, ManagedLoginBrandingId=_branding_of(c, p, k), Settings={"components": {}}
            )
        ),
    ),
    (
        "DeleteManagedLoginBranding",
        _on_client(
            lambda c, p, k: c.delete_managed_login_branding(UserPoolId=p, ManagedLoginBrandingId=_branding_of(c, p, k))
        ),
    ),
    ("CreateTerms", _on_client(lambda c, p, k: _terms_of(c, p, k))),
    ("ListTerms", _on_client(lambda c, p, k: c.list_terms(UserPoolId=p))),
    ("DescribeTerms", _on_client(lambda c, p, k: c.describe_terms(UserPoolId=p, TermsId=_terms_of(c, p, k)))),
    (
        "UpdateTerms",
        _on_client(
            lambda c, p, k: c.update_terms(
                UserPoolId=p, TermsId=_terms_of(c, p, k), Links={"cognito:default": "https://example.com/t2"}
            )
        ),
    ),
    ("DeleteTerms", _on_client(lambda c, p, k: c.delete_terms(UserPoolId=p, TermsId=_terms_of(c, p, k)))),
    (
        "SetLogDeliveryConfiguration",
        _on_client(
            lambda c, p, k: c.set_log_delivery_configuration(
                UserPoolId=p,
                LogConfigurations=[
                    {
                        "EventSource": "userNotification",
                        "LogLevel": "ERROR",
                        "CloudWatchLogsConfiguration": {"LogGroupArn": _log_group()},
                    }
                ],
            )
        ),
    ),
    ("GetLogDeliveryConfiguration", _on_client(lambda c, p, k: c.get_log_delivery_configuration(UserPoolId=p))),
    ("UpdateResourceServer", lambda c: _update_resource_server(c)),
    ("ResendConfirmationCode", _resend_confirmation_code),
]


@pytest.mark.parametrize("operation, naive", MISSING_OPERATIONS, ids=[name for name, _ in MISSING_OPERATIONS])
def test_plain_moto_lacks_operations_the_emulation_serves(operation: str, naive: Naive) -> None:
    with plain_cognito() as cognito:
        call = naive(cognito)
        with pytest.raises(NotImplementedError, match="has not been implemented"):
            call()

    with emulated_cognito() as cognito:
        call = naive(cognito)
        call()  # served, with Cognito's rules (tests/unit/test_strict_cognito.py section 9)


# ============================================================================ Cognito: atomic requests


def _second_request_entered_while_the_first_was_inside(probe: Callable[[threading.Event], None] | None = None) -> bool:
    """Two DescribeUserPool requests from two threads. The first waits inside moto's backend until
    the second is inside too (plain moto) or is seen waiting for the request lock (``probe``
    installs that lock, for the emulation); then it tells whether the second got in."""
    from moto.cognitoidp.models import CognitoIdpBackend

    first_inside, second_inside, second_blocked = threading.Event(), threading.Event(), threading.Event()
    overlapped: list[bool] = []
    original = CognitoIdpBackend.describe_user_pool

    def describe(self: Any, user_pool_id: str) -> Any:
        if threading.current_thread().name == "first":
            first_inside.set()
            (second_inside if probe is None else second_blocked).wait(10)
            overlapped.append(second_inside.is_set())
        else:
            second_inside.set()
        return original(self, user_pool_id)

    pool_id = new_pool(boto3.client("cognito-idp", region_name=REGION))
    clients = {name: boto3.client("cognito-idp", region_name=REGION) for name in ("first", "second")}
    if probe is not None:
        probe(second_blocked)

    def request(name: str) -> None:
        if name == "second":
            first_inside.wait(10)
        clients[name].describe_user_pool(UserPoolId=pool_id)

    with mock.patch.object(CognitoIdpBackend, "describe_user_pool", describe):
        threads = [threading.Thread(target=request, args=(name,), name=name) for name in ("first", "second")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    assert second_inside.is_set() and overlapped, "a request did not complete"
    return overlapped[0]


class _ProbedLock:
    """The strict layer's request lock, telling when a request has to wait for it."""

    def __init__(self, blocked: threading.Event):
        self._lock = threading.RLock()
        self._blocked = blocked

    def __enter__(self) -> None:
        if not self._lock.acquire(blocking=False):
            self._blocked.set()
            self._lock.acquire()

    def __exit__(self, *exc: object) -> None:
        self._lock.release()


def test_plain_moto_serves_cognito_requests_concurrently(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each Cognito request is atomic; moto's handlers run concurrently (the emulator runs handlers
    in threads), which crashed moto with "OrderedDict mutated during iteration"."""
    with mock_aws():
        assert (
            _second_request_entered_while_the_first_was_inside()
        )  # the second request entered while the first was inside

    with mock_aws(), strict_cognito():

        def probe(blocked: threading.Event) -> None:
            monkeypatch.setattr(strict, "_CALL_LOCK", _ProbedLock(blocked))

        assert not _second_request_entered_while_the_first_was_inside(probe)  # the second waited for the first


# ============================================================================ DynamoDB: atomic requests


def _second_dynamodb_request_entered_while_the_first_was_inside(
    probe: Callable[[threading.Event], None] | None = None,
) -> bool:
    """Two GetItem requests from two threads, as _second_request_entered_while_the_first_was_inside
    does for Cognito: the first waits inside moto's backend until the second is inside too (plain
    moto) or is seen waiting for the request lock (``probe``, the emulation's)."""
    from moto.dynamodb.models import DynamoDBBackend

    first_inside, second_inside, second_blocked = threading.Event(), threading.Event(), threading.Event()
    overlapped: list[bool] = []
    original = DynamoDBBackend.get_item

    def get_item(self: Any, *args: Any, **kwargs: Any) -> Any:
        if threading.current_thread().name == "first":
            first_inside.set()
            (second_inside if probe is None else second_blocked).wait(10)
            overlapped.append(second_inside.is_set())
        else:
            second_inside.set()
        return original(self, *args, **kwargs)

    setup = boto3.client("dynamodb", region_name=REGION)
    setup.create_table(
        TableName="ledger",
        KeySchema=[{"AttributeName": "restore_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "restore_id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    clients = {name: boto3.client("dynamodb", region_name=REGION) for name in ("first", "second")}
    if probe is not None:
        probe(second_blocked)

    def request(name: str) -> None:
        if name == "second":
            first_inside.wait(10)
        clients[name].get_item(TableName="ledger", Key={"restore_id": {"S": "r"}})

    with mock.patch.object(DynamoDBBackend, "get_item", get_item):
        threads = [threading.Thread(target=request, args=(name,), name=name) for name in ("first", "second")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    assert second_inside.is_set() and overlapped, "a request did not complete"
    return overlapped[0]


def test_plain_moto_serves_dynamodb_requests_concurrently(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each DynamoDB request is atomic; moto's run concurrently, and its TransactWriteItems (which
    deep-copies every table) crashed with "dictionary changed size during iteration" in a drill."""
    from tools.emulation import atomic

    with mock_aws():
        assert _second_dynamodb_request_entered_while_the_first_was_inside()

    with mock_aws(), atomic.dynamodb_patch():

        def probe(blocked: threading.Event) -> None:
            monkeypatch.setattr(atomic, "CALL_LOCK", _ProbedLock(blocked))

        assert not _second_dynamodb_request_entered_while_the_first_was_inside(probe)


# ============================================================================ Step Functions

ROLE = f"arn:aws:iam::{ACCOUNT}:role/states"


def _map(**tolerance: Any) -> dict[str, Any]:
    """A Distributed Map whose items all fail."""
    return {
        "StartAt": "Map",
        "States": {
            "Map": {
                "Type": "Map",
                "ItemsPath": "$.items",
                **tolerance,
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                    "StartAt": "Item fails",
                    "States": {"Item fails": {"Type": "Fail", "Error": "ItemFailed"}},
                },
                "End": True,
            }
        },
    }


@dataclass(frozen=True)
class Run:
    status: str
    error: str | None
    output: Any = None


@dataclass(frozen=True)
class AslDeparture:
    name: str
    asl: dict[str, Any]
    input: dict[str, Any]
    moto: Run
    aws: Run


ASL_DEPARTURES = [
    AslDeparture(
        "Map ToleratedFailurePercentage 0 with failed items",
        _map(ToleratedFailurePercentage=0.0),
        {"items": [1, 2]},
        Run("SUCCEEDED", None, [None, None]),
        Run("FAILED", "States.ExceedToleratedFailureThreshold"),
    ),
    AslDeparture(
        "Map ToleratedFailureCount 1 with 2 failed items",
        _map(ToleratedFailureCount=1),
        {"items": [1, 2]},
        Run("SUCCEEDED", None, [None, None]),
        Run("FAILED", "States.ExceedToleratedFailureThreshold"),
    ),
    AslDeparture(
        "Map without a threshold (0) with failed items",
        _map(),
        {"items": [1, 2]},
        Run("SUCCEEDED", None, [None, None]),
        Run("FAILED", "States.ExceedToleratedFailureThreshold"),
    ),
    AslDeparture(
        "$variable in a JSONPath state",
        {
            "QueryLanguage": "JSONPath",
            "StartAt": "Set",
            "States": {
                "Set": {"Type": "Pass", "Assign": {"failed_phase": "Restore users"}, "Next": "Read"},
                "Read": {"Type": "Pass", "Parameters": {"phase.$": "$failed_phase"}, "End": True},
            },
        },
        {},
        Run("FAILED", "States.Runtime"),
        Run("SUCCEEDED", None, {"phase": "Restore users"}),
    ),
    AslDeparture(
        "Fail state whose ErrorPath gives a States.* name",
        {
            "StartAt": "Caught",
            "States": {
                "Caught": {"Type": "Pass", "Result": {"Error": "States.Timeout", "Cause": "c"}, "Next": "Failed"},
                "Failed": {"Type": "Fail", "ErrorPath": "$.Error", "CausePath": "$.Cause"},
            },
        },
        {},
        Run("FAILED", "States.Runtime"),
        Run("FAILED", "States.Timeout"),
    ),
    AslDeparture(
        "Choice rule on a path missing from the input",
        {
            "StartAt": "Choose",
            "States": {
                "Choose": {
                    "Type": "Choice",
                    "Choices": [{"Variable": "$.flag", "BooleanEquals": True, "Next": "Yes"}],
                    "Default": "No",
                },
                "Yes": {"Type": "Pass", "Result": {"took": "yes"}, "End": True},
                "No": {"Type": "Pass", "Result": {"took": "no"}, "End": True},
            },
        },
        {},
        Run("SUCCEEDED", None, {"took": "no"}),
        Run("FAILED", "States.Runtime"),
    ),
    AslDeparture(
        "Catch on States.ALL of a States.Runtime failure",
        {
            "StartAt": "Read",
            "States": {
                "Read": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::aws-sdk:s3:listBuckets",
                    "Parameters": {},
                    "ResultSelector": {"missing.$": "$.NoSuchField"},  # States.Runtime
                    "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Caught"}],
                    "End": True,
                },
                "Caught": {"Type": "Pass", "Result": {"caught": True}, "End": True},
            },
        },
        {},
        Run("SUCCEEDED", None, {"caught": True}),
        Run("FAILED", "States.Runtime"),
    ),
    AslDeparture(
        "$$.Execution.RedriveCount in the context object",
        {
            "StartAt": "Count",
            "States": {"Count": {"Type": "Pass", "Parameters": {"count.$": "$$.Execution.RedriveCount"}, "End": True}},
        },
        {},
        Run("FAILED", "States.Runtime"),
        Run("SUCCEEDED", None, {"count": 0}),
    ),
]


def _start(sfn: Any, asl: dict[str, Any], input: dict[str, Any], definition: str | None = None) -> str:
    machine = sfn.create_state_machine(name="m", definition=definition or json.dumps(asl), roleArn=ROLE)
    return sfn.start_execution(
        stateMachineArn=machine["stateMachineArn"], name=f"run-{uuid.uuid4().hex[:8]}", input=json.dumps(input)
    )["executionArn"]


def _plain_run(sfn: Any, asl: dict[str, Any], input: dict[str, Any]) -> Run:
    before = set(TMP_THREADS)
    arn = _start(sfn, asl, input)
    for thread in [t for t in TMP_THREADS if t not in before]:  # moto's interpreter threads
        thread.join(30)
    described = sfn.describe_execution(executionArn=arn)
    output = json.loads(described["output"]) if described.get("output") is not None else None
    return Run(described["status"], described.get("error"), output)


def _emulated_run(corrections: StepFunctions, sfn: Any, definition: str, input: dict[str, Any]) -> Run:
    result = corrections.wait(sfn, _start(sfn, {}, input, definition=definition), timeout=30)
    return Run(result.status, result.error, result.output if result.status == "SUCCEEDED" else None)


@contextmanager
def plain_sfn() -> Iterator[Any]:
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        yield boto3.client("stepfunctions", region_name=REGION)


@contextmanager
def emulated_sfn() -> Iterator[tuple[StepFunctions, Any]]:
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}), StepFunctions() as corrections:
        yield corrections, boto3.client("stepfunctions", region_name=REGION)


@pytest.mark.parametrize("case", ASL_DEPARTURES, ids=[c.name for c in ASL_DEPARTURES])
def test_plain_moto_runs_the_asl_unlike_step_functions(case: AslDeparture) -> None:
    with plain_sfn() as sfn:
        assert _plain_run(sfn, case.asl, case.input) == case.moto

    with emulated_sfn() as (corrections, sfn):
        assert _emulated_run(corrections, sfn, moto_compatible_definition(json.dumps(case.asl)), case.input) == case.aws


def test_plain_moto_refuses_an_integer_tolerated_failure_percentage() -> None:
    """AWS takes any number; moto 5.2.5's grammar lexes ``0`` as an INT it does not accept there."""
    asl = _map(ToleratedFailurePercentage=0)
    with plain_sfn() as sfn, pytest.raises(ClientError, match="no viable alternative"):
        _start(sfn, asl, {"items": [1]})

    definition = moto_compatible_definition(json.dumps(asl))
    assert json.loads(definition)["States"]["Map"]["ToleratedFailurePercentage"] == 0  # same value, 0.0
    with emulated_sfn() as (corrections, sfn):
        assert _emulated_run(corrections, sfn, definition, {"items": [1]}) == Run(
            "FAILED", "States.ExceedToleratedFailureThreshold"
        )


def test_plain_moto_has_no_redrive_execution() -> None:
    asl = {
        "StartAt": "Done first",
        "States": {
            "Done first": {"Type": "Pass", "Result": "once", "ResultPath": "$.first", "Next": "Fails"},
            "Fails": {"Type": "Fail", "Error": "PhaseFailed"},
        },
    }
    with plain_sfn() as sfn:
        assert _plain_run(sfn, asl, {}).status == "FAILED"
        arn = sfn.list_executions(stateMachineArn=sfn.list_state_machines()["stateMachines"][0]["stateMachineArn"])[
            "executions"
        ][0]["executionArn"]
        with pytest.raises(NotImplementedError, match="redrive_execution"):
            sfn.redrive_execution(executionArn=arn)

    with emulated_sfn() as (corrections, sfn):
        failed = corrections.wait(sfn, _start(sfn, asl, {}))
        redriven = corrections.wait(sfn, corrections.redrive(sfn, failed.arn))
    # From the unsuccessful state, with its input, RedriveCount one higher; "Done first" is not redone.
    assert redriven.states_entered() == ["Fails"]
    assert json.loads(redriven.history[0]["executionStartedEventDetails"]["input"]) == {"first": "once"}
    assert corrections.redrive_counts == {redriven.arn.rsplit(":", 1)[1]: 1}


# ============================================================================ Lambda, IAM, EventBridge

HANDLER = """\
import boto3


def lambda_handler(event, context):
    if event.get("fail"):
        raise ValueError("asked to fail")
    if event.get("bucket"):  # a call its role does not allow: the role has no S3 permission
        boto3.client("s3").list_objects_v2(Bucket=event["bucket"])
    return {"echo": event, "function": context.function_name}
"""

TINY_TEMPLATE = """\
Transform: AWS::Serverless-2016-10-31
Resources:
  EchoFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: echo/
      Handler: app.lambda_handler
      Runtime: python3.13
  AlertTopic:
    Type: AWS::SNS::Topic
  AlertTopicPolicy:
    Type: AWS::SNS::TopicPolicy
    Properties:
      Topics: [!Ref AlertTopic]
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: { Service: events.amazonaws.com }
            Action: sns:Publish
            Resource: !Ref AlertTopic
            Condition: { ArnEquals: { aws:SourceArn: !GetAtt FailedRule.Arn } }
  FailedRule:
    Type: AWS::Events::Rule
    Properties:
      EventPattern:
        source: [aws.states]
        detail-type: [Step Functions Execution Status Change]
        detail: { status: [FAILED] }
      Targets: [{ Arn: !Ref AlertTopic, Id: alert }]
  FlowStateMachine:
    Type: AWS::Serverless::StateMachine
    Properties:
      Definition: { StartAt: Boom, States: { Boom: { Type: Fail, Error: Boom } } }
      Policies: []
"""


@pytest.fixture
def tiny_stack(tmp_path: Path) -> Path:
    (tmp_path / "echo").mkdir()
    (tmp_path / "echo" / "app.py").write_text(HANDLER, encoding="utf-8")
    (tmp_path / "template.yaml").write_text(TINY_TEMPLATE, encoding="utf-8")
    return tmp_path


def _zip(source: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("app.py", source)
    return buf.getvalue()


def test_plain_moto_does_not_run_the_handler_in_process(tiny_stack: Path) -> None:
    """moto runs a function in a Docker container: without Docker (CI, this machine) every
    invocation fails, so no Lambda task of the workflow could run. The emulation calls the real
    handler in-process with Lambda's error payload for an exception."""
    with mock_aws():
        role = boto3.client("iam", region_name=REGION).create_role(RoleName="r", AssumeRolePolicyDocument="{}")
        aws_lambda = boto3.client("lambda", region_name=REGION)
        aws_lambda.create_function(
            FunctionName="echo",
            Runtime="python3.13",
            Role=role["Role"]["Arn"],
            Handler="app.lambda_handler",
            Code={"ZipFile": _zip(HANDLER)},
        )
        response = aws_lambda.invoke(FunctionName="echo", Payload=json.dumps({"n": 1}))
        payload = response["Payload"].read()
    if "FunctionError" not in response:
        pytest.skip("Docker is available here: moto ran the function in a container")
    assert b"docker" in payload.lower()

    with RestoreStack(tiny_stack) as stack:
        name = stack.function_name("EchoFunction")
        response = stack.client("lambda").invoke(FunctionName=name, Payload=json.dumps({"n": 1}))
        assert "FunctionError" not in response
        assert json.loads(response["Payload"].read()) == {"echo": {"n": 1}, "function": name}
        response = stack.client("lambda").invoke(FunctionName=name, Payload=json.dumps({"fail": True}))
        assert "FunctionError" in response  # "Unhandled" on AWS; moto labels every function error "Handled"
        error = json.loads(response["Payload"].read())
        assert (error["errorType"], error["errorMessage"]) == ("ValueError", "asked to fail")


def test_plain_moto_does_not_evaluate_iam(tiny_stack: Path) -> None:
    """A role with no S3 permission lists a bucket: moto lets it (it checks no policy by default);
    AWS refuses, and so does the emulation for a handler whose deployed role lacks the permission."""
    with mock_aws():
        iam = boto3.client("iam", region_name=REGION)
        trust = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"AWS": ACCOUNT}, "Action": "sts:AssumeRole"}],
        }
        role = iam.create_role(RoleName="no-s3", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
        boto3.client("s3", region_name=REGION).create_bucket(Bucket="some-bucket")
        credentials = boto3.client("sts", region_name=REGION).assume_role(RoleArn=role, RoleSessionName="probe")[
            "Credentials"
        ]
        as_role = boto3.client(
            "s3",
            region_name=REGION,
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
        )
        assert as_role.list_objects_v2(Bucket="some-bucket")["KeyCount"] == 0  # allowed

    with RestoreStack(tiny_stack) as stack:
        stack.client("s3").create_bucket(Bucket="some-bucket")
        response = stack.client("lambda").invoke(
            FunctionName=stack.function_name("EchoFunction"), Payload=json.dumps({"bucket": "some-bucket"})
        )
        error = json.loads(response["Payload"].read())
    assert error["errorType"] == "AccessDenied", error  # S3's access-denied error, raised from the handler
    assert "s3:ListBucket" in error["errorMessage"], error


def test_plain_moto_emits_no_step_functions_events(tiny_stack: Path) -> None:
    """On AWS an execution's end is an EventBridge event ("Step Functions Execution Status Change")
    that rules route, e.g. to the alert topic; moto's Step Functions emits none. The rule and its
    target work in plain moto (a put event of the same shape arrives); the execution's does not."""
    pattern = {"detail-type": ["Step Functions Execution Status Change"]}
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        sqs = boto3.client("sqs", region_name=REGION)
        url = sqs.create_queue(QueueName="events")["QueueUrl"]
        queue = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        events = boto3.client("events", region_name=REGION)
        events.put_rule(Name="ended", EventPattern=json.dumps(pattern))
        events.put_targets(Rule="ended", Targets=[{"Id": "q", "Arn": queue}])
        events.put_events(
            Entries=[{"Source": "control", "DetailType": pattern["detail-type"][0], "Detail": json.dumps({})}]
        )
        sfn = boto3.client("stepfunctions", region_name=REGION)
        asl = {"StartAt": "Boom", "States": {"Boom": {"Type": "Fail", "Error": "Boom"}}}
        assert _plain_run(sfn, asl, {}).status == "FAILED"
        received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
        assert [json.loads(m["Body"])["source"] for m in received] == ["control"]  # none from the execution

    with RestoreStack(tiny_stack) as stack:
        result = stack.run({}, state_machine="FlowStateMachine", timeout=30)
        assert result.status == "FAILED"
        [alert] = stack.alerts("AlertTopic")
    event = json.loads(alert["message"])
    assert (event["source"], event["detail-type"]) == ("aws.states", "Step Functions Execution Status Change")
    assert (event["detail"]["status"], event["detail"]["executionArn"]) == ("FAILED", result.arn)


S3_EVENTS_TEMPLATE = """\
Transform: AWS::Serverless-2016-10-31
Resources:
  EchoFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: echo/
      Handler: app.lambda_handler
      Runtime: python3.13
  Bucket:
    Type: AWS::S3::Bucket
    Properties:
      NotificationConfiguration: { EventBridgeConfiguration: { EventBridgeEnabled: true } }
  QuietBucket:
    Type: AWS::S3::Bucket
  ObjectTopic:
    Type: AWS::SNS::Topic
  ObjectTopicPolicy:
    Type: AWS::SNS::TopicPolicy
    Properties:
      Topics: [!Ref ObjectTopic]
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: { Service: events.amazonaws.com }
            Action: sns:Publish
            Resource: !Ref ObjectTopic
            Condition: { ArnEquals: { aws:SourceArn: !GetAtt CreatedRule.Arn } }
  CreatedRule:
    Type: AWS::Events::Rule
    Properties:
      EventPattern: { source: [aws.s3], detail-type: [Object Created] }
      Targets: [{ Arn: !Ref ObjectTopic, Id: topic }, { Arn: !GetAtt EchoFunction.Arn, Id: echo }]
"""


def test_plain_moto_sends_s3_object_events_unlike_s3(tiny_stack: Path) -> None:
    """S3's "Object Created" event to EventBridge has the object's ``etag`` and the API as ``reason``
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/ev-events.html); moto 5.2.5 sends ``eTag`` and
    the notification's name, and invokes any target whatever its resource
    policy. The emulation sends S3's shape, only for a bucket with EventBridge notifications on, and invokes
    a Lambda target only with an AWS::Lambda::Permission for the rule (none here: refused, as on AWS)."""
    with mock_aws():
        sqs = boto3.client("sqs", region_name=REGION)
        url = sqs.create_queue(QueueName="objects")["QueueUrl"]
        queue = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        events = boto3.client("events", region_name=REGION)
        events.put_rule(Name="created", EventPattern=json.dumps({"source": ["aws.s3"]}))
        events.put_targets(Rule="created", Targets=[{"Id": "q", "Arn": queue}])
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket="plain")
        s3.put_bucket_notification_configuration(
            Bucket="plain", NotificationConfiguration={"EventBridgeConfiguration": {}}
        )
        s3.put_object(Bucket="plain", Key="k", Body=b"x")
        [message] = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0)["Messages"]
        plain = json.loads(message["Body"])
    assert "eTag" in plain["detail"]["object"] and plain["detail"]["reason"] == "ObjectCreated"

    (tiny_stack / "template.yaml").write_text(S3_EVENTS_TEMPLATE, encoding="utf-8")
    with RestoreStack(tiny_stack) as stack:
        s3 = stack.client("s3")
        s3.put_object(Bucket=stack.resources["QuietBucket"], Key="k", Body=b"x")  # EventBridge off: nothing
        s3.put_object(Bucket=stack.resources["Bucket"], Key="k", Body=b"x")
        [alert] = stack.alerts("ObjectTopic")
        refused = stack.execution_events.failed_invocations
        invoked = [lid for lid, _ in stack.invocations]
    event = json.loads(alert["message"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", event["time"])
    assert event["detail"]["reason"] == "PutObject" and "etag" in event["detail"]["object"]
    assert event["detail"]["bucket"]["name"] == stack.resources["Bucket"]
    assert [r["target"].rsplit(":", 1)[1] for r in refused] == [stack.functions["EchoFunction"]]
    assert invoked == []


# ============================================================================ ListUsers by sub prefix


def _shard_listing(cognito: Any, pool_id: str) -> tuple[list[str], int]:
    """Every user through the 16 one-hex-digit sub shards, all pages; and the pages it took."""
    subs, pages = [], 0
    for shard in "0123456789abcdef":
        kwargs: dict[str, Any] = {"UserPoolId": pool_id, "Limit": 7, "Filter": f'sub ^= "{shard}"'}
        while True:
            page = cognito.list_users(**kwargs)
            pages += 1
            for user in page["Users"]:
                sub = next(a["Value"] for a in user["Attributes"] if a["Name"] == "sub")
                assert sub.startswith(shard)
                subs.append(sub)
            if not page.get("PaginationToken"):
                break
            kwargs["PaginationToken"] = page["PaginationToken"]
    return subs, pages


def test_plain_moto_scans_every_user_for_each_page_of_a_sub_filter() -> None:
    """The producer's shards: same users, each once, in both; plain moto reads every user of the pool
    for every page (a million-user pool: days), the emulation bisects a sorted index (listing.py)."""
    from moto.cognitoidp import models

    reads = {"count": 0}
    original = models.CognitoIdpUser.__getattribute__

    def counting(self: Any, name: str) -> Any:
        if name == "attributes":
            reads["count"] += 1
        return original(self, name)

    for factory in (plain_cognito, emulated_cognito):
        with factory() as cognito, mock.patch.object(models.CognitoIdpUser, "__getattribute__", counting):
            pool_id = new_pool(cognito)
            for n in range(120):
                new_user(cognito, pool_id, f"user{n}")
            backend = models.cognitoidp_backends[ACCOUNT][REGION]
            created = {u.attribute_lookup["sub"] for u in backend.user_pools[pool_id].users.values()}
            reads["count"] = 0
            subs, pages = _shard_listing(cognito, pool_id)
            assert sorted(subs) == sorted(created)
            assert len(subs) == len(set(subs)) == 120
            if factory is plain_cognito:
                assert reads["count"] >= pages * 120  # every user read for every page
            else:
                assert reads["count"] < 2 * 120 + pages * 7 * 2  # the page's users, not the pool
                assert subs == sorted(subs)  # sub order, shard after shard


def test_emulated_sub_filter_token_survives_users_added_between_pages() -> None:
    with emulated_cognito() as cognito:
        pool_id = new_pool(cognito)
        for n in range(40):
            new_user(cognito, pool_id, f"user{n}")
        seen: list[str] = []
        kwargs: dict[str, Any] = {"UserPoolId": pool_id, "Limit": 5, "Filter": 'sub ^= ""'}
        added = 0
        while True:
            page = cognito.list_users(**kwargs)
            seen += [u["Username"] for u in page["Users"]]
            if added < 10:
                new_user(cognito, pool_id, f"late{added}")
                added += 1
            if not page.get("PaginationToken"):
                break
            kwargs["PaginationToken"] = page["PaginationToken"]
        assert len(seen) == len(set(seen))  # no user twice
        assert {f"user{n}" for n in range(40)} <= set(seen)  # none of the first ones missed
        with pytest.raises(ClientError) as refused:
            cognito.list_users(UserPoolId=pool_id, Filter='sub ^= "a"', PaginationToken="bm90LWEtdG9rZW4=")
        assert refused.value.response["Error"]["Code"] == "InvalidParameterException"
