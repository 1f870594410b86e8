"""What the strict Cognito modules share: moto's classes, the side store, model helpers.

State that moto does not keep (UI customizations, risk configurations, provider links, email MFA
preferences, domain describe counts) lives in a side store attached to each moto backend
(account, Region): moto's reset wipes it together with the backend.
"""

from __future__ import annotations

import threading
from typing import Any

from moto.cognitoidp import models as _models
from moto.cognitoidp import responses as _responses
from moto.core.exceptions import JsonRESTError

Backend = _models.CognitoIdpBackend
Response = _responses.CognitoIdpResponse
UserPool = _models.CognitoIdpUserPool
Attribute = _models.CognitoIdpUserPoolAttribute


def error(code: str, message: str) -> JsonRESTError:
    return JsonRESTError(code, message)


# ----------------------------------------------------------------------------------- side store

_STATE_KEY = "_strict_cognito_state"
_STATE_LOCK = threading.Lock()


class SideStore:
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
        # v2 features (features_v2.py): pool -> {"email": {...}|None, "webauthn": {...}|None}
        self.mfa_v2: dict[str, dict[str, Any]] = {}
        self.branding: dict[str, dict[str, Any]] = {}  # ManagedLoginBrandingId -> style (Pool, Client)
        self.terms: dict[str, dict[str, Any]] = {}  # TermsId -> terms document
        self.log_delivery: dict[str, list[dict[str, Any]]] = {}  # pool -> LogConfigurations
        # Calls that would have sent an e-mail or SMS to a user (delivery.py): {operation, pool, why}.
        self.messages: list[dict[str, str]] = []


def side_store(backend: Any) -> SideStore:
    state = backend.__dict__.get(_STATE_KEY)
    if state is None:
        with _STATE_LOCK:
            state = backend.__dict__.get(_STATE_KEY)
            if state is None:
                state = SideStore()
                backend.__dict__[_STATE_KEY] = state
    return state


def forget_pool(backend: Any, pool_id: str) -> None:
    state = side_store(backend)
    with state.lock:
        stores: tuple[dict[Any, Any], ...] = (state.ui, state.risk, state.links, state.email_mfa)
        for store in stores:
            for key in [k for k in store if k[0] == pool_id]:
                del store[key]
        state.mfa_v2.pop(pool_id, None)
        state.log_delivery.pop(pool_id, None)
        for by_id in (state.branding, state.terms):
            for key in [k for k, v in by_id.items() if v["UserPoolId"] == pool_id]:
                del by_id[key]


# ----------------------------------------------------------------------------------- helpers


def is_standard(name: str) -> bool:
    return name in Attribute.STANDARD_SCHEMA


def flag_true(value: Any) -> bool:
    return str(value).lower() == "true"


def domains_of(pool_id: str, backend: Any) -> list[Any]:
    return [d for d in backend.user_pool_domains.values() if d.user_pool_id == pool_id]


def is_custom_domain(domain: Any) -> bool:
    return bool(domain.custom_domain_config) or "." in domain.domain


def declared_attributes(pool: Any) -> set[str]:
    """Schema attribute names; standard ones always (a pool made before install lacks them)."""
    return set(pool.schema_attributes) | set(Attribute.STANDARD_SCHEMA)
