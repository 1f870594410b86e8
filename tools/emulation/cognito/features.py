"""The in-memory features moto's Cognito lacks, implemented with Cognito's rules.

Response handlers added to (or wrapping) ``CognitoIdpResponse``: domains with their
CREATING -> ACTIVE status and ManagedLoginVersion (6.), AdminSetUserMFAPreference with e-mail MFA
recorded and SMS/e-mail delivery checked (8.), Set/GetUICustomization, Set/DescribeRiskConfiguration,
AdminLinkProviderForUser / AdminDisableProviderForUser and Tag/Untag/ListTagsForResource (9.).
Their state lives in the side store (``common.py``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import time
from collections.abc import Callable
from typing import Any

from moto.cognitoidp.exceptions import InvalidParameterException, ResourceNotFoundError, UserNotFoundError
from moto.core.responses import ActionResult, EmptyResult
from moto.core.utils import utcnow

from tools.emulation.cognito.common import domains_of, error, is_custom_domain, side_store
from tools.emulation.cognito.messages import (
    MAX_LINKS_PER_USER,
    MAX_UI_BYTES,
    MSG_ADDON_NOT_ENABLED,
    MSG_CLIENT_NOT_FOUND,
    MSG_LINK_ATTRIBUTE_NOT_MAPPED,
    MSG_LINK_EXISTS,
    MSG_LINK_IMMUTABLE,
    MSG_LINK_LIMIT,
    MSG_LINK_SOCIAL_ATTRIBUTE,
    MSG_LINK_SOURCE_COGNITO,
    MSG_NO_DELIVERY,
    MSG_NO_DOMAIN_FOR_UI,
    MSG_NO_PROVIDER,
    MSG_RESOURCE_NOT_FOUND,
    MSG_VALIDATION_LENGTH_HIDDEN,
    SOCIAL_PROVIDER_TYPES,
)

#: Describes of a new domain that still report ``Status: CREATING`` (then ``ACTIVE``). Read at
#: each describe, so a test may change it (0 = ACTIVE at once).
DOMAIN_DESCRIBES_BEFORE_ACTIVE = 1


def response_create_user_pool_domain(self: Any) -> ActionResult:
    from tools.emulation.cognito.features_v2 import check_managed_login_version  # 11.: version and tier

    check_managed_login_version(self)
    domain = self._get_param("Domain")
    version = self._get_param("ManagedLoginVersion")
    created = self.backend.create_user_pool_domain(
        self._get_param("UserPoolId"), domain, self._get_param("CustomDomainConfig")
    )
    result: dict[str, Any] = {}
    if is_custom_domain(created):  # a prefix domain has no CloudFront alias target to return
        result.update(created.to_json(extended=False))
    if version is not None:
        state = side_store(self.backend)
        with state.lock:
            state.managed_login[domain] = int(version)
        result["ManagedLoginVersion"] = int(version)
    return ActionResult(result)


def response_describe_user_pool_domain(self: Any) -> ActionResult:
    domain = self._get_param("Domain")
    found = self.backend.describe_user_pool_domain(domain)
    if not found:
        return ActionResult({"DomainDescription": {}})
    description = found.to_json()
    state = side_store(self.backend)
    with state.lock:
        count = state.domain_describes.get(domain, DOMAIN_DESCRIBES_BEFORE_ACTIVE) + 1
        state.domain_describes[domain] = count
        version = state.managed_login.get(domain)
    description["Status"] = "CREATING" if count <= DOMAIN_DESCRIBES_BEFORE_ACTIVE else "ACTIVE"
    description["AWSAccountId"] = self.current_account  # moto: a random UUID
    if is_custom_domain(found):
        description["CustomDomainConfig"] = found.custom_domain_config
    if version is not None:
        description["ManagedLoginVersion"] = version
    return ActionResult({"DomainDescription": description})


# ----------------------------------------------------------------------------------- 8. MFA


def response_admin_set_user_mfa_preference(self: Any) -> ActionResult:
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
    state = side_store(self.backend)
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


def make_response_admin_get_user(original: Callable) -> Callable:
    def admin_get_user(self: Any) -> Any:
        result = original(self)
        pool_id = self._get_param("UserPoolId")
        user = self.backend.admin_get_user(pool_id, self._get_param("Username"))
        state = side_store(self.backend)
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


def response_set_ui_customization(self: Any) -> ActionResult:
    pool = self.backend.describe_user_pool(self._get_param("UserPoolId"))
    if not domains_of(pool.id, self.backend):
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
    state = side_store(self.backend)
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


def response_get_ui_customization(self: Any) -> ActionResult:
    pool = self.backend.describe_user_pool(self._get_param("UserPoolId"))
    key = _client_key(pool, self._get_param("ClientId"))
    state = side_store(self.backend)
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


def response_set_risk_configuration(self: Any) -> ActionResult:
    pool = self.backend.describe_user_pool(self._get_param("UserPoolId"))
    tier = pool.extended_config.get("UserPoolTier")
    mode = (pool.extended_config.get("UserPoolAddOns") or {}).get("AdvancedSecurityMode", "OFF")
    if tier != "PLUS" and mode == "OFF":
        raise error("UserPoolAddOnNotEnabledException", MSG_ADDON_NOT_ENABLED)
    client = _risk_client(pool, self._get_param("ClientId"))
    members = {k: self._get_param(k) for k in RISK_MEMBERS if self._get_param(k) is not None}
    state = side_store(self.backend)
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


def response_describe_risk_configuration(self: Any) -> ActionResult:
    pool = self.backend.describe_user_pool(self._get_param("UserPoolId"))
    client = _risk_client(pool, self._get_param("ClientId"))
    state = side_store(self.backend)
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


def response_admin_link_provider_for_user(self: Any) -> ActionResult:
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
    state = side_store(backend)
    key = (pool.id, provider_name, value)
    with state.lock:
        existing = state.links.get(key)
        if existing is not None:
            if existing["user_id"] != user.id:
                raise error("AliasExistsException", MSG_LINK_EXISTS.format(provider=provider_name, value=value))
            return EmptyResult()
        if sum(1 for k, v in state.links.items() if k[0] == pool.id and v["user_id"] == user.id) >= MAX_LINKS_PER_USER:
            raise error("LimitExceededException", MSG_LINK_LIMIT)
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


def response_admin_disable_provider_for_user(self: Any) -> ActionResult:
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
    state = side_store(backend)
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


def response_tag_resource(self: Any) -> ActionResult:
    pool = _pool_by_arn(self.backend, self._get_param("ResourceArn"))
    tags = dict(pool.extended_config.get("UserPoolTags") or {})
    tags.update(self._get_param("Tags") or {})
    pool.extended_config["UserPoolTags"] = tags
    return EmptyResult()


def response_untag_resource(self: Any) -> ActionResult:
    pool = _pool_by_arn(self.backend, self._get_param("ResourceArn"))
    tags = dict(pool.extended_config.get("UserPoolTags") or {})
    for key in self._get_param("TagKeys") or []:
        tags.pop(key, None)
    pool.extended_config["UserPoolTags"] = tags
    return EmptyResult()


def response_list_tags_for_resource(self: Any) -> ActionResult:
    pool = _pool_by_arn(self.backend, self._get_param("ResourceArn"))
    return ActionResult({"Tags": dict(pool.extended_config.get("UserPoolTags") or {})})
