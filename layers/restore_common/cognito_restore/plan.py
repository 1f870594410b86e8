"""Preparation: validate the whole backup and split it into chunk files, before anything is created.

Two passes over the backup, each segmented (docs/preparation.md):

1. scan: the whole document is read and validated; the small sections are kept and every
   membership goes into an on-disk index (SQLite in /tmp) keyed by a 128-bit hash of the username.
2. users: the users list is read again from its byte offset; each user is planned, checked for a
   duplicate username or sign-in name (the same index, hashed keys), given its groups, and written
   at once to a chunk file: users who can sign in (enabled and CONFIRMED) to the first chunk files,
   the others to later ones (the users Map starts the chunks in manifest order). In sync mode the
   chunk files are the partitions of the target pool's listing instead (chunk i holds the users
   whose sign-in name hashes to i): the planned users wait in the index and are written at the end.

Both backup formats are read through a BackupSource (backup.V1Source: one JSON document resumed
at a byte offset; backup_v2.V2Source: gzip JSON-lines files resumed at a file and line).

No user item waits on disk: the index holds about 100 bytes per user and per membership, not the
users. When Lambda time runs low (should_stop), a pass stops after a user or a membership: the
chunk files are completed, the index file and the resume point (a byte offset in the backup) are
saved in the work bucket, and the next invocation ("Backup prepared?" loop) goes on from there with
a fresh reader over a ranged GET. Each user is planned exactly once, in backup order.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import tempfile
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, fields
from typing import IO, Any, Protocol

from cognito_restore.backup import BackupParts, BackupSource, StopCheck, V1Source
from cognito_restore.errors import BackupInvalid, InvalidInput
from cognito_restore.state import PlannedCounts, PreparedPlan
from cognito_restore.users import UserModel, UserPlan, UserProblem, plan_user
from cognito_restore.v2_settings import v2_counts

PROBLEM_CHUNK_SIZE = 5000
PROGRESS_EVERY = 1000  # users read between progress callbacks
UPLOAD_THREADS = 8  # chunk files uploaded in parallel (S3 PUT latency, not CPU, bounds one at a time)
UPLOADS_IN_FLIGHT = 16  # chunk files built but not yet stored: bounds the memory they hold
SQLITE_CACHE_KIB = 65536  # SQLite page cache of the index (the index B-trees outgrow it beyond ~1M users)
# Lambda time kept for a continuation (the index uploaded: 0.9 GB at 10M users, bench) or, at the end, for
# the membership checks and the manifests; the rest of the 900 s reads the backup.
TIME_RESERVE_MS = 150_000
STATE = "plan/preparing.json"  # the resume point of a segmented preparation (work bucket, kept)
MEMBERSHIP_ONLY_GROUP_NOTE = (
    "named only by memberships (the producer lists at most 60 groups): restored without description, precedence or role"
)
# Order of the problems in the report: users (backup order), then memberships read, groups, memberships left out.
USER_PROBLEMS, MEMBERSHIP_READ_PROBLEMS, GROUP_PROBLEMS, MEMBERSHIP_PROBLEMS = 0, 1, 2, 3


class ChunkSink(Protocol):
    """Where chunk files and the other prepared objects go (S3 in Lambda, a dict in unit tests)."""

    def put_json(self, key: str, value: Any) -> str: ...

    def key(self, name: str) -> str: ...

    def chunk_key(self, name: str) -> str: ...


class ResumableSink(ChunkSink, Protocol):
    """A sink that also keeps a segmented preparation's state between invocations (the work bucket)."""

    def get_json_or_none(self, key: str) -> Any | None: ...

    def put_file(self, key: str, path: str) -> None: ...

    def get_file(self, key: str, path: str) -> None: ...


def user_key(username: str) -> bytes:
    """128-bit key of a username or sign-in name in the index. A collision among 40M names has a
    probability under 1e-23 (birthday bound n^2 / 2^129): the index need not keep the names."""
    return hashlib.blake2b(username.encode(), digest_size=16).digest()


class _Uploads:
    """Chunk files stored by a thread pool, at most UPLOADS_IN_FLIGHT at a time; the first error is raised."""

    def __init__(self, sink: ChunkSink) -> None:
        self.sink = sink
        self.pool = ThreadPoolExecutor(max_workers=UPLOAD_THREADS, thread_name_prefix="chunk-upload")
        self.slots = threading.BoundedSemaphore(UPLOADS_IN_FLIGHT)
        self.pending: list[Future[str]] = []
        self.count = 0

    def put(self, key: str, value: Any) -> None:
        self.slots.acquire()
        try:
            future = self.pool.submit(self.sink.put_json, key, value)
        except BaseException:
            self.slots.release()
            raise
        future.add_done_callback(lambda _: self.slots.release())
        self.pending.append(future)
        self.count += 1
        if len(self.pending) > 4 * UPLOADS_IN_FLIGHT:
            done = [f for f in self.pending if f.done()]
            for finished in done:
                finished.result()  # raises the upload's error
            self.pending = [f for f in self.pending if not f.done()]

    def wait(self) -> None:
        """Every chunk file put so far is stored (or its error raised)."""
        pending, self.pending = self.pending, []
        for future in pending:
            future.result()

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


@dataclass
class _ChunkWriter:
    uploads: _Uploads
    prefix: str  # name of the chunk files under the sink's chunk (expiring) or kept prefix
    size: int
    expiring: bool = True
    on_flush: Callable[[], None] | None = None  # progress: one more chunk file
    buffer: list[dict[str, Any]] = field(default_factory=list)
    manifest: list[dict[str, Any]] = field(default_factory=list)
    total: int = 0

    def add(self, item: dict[str, Any]) -> None:
        self.buffer.append(item)
        self.total += 1
        if len(self.buffer) >= self.size:
            self.flush()

    def flush(self, empty: bool = False) -> None:
        """empty: write the chunk file even without items (sync mode: chunk i must be partition i)."""
        if not self.buffer and not empty:
            return
        sink = self.uploads.sink
        name = f"{self.prefix}/chunk-{len(self.manifest):06d}.json"
        key = sink.chunk_key(name) if self.expiring else sink.key(name)
        self.uploads.put(key, self.buffer)
        self.manifest.append({"key": key, "count": len(self.buffer)})
        self.buffer = []
        if self.on_flush is not None:
            self.on_flush()

    def saved(self) -> dict[str, Any]:
        return {"manifest": self.manifest, "total": self.total}

    def restore(self, saved: dict[str, Any], buffer: list[dict[str, Any]]) -> None:
        self.manifest, self.total, self.buffer = saved["manifest"], saved["total"], buffer


def resumable_buffers(sink: ChunkSink, saved: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    buffers: dict[str, list[dict[str, Any]]] = sink.get_json_or_none(saved["buffers_key"])  # type: ignore[attr-defined]
    if buffers is None:
        raise RuntimeError(f"The saved preparation names {saved['buffers_key']}, which is absent.")
    return buffers


def write_manifest(sink: ChunkSink, name: str, *writers: _ChunkWriter) -> str:
    """The manifest of the writers' chunk files, in writer order: the users Map's items."""
    entries = [entry for writer in writers for entry in writer.manifest]
    return sink.put_json(sink.key(name), [{"index": i, **entry} for i, entry in enumerate(entries)])


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
    sign_in_chunks: int = 0  # the first chunk files: users who can sign in (enabled, CONFIRMED)

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


@dataclass
class Continuation:
    """A segmented preparation stopped for lack of time; its state is in the work bucket."""

    stage: str  # "scan" or "users"
    users_read: int  # of the stage
    segments: int  # invocations so far, this one included


_ITEM_FIELDS = tuple(f.name for f in fields(UserPlan))
_SCHEMA = """
    CREATE TABLE users (key BLOB PRIMARY KEY, seq INTEGER, reason TEXT) WITHOUT ROWID;
    CREATE TABLE sign_ins (key BLOB PRIMARY KEY) WITHOUT ROWID;
    CREATE TABLE groups (id INTEGER PRIMARY KEY, name TEXT UNIQUE);
    CREATE TABLE memberships (key BLOB, group_id INTEGER, member TEXT, PRIMARY KEY (key, group_id)) WITHOUT ROWID;
    CREATE TABLE problems (stage INTEGER, category TEXT, item TEXT, outcome TEXT, reason TEXT);
    CREATE TABLE sync_items (seq INTEGER PRIMARY KEY, sign_in TEXT, item TEXT);
"""


class _Index:
    """On-disk index: hashed usernames and sign-in names seen, memberships by hashed username, problems.

    users.reason is NULL for a planned user, else why it is not restored (memberships name it)."""

    def __init__(self, path: str, fresh: bool) -> None:
        self.path = path
        if fresh and os.path.exists(path):
            os.unlink(path)
        self.db = sqlite3.connect(path)
        self.db.executescript(
            f"PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-{SQLITE_CACHE_KIB};"
            + (_SCHEMA if fresh else "")
        )
        self.group_ids: dict[str, int] = {name: gid for gid, name in self.db.execute("SELECT id, name FROM groups")}
        self.group_names = {gid: name for name, gid in self.group_ids.items()}

    def group_id(self, name: str) -> int:
        gid = self.group_ids.get(name)
        if gid is None:
            gid = self.group_ids[name] = int(
                self.db.execute("INSERT INTO groups (name) VALUES (?)", (name,)).lastrowid or 0
            )
            self.group_names[gid] = name
        return gid

    def problem(self, stage: int, category: str, item: str, outcome: str, reason: str) -> None:
        self.db.execute("INSERT INTO problems VALUES (?, ?, ?, ?, ?)", (stage, category, item, outcome, reason))

    def close(self, delete: bool = True) -> None:
        self.db.close()
        if delete:
            for path in (self.path, self.path + ".generation"):
                if os.path.exists(path):
                    os.unlink(path)


def prepare_backup(
    stream: IO[bytes],
    *,
    expected_pool_id: str,
    sink: ChunkSink,
    user_chunk_size: int,
    tmp_dir: str | None = None,
    old_sub_attribute: str | None = None,
    progress: Callable[[str, int], None] | None = None,
    source: BackupSource | None = None,
    partition_by_sign_in: bool = False,
) -> PreparedBackup:
    """In one go (unit tests, benchmarks), over a seekable v1 stream or another source (a V2Source).
    old_sub_attribute ("custom:<name>"): also store each user's old sub there (operator opt-in).
    progress(what, count): called as users are read ("users_read") and chunk files written
    ("chunks_written"). partition_by_sign_in: sync mode (see the module's docstring)."""

    def open_at(offset: int) -> IO[bytes]:
        stream.seek(offset)
        return stream

    done = Preparation(
        expected_pool_id=expected_pool_id,
        sink=sink,
        user_chunk_size=user_chunk_size,
        tmp_dir=tmp_dir,
        old_sub_attribute=old_sub_attribute,
        progress=progress,
        partition_by_sign_in=partition_by_sign_in,
    ).run(source or V1Source(open_at))
    assert isinstance(done, PreparedBackup)  # nothing stops a run without should_stop
    return done


class Preparation:
    """One invocation's share of a (possibly segmented) preparation.

    run(source, should_stop): source reads the backup (a BackupSource). Without
    should_stop the whole preparation runs at once and nothing is saved between stages. With it,
    the sink must be a ResumableSink: the saved state is read first, and when should_stop() says
    yes the state is saved and a Continuation returned."""

    def __init__(
        self,
        *,
        expected_pool_id: str,
        sink: ChunkSink,
        user_chunk_size: int,
        tmp_dir: str | None = None,
        old_sub_attribute: str | None = None,
        progress: Callable[[str, int], None] | None = None,
        partition_by_sign_in: bool = False,
    ) -> None:
        self.partition_by_sign_in = partition_by_sign_in
        self.expected_pool_id = expected_pool_id
        self.sink = sink
        self.user_chunk_size = user_chunk_size
        self.tmp_dir = tmp_dir or tempfile.gettempdir()
        self.old_sub_attribute = old_sub_attribute
        self.progress = progress

    def run(self, source: BackupSource, should_stop: StopCheck | None = None) -> PreparedBackup | Continuation:
        resumable: ResumableSink | None = self.sink if should_stop is not None else None  # type: ignore[assignment]
        saved = resumable.get_json_or_none(resumable.key(STATE)) if resumable is not None else None
        index = self._open_index(resumable, saved)
        uploads = _Uploads(self.sink)
        finished = False
        try:
            job = _Job(self, index, uploads, saved)
            result = job.run(source, should_stop)
            if isinstance(result, Continuation):
                assert resumable is not None
                job.save(resumable)
            finished = isinstance(result, PreparedBackup)
            return result
        finally:
            uploads.close()
            # A continuation's local index may serve the next invocation if it lands on this sandbox.
            index.close(delete=finished or resumable is None or not os.path.exists(index.path + ".generation"))

    def _open_index(self, sink: ResumableSink | None, saved: dict[str, Any] | None) -> _Index:
        if sink is None:
            handle, path = tempfile.mkstemp(prefix="restore-index-", suffix=".sqlite", dir=self.tmp_dir)
            os.close(handle)
            return _Index(path, fresh=True)
        name = hashlib.sha256(sink.key(STATE).encode()).hexdigest()[:16]
        path = os.path.join(self.tmp_dir, f"restore-index-{name}.sqlite")
        marker = path + ".generation"
        if saved is None:
            return _Index(path, fresh=True)
        local = open(marker).read() if os.path.exists(marker) else None  # noqa: SIM115
        if local != str(saved["generation"]):
            sink.get_file(saved["index_key"], path)
        if os.path.exists(marker):
            os.unlink(marker)  # the local copy is about to move past the saved state
        return _Index(path, fresh=False)


class _Job:
    def __init__(self, prep: Preparation, index: _Index, uploads: _Uploads, saved: dict[str, Any] | None) -> None:
        self.prep = prep
        self.index = index
        self.uploads = uploads
        saved = saved or {}
        self.stage: str = saved.get("stage", "scan")
        self.parts = BackupParts.from_dict(saved["parts"]) if saved.get("parts") else BackupParts()
        self.users_cursor: dict[str, Any] | None = saved.get("users_cursor")
        self.position: int = saved.get("position", 0)
        self.status_counts: dict[str, int] = saved.get("status_counts", {})
        self.planned: dict[str, int] = saved.get(
            "planned", {"memberships": 0, "identity_links": 0, "mfa_preferences": 0}
        )
        self.generation: int = saved.get("generation", 0)
        self.segments: int = saved.get("segments", 0) + 1
        self.model: UserModel | None = None
        self.case_sensitive = True
        chunks_written = [0]

        def flushed() -> None:
            chunks_written[0] += 1
            if prep.progress is not None:
                prep.progress("chunks_written", chunks_written[0])

        size = prep.user_chunk_size
        self.sign_in = _ChunkWriter(uploads, "users", size, on_flush=flushed)
        self.later = _ChunkWriter(uploads, "users/later", size, on_flush=flushed)
        if saved.get("writers"):
            # The users of chunk files not full yet: kept with the index (chunks/: expires like them).
            buffers = resumable_buffers(prep.sink, saved)
            self.sign_in.restore(saved["writers"]["sign_in"], buffers["sign_in"])
            self.later.restore(saved["writers"]["later"], buffers["later"])
            chunks_written[0] = len(self.sign_in.manifest) + len(self.later.manifest)

    # --- stages ---------------------------------------------------------------------------------

    def run(self, source: BackupSource, should_stop: StopCheck | None) -> PreparedBackup | Continuation:
        if self.stage == "scan":
            self.parts = source.scan(self.on_membership, self.parts, should_stop)
            if self.parts.cursor is not None:
                return Continuation("scan", self.parts.users_seen, self.segments)
            if self.parts.pool_id != self.prep.expected_pool_id:
                raise BackupInvalid(
                    f"The backup is of pool {self.parts.pool_id}, but its key names {self.prep.expected_pool_id}."
                )
            check_old_sub_slot(self.parts.config, self.prep.old_sub_attribute)
            self.stage = "users"
            self.users_cursor = source.first_users_cursor(self.parts)
        self._set_model(self.parts.config)
        assert self.users_cursor is not None
        cursor = source.read_users(self.users_cursor, self.on_user, should_stop)
        if cursor is not None:
            self.users_cursor = cursor
            return Continuation("users", self.position, self.segments)
        source.users_done(self.parts, self.position)
        return self._finish()

    def on_membership(self, group: str, member: Any) -> None:
        index = self.index
        if not isinstance(member, str):
            index.problem(
                MEMBERSHIP_READ_PROBLEMS,
                "memberships",
                f"{group}: <not a username>",
                "failed",
                "member is not a username",
            )
            return
        inserted = index.db.execute(
            "INSERT OR IGNORE INTO memberships VALUES (?, ?, ?)", (user_key(member), index.group_id(group), member)
        )
        if inserted.rowcount == 0:
            index.problem(
                MEMBERSHIP_READ_PROBLEMS, "memberships", f"{group}: {member}", "skipped", "listed twice in the backup"
            )

    def _set_model(self, config: dict[str, Any]) -> None:
        self.model = UserModel.from_pool_config(config, self.prep.old_sub_attribute)
        self.case_sensitive = (config.get("UsernameConfiguration") or {}).get("CaseSensitive", True) is not False

    def on_user(self, raw: Any) -> None:
        assert self.model is not None
        plan = plan_user(raw, self.model, self.position)
        seq = self.position
        self.position += 1
        progress = self.prep.progress
        if progress is not None and self.position % PROGRESS_EVERY == 0:
            progress("users_read", self.position)
        db = self.index.db
        if isinstance(plan, UserProblem):
            inserted = db.execute(
                "INSERT OR IGNORE INTO users VALUES (?, ?, ?)", (user_key(plan.username), seq, plan.reason)
            )
            if inserted.rowcount == 0:
                self.index.problem(USER_PROBLEMS, "users", plan.username, "skipped", "listed twice in the backup")
            else:
                self.index.problem(USER_PROBLEMS, "users", plan.username, plan.outcome, plan.reason)
            return
        key = user_key(plan.old_username)
        if db.execute("INSERT OR IGNORE INTO users VALUES (?, ?, NULL)", (key, seq)).rowcount == 0:
            self.index.problem(USER_PROBLEMS, "users", plan.old_username, "skipped", "listed twice in the backup")
            return
        sign_in = plan.create_username if self.case_sensitive else plan.create_username.lower()
        if db.execute("INSERT OR IGNORE INTO sign_ins VALUES (?)", (user_key(sign_in),)).rowcount == 0:
            reason = "another user of the backup has the same sign-in name"
            db.execute("UPDATE users SET reason = ? WHERE key = ?", (reason, key))
            self.index.problem(USER_PROBLEMS, "users", plan.old_username, "failed", reason)
            return
        self.status_counts[plan.status] = self.status_counts.get(plan.status, 0) + 1
        self._write(plan, key, sign_in, seq)

    def _write(self, plan: UserPlan, key: bytes, sign_in: str, seq: int) -> None:
        names = self.index.group_names
        # plan.to_item() is dataclasses.asdict: a deep copy, a third of the CPU time; the plan is ours alone.
        item = {name: getattr(plan, name) for name in _ITEM_FIELDS}
        item["groups"] = sorted(
            names[gid] for (gid,) in self.index.db.execute("SELECT group_id FROM memberships WHERE key = ?", (key,))
        )
        self.planned["memberships"] += len(item["groups"])
        self.planned["identity_links"] += len(item.get("links") or [])
        self.planned["mfa_preferences"] += int(bool(item.get("sms_mfa") or item.get("email_mfa")))
        if self.prep.partition_by_sign_in:  # written at the end, once the partition count is known
            self.index.db.execute("INSERT INTO sync_items VALUES (?, ?, ?)", (seq, sign_in, json.dumps(item)))
            return
        # Those who can sign in first: the users Map starts the chunk files in manifest order.
        (self.sign_in if plan.enabled and plan.status == "CONFIRMED" else self.later).add(item)

    def _write_partitions(self) -> None:
        """Sync mode: one chunk file per partition, in partition order, empty ones included."""
        from cognito_restore.sync_users import partition_of, partitions_for

        db = self.index.db
        (users,) = db.execute("SELECT count(*) FROM sync_items").fetchone()
        partitions = partitions_for(users, self.prep.user_chunk_size)
        db.execute("CREATE TEMP TABLE parts (seq INTEGER PRIMARY KEY, part INTEGER)")
        db.executemany(
            "INSERT INTO parts VALUES (?, ?)",
            (
                (seq, partition_of(sign_in, partitions))
                for seq, sign_in in db.execute("SELECT seq, sign_in FROM sync_items")
            ),
        )
        writer = self.sign_in
        writer.size = 1 << 62  # chunk boundaries are the partitions'
        rows = db.execute("SELECT s.item, p.part FROM sync_items s JOIN parts p USING (seq) ORDER BY p.part, s.seq")
        for item, part in rows:
            while len(writer.manifest) < part:
                writer.flush(empty=True)
            writer.add(json.loads(item))
        while len(writer.manifest) < partitions:
            writer.flush(empty=True)

    # --- end of a segment, end of the preparation -----------------------------------------------

    def save(self, sink: ResumableSink) -> None:
        """Store the chunk files written, the index and the users of the chunk files not full yet (so
        chunk files keep their size across continuations), then the resume point that names them."""
        self.uploads.wait()
        self.index.db.commit()
        self.generation += 1
        # New keys per generation: the state saved last always names objects of its own moment.
        index_key = sink.chunk_key(f"prepare/index-{self.generation:06d}.sqlite")
        buffers_key = sink.chunk_key(f"prepare/buffers-{self.generation:06d}.json")
        sink.put_file(index_key, self.index.path)
        sink.put_json(buffers_key, {"sign_in": self.sign_in.buffer, "later": self.later.buffer})
        sink.put_json(
            sink.key(STATE),
            {
                "stage": self.stage,
                "parts": self.parts.to_dict(),
                "users_cursor": self.users_cursor,
                "position": self.position,
                "status_counts": self.status_counts,
                "planned": self.planned,
                "writers": {"sign_in": self.sign_in.saved(), "later": self.later.saved()},
                "generation": self.generation,
                "index_key": index_key,
                "buffers_key": buffers_key,
                "segments": self.segments,
            },
        )
        with open(self.index.path + ".generation", "w") as marker:
            marker.write(str(self.generation))

    def _finish(self) -> PreparedBackup:
        sink, index, parts = self.prep.sink, self.index, self.parts
        if self.prep.partition_by_sign_in:
            self._write_partitions()
        else:
            self.sign_in.flush()
            self.later.flush()
        groups_to_create = _groups_to_create(parts, index)
        _membership_problems(index)
        problems = _ChunkWriter(self.uploads, "problems", PROBLEM_CHUNK_SIZE, expiring=False)
        for problem in _iter_problems(index):
            problems.add(problem)
        problems.flush()
        self.uploads.wait()
        users_manifest = write_manifest(sink, "users/manifest.json", self.sign_in, self.later)
        problems_manifest = write_manifest(sink, "problems/manifest.json", problems)
        parts_key = sink.put_json(
            sink.key("backup/parts.json"), {**parts.sections, "groups_to_create": groups_to_create}
        )
        config = parts.config
        return PreparedBackup(
            backup_timestamp=parts.get("timestamp"),
            parts_key=parts_key,
            users_manifest_key=users_manifest,
            problems_manifest_key=problems_manifest,
            user_chunks=len(self.sign_in.manifest) + len(self.later.manifest),
            counts=_backup_counts(parts, groups_to_create),
            planned={
                "users": self.sign_in.total + self.later.total,
                "memberships": self.planned["memberships"],
                "identity_links": self.planned["identity_links"],
                "mfa_preferences": self.planned["mfa_preferences"],
            },
            status_counts=self.status_counts,
            password_policy=(config.get("Policies") or {}).get("PasswordPolicy") or {},
            sign_in_chunks=0 if self.prep.partition_by_sign_in else len(self.sign_in.manifest),
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


def _groups_to_create(parts: BackupParts, index: _Index) -> list[dict[str, Any]]:
    listed: list[dict[str, Any]] = []
    names: set[str] = set()
    for position, group in enumerate(parts.get("groups") or []):
        name = group.get("GroupName")
        if not isinstance(name, str) or not name:
            index.problem(
                GROUP_PROBLEMS,
                "groups",
                f"<group #{position} without a GroupName>",
                "failed",
                "not a ListGroups item: GroupName missing",
            )
        elif name in names:
            index.problem(GROUP_PROBLEMS, "groups", name, "skipped", "listed twice in the backup")
        else:
            names.add(name)
            listed.append(group)
    extra = [
        {"GroupName": name, "_note": MEMBERSHIP_ONLY_GROUP_NOTE}
        for (name,) in index.db.execute("SELECT name FROM groups ORDER BY name")
        if name not in names
    ]
    return listed + extra


def _membership_problems(index: _Index) -> None:
    """Memberships that no restored user can take, each reported by name."""
    rows = index.db.execute(
        """SELECT g.name, m.member, u.key IS NULL, u.reason
           FROM memberships m JOIN groups g ON g.id = m.group_id LEFT JOIN users u ON u.key = m.key
           WHERE u.key IS NULL OR u.reason IS NOT NULL
           ORDER BY g.name, m.member"""
    ).fetchall()
    for group, old_username, absent, reason in rows:
        if absent:
            index.problem(
                MEMBERSHIP_PROBLEMS,
                "memberships",
                f"{group}: {old_username}",
                "failed",
                "names a user absent from the backup",
            )
        else:
            index.problem(
                MEMBERSHIP_PROBLEMS,
                "memberships",
                f"{group}: {old_username}",
                "skipped",
                f"user not restored ({reason})",
            )


def _iter_problems(index: _Index) -> Iterator[dict[str, str]]:
    rows = index.db.execute("SELECT category, item, outcome, reason FROM problems ORDER BY stage, rowid")
    for category, item, outcome, reason in rows:
        yield {"category": category, "item": item, "outcome": outcome, "reason": reason}


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
