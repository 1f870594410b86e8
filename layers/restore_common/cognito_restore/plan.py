"""Preparation: validate the whole backup and split it into chunk files, before anything is created.

Memory stays flat in the number of users: planned users, memberships and problems wait in an SQLite
file on local disk (/tmp in Lambda) until the whole document has been read; then each user is
written to a chunk file together with its groups, so one task creates a user and adds it to its
groups right away (the quota categories of the two then overlap instead of running one after the
other).
"""

from __future__ import annotations

import json
import os
import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any, Protocol

from cognito_restore.backup import BackupParts, MembershipCallback, UserCallback, read_backup
from cognito_restore.errors import BackupInvalid, InvalidInput
from cognito_restore.state import PlannedCounts, PreparedPlan
from cognito_restore.users import UserModel, UserProblem, plan_user
from cognito_restore.v2_settings import v2_counts

# A backup reader (backup.read_backup for v1, backup_v2.read_backup_v2 for v2) bound to its source.
BackupReader = Callable[[UserCallback, MembershipCallback, Callable[[str, Any], None]], BackupParts]

PROBLEM_CHUNK_SIZE = 5000
PROGRESS_EVERY = 1000  # users read between progress callbacks
MEMBERSHIP_ONLY_GROUP_NOTE = (
    "named only by memberships (the producer lists at most 60 groups): restored without description, precedence or role"
)


class ChunkSink(Protocol):
    """Where chunk files and the other prepared objects go (S3 in Lambda, a dict in unit tests)."""

    def put_json(self, key: str, value: Any) -> str: ...

    def key(self, name: str) -> str: ...

    def chunk_key(self, name: str) -> str: ...


@dataclass
class _ChunkWriter:
    sink: ChunkSink
    kind: str
    size: int
    expiring: bool = True
    on_flush: Callable[[int], None] | None = None  # progress: chunks written so far
    buffer: list[dict[str, Any]] = field(default_factory=list)
    manifest: list[dict[str, Any]] = field(default_factory=list)
    total: int = 0

    def add(self, item: dict[str, Any]) -> int:
        """Buffer one item; returns the index of the chunk it lands in."""
        self.buffer.append(item)
        self.total += 1
        index = len(self.manifest)
        if len(self.buffer) >= self.size:
            self.flush()
        return index

    def flush(self, empty: bool = False) -> None:
        """empty: write the chunk even without items (sync mode: chunk i must be partition i)."""
        if not self.buffer and not empty:
            return
        index = len(self.manifest)
        name = f"{self.kind}/chunk-{index:06d}.json"
        key = self.sink.put_json(self.sink.chunk_key(name) if self.expiring else self.sink.key(name), self.buffer)
        self.manifest.append({"index": index, "key": key, "count": len(self.buffer)})
        self.buffer = []
        if self.on_flush is not None:
            self.on_flush(len(self.manifest))

    def finish(self) -> str:
        self.flush()
        return self.sink.put_json(self.sink.key(f"{self.kind}/manifest.json"), self.manifest)


@dataclass
class PreparedBackup:
    """What the later phases need; only pointers and counts go into Step Functions state."""

    backup_timestamp: str | None
    parts_key: str
    users_manifest_key: str
    problems_manifest_key: str
    user_chunks: int
    counts: dict[str, int]
    planned: PlannedCounts
    status_counts: dict[str, int]
    password_policy: dict[str, Any]  # for the random passwords of the user chunks (no secret)

    def to_state(self) -> PreparedPlan:
        return PreparedPlan(
            backup_timestamp=self.backup_timestamp,
            parts_key=self.parts_key,
            users_manifest_key=self.users_manifest_key,
            problems_manifest_key=self.problems_manifest_key,
            user_chunks=self.user_chunks,
            counts=self.counts,
            planned=self.planned,
            status_counts=self.status_counts,
            password_policy=self.password_policy,
        )


class _Index:
    """On-disk index of the users and memberships seen so far."""

    def __init__(self, directory: str) -> None:
        handle, self.path = tempfile.mkstemp(prefix="restore-index-", suffix=".sqlite", dir=directory)
        os.close(handle)
        self.db = sqlite3.connect(self.path)
        self.db.executescript(
            """
            PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;
            CREATE TABLE users (old_username TEXT PRIMARY KEY, sign_in TEXT, restorable INTEGER, reason TEXT,
                                seq INTEGER, item TEXT);
            CREATE TABLE sign_ins (sign_in_key TEXT PRIMARY KEY);
            CREATE TABLE memberships (group_name TEXT, old_username TEXT, PRIMARY KEY (group_name, old_username));
            CREATE INDEX memberships_by_user ON memberships (old_username, group_name);
            CREATE TABLE problems (category TEXT, item TEXT, outcome TEXT, reason TEXT);
            """
        )

    def close(self) -> None:
        self.db.close()
        os.unlink(self.path)


def prepare_backup(
    stream: IO[bytes],
    *,
    expected_pool_id: str,
    sink: ChunkSink,
    user_chunk_size: int,
    tmp_dir: str | None = None,
    old_sub_attribute: str | None = None,
    progress: Callable[[str, int], None] | None = None,
    partition_by_sign_in: bool = False,
    reader: BackupReader | None = None,
) -> PreparedBackup:
    """old_sub_attribute ("custom:<name>"): also store each user's old sub there (operator opt-in).
    progress(what, count): called as users are read ("users_read") and chunk files written ("chunks_written").
    partition_by_sign_in (sync mode): chunk i holds the users whose sign-in name hashes to i
    (sync_users.partition_of), so that it meets partition i of the target pool's listing.
    reader: how to read the backup (default: the v1 document in ``stream``)."""
    index = _Index(tmp_dir or tempfile.gettempdir())
    if reader is None:

        def reader(on_user: UserCallback, on_membership: MembershipCallback, on_section: Any) -> BackupParts:
            return read_backup(stream, on_user, on_membership, on_section)

    try:
        return _prepare(
            reader, expected_pool_id, sink, user_chunk_size, index, old_sub_attribute, progress, partition_by_sign_in
        )
    finally:
        index.close()


def _prepare(
    reader: BackupReader,
    expected_pool_id: str,
    sink: ChunkSink,
    user_chunk_size: int,
    index: _Index,
    old_sub_attribute: str | None,
    progress: Callable[[str, int], None] | None = None,
    partition_by_sign_in: bool = False,
) -> PreparedBackup:
    planner = _UserPlanner(index, progress)
    duplicates: list[str] = []

    def on_membership(group: str, member: Any) -> None:
        if not isinstance(member, str):
            _problem(index, "memberships", f"{group}: <not a username>", "failed", "member is not a username")
            return
        cursor = index.db.execute("INSERT OR IGNORE INTO memberships VALUES (?, ?)", (group, member))
        if cursor.rowcount == 0:
            duplicates.append(f"{group}: {member}")

    def on_section(name: str, value: Any) -> None:
        if name == "user_pool_config" and isinstance(value, dict):
            check_old_sub_slot(value, old_sub_attribute)
            planner.set_model(UserModel.from_pool_config(value, old_sub_attribute), value)

    parts = reader(planner.on_user, on_membership, on_section)
    if parts.pool_id != expected_pool_id:
        raise BackupInvalid(f"The backup is of pool {parts.pool_id}, but its key names {expected_pool_id}.")
    if planner.model is None:
        check_old_sub_slot(parts.config, old_sub_attribute)
        planner.set_model(UserModel.from_pool_config(parts.config, old_sub_attribute), parts.config)
    planner.drain_spill()
    for duplicate in duplicates:
        _problem(index, "memberships", duplicate, "skipped", "listed twice in the backup")

    groups_to_create = _groups_to_create(parts, index)
    _membership_problems(index)
    users = _ChunkWriter(
        sink, "users", user_chunk_size, on_flush=(lambda n: progress("chunks_written", n)) if progress else None
    )
    partitions = _partition_users(index, user_chunk_size, planner.case_sensitive) if partition_by_sign_in else None
    planned_dependents = _write_users(index, users, partitions)
    users_manifest = users.finish()
    problems_manifest = _write_problems(index, sink)

    parts_key = sink.put_json(sink.key("backup/parts.json"), {**parts.sections, "groups_to_create": groups_to_create})
    counts = _backup_counts(parts, groups_to_create)
    config = parts.config
    return PreparedBackup(
        backup_timestamp=parts.get("timestamp"),
        parts_key=parts_key,
        users_manifest_key=users_manifest,
        problems_manifest_key=problems_manifest,
        user_chunks=len(users.manifest),
        counts=counts,
        planned={
            "users": users.total,
            "memberships": planned_dependents["memberships"],
            "identity_links": planned_dependents["identity_links"],
            "mfa_preferences": planned_dependents["mfa_preferences"],
        },
        status_counts=planner.status_counts,
        password_policy=(config.get("Policies") or {}).get("PasswordPolicy") or {},
    )


MAX_CUSTOM_ATTRIBUTES = 50


def check_old_sub_slot(config: dict[str, Any], old_sub_attribute: str | None) -> None:
    """Keeping old subs needs one more custom attribute; Cognito allows 50 per pool."""
    if not old_sub_attribute:
        return
    names = [a.get("Name") for a in config.get("SchemaAttributes") or [] if isinstance(a, dict)]
    customs = [n for n in names if isinstance(n, str) and (n.startswith("custom:") or n.startswith("dev:"))]
    if old_sub_attribute not in names and len(customs) >= MAX_CUSTOM_ATTRIBUTES:
        raise InvalidInput(f"preserve_old_sub needs a free custom attribute, but the pool already has {len(customs)}.")


def _problem(index: _Index, category: str, item: str, outcome: str, reason: str) -> None:
    index.db.execute("INSERT INTO problems VALUES (?, ?, ?, ?)", (category, item, outcome, reason))


class _UserPlanner:
    """Plans users as they stream by; users seen before the pool config wait in a spill file."""

    def __init__(self, index: _Index, progress: Callable[[str, int], None] | None = None) -> None:
        self.index = index
        self.progress = progress
        self.model: UserModel | None = None
        self.case_sensitive = True
        self.spill: IO[str] | None = None
        self.position = 0
        self.status_counts: dict[str, int] = {}

    def set_model(self, model: UserModel, config: dict[str, Any]) -> None:
        self.model = model
        self.case_sensitive = (config.get("UsernameConfiguration") or {}).get("CaseSensitive", True) is not False

    def on_user(self, raw: Any) -> None:
        if self.model is None:
            if self.spill is None:
                # Open across calls (on_user, then drain_spill closes it): no with-block can span them.
                self.spill = tempfile.TemporaryFile("w+", dir=os.path.dirname(self.index.path))  # noqa: SIM115
            self.spill.write(json.dumps(raw) + "\n")
            return
        self._plan(raw)

    def drain_spill(self) -> None:
        if self.spill is None:
            return
        self.spill.seek(0)
        for line in self.spill:
            self._plan(json.loads(line))
        self.spill.close()

    def _plan(self, raw: Any) -> None:
        assert self.model is not None
        plan = plan_user(raw, self.model, self.position)
        self.position += 1
        if self.progress is not None and self.position % PROGRESS_EVERY == 0:
            self.progress("users_read", self.position)
        db = self.index.db
        if isinstance(plan, UserProblem):
            inserted = db.execute(
                "INSERT OR IGNORE INTO users VALUES (?, NULL, 0, ?, NULL, NULL)", (plan.username, plan.reason)
            )
            if inserted.rowcount == 0:
                _problem(self.index, "users", plan.username, "skipped", "listed twice in the backup")
            else:
                _problem(self.index, "users", plan.username, plan.outcome, plan.reason)
            return
        if db.execute("SELECT 1 FROM users WHERE old_username = ?", (plan.old_username,)).fetchone():
            _problem(self.index, "users", plan.old_username, "skipped", "listed twice in the backup")
            return
        sign_in_key = plan.create_username if self.case_sensitive else plan.create_username.lower()
        if db.execute("INSERT OR IGNORE INTO sign_ins VALUES (?)", (sign_in_key,)).rowcount == 0:
            reason = "another user of the backup has the same sign-in name"
            db.execute("INSERT INTO users VALUES (?, NULL, 0, ?, NULL, NULL)", (plan.old_username, reason))
            _problem(self.index, "users", plan.old_username, "failed", reason)
            return
        db.execute(
            "INSERT INTO users VALUES (?, ?, 1, NULL, ?, ?)",
            (plan.old_username, plan.create_username, self.position, json.dumps(plan.to_item())),
        )
        self.status_counts[plan.status] = self.status_counts.get(plan.status, 0) + 1


def _groups_to_create(parts: BackupParts, index: _Index) -> list[dict[str, Any]]:
    listed: list[dict[str, Any]] = []
    names: set[str] = set()
    for position, group in enumerate(parts.get("groups") or []):
        name = group.get("GroupName")
        if not isinstance(name, str) or not name:
            _problem(
                index,
                "groups",
                f"<group #{position} without a GroupName>",
                "failed",
                "not a ListGroups item: GroupName missing",
            )
        elif name in names:
            _problem(index, "groups", name, "skipped", "listed twice in the backup")
        else:
            names.add(name)
            listed.append(group)
    extra = [
        {"GroupName": name, "_note": MEMBERSHIP_ONLY_GROUP_NOTE}
        for (name,) in index.db.execute("SELECT DISTINCT group_name FROM memberships ORDER BY group_name")
        if name not in names
    ]
    return listed + extra


def _membership_problems(index: _Index) -> None:
    """Memberships that no restored user can take, each reported by name."""
    rows = index.db.execute(
        """SELECT m.group_name, m.old_username, u.restorable, u.reason
           FROM memberships m LEFT JOIN users u ON u.old_username = m.old_username
           WHERE u.restorable IS NULL OR u.restorable = 0
           ORDER BY m.group_name, m.old_username"""
    ).fetchall()
    for group, old_username, restorable, reason in rows:
        if restorable is None:
            _problem(index, "memberships", f"{group}: {old_username}", "failed", "names a user absent from the backup")
        else:
            _problem(index, "memberships", f"{group}: {old_username}", "skipped", f"user not restored ({reason})")


def _partition_users(index: _Index, chunk_size: int, case_sensitive: bool) -> int:
    """Sync mode: each planned user's partition (a hash of its sign-in name) in a temp table; returns the count."""
    from cognito_restore.sync_users import partition_of, partitions_for, sign_in_key

    db = index.db
    (users,) = db.execute("SELECT count(*) FROM users WHERE restorable = 1").fetchone()
    partitions = partitions_for(users, chunk_size)
    db.execute("CREATE TEMP TABLE parts (old_username TEXT PRIMARY KEY, part INTEGER)")
    db.executemany(
        "INSERT INTO parts VALUES (?, ?)",
        (
            (name, partition_of(sign_in_key(sign_in, case_sensitive), partitions))
            for name, sign_in in db.execute("SELECT old_username, sign_in FROM users WHERE restorable = 1").fetchall()
        ),
    )
    return partitions


def _write_users(index: _Index, writer: _ChunkWriter, partitions: int | None = None) -> dict[str, int]:
    """Each planned user, in backup order, with the groups it belongs to; returns the memberships, identity
    links and SMS MFA preferences planned (each is restored, skipped or failed: the report counts them).
    partitions (sync mode): one chunk per partition, in partition order, empty ones included."""
    planned = {"memberships": 0, "identity_links": 0, "mfa_preferences": 0}
    if partitions is None:
        rows = index.db.execute(
            """SELECT u.item, json_group_array(m.group_name) FILTER (WHERE m.group_name IS NOT NULL), 0
               FROM users u LEFT JOIN memberships m ON m.old_username = u.old_username
               WHERE u.restorable = 1 GROUP BY u.old_username ORDER BY u.seq"""
        )
    else:
        writer.size = 1 << 62  # chunk boundaries are the partitions'
        rows = index.db.execute(
            """SELECT u.item, json_group_array(m.group_name) FILTER (WHERE m.group_name IS NOT NULL), p.part
               FROM users u JOIN parts p ON p.old_username = u.old_username
               LEFT JOIN memberships m ON m.old_username = u.old_username
               WHERE u.restorable = 1 GROUP BY u.old_username ORDER BY p.part, u.seq"""
        )
    for item, groups, part in rows:
        while partitions is not None and len(writer.manifest) < part:
            writer.flush(empty=True)
        user = json.loads(item)
        user["groups"] = sorted(json.loads(groups))
        planned["memberships"] += len(user["groups"])
        planned["identity_links"] += len(user.get("links") or [])
        planned["mfa_preferences"] += int(bool(user.get("sms_mfa") or user.get("email_mfa")))
        writer.add(user)
    while partitions is not None and len(writer.manifest) < partitions:
        writer.flush(empty=True)
    return planned


def _iter_problems(index: _Index) -> Iterator[dict[str, str]]:
    for category, item, outcome, reason in index.db.execute("SELECT * FROM problems ORDER BY rowid"):
        yield {"category": category, "item": item, "outcome": outcome, "reason": reason}


def _write_problems(index: _Index, sink: ChunkSink) -> str:
    writer = _ChunkWriter(sink, "problems", PROBLEM_CHUNK_SIZE, expiring=False)
    for problem in _iter_problems(index):
        writer.add(problem)
    return writer.finish()


def _backup_counts(parts: BackupParts, groups: list[dict[str, Any]]) -> dict[str, int]:
    config = parts.config
    return {
        "users": parts.users_seen,
        "groups": len(parts.get("groups") or []) + sum(1 for g in groups if g.get("_note")),
        "memberships": parts.memberships_seen,
        "app_clients": len(parts.get("app_clients") or []),
        "identity_providers": len(parts.get("identity_providers") or []),
        "resource_servers": len(parts.get("resource_servers") or []),
        "domain": int(bool(config.get("Domain"))) + int(bool(config.get("CustomDomain"))),
        "lambda_triggers": sum(1 for k, v in (config.get("LambdaConfig") or {}).items() if v and k != "KMSKeyID"),
        "ui_customization": 1 if parts.get("ui_customization") else 0,
        "threat_protection": 1 if parts.get("risk_configuration") else 0,
        "waf": 1 if parts.get("waf_configuration") else 0,
        **v2_counts(parts.sections),
    }
