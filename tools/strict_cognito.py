"""Make moto's Cognito user pools (moto 5.2.5) refuse what real Amazon Cognito refuses.

moto accepts many requests that Cognito rejects, so code can pass its tests and fail in AWS.
This module patches ``moto.cognitoidp`` (the backend and the response handlers) while it is
installed, so boto3 sees real ``ClientError`` codes and messages::

    with mock_aws(), strict_cognito():
        cognito = boto3.client("cognito-idp", region_name="us-east-1")
        ...

``strict_cognito()`` returns a ``StrictCognito`` guard (context manager, or ``start()`` /
``stop()``). Installation is process-wide and reference counted (nested use is harmless).
``tools.emulator.RestoreStack`` installs it for every stack unless ``strict_cognito=False``.

State that moto does not keep (UI customizations, risk configurations, provider links, email MFA
preferences, domain describe counts) lives in a side store attached to each moto backend
(account, Region): moto's reset wipes it together with the backend.

Sources of the behaviours and messages (sections of ``docs/cognito-behaviours.md``):
[BC] botocore 1.43.11 service model / API reference text; [REPORTED] real error text quoted in
public issues/code (see each constant); [INFERRED] no public text found, message chosen here.
Each message constant below says which.

Behaviours (the numbers follow the brief):

1. AdminConfirmSignUp only for UNCONFIRMED users.
2. CreateUserPool / AddCustomAttributes: names > 20 chars, > 50 custom attributes, alias +
   username attributes together, UnusedAccountValidityDays + TemporaryPasswordValidityDays are
   refused; ``custom:x`` becomes ``custom:custom:x`` (moto already does it); Required custom
   attributes refused (moto already does it). DescribeUserPool lists every standard attribute
   (moto lists only the supplied ones when a Schema is given), with default constraints filled.
   ``UserPoolTier`` (ESSENTIALS) and ``DeletionProtection`` (INACTIVE) defaults are reported.
3. AdminCreateUser: ``sub``, ``identities``, ``cognito:*`` and undeclared attributes refused;
   ``email_verified``/``phone_number_verified`` true without ``email``/``phone_number`` refused;
   TemporaryPassword checked against the password policy; ``MessageAction=RESEND`` re-sends to
   the existing user instead of creating a second one (moto bug).
4. CreateUserPoolClient / UpdateUserPoolClient: Read/WriteAttributes checked against the schema,
   explicit WriteAttributes must contain the required attributes and no verification flag /
   ``sub``; SupportedIdentityProviders must exist; custom scopes must exist;
   GenerateSecret + ClientSecret refused; a custom ClientSecret becomes the real secret.
5. UpdateUserPool keeps the creation-only settings and UserPoolTier, resets every other omitted
   setting to its default (MfaConfiguration and UserPoolTags included, as the API reference says).
6. CreateUserPoolDomain: prefix unique per Region (all accounts), custom domain unique everywhere,
   one prefix and one custom domain per pool, reserved words, prefix pattern.
   DescribeUserPoolDomain: ``Status`` CREATING for the first ``DOMAIN_DESCRIBES_BEFORE_ACTIVE``
   describes, then ACTIVE; the real account id. DescribeUserPool reports a custom domain as
   ``CustomDomain`` (moto: ``Domain``).
7. DeletionProtection ACTIVE blocks DeleteUserPool.
8. AdminSetUserMFAPreference: SMS needs a phone_number, email MFA needs an email; EmailMfaSettings
   recorded and returned by AdminGetUser.
9. Missing operations: Set/GetUICustomization, Set/DescribeRiskConfiguration,
   AdminLinkProviderForUser, AdminDisableProviderForUser, Tag/Untag/ListTagsForResource.
10. Messaging: CreateUserPool / UpdateUserPool / SetUserPoolMfaConfig check the SMS role the way
   Cognito assumes it (role exists in moto's IAM, trusts ``cognito-idp.amazonaws.com``, its
   conditions on ``sts:ExternalId``, ``aws:SourceArn`` = the pool, ``aws:SourceAccount`` hold,
   it allows ``sns:Publish`` on ``*``), the SES identity of ``EmailConfiguration.SourceArn`` is
   this account's (NotAuthorizedException) and verified in its Region (InvalidParameterException, the
   text real Cognito gives), a DEVELOPER configuration set exists, COGNITO_DEFAULT has no ``From``.

Also: generated client secrets look like Cognito's (moto: a hyphenated UUID that Cognito's own
ClientSecret pattern refuses), and Cognito requests are served one at a time (moto's are not
atomic: concurrent handlers crashed moto with "OrderedDict mutated during iteration").
"""

from __future__ import annotations

import base64
import binascii
import fnmatch
import hashlib
import json
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any
from unittest import mock

from moto.cognitoidp import models as _models
from moto.cognitoidp import responses as _responses
from moto.cognitoidp.exceptions import (
    InvalidParameterException,
    NotAuthorizedError,
    ResourceNotFoundError,
    UserNotFoundError,
)
from moto.core.exceptions import JsonRESTError
from moto.core.responses import ActionResult, EmptyResult
from moto.core.utils import utcnow

Backend = _models.CognitoIdpBackend
Response = _responses.CognitoIdpResponse
UserPool = _models.CognitoIdpUserPool
Attribute = _models.CognitoIdpUserPoolAttribute

#: Describes of a new domain that still report ``Status: CREATING`` (then ``ACTIVE``). Read at
#: each describe, so a test may change it (0 = ACTIVE at once).
DOMAIN_DESCRIBES_BEFORE_ACTIVE = 1

# ----------------------------------------------------------------------------------- messages
# [REPORTED] aws-amplify/amplify-js#6711 and public code matching the text exactly (docs/cognito-behaviours.md §2.3).
MSG_CANNOT_CONFIRM = "User cannot be confirmed. Current status is {status}"
# [REPORTED] AWS request-validation format; the 20-char limit is [BC] SchemaAttributeType.Name
# (max 20) and the quotas page; the text "Value '...' at 'schema.1.member.name' failed to satisfy
# constraint: Member must have length less than or equal to 20" is quoted by a public CDK preflight
# rule for a failed pool create.
MSG_VALIDATION_LENGTH = (
    "1 validation error detected: Value '{value}' at '{path}' failed to satisfy "
    "constraint: Member must have length less than or equal to {limit}"
)
MSG_VALIDATION_PATTERN = (
    "1 validation error detected: Value '{value}' at '{path}' failed to satisfy "
    "constraint: Member must satisfy regular expression pattern: {pattern}"
)
# Sensitive members (ClientSecret, CSS/ImageFile bodies) are named without their value, as in
# Cognito's well-known "Value at 'password' failed to satisfy constraint: ..." [REPORTED].
MSG_VALIDATION_LENGTH_HIDDEN = (
    "1 validation error detected: Value at '{path}' failed to satisfy "
    "constraint: Member must have length less than or equal to {limit}"
)
MSG_VALIDATION_PATTERN_HIDDEN = (
    "1 validation error detected: Value at '{path}' failed to satisfy "
    "constraint: Member must satisfy regular expression pattern: {pattern}"
)
# [INFERRED] the limit is [BC]/quotas ("Custom attributes per user pool: 50 (not adjustable)"); no
# public copy of Cognito's text was found.
MSG_TOO_MANY_CUSTOM = "Too many custom attributes: a user pool can have at most 50 custom attributes."
# [REPORTED] docs/cognito-behaviours.md §1.3 (emulators/preflight rules copying the real message).
MSG_ALIAS_AND_USERNAME = "Only one of the aliasAttributes or usernameAttributes can be set in a User Pool."
# [REPORTED] aws/aws-sdk-js#3817 (docs/cognito-behaviours.md §1.4).
MSG_UNUSED_ACCOUNT_DAYS = (
    "Please use TemporaryPasswordValidityDays in PasswordPolicy instead of UnusedAccountValidityDays"
)
# [REPORTED] for `sub`: public restore code quoting AdminCreateUser's rejection ("We cannot just
# spread the sourceUser as it causes an exception: `Cannot modify the non-mutable attribute sub`").
# `sub` IS in the schema (so the schema message would be wrong for it); `identities` and
# `cognito:*` are not schema attributes, so they get the schema message below.
MSG_NON_MUTABLE = "Cannot modify the non-mutable attribute {name}"
# [REPORTED] aws-amplify/amplify-js#2167 (docs/cognito-behaviours.md §2.2), seen on SignUp.
MSG_NOT_IN_SCHEMA = "Attributes did not conform to the schema: {name}: Attribute does not exist in the schema."
# [INFERRED] the rule is [BC] AdminCreateUser.UserAttributes ("You must provide a value for email
# when you want to set email_verified to true"; same for phone_number); text not found publicly.
MSG_VERIFIED_WITHOUT_VALUE = "Cannot set {flag} to true without providing a value for {attribute}."
# [REPORTED] "Password does not conform to policy: Password not long enough" is quoted by many
# public apps handling Cognito errors; the other reasons follow the same pattern.
MSG_PASSWORD = "Password does not conform to policy: {reason}"
# [REPORTED] aws/aws-cdk#2608, #20760, terraform-provider-aws#4476 (docs/cognito-behaviours.md §5); the "updating"
# variant is quoted by a public deployment log (client update refused for email_verified).
MSG_INVALID_WRITE = "Invalid write attributes specified while {action} a client"
MSG_INVALID_READ = "Invalid read attributes specified while {action} a client"
# [REPORTED] many CDK/Terraform reports, e.g. "InvalidParameterException: The provider EntraID
# does not exist for User Pool ap-northeast-1_dmfNfszQN".
MSG_NO_PROVIDER = "The provider {name} does not exist for User Pool {pool}"
# [INFERRED] error code from [BC] CreateUserPoolClient errors; text as the brief suggests.
MSG_NO_SCOPE = "Invalid scope requested: {scope}"
# [BC] CreateUserPoolClient.ClientSecret doc sentence (Cognito's own text not found).
MSG_SECRET_AND_GENERATE = "You cannot specify both GenerateSecret as true and provide a ClientSecret value."
# [REPORTED] Cognito domain uniqueness: aws-samples/websocket-chat-application#56 (docs/cognito-behaviours.md §7).
MSG_DOMAIN_TAKEN = "Domain already associated with another user pool."
# [REPORTED] CloudFormation errors quoted in many public READMEs ("User pool already has a domain
# configured. (Service: AWSCognitoIdentityProviderService; ... InvalidParameterException").
MSG_POOL_HAS_DOMAIN = "User pool already has a domain configured."
# [REPORTED] aws-solutions/content-analysis-on-aws#8 (docs/cognito-behaviours.md §7).
MSG_RESERVED_WORD = "Domain cannot contain reserved word: {word}"
# [REPORTED] exact AWS text matched by aws-nuke's Cognito handler.
MSG_DELETION_PROTECTION = (
    "The user pool cannot be deleted because deletion protection is activated. "
    "Deletion protection must be inactivated first."
)
# [REPORTED] docs/cognito-behaviours.md §2.8 (emulator test reproducing the AWS text); EMAIL_OTP by analogy [INFERRED].
MSG_NO_DELIVERY = "User does not have delivery config set to turn on {factor}"
# [INFERRED] the requirement is [BC] SetUICustomization ("Your user pool must have a domain"); the
# text is the brief's.
MSG_NO_DOMAIN_FOR_UI = "There has to be an existing domain associated with this user pool"
# [INFERRED] code from [BC] SetRiskConfiguration errors ("To activate this setting, your user pool
# must be on the Plus tier"); text not found publicly.
MSG_ADDON_NOT_ENABLED = (
    "Threat protection (advanced security) is not enabled for this user pool: "
    "it needs UserPoolTier PLUS or UserPoolAddOns.AdvancedSecurityMode AUDIT/ENFORCED."
)
# [INFERRED] texts for AdminLinkProviderForUser; rules from [BC] (see _admin_link_provider_for_user).
MSG_LINK_SOURCE_COGNITO = "The SourceUser must be a user of an external identity provider, not Cognito."
MSG_LINK_SOCIAL_ATTRIBUTE = "ProviderAttributeName must be Cognito_Subject for the {type} provider {name}."
MSG_LINK_ATTRIBUTE_NOT_MAPPED = (
    "ProviderAttributeName {attribute} is neither Cognito_Subject nor a user pool "
    "attribute mapped by the provider {name}."
)
MSG_LINK_IMMUTABLE = (
    "The destination user cannot be linked: it has a value for the immutable attribute "
    "{attribute} (all attributes of the DestinationUser must be mutable)."
)
MSG_LINK_LIMIT = "A user can have at most 5 linked identities."
MSG_LINK_EXISTS = "The external identity {provider}:{value} is already linked to another user."
# [INFERRED] modelled on moto's/Cognito's "User pool X does not exist." texts.
MSG_CLIENT_NOT_FOUND = "User pool client {client} does not exist."
MSG_RESOURCE_NOT_FOUND = "Resource {arn} does not exist."

STANDARD_SCOPES = frozenset({"phone", "email", "openid", "profile", "aws.cognito.signin.user.admin"})
SOCIAL_PROVIDER_TYPES = frozenset({"Google", "Facebook", "LoginWithAmazon", "SignInWithApple"})
# [REPORTED] not writable by any app client (docs/cognito-behaviours.md §5; a live deployment log for email_verified).
UNWRITABLE_BY_CLIENTS = frozenset({"sub", "email_verified", "phone_number_verified"})
# [DOC] valid shorthand in Read/WriteAttributes (docs/cognito-behaviours.md §5).
CLIENT_ATTRIBUTE_SHORTHANDS = frozenset({"oidc:profile"})
RESERVED_DOMAIN_WORDS = ("aws", "amazon", "cognito")
PREFIX_DOMAIN_PATTERN = r"^[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?$"  # [BC] CreateUserPoolDomain.Domain
CLIENT_SECRET_PATTERN = r"[\w+]+"  # [BC] CreateUserPoolClient.ClientSecret (24-64 chars)
SYMBOLS = set("^$*.[]{}()?\"!@#%&/\\,><':;|_~`=+- ")  # Cognito's special characters (and space)
MAX_LINKS_PER_USER = 5  # [BC] AdminLinkProviderForUser / quotas page
MAX_CUSTOM_ATTRIBUTES = 50  # quotas page
MAX_ATTRIBUTE_NAME = 20  # [BC] SchemaAttributeType.Name
MAX_UI_BYTES = 131072  # [BC] SetUICustomization CSS / ImageFile
# Creation-only settings: not in UpdateUserPool's input [BC], kept by Cognito.
IMMUTABLE_POOL_SETTINGS = ("UsernameAttributes", "AliasAttributes", "UsernameConfiguration")


def _error(code: str, message: str) -> JsonRESTError:
    return JsonRESTError(code, message)


# ----------------------------------------------------------------------------------- side store

_STATE_KEY = "_strict_cognito_state"
_STATE_LOCK = threading.Lock()


class _State:
    """What moto does not keep, for one backend (account, Region)."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.ui: dict[tuple[str, str], dict[str, Any]] = {}  # (pool, client id | "ALL")
        self.risk: dict[tuple[str, str | None], dict[str, Any]] = {}  # (pool, client id | None)
        # (pool, provider, value) -> {"user_id": sub, "attribute": name, "created": ms}
        self.links: dict[tuple[str, str, str], dict[str, Any]] = {}
        self.email_mfa: dict[tuple[str, str], bool] = {}  # (pool, sub) -> enabled
        self.domain_describes: dict[str, int] = {}
        self.managed_login: dict[str, int] = {}
        self.versions = 0


def _state(backend: Any) -> _State:
    state = backend.__dict__.get(_STATE_KEY)
    if state is None:
        with _STATE_LOCK:
            state = backend.__dict__.get(_STATE_KEY)
            if state is None:
                state = _State()
                backend.__dict__[_STATE_KEY] = state
    return state


def _forget_pool(backend: Any, pool_id: str) -> None:
    state = _state(backend)
    with state.lock:
        stores: tuple[dict[Any, Any], ...] = (state.ui, state.risk, state.links, state.email_mfa)
        for store in stores:
            for key in [k for k in store if k[0] == pool_id]:
                del store[key]


# ----------------------------------------------------------------------------------- helpers


def _is_standard(name: str) -> bool:
    return name in Attribute.STANDARD_SCHEMA


def _flag_true(value: Any) -> bool:
    return str(value).lower() == "true"


def _password_problem(pool: Any, password: str) -> str | None:
    """Cognito's password-policy check. Omitted Require* members are false (Cognito's API
    default); a pool created without Policies has moto's (= Cognito's) default policy."""
    policy = (pool.extended_config.get("Policies") or {}).get("PasswordPolicy") or {}
    if len(password) < int(policy.get("MinimumLength") or 8):
        return "Password not long enough"
    if policy.get("RequireLowercase") and not re.search(r"[a-z]", password):
        return "Password must have lowercase characters"
    if policy.get("RequireUppercase") and not re.search(r"[A-Z]", password):
        return "Password must have uppercase characters"
    if policy.get("RequireNumbers") and not re.search(r"\d", password):
        return "Password must have numeric characters"
    if policy.get("RequireSymbols") and not any(c in SYMBOLS for c in password.strip()):
        return "Password must have symbol characters"
    return None


def _check_validity_days(config: dict[str, Any]) -> None:
    admin = config.get("AdminCreateUserConfig") or {}
    password = (config.get("Policies") or {}).get("PasswordPolicy") or {}
    if "UnusedAccountValidityDays" in admin and "TemporaryPasswordValidityDays" in password:
        raise InvalidParameterException(MSG_UNUSED_ACCOUNT_DAYS)


def _check_schema_names(entries: list[dict[str, Any]], path: str) -> None:
    for index, entry in enumerate(entries, start=1):
        name = str(entry.get("Name", ""))
        if len(name) > MAX_ATTRIBUTE_NAME:
            raise InvalidParameterException(
                MSG_VALIDATION_LENGTH.format(value=name, path=f"{path}.{index}.member.name", limit=MAX_ATTRIBUTE_NAME)
            )


def _custom_count(pool: Any) -> int:
    return sum(1 for name in pool.schema_attributes if not _is_standard(name))


def _domains_of(pool_id: str, backend: Any) -> list[Any]:
    return [d for d in backend.user_pool_domains.values() if d.user_pool_id == pool_id]


def _is_custom_domain(domain: Any) -> bool:
    return bool(domain.custom_domain_config) or "." in domain.domain


def _complete_schema(pool: Any) -> None:
    """Every standard attribute (Cognito's defaults unless the request set them), then customs."""
    supplied = pool.schema_attributes
    complete: OrderedDict[str, Any] = OrderedDict()
    for name, defaults in Attribute.STANDARD_SCHEMA.items():
        attribute = supplied.get(name) or Attribute(name, False, defaults)
        if attribute.data_type == "String" and attribute.string_constraints is None:
            attribute.string_constraints = dict(defaults.get("StringAttributeConstraints") or {}) or None  # type: ignore[call-overload]
        if attribute.data_type == "Number" and attribute.number_constraints is None:
            attribute.number_constraints = dict(defaults.get("NumberAttributeConstraints") or {}) or None  # type: ignore[call-overload]
        complete[name] = attribute
    for name, attribute in supplied.items():
        if name not in complete:
            complete[name] = attribute
    pool.schema_attributes = complete


# ----------------------------------------------------------------------------------- 1. confirm


def _make_admin_confirm_sign_up(original: Callable) -> Callable:
    def admin_confirm_sign_up(self: Any, user_pool_id: str, username: str) -> str:
        user = self.admin_get_user(user_pool_id, username)
        status = getattr(user.status, "value", user.status)
        if status != "UNCONFIRMED":
            raise NotAuthorizedError(MSG_CANNOT_CONFIRM.format(status=status))
        return original(self, user_pool_id, username)

    return admin_confirm_sign_up


# ----------------------------------------------------------------------------------- 2./5. pools


def _make_create_user_pool(original: Callable) -> Callable:
    def create_user_pool(self: Any, name: str, extended_config: dict[str, Any]) -> Any:
        config = extended_config or {}
        if config.get("AliasAttributes") and config.get("UsernameAttributes"):
            raise InvalidParameterException(MSG_ALIAS_AND_USERNAME)
        _check_validity_days(config)
        schema = config.get("Schema") or []
        _check_schema_names(schema, "schema")
        if sum(1 for entry in schema if not _is_standard(str(entry.get("Name")))) > MAX_CUSTOM_ATTRIBUTES:
            raise InvalidParameterException(MSG_TOO_MANY_CUSTOM)
        pool = original(self, name, extended_config)
        try:
            # Cognito checks the SMS role for the pool being created: the aws:SourceArn it presents
            # is the new pool's ARN, which no trust policy can name exactly in advance (docs/messaging.md).
            _check_messaging(pool.arn, config)
        except JsonRESTError:
            del self.user_pools[pool.id]
            raise
        _complete_schema(pool)
        pool.extended_config.setdefault("UserPoolTier", "ESSENTIALS")  # [BC] "Defaults to ESSENTIALS"
        pool.extended_config.setdefault("DeletionProtection", "INACTIVE")
        return pool

    return create_user_pool


def _make_add_custom_attributes(original: Callable) -> Callable:
    def add_custom_attributes(self: Any, user_pool_id: str, custom_attributes: list[dict[str, Any]]) -> None:
        pool = self.describe_user_pool(user_pool_id)
        _check_schema_names(custom_attributes or [], "customAttributes")
        if _custom_count(pool) + len(custom_attributes or []) > MAX_CUSTOM_ATTRIBUTES:
            raise InvalidParameterException(MSG_TOO_MANY_CUSTOM)
        return original(self, user_pool_id, custom_attributes)

    return add_custom_attributes


def _make_update_user_pool(original: Callable) -> Callable:
    def update_user_pool(self: Any, user_pool_id: str, extended_config: dict[str, Any]) -> None:
        pool = self.describe_user_pool(user_pool_id)
        config = dict(extended_config or {})
        _check_validity_days(config)
        kept = {k: pool.extended_config[k] for k in IMMUTABLE_POOL_SETTINGS if k in pool.extended_config}
        if "UserPoolTier" not in config and "UserPoolTier" in pool.extended_config:
            config["UserPoolTier"] = pool.extended_config["UserPoolTier"]  # the one exception [BC]
        config.pop("UserPoolId", None)
        _check_messaging(pool.arn, config)
        # moto: extended_config = defaults + request (omitted settings reset, as in Cognito) but the
        # creation-only settings are lost; and MfaConfiguration lives apart (pool.mfa_config).
        original(self, user_pool_id, config)
        pool.extended_config.update(kept)
        pool.extended_config.setdefault("DeletionProtection", "INACTIVE")
        pool.mfa_config = config.get("MfaConfiguration") or "OFF"
        pool.last_modified_date = utcnow()

    return update_user_pool


def _make_delete_user_pool(original: Callable) -> Callable:
    def delete_user_pool(self: Any, user_pool_id: str) -> None:
        pool = self.describe_user_pool(user_pool_id)
        if pool.extended_config.get("DeletionProtection") == "ACTIVE":
            raise InvalidParameterException(MSG_DELETION_PROTECTION)
        original(self, user_pool_id)
        _forget_pool(self, user_pool_id)

    return delete_user_pool


def _make_pool_to_json(original: Callable) -> Callable:
    def to_json(self: Any, extended: bool = False) -> dict[str, Any]:
        result = original(self, extended)
        result.pop("Domain", None)
        result.pop("CustomDomain", None)
        for domain in _domains_of(self.id, self.backend):
            result["CustomDomain" if _is_custom_domain(domain) else "Domain"] = domain.domain
        return result

    return to_json


# ----------------------------------------------------------------------------------- 3. users


def _declared(pool: Any) -> set[str]:
    """Schema attribute names; standard ones always (a pool made before install lacks them)."""
    return set(pool.schema_attributes) | set(Attribute.STANDARD_SCHEMA)


def _check_new_user_attributes(pool: Any, attributes: list[dict[str, Any]]) -> None:
    declared = _declared(pool)
    unknown = []
    for attribute in attributes:
        name = str(attribute.get("Name"))
        if name == "sub":
            raise InvalidParameterException(MSG_NON_MUTABLE.format(name=name))
        if name not in declared:
            unknown.append(name)
    if unknown:
        raise InvalidParameterException("\n".join(MSG_NOT_IN_SCHEMA.format(name=n) for n in unknown))


def _make_admin_create_user(original: Callable) -> Callable:
    def admin_create_user(
        self: Any,
        user_pool_id: str,
        username: str,
        message_action: str,
        temporary_password: str,
        attributes: list[dict[str, str]],
    ) -> Any:
        pool = self.describe_user_pool(user_pool_id)
        if temporary_password is not None:
            problem = _password_problem(pool, temporary_password)
            if problem:
                raise _error("InvalidPasswordException", MSG_PASSWORD.format(reason=problem))
        if message_action == "RESEND":
            # moto looks the user up, then creates a NEW user (new sub) in its place: Cognito
            # re-sends the invitation to the existing user and resets the temporary password.
            user = self.admin_get_user(user_pool_id, username)
            if temporary_password is not None:
                user.password = temporary_password
            return user
        attributes = list(attributes or [])
        _check_new_user_attributes(pool, attributes)
        flat = {a["Name"]: a.get("Value") for a in attributes}
        for attribute in pool.extended_config.get("UsernameAttributes") or []:
            if _models.validate_username_format(username, _format=attribute):
                flat.setdefault(attribute, username)  # moto puts the username there
                break
        for flag, attribute in (("email_verified", "email"), ("phone_number_verified", "phone_number")):
            if _flag_true(flat.get(flag)) and not flat.get(attribute):
                raise InvalidParameterException(MSG_VERIFIED_WITHOUT_VALUE.format(flag=flag, attribute=attribute))
        return original(self, user_pool_id, username, message_action, temporary_password, attributes)

    return admin_create_user


# ----------------------------------------------------------------------------------- 4. clients


def _generated_secret() -> str:
    """A secret shaped like Cognito's (51 lower-case letters and digits). moto's is a hyphenated
    UUID, which CreateUserPoolClient's own ClientSecret pattern ``[\\w+]+`` refuses: a restore
    that copies a moto-made secret would fail for a reason real backups never have."""
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    return "".join(_models.random.choice(alphabet) for _ in range(51))


def _check_client(backend: Any, pool: Any, config: dict[str, Any], action: str) -> None:
    known = _declared(pool) | CLIENT_ATTRIBUTE_SHORTHANDS
    read = config.get("ReadAttributes") or []
    if any(name not in known for name in read):
        raise InvalidParameterException(MSG_INVALID_READ.format(action=action))
    write = config.get("WriteAttributes") or []
    if write:  # an empty list is treated as "not given" (defaults), like an omitted member
        required = [n for n, a in pool.schema_attributes.items() if a.required and n not in UNWRITABLE_BY_CLIENTS]
        if any(name not in known or name in UNWRITABLE_BY_CLIENTS for name in write) or any(
            name not in write for name in required
        ):
            raise InvalidParameterException(MSG_INVALID_WRITE.format(action=action))
    for provider in config.get("SupportedIdentityProviders") or []:
        if provider != "COGNITO" and provider not in pool.identity_providers:
            raise InvalidParameterException(MSG_NO_PROVIDER.format(name=provider, pool=pool.id))
    for scope in config.get("AllowedOAuthScopes") or []:
        if scope in STANDARD_SCOPES:
            continue
        found = any(
            scope.startswith(server.identifier + "/")
            and scope[len(server.identifier) + 1 :] in {s.get("ScopeName") for s in server.scopes or []}
            for server in pool.resource_servers.values()
        )
        if not found:
            raise _error("ScopeDoesNotExistException", MSG_NO_SCOPE.format(scope=scope))


def _make_create_user_pool_client(original: Callable) -> Callable:
    def create_user_pool_client(
        self: Any, user_pool_id: str, generate_secret: bool, extended_config: dict[str, Any]
    ) -> Any:
        pool = self.describe_user_pool(user_pool_id)
        config = dict(extended_config or {})
        secret = config.pop("ClientSecret", None)
        if secret is not None:
            if generate_secret:
                raise InvalidParameterException(MSG_SECRET_AND_GENERATE)
            if len(secret) > 64:  # botocore checks the minimum (24) only
                raise InvalidParameterException(MSG_VALIDATION_LENGTH_HIDDEN.format(path="clientSecret", limit=64))
            if not re.fullmatch(CLIENT_SECRET_PATTERN, secret):
                raise InvalidParameterException(
                    MSG_VALIDATION_PATTERN_HIDDEN.format(path="clientSecret", pattern=CLIENT_SECRET_PATTERN)
                )
        _check_client(self, pool, config, "creating")
        client = original(self, user_pool_id, generate_secret, config)
        if secret is not None:
            client.secret = secret  # moto keeps a random secret and only echoes the custom one
            client.generate_secret = True
        elif generate_secret:
            client.secret = _generated_secret()
        return client

    return create_user_pool_client


def _make_update_user_pool_client(original: Callable) -> Callable:
    def update_user_pool_client(self: Any, user_pool_id: str, client_id: str, extended_config: dict[str, Any]) -> Any:
        pool = self.describe_user_pool(user_pool_id)
        if client_id not in pool.clients:
            raise ResourceNotFoundError(client_id)
        _check_client(self, pool, extended_config or {}, "updating")
        return original(self, user_pool_id, client_id, extended_config)

    return update_user_pool_client


# ----------------------------------------------------------------------------------- 6. domains


def _all_domains(region: str | None) -> list[Any]:
    """Domains of every account (prefix domains: one Region; custom domains: every Region)."""
    found: list[Any] = []
    for by_region in list(_models.cognitoidp_backends.values()):
        for backend_region, backend in list(by_region.items()):
            if region is None or backend_region == region:
                found.extend(backend.user_pool_domains.values())
    return found


def _make_create_user_pool_domain(original: Callable) -> Callable:
    def create_user_pool_domain(
        self: Any, user_pool_id: str, domain: str, custom_domain_config: dict[str, str] | None = None
    ) -> Any:
        self.describe_user_pool(user_pool_id)
        custom = bool(custom_domain_config) or "." in (domain or "")
        if not custom:
            if len(domain) > 63:
                raise InvalidParameterException(MSG_VALIDATION_LENGTH.format(value=domain, path="domain", limit=63))
            if not re.match(PREFIX_DOMAIN_PATTERN, domain):
                raise InvalidParameterException(
                    MSG_VALIDATION_PATTERN.format(value=domain, path="domain", pattern=PREFIX_DOMAIN_PATTERN)
                )
            for word in RESERVED_DOMAIN_WORDS:
                if word in domain:
                    raise InvalidParameterException(MSG_RESERVED_WORD.format(word=word))
        if any(d.domain == domain for d in _all_domains(None if custom else self.region_name)):
            raise InvalidParameterException(MSG_DOMAIN_TAKEN)
        if any(_is_custom_domain(d) == custom for d in _domains_of(user_pool_id, self)):
            raise InvalidParameterException(MSG_POOL_HAS_DOMAIN)
        created = original(self, user_pool_id, domain, custom_domain_config)
        state = _state(self)
        with state.lock:
            state.domain_describes[domain] = 0
        return created

    return create_user_pool_domain


def _make_delete_user_pool_domain(original: Callable) -> Callable:
    def delete_user_pool_domain(self: Any, domain: str) -> None:
        original(self, domain)
        state = _state(self)
        with state.lock:
            state.domain_describes.pop(domain, None)
            state.managed_login.pop(domain, None)

    return delete_user_pool_domain


def _response_create_user_pool_domain(self: Any) -> ActionResult:
    domain = self._get_param("Domain")
    version = self._get_param("ManagedLoginVersion")
    created = self.backend.create_user_pool_domain(
        self._get_param("UserPoolId"), domain, self._get_param("CustomDomainConfig")
    )
    result: dict[str, Any] = {}
    if _is_custom_domain(created):  # a prefix domain has no CloudFront alias target to return
        result.update(created.to_json(extended=False))
    if version is not None:
        state = _state(self.backend)
        with state.lock:
            state.managed_login[domain] = int(version)
        result["ManagedLoginVersion"] = int(version)
    return ActionResult(result)


def _response_describe_user_pool_domain(self: Any) -> ActionResult:
    domain = self._get_param("Domain")
    found = self.backend.describe_user_pool_domain(domain)
    if not found:
        return ActionResult({"DomainDescription": {}})
    description = found.to_json()
    state = _state(self.backend)
    with state.lock:
        count = state.domain_describes.get(domain, DOMAIN_DESCRIBES_BEFORE_ACTIVE) + 1
        state.domain_describes[domain] = count
        version = state.managed_login.get(domain)
    description["Status"] = "CREATING" if count <= DOMAIN_DESCRIBES_BEFORE_ACTIVE else "ACTIVE"
    description["AWSAccountId"] = self.current_account  # moto: a random UUID
    if _is_custom_domain(found):
        description["CustomDomainConfig"] = found.custom_domain_config
    if version is not None:
        description["ManagedLoginVersion"] = version
    return ActionResult({"DomainDescription": description})


# ----------------------------------------------------------------------------------- 8. MFA


def _response_admin_set_user_mfa_preference(self: Any) -> ActionResult:
    pool_id = self._get_param("UserPoolId")
    user = self.backend.admin_get_user(pool_id, self._get_param("Username"))
    requested = {
        "SMS_MFA": self._get_param("SMSMfaSettings"),
        "SOFTWARE_TOKEN_MFA": self._get_param("SoftwareTokenMfaSettings"),
        "EMAIL_OTP": self._get_param("EmailMfaSettings"),
    }
    if (requested["SMS_MFA"] or {}).get("Enabled") and not user.attribute_lookup.get("phone_number"):
        raise InvalidParameterException(MSG_NO_DELIVERY.format(factor="SMS_MFA"))
    if (requested["EMAIL_OTP"] or {}).get("Enabled") and not user.attribute_lookup.get("email"):
        raise InvalidParameterException(MSG_NO_DELIVERY.format(factor="EMAIL_OTP"))
    if (requested["SOFTWARE_TOKEN_MFA"] or {}).get("Enabled") and not user.token_verified:
        raise InvalidParameterException("User has not verified software token mfa")  # moto's text
    state = _state(self.backend)
    preferred = user.preferred_mfa_setting or ""
    for factor, settings in requested.items():
        if settings is None:
            continue
        enabled = bool(settings.get("Enabled"))
        if factor == "SMS_MFA":
            user.sms_mfa_enabled = enabled
        elif factor == "SOFTWARE_TOKEN_MFA":
            user.software_token_mfa_enabled = enabled
        else:
            with state.lock:
                state.email_mfa[(pool_id, user.id)] = enabled
        if settings.get("PreferredMfa"):
            preferred = factor
        elif preferred == factor:
            preferred = ""
    user.preferred_mfa_setting = preferred
    return EmptyResult()


def _make_response_admin_get_user(original: Callable) -> Callable:
    def admin_get_user(self: Any) -> Any:
        result = original(self)
        pool_id = self._get_param("UserPoolId")
        user = self.backend.admin_get_user(pool_id, self._get_param("Username"))
        state = _state(self.backend)
        with state.lock:
            email = state.email_mfa.get((pool_id, user.id), False)
        if email and isinstance(getattr(result, "result", None), dict):
            result.result.setdefault("UserMFASettingList", []).append("EMAIL_OTP")
        return result

    return admin_get_user


# ----------------------------------------------------------------------------------- 9. UI


def _client_key(pool: Any, client_id: str | None) -> str:
    if client_id in (None, "ALL"):
        return "ALL"
    if client_id not in pool.clients:
        raise ResourceNotFoundError(MSG_CLIENT_NOT_FOUND.format(client=client_id))
    return client_id


def _ui_json(entry: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in entry.items() if k != "ImageBytes" and v is not None}


def _response_set_ui_customization(self: Any) -> ActionResult:
    pool = self.backend.describe_user_pool(self._get_param("UserPoolId"))
    if not _domains_of(pool.id, self.backend):
        raise InvalidParameterException(MSG_NO_DOMAIN_FOR_UI)
    key = _client_key(pool, self._get_param("ClientId"))
    css = self._get_param("CSS")
    image = self._get_param("ImageFile")
    if css is not None and len(css) > MAX_UI_BYTES:
        raise InvalidParameterException(MSG_VALIDATION_LENGTH_HIDDEN.format(path="cSS", limit=MAX_UI_BYTES))
    image_bytes = None
    if image is not None:
        try:
            image_bytes = base64.b64decode(image, validate=True)
        except (binascii.Error, ValueError):
            raise InvalidParameterException("ImageFile is not valid base64.") from None
        if len(image_bytes) > MAX_UI_BYTES:
            raise InvalidParameterException(MSG_VALIDATION_LENGTH_HIDDEN.format(path="imageFile", limit=MAX_UI_BYTES))
    state = _state(self.backend)
    with state.lock:
        state.versions += 1
        now = utcnow()
        version = f"{now:%Y%m%d%H%M%S}{state.versions:04d}"
        previous = state.ui.get((pool.id, key)) or {}
        host = hashlib.md5(pool.id.encode()).hexdigest()[:14]
        entry = {
            "UserPoolId": pool.id,
            "ClientId": key,
            "ImageUrl": (
                f"https://d{host}.cloudfront.net/{pool.id}/{key}/{version}/assets/images/image.jpg"
                if image_bytes
                else None
            ),
            "ImageBytes": image_bytes,
            "CSS": css,
            "CSSVersion": version,
            "LastModifiedDate": now,
            "CreationDate": previous.get("CreationDate", now),
        }
        state.ui[(pool.id, key)] = entry
    return ActionResult({"UICustomization": _ui_json(entry)})


def _response_get_ui_customization(self: Any) -> ActionResult:
    pool = self.backend.describe_user_pool(self._get_param("UserPoolId"))
    key = _client_key(pool, self._get_param("ClientId"))
    state = _state(self.backend)
    with state.lock:
        entry = state.ui.get((pool.id, key)) or state.ui.get((pool.id, "ALL"))
    # [BC] "Returns an empty object if you haven't applied hosted UI branding to either the client
    # or the user pool"; pool-level branding when the client has none.
    return ActionResult({"UICustomization": _ui_json(entry) if entry else {}})


# ----------------------------------------------------------------------------------- 9. risk

RISK_MEMBERS = (
    "CompromisedCredentialsRiskConfiguration",
    "AccountTakeoverRiskConfiguration",
    "RiskExceptionConfiguration",
)


def _risk_client(pool: Any, client_id: str | None) -> str | None:
    if client_id is None:
        return None
    if client_id not in pool.clients:
        raise ResourceNotFoundError(MSG_CLIENT_NOT_FOUND.format(client=client_id))
    return client_id


def _response_set_risk_configuration(self: Any) -> ActionResult:
    pool = self.backend.describe_user_pool(self._get_param("UserPoolId"))
    tier = pool.extended_config.get("UserPoolTier")
    mode = (pool.extended_config.get("UserPoolAddOns") or {}).get("AdvancedSecurityMode", "OFF")
    if tier != "PLUS" and mode == "OFF":
        raise _error("UserPoolAddOnNotEnabledException", MSG_ADDON_NOT_ENABLED)
    client = _risk_client(pool, self._get_param("ClientId"))
    members = {k: self._get_param(k) for k in RISK_MEMBERS if self._get_param(k) is not None}
    state = _state(self.backend)
    with state.lock:
        if not members:  # [BC] only the ids: back to the defaults / to the pool's settings
            state.risk.pop((pool.id, client), None)
            result: dict[str, Any] = {"UserPoolId": pool.id}
        else:
            result = {"UserPoolId": pool.id, **members, "LastModifiedDate": utcnow()}
            state.risk[(pool.id, client)] = result
        if client is not None:
            result["ClientId"] = client
    return ActionResult({"RiskConfiguration": dict(result)})


def _response_describe_risk_configuration(self: Any) -> ActionResult:
    pool = self.backend.describe_user_pool(self._get_param("UserPoolId"))
    client = _risk_client(pool, self._get_param("ClientId"))
    state = _state(self.backend)
    with state.lock:
        entry = state.risk.get((pool.id, client))
    result = dict(entry) if entry else {"UserPoolId": pool.id}
    if client is not None:
        result["ClientId"] = client
    return ActionResult({"RiskConfiguration": result})


# ----------------------------------------------------------------------------------- 9. links


def _identities(user: Any) -> list[dict[str, Any]]:
    raw = user.attribute_lookup.get("identities")
    try:
        value = json.loads(raw) if raw else []
    except ValueError:
        value = []
    return value if isinstance(value, list) else []


def _set_identities(user: Any, identities: list[dict[str, Any]]) -> None:
    if identities:  # compact, as Cognito writes it
        user.update_attributes([{"Name": "identities", "Value": json.dumps(identities, separators=(",", ":"))}])
    elif "identities" in user.attribute_lookup:
        user.delete_attributes(["identities"])


def _user_by_sub(pool: Any, sub: str) -> Any:
    return next((u for u in pool.users.values() if u.id == sub), None)


def _response_admin_link_provider_for_user(self: Any) -> ActionResult:
    """[BC] AdminLinkProviderForUser: DestinationUser must exist (ProviderName "Cognito" = a local
    username; otherwise a federated user ``<Provider>_<id>``); SourceUser is an external IdP of
    the pool; social IdPs need ProviderAttributeName ``Cognito_Subject``, OIDC/SAML a mapped user
    pool attribute or ``Cognito_Subject``; "All attributes in the DestinationUser profile must be
    mutable"; "The maximum number of federated identities linked to a user is five";
    AliasExistsException when the identity is linked already (to another user; re-linking the
    same pair is accepted: not verified)."""
    backend = self.backend
    pool = backend.describe_user_pool(self._get_param("UserPoolId"))
    destination = self._get_param("DestinationUser") or {}
    source: Any = self._get_param("SourceUser") or {}
    dest_provider = destination.get("ProviderName")
    dest_value = str(destination.get("ProviderAttributeValue", ""))
    if dest_provider == "Cognito":
        user = pool._get_user(dest_value)
    else:
        if dest_provider not in pool.identity_providers:
            raise InvalidParameterException(MSG_NO_PROVIDER.format(name=dest_provider, pool=pool.id))
        user = pool.users.get(f"{dest_provider}_{dest_value}")
    if not user:
        raise UserNotFoundError("User does not exist.")
    provider_name = source.get("ProviderName")
    attribute = source.get("ProviderAttributeName")
    value = str(source.get("ProviderAttributeValue", ""))
    if provider_name == "Cognito":
        raise InvalidParameterException(MSG_LINK_SOURCE_COGNITO)
    provider = pool.identity_providers.get(provider_name)
    if provider is None:
        raise InvalidParameterException(MSG_NO_PROVIDER.format(name=provider_name, pool=pool.id))
    provider_type = provider.extended_config.get("ProviderType")
    if provider_type in SOCIAL_PROVIDER_TYPES:
        if attribute != "Cognito_Subject":
            raise InvalidParameterException(MSG_LINK_SOCIAL_ATTRIBUTE.format(type=provider_type, name=provider_name))
    elif attribute != "Cognito_Subject" and attribute not in (provider.extended_config.get("AttributeMapping") or {}):
        raise InvalidParameterException(MSG_LINK_ATTRIBUTE_NOT_MAPPED.format(attribute=attribute, name=provider_name))
    for name in user.attribute_lookup:
        schema = pool.schema_attributes.get(name)
        if name != "sub" and schema is not None and not schema.mutable:
            raise InvalidParameterException(MSG_LINK_IMMUTABLE.format(attribute=name))
    state = _state(backend)
    key = (pool.id, provider_name, value)
    with state.lock:
        existing = state.links.get(key)
        if existing is not None:
            if existing["user_id"] != user.id:
                raise _error("AliasExistsException", MSG_LINK_EXISTS.format(provider=provider_name, value=value))
            return EmptyResult()
        if sum(1 for k, v in state.links.items() if k[0] == pool.id and v["user_id"] == user.id) >= MAX_LINKS_PER_USER:
            raise _error("LimitExceededException", MSG_LINK_LIMIT)
        created = int(time.time() * 1000)
        state.links[key] = {"user_id": user.id, "attribute": attribute, "created": created}
        identities = _identities(user)
        identities.append(
            {
                "userId": value,
                "providerName": provider_name,
                "providerType": provider_type,
                "issuer": None,
                "primary": False,
                "dateCreated": created,
            }
        )
        _set_identities(user, identities)
    return EmptyResult()


def _response_admin_disable_provider_for_user(self: Any) -> ActionResult:
    backend = self.backend
    pool = backend.describe_user_pool(self._get_param("UserPoolId"))
    target: Any = self._get_param("User") or {}
    provider_name = target.get("ProviderName")
    value = str(target.get("ProviderAttributeValue", ""))
    if provider_name == "Cognito":
        backend.admin_get_user(pool.id, value)  # a local user: must exist; nothing to unlink here
        return EmptyResult()
    if provider_name not in pool.identity_providers:
        raise InvalidParameterException(MSG_NO_PROVIDER.format(name=provider_name, pool=pool.id))
    state = _state(backend)
    with state.lock:
        link = state.links.pop((pool.id, provider_name, value), None)
        if link is None:
            if f"{provider_name}_{value}" in pool.users:
                return EmptyResult()
            raise UserNotFoundError("User does not exist.")
        user = _user_by_sub(pool, link["user_id"])
        if user is not None:
            _set_identities(
                user,
                [
                    i
                    for i in _identities(user)
                    if not (i.get("providerName") == provider_name and str(i.get("userId")) == value)
                ],
            )
    return EmptyResult()


# ----------------------------------------------------------------------------------- 9. tags


def _pool_by_arn(backend: Any, arn: str) -> Any:
    for pool in backend.user_pools.values():
        if pool.arn == arn:
            return pool
    raise ResourceNotFoundError(MSG_RESOURCE_NOT_FOUND.format(arn=arn))


def _response_tag_resource(self: Any) -> ActionResult:
    pool = _pool_by_arn(self.backend, self._get_param("ResourceArn"))
    tags = dict(pool.extended_config.get("UserPoolTags") or {})
    tags.update(self._get_param("Tags") or {})
    pool.extended_config["UserPoolTags"] = tags
    return EmptyResult()


def _response_untag_resource(self: Any) -> ActionResult:
    pool = _pool_by_arn(self.backend, self._get_param("ResourceArn"))
    tags = dict(pool.extended_config.get("UserPoolTags") or {})
    for key in self._get_param("TagKeys") or []:
        tags.pop(key, None)
    pool.extended_config["UserPoolTags"] = tags
    return EmptyResult()


def _response_list_tags_for_resource(self: Any) -> ActionResult:
    pool = _pool_by_arn(self.backend, self._get_param("ResourceArn"))
    return ActionResult({"Tags": dict(pool.extended_config.get("UserPoolTags") or {})})


# ----------------------------------------------------------------------------------- 10. messaging

# [REPORTED] aws-amplify/amplify-flutter#1328; awslabs/nx-plugin-for-aws#631 (a deleted role gets
# the same code and text). The rule is [BC] InvalidSmsRoleTrustRelationshipException ("you don't
# trust cognito-idp.amazonaws.com or the external ID ... does not match") and the developer guide's
# trust policy with aws:SourceArn / aws:SourceAccount (docs/messaging.md).
MSG_SMS_TRUST = "Role does not have a trust relationship allowing Cognito to assume the role"
# [REPORTED] OElesin/querypal#6 (CreateUserPool through CloudFormation).
MSG_SMS_PUBLISH = "Role does not have permission to publish with SNS"
# [REPORTED] InvalidParameterException with this text for a SourceArn that is no verified identity of its
# Region: aws/aws-cdk#18964 and #19787, aws-amplify/amplify-backend#3134 (an address of a domain verified
# only as a domain, named by an address ARN), all on CreateUserPool (docs/messaging.md). [BC] lists
# InvalidEmailRoleAccessPolicyException for "an unverified email address" too; real Cognito answers this.
MSG_EMAIL_NOT_VERIFIED = (
    "Cognito received the following error from Amazon SES when attempting to send email: Email address is not "
    "verified. The following identities failed the check in region {region}: {arn}"
)
# [REPORTED] NotAuthorizedException, aws/aws-cdk#25115 (a SourceArn without the identity name). An
# identity of another account gets it too [INFERRED from the text]: Cognito sends only from its own account's.
MSG_EMAIL_ARN_NOT_YOURS = "Email arn does not belong to your account."
# [REPORTED] aws/aws-cdk#9739 (InvalidParameterException).
MSG_DEFAULT_FROM = "Cannot configure From email address for default email configuration"
# [INFERRED] code and text: no public copy of Cognito's answer for a missing configuration set.
MSG_NO_CONFIGURATION_SET = "The SES configuration set {name} does not exist in {region}."


def _policy_statements(document: Any) -> list[dict[str, Any]]:
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except ValueError:
            return []
    statements = (document or {}).get("Statement") or []
    return [s for s in (statements if isinstance(statements, list) else [statements]) if isinstance(s, dict)]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _condition_holds(conditions: dict[str, Any], context: dict[str, str]) -> bool:
    """IAM condition operators Cognito SMS trust policies use (string and ARN matching)."""
    for operator, pairs in (conditions or {}).items():
        if_exists = operator.endswith("IfExists")
        base = operator.removesuffix("IfExists")
        for key, expected in (pairs or {}).items():
            actual = context.get(key.lower())
            if actual is None:
                if if_exists:
                    continue
                return False
            values = [str(v) for v in _as_list(expected)]
            if base in ("StringEquals", "ArnEquals"):
                ok = actual in values
            elif base in ("StringLike", "ArnLike"):
                ok = any(fnmatch.fnmatchcase(actual, v) for v in values)
            elif base in ("StringNotEquals", "ArnNotEquals"):
                ok = actual not in values
            elif base in ("StringNotLike", "ArnNotLike"):
                ok = not any(fnmatch.fnmatchcase(actual, v) for v in values)
            else:
                return False  # an operator this model does not know: refuse, as a safe default
            if not ok:
                return False
    return True


def _trusts_cognito(statement: dict[str, Any], context: dict[str, str]) -> bool:
    principal = statement.get("Principal")
    services = _as_list(principal.get("Service")) if isinstance(principal, dict) else [principal]
    actions = [str(a).lower() for a in _as_list(statement.get("Action"))]
    return (
        ("*" in services or "cognito-idp.amazonaws.com" in services)
        and any(a in ("sts:assumerole", "sts:*", "*") for a in actions)
        and _condition_holds(statement.get("Condition") or {}, context)
    )


def _allows_sns_publish(role: Any) -> bool:
    documents = list(role.policies.values())
    for policy in role.managed_policies.values():
        documents.extend(v.document for v in getattr(policy, "versions", []) if v.is_default)
    for document in documents:
        for statement in _policy_statements(document):
            actions = [str(a).lower() for a in _as_list(statement.get("Action"))]
            resources = _as_list(statement.get("Resource"))
            # Cognito publishes to phone numbers, which have no ARN: only Resource "*" allows it.
            if (
                statement.get("Effect") == "Allow"
                and any(fnmatch.fnmatchcase("sns:publish", a) for a in actions)
                and "*" in resources
            ):
                return True
    return False


def _check_sms_role(pool_arn: str, sms: dict[str, Any] | None) -> None:
    """Cognito assumes the SMS role for the pool: the role exists, trusts cognito-idp.amazonaws.com
    with the pool's ExternalId, aws:SourceArn (the pool) and aws:SourceAccount, and may publish."""
    if not sms or not sms.get("SnsCallerArn"):
        return
    from moto.iam.models import iam_backends  # here: moto's IAM is only needed for pools with SMS

    partition, account = pool_arn.split(":")[1], pool_arn.split(":")[4]
    try:
        role = iam_backends[account][partition].get_role_by_arn(sms["SnsCallerArn"])
    except Exception:  # noqa: BLE001 - moto's NotFoundException: Cognito reports a missing role as untrusted
        raise _error("InvalidSmsRoleTrustRelationshipException", MSG_SMS_TRUST) from None
    context = {"aws:sourcearn": pool_arn, "aws:sourceaccount": account}
    if sms.get("ExternalId"):
        context["sts:externalid"] = str(sms["ExternalId"])
    statements = _policy_statements(role.assume_role_policy_document)
    denied = any(s.get("Effect") == "Deny" and _trusts_cognito(s, context) for s in statements)
    if denied or not any(s.get("Effect") == "Allow" and _trusts_cognito(s, context) for s in statements):
        raise _error("InvalidSmsRoleTrustRelationshipException", MSG_SMS_TRUST)
    if not _allows_sns_publish(role):
        raise _error("InvalidSmsRoleAccessPolicyException", MSG_SMS_PUBLISH)


def _ses_identity_verified(backend: Any, identity: str) -> bool:
    identities = backend.email_identities
    return identity in identities or ("@" in identity and identity.split("@", 1)[1].lower() in identities)


def _check_email_configuration(pool_arn: str, email: dict[str, Any] | None) -> None:
    """The SES identity must be verified in its Region (this account), the configuration set must
    exist, and COGNITO_DEFAULT takes no From address."""
    if not email:
        return
    from moto.ses.models import ses_backends

    account, pool_region = pool_arn.split(":")[4], pool_arn.split(":")[3]
    developer = email.get("EmailSendingAccount") == "DEVELOPER"
    if not developer and email.get("From"):
        raise InvalidParameterException(MSG_DEFAULT_FROM)
    source = email.get("SourceArn")
    if source:
        parts = source.split(":", 5)
        region = parts[3] if len(parts) == 6 else ""
        identity = parts[5].removeprefix("identity/") if len(parts) == 6 and parts[5].startswith("identity/") else ""
        if not region or not identity or parts[4] != account:
            raise _error("NotAuthorizedException", MSG_EMAIL_ARN_NOT_YOURS)
        if not _ses_identity_verified(ses_backends[account][region], identity):
            raise InvalidParameterException(MSG_EMAIL_NOT_VERIFIED.format(region=region.upper(), arn=source))
    name = email.get("ConfigurationSet")
    if developer and name and name not in ses_backends[account][pool_region].config_sets:
        raise InvalidParameterException(MSG_NO_CONFIGURATION_SET.format(name=name, region=pool_region))


def _check_messaging(pool_arn: str, config: dict[str, Any]) -> None:
    _check_sms_role(pool_arn, config.get("SmsConfiguration"))
    _check_email_configuration(pool_arn, config.get("EmailConfiguration"))


def _make_set_user_pool_mfa_config(original: Callable) -> Callable:
    def set_user_pool_mfa_config(
        self: Any, user_pool_id: str, sms_config: dict[str, Any], token_config: dict[str, bool], mfa_config: str
    ) -> dict[str, Any]:
        pool = self.describe_user_pool(user_pool_id)
        _check_sms_role(pool.arn, (sms_config or {}).get("SmsConfiguration"))
        return original(self, user_pool_id, sms_config, token_config, mfa_config)

    return set_user_pool_mfa_config


# ----------------------------------------------------------------------------------- atomicity

_CALL_LOCK = threading.RLock()


def _make_call_action(original: Callable) -> Callable:
    """One Cognito request at a time. Each Cognito API call is atomic; moto's are not: the
    emulator runs handlers in threads, and moto iterates ``pool.users`` (e.g. the
    UsernameAttributes lookup of AdminCreateUser/AdminGetUser) while another thread inserts a
    user -> ``RuntimeError: OrderedDict mutated during iteration`` (seen without this layer)."""

    def call_action(self: Any) -> Any:
        with _CALL_LOCK:
            return original(self)

    return call_action


# ----------------------------------------------------------------------------------- installer


def _patches() -> list[Any]:
    def wrap(cls: type, name: str, factory: Callable[[Callable], Callable]) -> Any:
        return mock.patch.object(cls, name, factory(getattr(cls, name)))

    def add(name: str, function: Callable) -> Any:
        return mock.patch.object(Response, name, function, create=True)

    return [
        wrap(Response, "call_action", _make_call_action),
        wrap(Backend, "admin_confirm_sign_up", _make_admin_confirm_sign_up),
        wrap(Backend, "create_user_pool", _make_create_user_pool),
        wrap(Backend, "add_custom_attributes", _make_add_custom_attributes),
        wrap(Backend, "update_user_pool", _make_update_user_pool),
        wrap(Backend, "delete_user_pool", _make_delete_user_pool),
        wrap(Backend, "set_user_pool_mfa_config", _make_set_user_pool_mfa_config),
        wrap(UserPool, "to_json", _make_pool_to_json),
        wrap(Backend, "admin_create_user", _make_admin_create_user),
        wrap(Backend, "create_user_pool_client", _make_create_user_pool_client),
        wrap(Backend, "update_user_pool_client", _make_update_user_pool_client),
        wrap(Backend, "create_user_pool_domain", _make_create_user_pool_domain),
        wrap(Backend, "delete_user_pool_domain", _make_delete_user_pool_domain),
        wrap(Response, "admin_get_user", _make_response_admin_get_user),
        add("create_user_pool_domain", _response_create_user_pool_domain),
        add("describe_user_pool_domain", _response_describe_user_pool_domain),
        add("admin_set_user_mfa_preference", _response_admin_set_user_mfa_preference),
        add("set_ui_customization", _response_set_ui_customization),
        add("get_ui_customization", _response_get_ui_customization),
        add("set_risk_configuration", _response_set_risk_configuration),
        add("describe_risk_configuration", _response_describe_risk_configuration),
        add("admin_link_provider_for_user", _response_admin_link_provider_for_user),
        add("admin_disable_provider_for_user", _response_admin_disable_provider_for_user),
        add("tag_resource", _response_tag_resource),
        add("untag_resource", _response_untag_resource),
        add("list_tags_for_resource", _response_list_tags_for_resource),
    ]


_INSTALL_LOCK = threading.Lock()
_installed: list[Any] = []
_depth = 0


def install() -> None:
    """Install the patches (reference counted: only the first call patches)."""
    global _depth
    with _INSTALL_LOCK:
        if _depth == 0:
            patches = _patches()
            try:
                for p in patches:
                    p.start()
                    _installed.append(p)
            except BaseException:
                while _installed:
                    _installed.pop().stop()
                raise
        _depth += 1


def uninstall() -> None:
    """Undo one ``install()``; the last one removes the patches."""
    global _depth
    with _INSTALL_LOCK:
        if _depth == 0:
            return
        _depth -= 1
        if _depth == 0:
            while _installed:
                _installed.pop().stop()


def is_installed() -> bool:
    return _depth > 0


class StrictCognito:
    """Guard returned by ``strict_cognito()``: a context manager, or ``start()`` / ``stop()``."""

    def __init__(self) -> None:
        self._active = False

    def start(self) -> StrictCognito:
        if not self._active:
            install()
            self._active = True
        return self

    def stop(self) -> None:
        if self._active:
            self._active = False
            uninstall()

    def __enter__(self) -> StrictCognito:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def strict_cognito() -> StrictCognito:
    """``with strict_cognito(): ...`` - moto's Cognito behaves like real Cognito (see module doc)."""
    return StrictCognito()
