"""The one schema of a restore's execution input.

Used by every way of starting a restore (the trigger function, the operator CLI, the drill) and by
the state machine's first phase, so that an option accepted by one is accepted by all, and an
unknown or mistyped key is a clear error before anything is created. Error messages name keys and
expected types, never the values given (an input pasted in a hurry may hold anything).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Literal

from cognito_restore.arn_map import validate_mapping
from cognito_restore.discovery import is_valid_pool_id, parse_backup_key
from cognito_restore.errors import InvalidInput
from cognito_restore.state import Restore

RESTORE_ID = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
_SAFE_KEY = re.compile(r"^[A-Za-z0-9_.-]{1,40}$")

# key -> what it must be (for the error message); user_pool_id is the only required key.
SCHEMA: dict[str, str] = {
    "user_pool_id": "the source user pool id, e.g. us-east-1_AbCdEf123",
    "backup_key": (
        "a backup object key of that pool (cognito-backup/YYYY/MM/DD/<pool-id>-HHMMSS.json, or for format v2 "
        "its manifest cognito-backup/v2/<pool-id>/YYYY/MM/DD/HHMMSS/manifest.json)"
    ),
    "dry_run": "true or false",
    "restore_id": "1-80 letters, digits, '-' or '_'",
    "arn_map": "an object of old ARN (or source Region) -> new ARN (or Region)",
    "keep_client_secrets": "true or false",
    "preserve_old_sub": "true or false",
    "mode": '"restore" (into a new pool, the default) or "sync" (reconcile into target_user_pool_id)',
    "target_user_pool_id": "with mode sync: the existing pool to reconcile, in this Region",
    "delete_missing": "true or false (mode sync: delete the target's users absent from the backup)",
    "max_deletes": "a whole number >= 0 (with delete_missing: the most users a sync deletes)",
    "alerts": '"all" (the default) or "failures" (no started, pool-ready or complete alert; the warm standby\'s syncs)',
}
ALERTS = ("all", "failures")
_BOOLEANS = ("dry_run", "keep_client_secrets", "preserve_old_sub", "delete_missing")
MODES = ("restore", "sync")
RestoreMode = Literal["restore", "sync"]
_SYNC_ONLY = ("target_user_pool_id", "delete_missing", "max_deletes")


@dataclass(frozen=True)
class RestoreRequest:
    user_pool_id: str
    backup_key: str | None = None
    dry_run: bool = False
    restore_id: str | None = None
    arn_map: dict[str, str] = field(default_factory=dict)
    keep_client_secrets: bool = True
    preserve_old_sub: bool = False
    mode: RestoreMode = "restore"
    target_user_pool_id: str | None = None  # mode sync: the pool reconciled (it is the restore's pool)
    delete_missing: bool = False  # mode sync: delete the target's users absent from the backup (capped)
    max_deletes: int = 0
    alerts: Literal["all", "failures"] = "all"  # "failures": only failures are alerted (docs/standby.md)

    @property
    def sync(self) -> bool:
        return self.mode == "sync"

    @classmethod
    def parse(cls, value: Any) -> RestoreRequest:
        """The validated request; InvalidInput naming every problem otherwise."""
        if not isinstance(value, dict):
            raise InvalidInput('The input must be a JSON object such as {"user_pool_id": "us-east-1_AbCdEf123"}.')
        problems = []
        unknown = sorted(k for k in value if k not in SCHEMA)
        if unknown:
            named = [repr(k) if isinstance(k, str) and _SAFE_KEY.match(k) else "(a key not shown)" for k in unknown]
            problems.append(f"unknown key(s) {', '.join(named)}; the keys are {', '.join(SCHEMA)}")
        pool_id = value.get("user_pool_id")
        if not is_valid_pool_id(pool_id):
            problems.append(f"user_pool_id must be {SCHEMA['user_pool_id']}")
        for key in _BOOLEANS:
            if key in value and not isinstance(value[key], bool):
                problems.append(f"{key} must be {SCHEMA[key]} (a JSON boolean)")
        restore_id = value.get("restore_id")
        if restore_id is not None and not (isinstance(restore_id, str) and RESTORE_ID.match(restore_id)):
            problems.append(f"restore_id must be {SCHEMA['restore_id']}")
        backup_key = value.get("backup_key")
        if backup_key is not None:
            ref = parse_backup_key(backup_key) if isinstance(backup_key, str) else None
            if ref is None:
                problems.append(f"backup_key must be {SCHEMA['backup_key']}")
            elif is_valid_pool_id(pool_id) and ref.pool_id != pool_id:
                problems.append(f"backup_key {backup_key} is not a backup of pool {pool_id}")
        arn_map: dict[str, str] = {}
        try:
            arn_map = validate_mapping(value.get("arn_map"))
        except InvalidInput as error:
            problems.append(str(error).rstrip("."))
        problems.extend(_sync_problems(value))
        if value.get("alerts", "all") not in ALERTS:
            problems.append(f"alerts must be {SCHEMA['alerts']}")
        if problems or not isinstance(pool_id, str):
            raise InvalidInput("Invalid restore input: " + "; ".join(problems) + ".")
        return cls(
            user_pool_id=pool_id,
            backup_key=backup_key,
            dry_run=value.get("dry_run", False),
            restore_id=restore_id,
            arn_map=arn_map,
            keep_client_secrets=value.get("keep_client_secrets", True),
            preserve_old_sub=value.get("preserve_old_sub", False),
            mode=value.get("mode", "restore"),
            target_user_pool_id=value.get("target_user_pool_id"),
            delete_missing=value.get("delete_missing", False),
            max_deletes=value.get("max_deletes", 0),
            alerts=value.get("alerts", "all"),
        )

    def to_input(self) -> dict[str, Any]:
        """The execution input: the pool id and every option that differs from its default."""
        defaults = RestoreRequest(self.user_pool_id)
        return {k: v for k, v in asdict(self).items() if k == "user_pool_id" or v != getattr(defaults, k)}

    def options(self) -> dict[str, bool | str]:
        """The options that shape what is created; a restore continues only with the same ones.

        The mode and the target are the restore's identity (a sync never continues as a restore, nor
        into another pool). delete_missing and max_deletes are not: a re-run may raise the cap."""
        options: dict[str, bool | str] = {
            "keep_client_secrets": self.keep_client_secrets,
            "preserve_old_sub": self.preserve_old_sub,
            "mode": self.mode,
        }
        if self.target_user_pool_id is not None:
            options["target_user_pool_id"] = self.target_user_pool_id
        return options


def _sync_problems(value: dict[str, Any]) -> list[str]:
    """mode and the sync options: the target only with sync (and required by it), a capped deletion."""
    problems = []
    mode = value.get("mode", "restore")
    if mode not in MODES:
        problems.append(f"mode must be {SCHEMA['mode']}")
        return problems
    target = value.get("target_user_pool_id")
    if mode == "restore":
        given = [key for key in _SYNC_ONLY if key in value]
        if given:
            problems.append(f"{', '.join(given)} only with mode sync")
        return problems
    if not is_valid_pool_id(target):
        problems.append(f"mode sync needs target_user_pool_id: {SCHEMA['target_user_pool_id']}")
    max_deletes = value.get("max_deletes")
    if "max_deletes" in value and (type(max_deletes) is not int or max_deletes < 0):
        problems.append(f"max_deletes must be {SCHEMA['max_deletes']}")
    if value.get("delete_missing") is True and "max_deletes" not in value:
        problems.append("delete_missing true needs max_deletes (the most users this sync may delete)")
    if value.get("delete_missing") is not True and type(max_deletes) is int and max_deletes > 0:
        problems.append("max_deletes above 0 only with delete_missing true (nothing is deleted without it)")
    return problems


def sync_target(restore: Restore) -> str | None:
    """The pool a sync reconciles (the restore's pool), None for a restore into a new pool."""
    return restore.get("target_pool_id") if restore.get("mode") == "sync" else None


def check_target_region(target_pool_id: str, region: str) -> None:
    """A sync reconciles a pool of the Region it runs in (a pool id starts with its Region)."""
    if target_pool_id.split("_", 1)[0] != region:
        raise InvalidInput(
            f"target_user_pool_id {target_pool_id} is not in {region}: a sync writes only into a pool of the "
            "Region of this restore stack (deploy the stack in the pool's Region)."
        )


def derived_restore_id(
    pool_id: str, backup_key: str, version: str, taken_at: datetime, dry_run: bool, target_pool_id: str | None = None
) -> str:
    """The default restore id: the same backup object (key + version id or ETag) gives the same id.

    So the same input started twice (a double click, a re-run after a failure) continues the same
    restore; a deliberate fresh restore of the same backup passes its own restore_id. A dry run has
    its own id: it never holds (or reuses the plan of) the real restore. A sync (``target_pool_id``) of
    the same backup has its own id per target: never the restore's, whose pool it would take.
    """
    named = f"{pool_id}\n{backup_key}\n{version}" + (f"\nsync:{target_pool_id}" if target_pool_id else "")
    digest = hashlib.sha256(named.encode()).hexdigest()[:12]
    readable = re.sub(r"[^A-Za-z0-9_-]", "-", pool_id)[:40]
    return f"{readable}-{taken_at:%Y%m%dT%H%M%S}-{digest}" + ("-dryrun" if dry_run else "")
