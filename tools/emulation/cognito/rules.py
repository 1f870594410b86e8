"""Validation rules: moto's Cognito operations refuse what real Cognito refuses.

Wrappers of ``CognitoIdpBackend`` methods (``make_<operation>(original)`` returns the wrapper; the
installer in ``__init__.py`` patches them in). Numbers are the sections of the package doc:
1. AdminConfirmSignUp; 2./5. pools (schema, alias/username, validity days, DescribeUserPool's
schema and domains, UpdateUserPool, DeletionProtection); 3. AdminCreateUser; 4. app clients;
6. domain creation.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from moto.cognitoidp import models as _models
from moto.cognitoidp.exceptions import InvalidParameterException, NotAuthorizedError, ResourceNotFoundError
from moto.core.exceptions import JsonRESTError
from moto.core.utils import utcnow

from tools.emulation.cognito.common import (
    Attribute,
    declared_attributes,
    domains_of,
    error,
    flag_true,
    forget_pool,
    is_custom_domain,
    is_standard,
    side_store,
)
from tools.emulation.cognito.messages import (
    CLIENT_ATTRIBUTE_SHORTHANDS,
    CLIENT_SECRET_PATTERN,
    IMMUTABLE_POOL_SETTINGS,
    MAX_ATTRIBUTE_NAME,
    MAX_CUSTOM_ATTRIBUTES,
    MSG_ALIAS_AND_USERNAME,
    MSG_CANNOT_CONFIRM,
    MSG_DELETION_PROTECTION,
    MSG_DOMAIN_TAKEN,
    MSG_INVALID_READ,
    MSG_INVALID_WRITE,
    MSG_NO_PROVIDER,
    MSG_NO_SCOPE,
    MSG_NON_MUTABLE,
    MSG_NOT_IN_SCHEMA,
    MSG_PASSWORD,
    MSG_POOL_HAS_DOMAIN,
    MSG_RESERVED_WORD,
    MSG_SECRET_AND_GENERATE,
    MSG_TOO_MANY_CUSTOM,
    MSG_UNUSED_ACCOUNT_DAYS,
    MSG_VALIDATION_LENGTH,
    MSG_VALIDATION_LENGTH_HIDDEN,
    MSG_VALIDATION_PATTERN,
    MSG_VALIDATION_PATTERN_HIDDEN,
    MSG_VERIFIED_WITHOUT_VALUE,
    PREFIX_DOMAIN_PATTERN,
    RESERVED_DOMAIN_WORDS,
    STANDARD_SCOPES,
    SYMBOLS,
    UNWRITABLE_BY_CLIENTS,
)
from tools.emulation.cognito.messaging import check_messaging


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
    return sum(1 for name in pool.schema_attributes if not is_standard(name))


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


def make_admin_confirm_sign_up(original: Callable) -> Callable:
    def admin_confirm_sign_up(self: Any, user_pool_id: str, username: str) -> str:
        user = self.admin_get_user(user_pool_id, username)
        status = getattr(user.status, "value", user.status)
        if status != "UNCONFIRMED":
            raise NotAuthorizedError(MSG_CANNOT_CONFIRM.format(status=status))
        return original(self, user_pool_id, username)

    return admin_confirm_sign_up


# ----------------------------------------------------------------------------------- 2./5. pools


def make_create_user_pool(original: Callable) -> Callable:
    def create_user_pool(self: Any, name: str, extended_config: dict[str, Any]) -> Any:
        config = extended_config or {}
        if config.get("AliasAttributes") and config.get("UsernameAttributes"):
            raise InvalidParameterException(MSG_ALIAS_AND_USERNAME)
        _check_validity_days(config)
        schema = config.get("Schema") or []
        _check_schema_names(schema, "schema")
        if sum(1 for entry in schema if not is_standard(str(entry.get("Name")))) > MAX_CUSTOM_ATTRIBUTES:
            raise InvalidParameterException(MSG_TOO_MANY_CUSTOM)
        pool = original(self, name, extended_config)
        try:
            # Cognito checks the SMS role for the pool being created: the aws:SourceArn it presents
            # is the new pool's ARN, which no trust policy can name exactly in advance (docs/messaging.md).
            check_messaging(pool.arn, config)
        except JsonRESTError:
            del self.user_pools[pool.id]
            raise
        _complete_schema(pool)
        pool.extended_config.setdefault("UserPoolTier", "ESSENTIALS")  # [BC] "Defaults to ESSENTIALS"
        pool.extended_config.setdefault("DeletionProtection", "INACTIVE")
        return pool

    return create_user_pool


def make_add_custom_attributes(original: Callable) -> Callable:
    def add_custom_attributes(self: Any, user_pool_id: str, custom_attributes: list[dict[str, Any]]) -> None:
        pool = self.describe_user_pool(user_pool_id)
        _check_schema_names(custom_attributes or [], "customAttributes")
        if _custom_count(pool) + len(custom_attributes or []) > MAX_CUSTOM_ATTRIBUTES:
            raise InvalidParameterException(MSG_TOO_MANY_CUSTOM)
        return original(self, user_pool_id, custom_attributes)

    return add_custom_attributes


def make_update_user_pool(original: Callable) -> Callable:
    def update_user_pool(self: Any, user_pool_id: str, extended_config: dict[str, Any]) -> None:
        pool = self.describe_user_pool(user_pool_id)
        config = dict(extended_config or {})
        _check_validity_days(config)
        kept = {k: pool.extended_config[k] for k in IMMUTABLE_POOL_SETTINGS if k in pool.extended_config}
        if "UserPoolTier" not in config and "UserPoolTier" in pool.extended_config:
            config["UserPoolTier"] = pool.extended_config["UserPoolTier"]  # the one exception [BC]
        config.pop("UserPoolId", None)
        check_messaging(pool.arn, config)
        # moto: extended_config = defaults + request (omitted settings reset, as in Cognito) but the
        # creation-only settings are lost; and MfaConfiguration lives apart (pool.mfa_config).
        original(self, user_pool_id, config)
        pool.extended_config.update(kept)
        pool.extended_config.setdefault("DeletionProtection", "INACTIVE")
        pool.mfa_config = config.get("MfaConfiguration") or "OFF"
        pool.last_modified_date = utcnow()

    return update_user_pool


def make_delete_user_pool(original: Callable) -> Callable:
    def delete_user_pool(self: Any, user_pool_id: str) -> None:
        pool = self.describe_user_pool(user_pool_id)
        if pool.extended_config.get("DeletionProtection") == "ACTIVE":
            raise InvalidParameterException(MSG_DELETION_PROTECTION)
        original(self, user_pool_id)
        forget_pool(self, user_pool_id)

    return delete_user_pool


def make_pool_to_json(original: Callable) -> Callable:
    def to_json(self: Any, extended: bool = False) -> dict[str, Any]:
        result = original(self, extended)
        result.pop("Domain", None)
        result.pop("CustomDomain", None)
        for domain in domains_of(self.id, self.backend):
            result["CustomDomain" if is_custom_domain(domain) else "Domain"] = domain.domain
        return result

    return to_json


# ----------------------------------------------------------------------------------- 3. users


def _check_new_user_attributes(pool: Any, attributes: list[dict[str, Any]]) -> None:
    declared = declared_attributes(pool)
    unknown = []
    for attribute in attributes:
        name = str(attribute.get("Name"))
        if name == "sub":
            raise InvalidParameterException(MSG_NON_MUTABLE.format(name=name))
        if name not in declared:
            unknown.append(name)
    if unknown:
        raise InvalidParameterException("\n".join(MSG_NOT_IN_SCHEMA.format(name=n) for n in unknown))


def make_admin_create_user(original: Callable) -> Callable:
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
                raise error("InvalidPasswordException", MSG_PASSWORD.format(reason=problem))
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
            if flag_true(flat.get(flag)) and not flat.get(attribute):
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
    known = declared_attributes(pool) | CLIENT_ATTRIBUTE_SHORTHANDS
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
            raise error("ScopeDoesNotExistException", MSG_NO_SCOPE.format(scope=scope))


def make_create_user_pool_client(original: Callable) -> Callable:
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


def make_update_user_pool_client(original: Callable) -> Callable:
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


def make_create_user_pool_domain(original: Callable) -> Callable:
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
        if any(is_custom_domain(d) == custom for d in domains_of(user_pool_id, self)):
            raise InvalidParameterException(MSG_POOL_HAS_DOMAIN)
        created = original(self, user_pool_id, domain, custom_domain_config)
        state = side_store(self)
        with state.lock:
            state.domain_describes[domain] = 0
        return created

    return create_user_pool_domain


def make_delete_user_pool_domain(original: Callable) -> Callable:
    def delete_user_pool_domain(self: Any, domain: str) -> None:
        original(self, domain)
        state = side_store(self)
        with state.lock:
            state.domain_describes.pop(domain, None)
            state.managed_login.pop(domain, None)

    return delete_user_pool_domain
