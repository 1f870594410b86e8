"""Sync mode, pool level: what differs between the backup and the target pool, item by item (docs/sync.md).

A sync writes only differences. For every category the phase (or the dry run) reads the target once,
plans each backed-up item as create / update / unchanged (plus the target's items absent from the
backup, which are only reported), and applies only the creates and updates. The comparison is
"every value the request would set is already the pool's": Cognito's Describe/List answers add
defaults and read-only fields that the requests never set. Names of differing settings are reported,
never their values (a setting may hold a secret). The planning functions are pure.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from cognito_restore.outcomes import PhaseOutcome
from cognito_restore.pool_config import DEFERRED, LEGACY_MESSAGES, RESTORE_ID_TAG, SOURCE_POOL_TAG
from cognito_restore.users import STANDARD_ATTRIBUTES

Kind = Literal["create", "update", "unchanged"]
# The report's words for them, and for the target's items the backup does not have.
REPORTED = {"create": "created", "update": "updated", "unchanged": "unchanged"}
ABSENT = "absent_from_backup"
SYNC_KINDS = ("created", "updated", "unchanged", ABSENT)

# DescribeUserPool settings that an empty value in the backup leaves out of the request, but that the
# target may have set: absent from the request, set in the target, is a difference (UpdateUserPool resets it).
_POOL_UNSET_WHEN_ABSENT = ("SmsConfiguration", "AutoVerifiedAttributes", "SmsAuthenticationMessage")
# DescribeUserPool answers that only CreateUserPool can set: a difference is reported, never written.
CREATION_ONLY = ("UsernameAttributes", "AliasAttributes", "UsernameConfiguration")
# App client settings that the backup leaves out when empty: UpdateUserPoolClient resets them.
_CLIENT_UNSET_WHEN_ABSENT = (
    "CallbackURLs",
    "LogoutURLs",
    "DefaultRedirectURI",
    "AllowedOAuthFlows",
    "AllowedOAuthScopes",
    "SupportedIdentityProviders",
)
# Cognito-dr's own tags on the target name the restore that created it: a sync keeps them as they are.
OWN_TAGS = (RESTORE_ID_TAG, SOURCE_POOL_TAG)


def covers(desired: Any, current: Any) -> bool:
    """Every value ``desired`` sets is ``current``'s; a list of scalars compares in any order (Cognito
    does not keep the order of AutoVerifiedAttributes, scopes or flows)."""
    if isinstance(desired, dict):
        return isinstance(current, dict) and all(covers(value, current.get(key)) for key, value in desired.items())
    if isinstance(desired, list):
        if not isinstance(current, list) or len(desired) != len(current):
            return False
        if all(not isinstance(item, dict | list) for item in [*desired, *current]):
            return sorted(map(json.dumps, desired)) == sorted(map(json.dumps, current))
        return all(covers(d, c) for d, c in zip(desired, current, strict=True))
    if isinstance(desired, bool) or isinstance(current, bool):
        return desired is current
    if isinstance(desired, int | float) and isinstance(current, int | float | str):
        return str(desired) == str(current)  # DescribeUserPool gives some numbers as strings
    return bool(desired == current)


def differing(desired: dict[str, Any], current: dict[str, Any], skip: Iterable[str] = ()) -> list[str]:
    """The keys of ``desired`` whose values ``current`` does not have."""
    ignored = set(skip)
    return sorted(key for key, value in desired.items() if key not in ignored and not covers(value, current.get(key)))


@dataclass(frozen=True)
class Change:
    """One backed-up item's plan: create, update (naming the settings that differ) or unchanged."""

    item: str
    kind: Kind
    settings: tuple[str, ...] = ()  # the differing settings (names only)
    request: dict[str, Any] = field(default_factory=dict)  # the Create/Update request (not for unchanged)

    def describe(self) -> str:
        return f"{self.kind}: {', '.join(self.settings)}" if self.settings else self.kind


@dataclass
class SyncPlan:
    """A category's plan: each backed-up item's change, and the target's items absent from the backup."""

    category: str
    changes: list[Change] = field(default_factory=list)
    absent: list[str] = field(default_factory=list)
    notes: list[dict[str, str]] = field(default_factory=list)  # differences a sync cannot write

    def writes(self) -> list[Change]:
        return [c for c in self.changes if c.kind != "unchanged"]

    def to_dict(self) -> dict[str, Any]:
        """For the dry run's plan of differences (names and setting names only)."""
        return {
            "create": [c.item for c in self.changes if c.kind == "create"],
            "update": [{"item": c.item, "settings": list(c.settings)} for c in self.changes if c.kind == "update"],
            "unchanged": sum(1 for c in self.changes if c.kind == "unchanged"),
            ABSENT: list(self.absent),
            "cannot_sync": list(self.notes),
        }


def record(outcome: PhaseOutcome, change: Change, counted: bool = True) -> None:
    """A reconciled item: restored (it is in the pool as backed up) and its sync kind for the report.
    ``counted``: False for the parts of one backed-up item (the pool's MFA and attributes)."""
    if counted:
        outcome.restore(change.item)
    outcome.synced(REPORTED[change.kind], change.item)
    if change.kind == "update":
        outcome.notes.append({"item": change.item, "note": f"updated: {', '.join(change.settings)} differed"})


def record_absent(outcome: PhaseOutcome, plan: SyncPlan) -> None:
    for item in plan.absent:
        outcome.synced(ABSENT, item)
    if plan.absent:
        outcome.notes.append(
            {
                "item": f"{len(plan.absent)} item(s) absent from the backup",
                "note": "in the target pool but not in the backup: left as they are (a sync never deletes them)",
            }
        )
    for note in plan.notes:
        outcome.notes.append(note)
        outcome.manual_steps.append(f"{plan.category} {note['item']}: {note['note']}")


def _named(items: Iterable[dict[str, Any]], key: str) -> dict[str, dict[str, Any]]:
    return {str(item[key]): item for item in items if item.get(key) is not None}


# ------------------------------------------------------------------------------ the pool


def pool_update_plan(create_request: dict[str, Any], update_request: dict[str, Any], pool: dict[str, Any]) -> SyncPlan:
    """The pool configuration: ``update_request`` (pool_config.reapply_request of the backup's create
    request, with the target's own tags) against DescribeUserPool's ``pool``. LambdaConfig and MFA have
    their own steps (the triggers phase, SetUserPoolMfaConfig)."""
    plan = SyncPlan("pool_configuration")
    settings = differing(update_request, pool, skip=("UserPoolId", "UserPoolTags", *DEFERRED))
    if (update_request.get("UserPoolTags") or {}) != (pool.get("UserPoolTags") or {}):
        settings.append("UserPoolTags")  # UpdateUserPool replaces them: exactly the backup's
    for key in _POOL_UNSET_WHEN_ABSENT:
        if key not in update_request and pool.get(key) not in (None, {}, []):
            settings.append(key)
    if update_request.get("VerificationMessageTemplate"):
        settings = [s for s in settings if s not in LEGACY_MESSAGES]  # Cognito derives them from the template
    for key in CREATION_ONLY:
        wanted, have = create_request.get(key) or None, pool.get(key) or None
        if (wanted or have) and not covers(wanted, have):
            plan.notes.append({"item": key, "note": "differs from the backup; only a new pool can have it"})
    kind: Kind = "update" if settings else "unchanged"
    plan.changes.append(Change("pool configuration", kind, tuple(sorted(settings)), update_request))
    return plan


def sync_tags(request: dict[str, Any], pool: dict[str, Any]) -> dict[str, Any]:
    """The backup's tags (without the cognito-dr tags of the restore that made the backed-up pool), plus
    the cognito-dr tags the target has: a sync does not relabel the pool it reconciles."""
    request = copy.deepcopy(request)
    tags = {k: v for k, v in (request.get("UserPoolTags") or {}).items() if k not in OWN_TAGS}
    tags |= {k: v for k, v in (pool.get("UserPoolTags") or {}).items() if k in OWN_TAGS}
    if tags:
        request["UserPoolTags"] = tags
    else:
        request.pop("UserPoolTags", None)
    return request


def custom_attributes_plan(
    schema: list[dict[str, Any]], pool: dict[str, Any]
) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    """The backup's custom attributes the target lacks (for AddCustomAttributes), and the attributes that
    differ, which no API can change (an attribute is fixed once created)."""
    current = {a["Name"]: a for a in pool.get("SchemaAttributes") or []}
    missing: list[dict[str, Any]] = []
    notes: list[dict[str, str]] = []
    for entry in schema:  # CreateUserPool's Schema: custom names without their prefix
        standard = entry["Name"] in STANDARD_ATTRIBUTES
        prefix = "" if standard else "dev:custom:" if entry.get("DeveloperOnlyAttribute") else "custom:"
        name = prefix + entry["Name"]
        found = current.get(name)
        if found is None:
            if not standard:
                missing.append(entry)
            continue
        wanted = {k: v for k, v in entry.items() if k not in ("Name", "DeveloperOnlyAttribute")}
        if not covers(wanted, found):
            notes.append(
                {"item": f"attribute {name}", "note": "differs from the backup; Cognito cannot change an attribute"}
            )
    return missing, notes


def mfa_request(pool_id: str, mfa: str, applied: dict[str, Any]) -> dict[str, Any]:
    """SetUserPoolMfaConfig for the backed-up mode (as the restore applies it; OFF: MFA off)."""
    if mfa == "OFF":
        return {"UserPoolId": pool_id, "MfaConfiguration": "OFF"}
    request: dict[str, Any] = {
        "UserPoolId": pool_id,
        "MfaConfiguration": mfa,
        "SoftwareTokenMfaConfiguration": {"Enabled": True},
    }
    if applied.get("SmsConfiguration") and applied.get("SmsAuthenticationMessage"):
        request["SmsMfaConfiguration"] = {
            "SmsAuthenticationMessage": applied["SmsAuthenticationMessage"],
            "SmsConfiguration": applied["SmsConfiguration"],
        }
    return request


def mfa_plan(request: dict[str, Any], current: dict[str, Any]) -> Change:
    """GetUserPoolMfaConfig's answer against the request: an update only when the MFA mode differs. The
    backup does not say which factors were on (docs/cognito-behaviours.md §1.7): a target in the backed-up
    mode keeps its own factors; one in another mode gets the mode with the factors a restore enables."""
    differs = request["MfaConfiguration"] != current.get("MfaConfiguration", "OFF")
    return Change("MFA configuration", "update" if differs else "unchanged", ("MfaConfiguration",) * differs, request)


# ------------------------------------------------------------------------------ named items


def named_plan(
    category: str,
    desired: dict[str, dict[str, Any]],
    current: dict[str, dict[str, Any]],
    skip: Iterable[str] = (),
    unset_when_absent: Iterable[str] = (),
) -> SyncPlan:
    """Items matched by name: absent -> create, differing -> update (the full request: Update calls
    reset what they omit), else unchanged; the target's other items are absent from the backup."""
    plan = SyncPlan(category)
    ignored = set(skip)
    for name, request in desired.items():
        have = current.get(name)
        if have is None:
            plan.changes.append(Change(name, "create", (), request))
            continue
        settings = differing(request, have, skip=ignored)
        settings += [k for k in unset_when_absent if k not in request and have.get(k) not in (None, [], {}, "")]
        plan.changes.append(Change(name, "update" if settings else "unchanged", tuple(sorted(settings)), request))
    plan.absent = sorted(set(current) - set(desired))
    return plan


def client_plan(desired: dict[str, dict[str, Any]], current: dict[str, dict[str, Any]]) -> SyncPlan:
    """App clients by ClientName (the ids stay). A backed-up secret that differs cannot be written to an
    existing client: reported."""
    plan = named_plan(
        "app_clients",
        {
            name: {k: v for k, v in r.items() if k not in ("ClientSecret", "GenerateSecret")}
            for name, r in desired.items()
        },
        current,
        skip=("UserPoolId",),
        unset_when_absent=_CLIENT_UNSET_WHEN_ABSENT,
    )
    plan.changes = [  # a new client is created with its backed-up secret (or a generated one)
        Change(c.item, c.kind, c.settings, desired[c.item]) if c.kind == "create" else c for c in plan.changes
    ]
    for name, request in desired.items():
        have = current.get(name)
        if have and request.get("ClientSecret") and have.get("ClientSecret") != request["ClientSecret"]:
            plan.notes.append(
                {
                    "item": name,
                    "note": "its secret differs from the backup's: an existing client keeps its own (the apps use it)",
                }
            )
    return plan


def sorted_scopes(server: dict[str, Any]) -> dict[str, Any]:
    """Scopes in name order on both sides: Cognito lists them in its own order."""
    server = dict(server)
    if server.get("Scopes"):
        server["Scopes"] = sorted(server["Scopes"], key=lambda s: str(s.get("ScopeName")))
    return server


def group_plan(
    groups: list[dict[str, Any]], desired: dict[str, dict[str, Any]], current: dict[str, dict[str, Any]]
) -> SyncPlan:
    """Groups by name. A group only the memberships name (no settings backed up) that exists is unchanged."""
    plan = named_plan("groups", desired, current, skip=("UserPoolId",))
    membership_only = {str(g["GroupName"]) for g in groups if g.get("_note")}
    plan.changes = [
        Change(c.item, "unchanged") if c.item in membership_only and c.kind == "update" else c for c in plan.changes
    ]
    return plan
