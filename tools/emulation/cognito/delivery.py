"""Messages to users (11.): SignUp as strict as Cognito, and every call that would send an e-mail or SMS counted.

A restore must never write to a user. moto sends nothing, so a call that would have sent an e-mail
or SMS in AWS passes unnoticed; here each one is recorded in the backend's side store
(``messages_sent()``), so a test can assert that a whole restore sent none:

* AdminCreateUser without ``MessageAction: SUPPRESS`` (the invitation; RESEND too);
* SignUp while the pool auto-verifies an attribute the user has (the confirmation code);
* AdminUpdateUserAttributes / UpdateUserAttributes changing ``email`` / ``phone_number`` while the
  pool auto-verifies it, unless the same call sets its verified flag true (the verification code);
* AdminResetUserPassword, ResendConfirmationCode, ForgotPassword (a code, whenever they succeed).

SignUp (moto accepts almost any request): refused with NotAuthorizedException when the pool allows
only administrators to create users, when the client has a secret and SecretHash is missing or
wrong, when an attribute is not writable by the client (the verification flags and developer-only
attributes never are); InvalidParameterException for attributes absent from the schema or a
required attribute left out; InvalidPasswordException for the pool's password policy.
ResendConfirmationCode (moto lacks it) is implemented: the user must exist and be UNCONFIRMED.
Sources: docs/cognito-behaviours.md §2.5 and §2.9.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable
from typing import Any

from moto.cognitoidp.exceptions import InvalidParameterException, ResourceNotFoundError
from moto.cognitoidp.models import cognitoidp_backends
from moto.core.responses import ActionResult

from tools.emulation.cognito.common import Attribute, declared_attributes, error, flag_true, side_store
from tools.emulation.cognito.messages import (
    MSG_ALREADY_CONFIRMED,
    MSG_CANNOT_RESEND,
    MSG_NOT_IN_SCHEMA,
    MSG_PASSWORD,
    MSG_PASSWORD_REQUIRED,
    MSG_REQUIRED_ATTRIBUTE,
    MSG_SECRET_HASH_MISSING,
    MSG_SECRET_HASH_WRONG,
    MSG_SIGN_UP_NOT_PERMITTED,
    MSG_UNAUTHORIZED_ATTRIBUTE,
    MSG_USER_NOT_FOUND,
    UNWRITABLE_BY_CLIENTS,
)

CONTACTS = (("email", "email_verified"), ("phone_number", "phone_number_verified"))


# ----------------------------------------------------------------------------------- the counter


def record(backend: Any, operation: str, pool_id: str, why: str) -> None:
    state = side_store(backend)
    with state.lock:
        state.messages.append({"operation": operation, "pool": pool_id, "why": why})


def message_log(pool_id: str | None = None) -> list[dict[str, str]]:
    """Every call that would have sent a message, in every account and Region (moto's reset clears them)."""
    found: list[dict[str, str]] = []
    for by_region in list(cognitoidp_backends.values()):
        for backend in list(by_region.values()):
            state = side_store(backend)
            with state.lock:
                found.extend(dict(m) for m in state.messages if pool_id is None or m["pool"] == pool_id)
    return found


def messages_sent(pool_id: str | None = None) -> int:
    return len(message_log(pool_id))


def _auto_verified(pool: Any) -> list[str]:
    return list(pool.extended_config.get("AutoVerifiedAttributes") or [])


# ----------------------------------------------------------------------------------- SignUp


def _pool_of_client(backend: Any, client_id: str) -> Any:
    return next((p for p in backend.user_pools.values() if client_id in p.clients), None)


def secret_hash(client_secret: str, username: str, client_id: str) -> str:
    """Cognito's SecretHash: Base64(HMAC-SHA256(client secret, username + client id))."""
    digest = hmac.new(client_secret.encode(), (username + client_id).encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def writable_by_client(pool: Any, client: Any) -> set[str]:
    """What the client may write: its WriteAttributes, else the standard attributes only ([BC]
    UserPoolClientType.WriteAttributes: "When you don't specify the WriteAttributes for your app
    client, your app can write the values of the Standard attributes"); never the verification
    flags, ``sub`` or developer-only attributes (only admin calls write those)."""
    explicit = client.extended_config.get("WriteAttributes") or []
    names = set(explicit) if explicit else set(Attribute.STANDARD_SCHEMA)
    return {n for n in names if n not in UNWRITABLE_BY_CLIENTS and not n.startswith("dev:")}


def _password_problem(pool: Any, password: str) -> str | None:
    from tools.emulation.cognito.rules import _password_problem as problem  # one policy check for every call

    return problem(pool, password)


def check_sign_up(pool: Any, client: Any, params: dict[str, Any]) -> None:
    client_id = client.id
    if (pool.extended_config.get("AdminCreateUserConfig") or {}).get("AllowAdminCreateUserOnly"):
        raise error("NotAuthorizedException", MSG_SIGN_UP_NOT_PERMITTED)
    if client.generate_secret:
        given = params.get("SecretHash")
        if not given:
            raise error("NotAuthorizedException", MSG_SECRET_HASH_MISSING.format(client=client_id))
        if not hmac.compare_digest(given, secret_hash(client.secret, params.get("Username") or "", client_id)):
            raise error("NotAuthorizedException", MSG_SECRET_HASH_WRONG.format(client=client_id))
    attributes = params.get("UserAttributes") or []
    declared = declared_attributes(pool)
    unknown = [str(a.get("Name")) for a in attributes if a.get("Name") not in declared]
    if unknown:
        raise InvalidParameterException("\n".join(MSG_NOT_IN_SCHEMA.format(name=n) for n in unknown))
    writable = writable_by_client(pool, client)
    if any(a.get("Name") not in writable for a in attributes):
        raise error("NotAuthorizedException", MSG_UNAUTHORIZED_ATTRIBUTE)
    present = {a.get("Name") for a in attributes if a.get("Value")}
    present |= set(pool.extended_config.get("UsernameAttributes") or [])  # the Username fills it
    for name, attribute in pool.schema_attributes.items():
        if attribute.required and name != "sub" and name not in present:  # Cognito sets sub
            raise InvalidParameterException(MSG_REQUIRED_ATTRIBUTE.format(name=name))
    password = params.get("Password")
    if not password:
        raise InvalidParameterException(MSG_PASSWORD_REQUIRED)
    problem = _password_problem(pool, password)
    if problem:
        raise error("InvalidPasswordException", MSG_PASSWORD.format(reason=problem))


def make_response_sign_up(original: Callable) -> Callable:
    def sign_up(self: Any) -> Any:
        client_id = self._get_param("ClientId")
        backend = self._get_region_agnostic_backend()._find_backend_for_clientid(client_id)
        pool = _pool_of_client(backend, client_id)
        if pool is None:
            raise ResourceNotFoundError(client_id)
        params = {k: self._get_param(k) for k in ("Username", "Password", "SecretHash", "UserAttributes")}
        check_sign_up(pool, pool.clients[client_id], params)
        result = original(self)
        user = pool._get_user(params["Username"])
        values = user.attribute_lookup if user is not None else {}
        sent = [a for a in _auto_verified(pool) if values.get(a)]
        if sent:
            record(backend, "SignUp", pool.id, f"confirmation code to the auto-verified {sent[0]}")
        return result

    return sign_up


def response_resend_confirmation_code(self: Any) -> ActionResult:
    client_id = self._get_param("ClientId")
    backend = self._get_region_agnostic_backend()._find_backend_for_clientid(client_id)
    pool = _pool_of_client(backend, client_id)
    if pool is None:
        raise ResourceNotFoundError(client_id)
    client = pool.clients[client_id]
    if client.generate_secret:
        given = self._get_param("SecretHash")
        if not given:
            raise error("NotAuthorizedException", MSG_SECRET_HASH_MISSING.format(client=client_id))
        if not hmac.compare_digest(given, secret_hash(client.secret, self._get_param("Username") or "", client_id)):
            raise error("NotAuthorizedException", MSG_SECRET_HASH_WRONG.format(client=client_id))
    user = pool._get_user(self._get_param("Username"))
    if user is None:
        raise error("UserNotFoundException", MSG_USER_NOT_FOUND)
    if getattr(user.status, "value", user.status) != "UNCONFIRMED":
        raise InvalidParameterException(MSG_ALREADY_CONFIRMED)
    # Cognito sends the code to an attribute it auto-verifies (phone first, as at sign-up).
    medium = next(
        (a for a in ("phone_number", "email") if a in _auto_verified(pool) and user.attribute_lookup.get(a)), None
    )
    if medium is None:
        raise InvalidParameterException(MSG_CANNOT_RESEND)
    record(backend, "ResendConfirmationCode", pool.id, f"confirmation code to {medium}")
    return ActionResult(
        {
            "CodeDeliveryDetails": {
                "Destination": "***",
                "DeliveryMedium": "SMS" if medium == "phone_number" else "EMAIL",
                "AttributeName": medium,
            }
        }
    )


# ----------------------------------------------------------------------------------- the other senders


def make_admin_create_user_counted(original: Callable) -> Callable:
    def admin_create_user(
        self: Any,
        user_pool_id: str,
        username: str,
        message_action: str,
        temporary_password: str,
        attributes: list[dict[str, str]],
    ) -> Any:
        user = original(self, user_pool_id, username, message_action, temporary_password, attributes)
        if message_action != "SUPPRESS":
            record(self, "AdminCreateUser", user_pool_id, f"invitation (MessageAction {message_action or 'omitted'})")
        return user

    return admin_create_user


def _changed_contacts(pool: Any, user: Any, attributes: list[dict[str, str]]) -> list[str]:
    """Contacts the call changes that the pool would verify with a code (no verified flag set true with it)."""
    new = {a.get("Name"): a.get("Value") for a in attributes or []}
    auto = _auto_verified(pool)
    return [
        contact
        for contact, flag in CONTACTS
        if contact in new
        and new[contact]
        and new[contact] != user.attribute_lookup.get(contact)
        and contact in auto
        and not flag_true(new.get(flag))
    ]


def make_admin_update_user_attributes_counted(original: Callable) -> Callable:
    def admin_update_user_attributes(
        self: Any, user_pool_id: str, username: str, attributes: list[dict[str, str]]
    ) -> None:
        pool = self.describe_user_pool(user_pool_id)
        user = self.admin_get_user(user_pool_id, username)
        changed = _changed_contacts(pool, user, attributes)
        original(self, user_pool_id, username, attributes)
        for contact in changed:
            record(self, "AdminUpdateUserAttributes", user_pool_id, f"verification code to the new {contact}")

    return admin_update_user_attributes


def make_update_user_attributes_counted(original: Callable) -> Callable:
    def update_user_attributes(self: Any, access_token: str, attributes: list[dict[str, str]]) -> None:
        changed: list[str] = []
        pool_id = ""
        for pool in self.user_pools.values():
            if access_token in pool.access_tokens:
                _, username = pool.access_tokens[access_token]
                changed, pool_id = _changed_contacts(pool, self.admin_get_user(pool.id, username), attributes), pool.id
        original(self, access_token, attributes)
        for contact in changed:
            record(self, "UpdateUserAttributes", pool_id, f"verification code to the new {contact}")

    return update_user_attributes


def make_admin_reset_user_password_counted(original: Callable) -> Callable:
    def admin_reset_user_password(self: Any, user_pool_id: str, username: str) -> None:
        original(self, user_pool_id, username)
        record(self, "AdminResetUserPassword", user_pool_id, "password reset code")

    return admin_reset_user_password


def make_forgot_password_counted(original: Callable) -> Callable:
    def forgot_password(self: Any, client_id: str, username: str) -> Any:
        result = original(self, client_id, username)
        pool = _pool_of_client(self, client_id)
        record(self, "ForgotPassword", pool.id if pool is not None else "", "password reset code")
        return result

    return forgot_password
