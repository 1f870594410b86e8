"""Strict Cognito: moto's Cognito user pools (moto 5.2.5) refuse what real Amazon Cognito refuses.

moto accepts many requests that Cognito rejects, so code can pass its tests and fail in AWS.
This package patches ``moto.cognitoidp`` (the backend and the response handlers) while it is
installed, so boto3 sees real ``ClientError`` codes and messages::

    with mock_aws(), strict_cognito():
        cognito = boto3.client("cognito-idp", region_name="us-east-1")
        ...

``strict_cognito()`` returns a ``StrictCognito`` guard (context manager, or ``start()`` /
``stop()``). Installation is process-wide and reference counted (nested use is harmless).
``tools.emulation.RestoreStack`` installs it for every stack (``StrictCognitoExtension``) unless
``strict_cognito=False``.

The modules: ``rules.py`` (validation: what Cognito refuses), ``features.py`` (the in-memory
features moto lacks), ``messaging.py`` (the SMS role and SES identity checks), ``messages.py``
(Cognito's texts and limits, each with its source), ``common.py`` (the side store and shared
helpers); this file installs them. Sources of the behaviours and messages: sections of
``docs/cognito-behaviours.md``; each departure from plain moto has a test in
``tests/unit/test_moto_departures.py``, each behaviour one in ``tests/unit/test_strict_cognito.py``.

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
   AdminLinkProviderForUser, AdminDisableProviderForUser, Tag/Untag/ListTagsForResource,
   UpdateResourceServer (name and scopes; omitted scopes are removed).
10. Messaging: CreateUserPool / UpdateUserPool / SetUserPoolMfaConfig check the SMS role the way
   Cognito assumes it (role exists in moto's IAM, trusts ``cognito-idp.amazonaws.com``, its
   conditions on ``sts:ExternalId``, ``aws:SourceArn`` = the pool, ``aws:SourceAccount`` hold,
   it allows ``sns:Publish`` on ``*``), the SES identity of ``EmailConfiguration.SourceArn`` is
   this account's (NotAuthorizedException) and verified in its Region (InvalidParameterException, the
   text real Cognito gives), a DEVELOPER configuration set exists, COGNITO_DEFAULT has no ``From``.
11. The settings of backup format v2 (``features_v2.py``): SetUserPoolMfaConfig /
   GetUserPoolMfaConfig with e-mail MFA (Essentials/Plus, SES DEVELOPER sending, ``{####}``) and
   WebAuthn (tier, enums, relying party id a host name, an amazoncognito.com one only this pool's
   prefix domain), OFF with a factor / ON without one refused with Cognito's texts; managed login
   branding (one style per client, 40 assets of at most 1,000,000 bytes, 2 MB requests, updates
   keep what they omit); terms (names and links per the model, unique per client); log delivery
   (event source / level / destination rules, destinations exist in this account, Plus for
   userAuthEvents); CreateUserPoolDomain ``ManagedLoginVersion`` 1 or 2, 2 not on Lite.

12. ListUsers with a ``sub = / ^=`` filter is served from a sorted index, in sub order, with an
   opaque token (``listing.py``): the producer's shards of a million-user pool in seconds.
13. Messages to users (``delivery.py``): every call that would send an e-mail or SMS is counted
   (``messages_sent()`` / ``message_log()``, also on the guard and on ``RestoreStack``):
   AdminCreateUser without SUPPRESS, SignUp while the pool auto-verifies, attribute updates changing
   an auto-verified contact without setting its flag, AdminResetUserPassword,
   ResendConfirmationCode (implemented: moto lacks it), ForgotPassword. SignUp is refused when the
   pool allows only administrators to create users, without the client's SecretHash, for
   attributes the client may not write, absent from the schema or required and missing, and for
   the password policy.

Also: generated client secrets look like Cognito's (moto: a hyphenated UUID that Cognito's own
ClientSecret pattern refuses), and Cognito requests are served one at a time (moto's are not
atomic: concurrent handlers crashed moto with "OrderedDict mutated during iteration").
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from unittest import mock

from tools.emulation.cognito.common import Backend, Response, UserPool
from tools.emulation.cognito.delivery import (
    make_admin_create_user_counted,
    make_admin_reset_user_password_counted,
    make_admin_update_user_attributes_counted,
    make_forgot_password_counted,
    make_response_sign_up,
    make_update_user_attributes_counted,
    message_log,
    messages_sent,
    response_resend_confirmation_code,
)
from tools.emulation.cognito.features import (
    make_response_admin_get_user,
    response_admin_disable_provider_for_user,
    response_admin_link_provider_for_user,
    response_admin_set_user_mfa_preference,
    response_create_user_pool_domain,
    response_describe_risk_configuration,
    response_describe_user_pool_domain,
    response_get_ui_customization,
    response_list_tags_for_resource,
    response_set_risk_configuration,
    response_set_ui_customization,
    response_tag_resource,
    response_untag_resource,
    response_update_resource_server,
)
from tools.emulation.cognito.features_v2 import OPERATIONS as V2_OPERATIONS
from tools.emulation.cognito.listing import make_list_users
from tools.emulation.cognito.messaging import make_set_user_pool_mfa_config
from tools.emulation.cognito.rules import (
    make_add_custom_attributes,
    make_admin_confirm_sign_up,
    make_admin_create_user,
    make_create_user_pool,
    make_create_user_pool_client,
    make_create_user_pool_domain,
    make_delete_user_pool,
    make_delete_user_pool_domain,
    make_pool_to_json,
    make_update_user_pool,
    make_update_user_pool_client,
)
from tools.emulation.extensions import Extension

if TYPE_CHECKING:
    from tools.emulation.stack import RestoreStack

# ----------------------------------------------------------------------------------- atomicity

_CALL_LOCK = threading.RLock()


def make_call_action(original: Callable) -> Callable:
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
        wrap(Response, "call_action", make_call_action),
        wrap(Backend, "admin_confirm_sign_up", make_admin_confirm_sign_up),
        wrap(Backend, "create_user_pool", make_create_user_pool),
        wrap(Backend, "add_custom_attributes", make_add_custom_attributes),
        wrap(Backend, "update_user_pool", make_update_user_pool),
        wrap(Backend, "delete_user_pool", make_delete_user_pool),
        wrap(Backend, "set_user_pool_mfa_config", make_set_user_pool_mfa_config),
        wrap(UserPool, "to_json", make_pool_to_json),
        # Two wrappers of one method compose (each wrap reads the unpatched original).
        wrap(Backend, "admin_create_user", lambda o: make_admin_create_user_counted(make_admin_create_user(o))),
        wrap(Backend, "admin_update_user_attributes", make_admin_update_user_attributes_counted),
        wrap(Backend, "update_user_attributes", make_update_user_attributes_counted),
        wrap(Backend, "admin_reset_user_password", make_admin_reset_user_password_counted),
        wrap(Backend, "forgot_password", make_forgot_password_counted),
        wrap(Response, "sign_up", make_response_sign_up),
        add("resend_confirmation_code", response_resend_confirmation_code),
        wrap(Backend, "create_user_pool_client", make_create_user_pool_client),
        wrap(Backend, "update_user_pool_client", make_update_user_pool_client),
        wrap(Backend, "create_user_pool_domain", make_create_user_pool_domain),
        wrap(Backend, "delete_user_pool_domain", make_delete_user_pool_domain),
        wrap(Response, "admin_get_user", make_response_admin_get_user),
        wrap(Backend, "list_users", make_list_users),  # sub filters from an index (listing.py)
        add("create_user_pool_domain", response_create_user_pool_domain),
        add("describe_user_pool_domain", response_describe_user_pool_domain),
        add("admin_set_user_mfa_preference", response_admin_set_user_mfa_preference),
        add("set_ui_customization", response_set_ui_customization),
        add("get_ui_customization", response_get_ui_customization),
        add("set_risk_configuration", response_set_risk_configuration),
        add("describe_risk_configuration", response_describe_risk_configuration),
        add("admin_link_provider_for_user", response_admin_link_provider_for_user),
        add("admin_disable_provider_for_user", response_admin_disable_provider_for_user),
        add("tag_resource", response_tag_resource),
        add("untag_resource", response_untag_resource),
        add("list_tags_for_resource", response_list_tags_for_resource),
        *(add(name, function) for name, function in V2_OPERATIONS.items()),  # 11. (features_v2.py)
        add("update_resource_server", response_update_resource_server),
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

    @staticmethod
    def messages_sent(pool_id: str | None = None) -> int:
        """Calls so far that would have sent a user an e-mail or SMS (delivery.py), in every Region."""
        return messages_sent(pool_id)

    @staticmethod
    def message_log(pool_id: str | None = None) -> list[dict[str, str]]:
        return message_log(pool_id)

    def __enter__(self) -> StrictCognito:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def strict_cognito() -> StrictCognito:
    """``with strict_cognito(): ...`` - moto's Cognito behaves like real Cognito (see module doc)."""
    return StrictCognito()


class StrictCognitoExtension(Extension):
    """Strict Cognito as a ``RestoreStack`` extension (see ``tools/emulation/extensions.py``)."""

    def __init__(self) -> None:
        self._guard = StrictCognito()

    def start(self, stack: RestoreStack) -> None:
        self._guard.start()

    def stop(self) -> None:
        self._guard.stop()
