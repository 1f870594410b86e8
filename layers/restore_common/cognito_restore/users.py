"""How one backed-up user is recreated: pure functions, no AWS calls.

Statuses (docs/cognito-behaviours.md §2): AdminCreateUser always yields FORCE_CHANGE_PASSWORD; a permanent
password (AdminSetUserPassword) yields CONFIRMED; only SignUp yields UNCONFIRMED (sign_up.py: through a
temporary client while the pool sends nothing). Passwords cannot be exported, so restored users
get a random password and use forgot-password (which needs the verified flags we keep).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

# Attributes Cognito manages itself; AdminCreateUser rejects them.
MANAGED_ATTRIBUTES = frozenset({"sub", "identities"})
MANAGED_PREFIX = "cognito:"
STANDARD_ATTRIBUTES = frozenset(
    {
        "address",
        "birthdate",
        "email",
        "email_verified",
        "family_name",
        "gender",
        "given_name",
        "locale",
        "middle_name",
        "name",
        "nickname",
        "phone_number",
        "phone_number_verified",
        "picture",
        "preferred_username",
        "profile",
        "updated_at",
        "website",
        "zoneinfo",
    }
)
MAX_ATTRIBUTE_VALUE = 2048
MAX_USERNAME = 128

# What each backed-up status becomes, and why (also the report's wording).
STATUS_OUTCOMES: dict[str, tuple[str, str]] = {
    "CONFIRMED": ("CONFIRMED", "random permanent password; the user signs in after forgot-password"),
    "RESET_REQUIRED": (
        "CONFIRMED",
        "random permanent password: like RESET_REQUIRED, only forgot-password lets the user in",
    ),
    "COMPROMISED": ("CONFIRMED", "random permanent password: only forgot-password lets the user in"),
    "UNKNOWN": ("CONFIRMED", "random permanent password: only forgot-password lets the user in"),
    "ARCHIVED": ("CONFIRMED", "random permanent password: only forgot-password lets the user in"),
    "FORCE_CHANGE_PASSWORD": (
        "FORCE_CHANGE_PASSWORD",
        "new unknown temporary password; re-send the invitation (AdminCreateUser RESEND)",
    ),
    "UNCONFIRMED": (
        "UNCONFIRMED",
        "signed up again with a random password and no message; a new confirmation code on their next "
        "attempt (ResendConfirmationCode), then forgot-password",
    ),
}
NEEDS_PERMANENT_PASSWORD = frozenset(s for s, (outcome, _) in STATUS_OUTCOMES.items() if outcome == "CONFIRMED")


@dataclass(frozen=True)
class UserModel:
    """What the pool allows: username model, declared and immutable attributes, restore options."""

    username_attributes: tuple[str, ...] = ()
    declared_attributes: frozenset[str] = STANDARD_ATTRIBUTES
    immutable_attributes: frozenset[str] = frozenset()
    old_sub_attribute: str | None = None  # "custom:<name>" when the operator keeps old subs

    @classmethod
    def from_pool_config(cls, config: dict[str, Any], old_sub_attribute: str | None = None) -> UserModel:
        declared = set(STANDARD_ATTRIBUTES)
        immutable = set()
        for attribute in config.get("SchemaAttributes") or []:
            name = attribute.get("Name") if isinstance(attribute, dict) else None
            if isinstance(name, str):
                declared.add(name)
                if attribute.get("Mutable") is False and name != "sub":
                    immutable.add(name)
        if old_sub_attribute:
            declared.add(old_sub_attribute)
        return cls(
            username_attributes=tuple(config.get("UsernameAttributes") or ()),
            declared_attributes=frozenset(declared),
            immutable_attributes=frozenset(immutable),
            old_sub_attribute=old_sub_attribute,
        )

    @property
    def sign_in_by_attribute(self) -> bool:
        return bool(self.username_attributes)


@dataclass
class UserPlan:
    """One user as the restore will create it (stored in the chunk files)."""

    old_username: str
    create_username: str  # what AdminCreateUser gets (the email/phone in email/phone pools)
    attributes: list[dict[str, str]]
    status: str  # as backed up
    target_status: str  # what Cognito will hold
    enabled: bool
    set_permanent_password: bool
    old_sub: str | None = None
    dropped_attributes: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    sms_mfa: bool = False  # legacy MFAOptions: SMS (or SMS_MFA in a v2 backup's UserMFASettingList)
    email_mfa: bool = False  # v2: EMAIL_OTP in UserMFASettingList
    preferred_mfa: str | None = None  # v2: PreferredMfaSetting (SMS_MFA / EMAIL_OTP)
    links: list[dict[str, str]] = field(default_factory=list)  # federated identities to link
    groups: list[str] = field(default_factory=list)  # added right after the user is created
    username_generated: bool = False  # e-mail / phone username pool: Cognito names the user by its sub

    def to_item(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> UserPlan:
        return cls(**item)


@dataclass(frozen=True)
class UserProblem:
    """A backed-up user that will not be created, with the reason (reported by name)."""

    username: str
    reason: str
    outcome: str = "skipped"  # "skipped" (by design) or "failed" (bad data)


def _attribute_map(raw_attributes: Any) -> dict[str, str] | None:
    if not isinstance(raw_attributes, list):
        return None
    values: dict[str, str] = {}
    for attribute in raw_attributes:
        if not isinstance(attribute, dict) or not isinstance(attribute.get("Name"), str):
            return None
        value = attribute.get("Value")
        values[attribute["Name"]] = "" if value is None else str(value)
    return values


def plan_user(raw: Any, model: UserModel, position: int = 0) -> UserPlan | UserProblem:
    """Plan one ListUsers item of the backup (position: its index in the backup, to name bad items)."""
    username = raw.get("Username") if isinstance(raw, dict) else None
    if not isinstance(username, str) or not 1 <= len(username) <= MAX_USERNAME:
        label = (
            username[:MAX_USERNAME]
            if isinstance(username, str) and username
            else f"<user #{position} without a valid Username>"
        )
        return UserProblem(label, "not a ListUsers item: Username missing or invalid", "failed")
    attributes = _attribute_map(raw.get("Attributes", []))
    if attributes is None:
        return UserProblem(username, "Attributes is not a list of {Name, Value}", "failed")
    status = raw.get("UserStatus")
    if not isinstance(status, str):
        return UserProblem(username, "UserStatus missing", "failed")
    # Every identity the user had is linked again: a federated user's own (its placeholder is the
    # link target), and those linked to a native user (it keeps its username and status).
    links = federated_links(attributes.get("identities"))
    federated = status == "EXTERNAL_PROVIDER"
    if federated:
        if not links:
            return UserProblem(
                username,
                "federated user without a readable identities attribute: recreated by Cognito at the next federated sign-in",
                "skipped",
            )
    elif status not in STATUS_OUTCOMES:
        return UserProblem(username, f"unknown user status {status}", "failed")

    kept: list[dict[str, str]] = []
    dropped: list[str] = []
    notes: list[str] = []
    for name, value in attributes.items():
        if name in MANAGED_ATTRIBUTES or name.startswith(MANAGED_PREFIX):
            continue
        if name not in model.declared_attributes:
            dropped.append(name)
            notes.append(f"attribute {name} is not in the pool schema")
            continue
        if len(value) > MAX_ATTRIBUTE_VALUE:
            dropped.append(name)
            notes.append(f"attribute {name} is longer than {MAX_ATTRIBUTE_VALUE} characters")
            continue
        kept.append({"Name": name, "Value": value})
    # A verified flag without its value is rejected by AdminCreateUser.
    present = {a["Name"] for a in kept}
    for flag, base in (("email_verified", "email"), ("phone_number_verified", "phone_number")):
        if flag in present and base not in present:
            kept = [a for a in kept if a["Name"] != flag]
            dropped.append(flag)
            notes.append(f"{flag} without {base}")

    if links:
        # AdminLinkProviderForUser refuses a destination user with immutable attributes.
        for attribute in [a for a in kept if a["Name"] in model.immutable_attributes]:
            kept.remove(attribute)
            dropped.append(attribute["Name"])
            notes.append(f"immutable attribute {attribute['Name']} left out: a linked user may not have one")
    if model.old_sub_attribute and attributes.get("sub"):
        kept.append({"Name": model.old_sub_attribute, "Value": attributes["sub"]})

    create_username = username
    if federated and not model.sign_in_by_attribute:
        # The old name (e.g. Google_1234) would block the IdP sign-in: a native user may not hold it.
        create_username = f"federated-{attributes.get('sub') or username}"[:MAX_USERNAME]
    if model.sign_in_by_attribute:
        values = {a["Name"]: a["Value"] for a in kept}
        sign_in = next((values[a] for a in model.username_attributes if values.get(a)), None)
        if sign_in is None:
            return UserProblem(username, f"no {' or '.join(model.username_attributes)} to sign in with", "failed")
        create_username = sign_in

    if federated:
        target_status = "FORCE_CHANGE_PASSWORD"  # a placeholder nobody signs in to with a password
        notes.append(
            "federated user: placeholder linked to its identity provider; the next federated sign-in lands on it"
        )
    else:
        target_status, why = STATUS_OUTCOMES[status]
        if target_status != status:
            notes.append(f"{status} restored as {target_status}: {why}")
        elif target_status == "FORCE_CHANGE_PASSWORD":
            notes.append(f"FORCE_CHANGE_PASSWORD: {why}")
        if links:
            providers = ", ".join(sorted({link["provider_name"] for link in links}))
            notes.append(f"linked again to {len(links)} identity provider identities ({providers})")
    enabled = raw.get("Enabled", True) is not False
    mfa = _mfa_settings(raw, kept)
    notes.extend(mfa.notes)
    return UserPlan(
        old_username=username,
        create_username=create_username,
        attributes=kept,
        status=status,
        target_status=target_status,
        enabled=enabled,
        set_permanent_password=status in NEEDS_PERMANENT_PASSWORD,
        old_sub=attributes.get("sub"),
        dropped_attributes=dropped,
        notes=notes,
        sms_mfa=_has_sms_mfa(raw.get("MFAOptions"), kept) or mfa.sms,
        email_mfa=mfa.email,
        preferred_mfa=mfa.preferred,
        links=links,
        username_generated=model.sign_in_by_attribute,
    )


def federated_links(identities: str | None) -> list[dict[str, str]]:
    """The `identities` attribute (a JSON list) -> the provider links to recreate."""
    if not identities:
        return []
    try:
        entries = json.loads(identities)
    except ValueError:
        return []
    links = []
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, dict) and entry.get("providerName") and entry.get("userId"):
            links.append(
                {
                    "provider_name": str(entry["providerName"]),
                    "provider_type": str(entry.get("providerType") or ""),
                    "user_id": str(entry["userId"]),
                }
            )
    return links


def _has_sms_mfa(mfa_options: Any, kept: list[dict[str, str]]) -> bool:
    if not isinstance(mfa_options, list):
        return False
    has_phone = any(a["Name"] == "phone_number" and a["Value"] for a in kept)
    return has_phone and any(isinstance(o, dict) and o.get("DeliveryMedium") == "SMS" for o in mfa_options)


@dataclass(frozen=True)
class _MfaSettings:
    sms: bool = False
    email: bool = False
    preferred: str | None = None
    notes: tuple[str, ...] = ()


TOTP_NOTE = "had a TOTP authenticator: it cannot be restored (no API exports its secret); the user enrols again"


def _mfa_settings(raw: dict[str, Any], kept: list[dict[str, str]]) -> _MfaSettings:
    """A v2 backup's per-user MFA settings (AdminGetUser UserMFASettingList / PreferredMfaSetting):
    SMS and e-mail are restored where the user keeps the phone / e-mail; TOTP cannot be (noted)."""
    factors = raw.get("UserMFASettingList")
    if not isinstance(factors, list):
        return _MfaSettings()
    values = {a["Name"]: a["Value"] for a in kept}
    sms = "SMS_MFA" in factors and bool(values.get("phone_number"))
    email = "EMAIL_OTP" in factors and bool(values.get("email"))
    notes = [TOTP_NOTE] if "SOFTWARE_TOKEN_MFA" in factors else []
    for factor, kept_it, what in (("SMS_MFA", sms, "phone number"), ("EMAIL_OTP", email, "e-mail address")):
        if factor in factors and not kept_it:
            notes.append(f"{factor} preference not restored: the user has no {what}")
    preferred = raw.get("PreferredMfaSetting")
    usable = (preferred == "SMS_MFA" and sms) or (preferred == "EMAIL_OTP" and email)
    return _MfaSettings(sms, email, preferred if usable else None, tuple(notes))
