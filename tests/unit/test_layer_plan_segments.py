"""Segmented preparation (cognito_restore.plan.Preparation): stopped by should_stop after any user or
membership, resumed by a fresh reader at the saved byte offset, in the same sandbox (/tmp kept) or in
another one (the index downloaded): the chunk files, manifests, problems and counts are exactly those
of a preparation in one go. No user is lost or planned twice, and duplicates are found across segments.
"""

from __future__ import annotations

import io
import json
import os
import random
import shutil
from typing import Any

import pytest

from cognito_restore import plan as plan_module
from cognito_restore.backup import V1Source
from cognito_restore.plan import Continuation, Preparation, PreparedBackup, prepare_backup
from tests.unit.test_layer_plan import POOL, MemorySink, document, user


class ResumableMemorySink(MemorySink):
    """MemorySink with the state a segmented preparation keeps between invocations (the work bucket)."""

    def __init__(self, files_dir: str) -> None:
        super().__init__()
        self.files_dir = files_dir
        self.rewritten: list[str] = []

    def put_json(self, key: str, value: Any) -> str:
        if key in self.objects:
            if key != self.key(plan_module.STATE):  # a crashed segment's chunk file, redone: same content
                assert self.objects[key] == json.loads(json.dumps(value)), f"{key} rewritten with other content"
                self.rewritten.append(key)
            del self.objects[key]
        return super().put_json(key, value)

    def get_json_or_none(self, key: str) -> Any | None:
        return self.objects.get(key)

    def put_file(self, key: str, path: str) -> None:
        target = os.path.join(self.files_dir, key.replace("/", "_"))
        shutil.copyfile(path, target)
        self.objects[key] = target

    def get_file(self, key: str, path: str) -> None:
        shutil.copyfile(str(self.objects[key]), path)


def backup(n: int = 120) -> dict[str, Any]:
    rng = random.Random(7)
    users = []
    for i in range(n):
        status = rng.choice(["CONFIRMED", "CONFIRMED", "UNCONFIRMED", "FORCE_CHANGE_PASSWORD", "RESET_REQUIRED"])
        users.append(user(f"user-{i:04d}", status=status, enabled=rng.random() > 0.2, email=f"u{i}@example.com"))
    users.insert(30, user("user-0010"))  # the same username again: skipped, in another segment than the first
    users.insert(90, user("USER-0020"))  # the same sign-in name in a case-insensitive pool: failed
    users.insert(50, {"Attributes": []})  # no username: failed
    memberships = {
        "admins": [f"user-{i:04d}" for i in range(0, n, 3)] + ["ghost", "user-0003"],  # absent user, twice
        "viewers": [f"user-{i:04d}" for i in range(0, n, 2)] + [42],  # not a username
        "unlisted": ["USER-0020", "user-0001"],
    }
    return document(
        users=users,
        memberships=memberships,
        groups=["admins", "viewers"],
        config={"UsernameConfiguration": {"CaseSensitive": False}},
    )


def in_one_go(doc: dict[str, Any], chunk_size: int) -> tuple[PreparedBackup, MemorySink]:
    sink = MemorySink()
    prepared = prepare_backup(
        io.BytesIO(json.dumps(doc).encode()), expected_pool_id=POOL, sink=sink, user_chunk_size=chunk_size
    )
    return prepared, sink


def in_segments(
    doc: dict[str, Any], chunk_size: int, items_per_segment: int, tmp_path: Any, same_sandbox: bool, crash_at: int = 0
) -> tuple[PreparedBackup, ResumableMemorySink, list[Continuation]]:
    crash_requested = crash_at
    data = json.dumps(doc, indent=1).encode()  # other byte offsets than the one-go run's document
    (tmp_path / "files").mkdir()
    sink = ResumableMemorySink(str(tmp_path / "files"))
    continuations: list[Continuation] = []
    opened: list[int] = []
    invocation = 0
    crashed = False

    def open_at(offset: int) -> io.BytesIO:
        opened.append(offset)
        return io.BytesIO(data[offset:])  # what a ranged GET returns

    while True:
        invocation += 1
        sandbox = tmp_path / ("sandbox" if same_sandbox else f"sandbox-{invocation}")
        sandbox.mkdir(exist_ok=True)
        checks = {"n": 0}

        def should_stop(checks: dict[str, int] = checks, crash: bool = bool(crash_at and invocation == 2)) -> bool:
            checks["n"] += 1
            if crash and checks["n"] == crash_requested:
                raise RuntimeError("the sandbox died")  # Lambda crashed: nothing saved by this invocation
            return checks["n"] >= items_per_segment

        preparation = Preparation(expected_pool_id=POOL, sink=sink, user_chunk_size=chunk_size, tmp_dir=str(sandbox))
        try:
            result = preparation.run(V1Source(open_at), should_stop)
        except RuntimeError:
            assert crash_at, "only the planned crash"
            crash_at, crashed = 0, True  # Step Functions retries the task
            continue
        if isinstance(result, PreparedBackup):
            assert len(continuations) > 2, "the test meant several segments"
            assert any(offset > 0 for offset in opened), "a continuation reads from a byte offset"
            assert crashed == bool(crash_requested)
            return result, sink, continuations
        continuations.append(result)
        assert invocation < 1000


def outputs(prepared: PreparedBackup, sink: MemorySink) -> dict[str, Any]:
    """What the later phases read: each chunk file's users, the problems, the counts (keys aside)."""
    manifest = sink.objects[prepared.users_manifest_key]
    problems = [p for entry in sink.objects[prepared.problems_manifest_key] for p in sink.objects[entry["key"]]]
    return {
        "chunks": [sink.objects[entry["key"]] for entry in manifest],
        "counts_in_manifest": [entry["count"] for entry in manifest],
        "indexes": [entry["index"] for entry in manifest],
        "problems": problems,
        "parts": sink.objects[prepared.parts_key],
        "state": prepared.to_state(),
        "sign_in_chunks": prepared.sign_in_chunks,
    }


@pytest.mark.parametrize("same_sandbox", [True, False], ids=["warm /tmp", "other sandbox"])
@pytest.mark.parametrize("items_per_segment", [1, 7, 40])
def test_segments_give_exactly_the_preparation_in_one_go(tmp_path, same_sandbox, items_per_segment):
    doc = backup()
    expected_prepared, expected_sink = in_one_go(doc, chunk_size=9)
    prepared, sink, continuations = in_segments(doc, 9, items_per_segment, tmp_path, same_sandbox)
    assert outputs(prepared, sink) == outputs(expected_prepared, expected_sink)
    assert {c.stage for c in continuations} == {"scan", "users"}
    assert [c.segments for c in continuations] == list(range(1, len(continuations) + 1))

    # Counts add up: every backed-up user is planned once or reported once, by name.
    got = outputs(prepared, sink)
    planned = [u["old_username"] for chunk in got["chunks"] for u in chunk]
    assert len(planned) == len(set(planned)) == prepared.planned["users"]
    user_problems = [p for p in got["problems"] if p["category"] == "users"]
    assert prepared.planned["users"] + len(user_problems) == prepared.counts["users"] == len(doc["users"])
    assert {(p["item"], p["outcome"]) for p in user_problems} >= {("user-0010", "skipped"), ("USER-0020", "failed")}
    # Chunk files keep their size across continuations: only the last of each class is partial.
    sizes = got["counts_in_manifest"]
    first, later = sizes[: prepared.sign_in_chunks], sizes[prepared.sign_in_chunks :]
    assert all(size == 9 for size in first[:-1] + later[:-1])


def test_a_segment_that_crashes_is_redone_from_the_last_saved_point(tmp_path):
    doc = backup()
    expected_prepared, expected_sink = in_one_go(doc, chunk_size=9)
    prepared, sink, _ = in_segments(doc, 9, 60, tmp_path, same_sandbox=True, crash_at=45)
    assert outputs(prepared, sink) == outputs(expected_prepared, expected_sink)


def test_users_who_can_sign_in_come_first_with_their_groups(tmp_path):
    doc = backup()
    prepared, sink, _ = in_segments(doc, 9, 25, tmp_path, same_sandbox=False)
    got = outputs(prepared, sink)
    chunks = got["chunks"]
    can = [u["enabled"] and u["status"] == "CONFIRMED" for chunk in chunks for u in chunk]
    assert can == sorted(can, reverse=True) and any(can) and not all(can)  # all who can, then the others
    assert all(
        u["enabled"] and u["status"] == "CONFIRMED" for chunk in chunks[: prepared.sign_in_chunks] for u in chunk
    )
    # Backup order within each class, memberships next to their user.
    order: dict[str, int] = {}
    for i, raw in enumerate(doc["users"]):
        order.setdefault(raw.get("Username"), i)  # the first of two with one username is the one planned
    for wanted in (True, False):
        names = [
            u["old_username"]
            for chunk in chunks
            for u in chunk
            if (u["enabled"] and u["status"] == "CONFIRMED") == wanted
        ]
        assert names == sorted(names, key=order.__getitem__)
    by_name = {u["old_username"]: u for chunk in chunks for u in chunk}
    assert by_name["user-0003"]["groups"] == ["admins"]
    assert by_name["user-0006"]["groups"] == ["admins", "viewers"]
    assert by_name["user-0001"]["groups"] == ["unlisted"]


def test_the_index_holds_no_user_item_and_little_per_user(tmp_path):
    """The index keeps hashed keys and memberships, never the users: its size per user stays small."""
    n = 3000
    doc = document(
        users=[
            user(f"someone-with-a-long-username-{i:06d}", email=f"u{i}@example.com", name="x" * 200) for i in range(n)
        ],
        memberships={"g": [f"someone-with-a-long-username-{i:06d}" for i in range(n)]},
    )
    sizes: list[int] = []
    original = plan_module._Job._finish

    def measure(job: Any) -> Any:
        job.index.db.commit()
        sizes.append(os.path.getsize(job.index.path))
        return original(job)

    plan_module._Job._finish = measure  # type: ignore[method-assign]
    try:
        in_one_go(doc, chunk_size=500)
    finally:
        plan_module._Job._finish = original  # type: ignore[method-assign]
    per_user = sizes[0] / n
    assert per_user < 250, per_user  # a user item alone is ~400 bytes here; the old index held ~2.5 KB per user


# --- the reader itself --------------------------------------------------------------------------


def _read_all_in_segments(data: bytes, stop_every: int) -> tuple[list[Any], list[Any], Any]:
    from cognito_restore.backup import BackupParts, read_backup

    users: list[Any] = []
    memberships: list[Any] = []
    parts, cursor = None, None
    while True:
        seen = {"n": 0}

        def stop(seen: dict[str, int] = seen) -> bool:
            seen["n"] += 1
            return seen["n"] >= stop_every

        stream = io.BytesIO(data[cursor["offset"] :] if cursor else data)
        parts = read_backup(
            stream,
            users.append,
            lambda g, m: memberships.append((g, m)),
            resume=cursor,
            parts=BackupParts.from_dict(json.loads(json.dumps(parts.to_dict()))) if parts else None,
            should_stop=stop,
        )
        if parts.cursor is None:
            return users, memberships, parts
        cursor = parts.cursor


@pytest.mark.parametrize("stop_every", [1, 2, 3, 5, 11])
def test_the_reader_resumed_at_any_item_hands_over_each_once(stop_every):
    doc = backup(30)
    data = (
        json.dumps(doc, indent=2, ensure_ascii=False).replace('"user-0001"', '"us\\u00e9r-0001 \u00e9\u00e8"').encode()
    )
    whole_users: list[Any] = []
    whole_memberships: list[Any] = []
    from cognito_restore.backup import read_backup, read_users

    whole = read_backup(io.BytesIO(data), whole_users.append, lambda g, m: whole_memberships.append((g, m)))
    users, memberships, parts = _read_all_in_segments(data, stop_every)
    assert users == whole_users and memberships == whole_memberships
    assert (parts.users_seen, parts.memberships_seen) == (whole.users_seen, whole.memberships_seen)
    assert parts.sections == whole.sections and parts.users_start == whole.users_start

    # The second pass: the users list alone, from its start, in segments.
    again: list[Any] = []
    cursor: dict[str, Any] | None = {"offset": whole.users_start, "first": True}
    while cursor is not None:
        seen = {"n": 0}

        def stop(seen: dict[str, int] = seen) -> bool:
            seen["n"] += 1
            return seen["n"] >= stop_every

        cursor = read_users(io.BytesIO(data[cursor["offset"] :]), cursor, again.append, stop)
    assert again == whole_users


@pytest.mark.parametrize(
    "data,reason",
    [
        (b'{"user_pool_id": NaN}', "NaN"),
        (b'{"users": [], "users": []}', "users twice"),
        (b'{"users": [1,]}', "not valid JSON"),
    ],
)
def test_the_reader_refuses_what_json_does_not_allow(data, reason):
    from cognito_restore.backup import read_backup
    from cognito_restore.errors import BackupInvalid

    with pytest.raises(BackupInvalid, match=reason):
        read_backup(io.BytesIO(data), lambda u: None, lambda g, m: None)


@pytest.mark.parametrize("data", [b"this is not json", b"nothing", b"<html>", b"fals"])
def test_text_that_is_not_json_is_called_so(data):
    from cognito_restore.backup import read_backup
    from cognito_restore.errors import BackupInvalid

    with pytest.raises(BackupInvalid, match="not valid JSON"):
        read_backup(io.BytesIO(data), lambda u: None, lambda g, m: None)


# ---------------------------------------------------------------- format v2 and sync mode

V2_FOLDER = f"cognito-backup/v2/{POOL}/2026/12/01/100000"


def to_v2(doc: dict[str, Any], users_per_file: int) -> tuple[dict[str, bytes], bytes]:
    """The same backup in format v2 (docs/backup-format.md): pool.json, users and memberships files."""
    import gzip
    import hashlib

    def entry(name: str, body: bytes, count: int | None = None) -> dict[str, Any]:
        objects[f"{V2_FOLDER}/{name}"] = body
        described: dict[str, Any] = {"key": name, "sha256": hashlib.sha256(body).hexdigest(), "bytes": len(body)}
        return described if count is None else {**described, "count": count}

    def lines(items: list[Any]) -> bytes:
        return gzip.compress(b"".join(json.dumps(i).encode() + b"\n" for i in items))

    objects: dict[str, bytes] = {}
    pool = {k: v for k, v in doc.items() if k not in ("users", "group_memberships")}
    users = doc["users"]
    user_files = [
        entry(f"users/0-{n:05d}.jsonl.gz", lines(users[i : i + users_per_file]), len(users[i : i + users_per_file]))
        for n, i in enumerate(range(0, len(users), users_per_file))
    ]
    members = [{"group": g, "username": m} for g, names in doc["group_memberships"].items() for m in names]
    manifest = {
        "format": "cognito-dr-backup",
        "version": 2,
        "user_pool_id": POOL,
        "timestamp": doc["timestamp"],
        "pool": entry("pool.json", json.dumps(pool).encode()),
        "users": {"count": len(users), "files": user_files},
        "group_memberships": {
            "count": len(members),
            "files": [
                entry("memberships/00000.jsonl.gz", lines(members[:7]), 7),
                entry("memberships/00001.jsonl.gz", lines(members[7:]), len(members) - 7),
            ],
        },
        "counts": {"users": len(users)},
    }
    return objects, json.dumps(manifest).encode()


def v2_source(objects: dict[str, bytes], manifest: bytes, opened: list[str] | None = None) -> Any:
    from cognito_restore.backup_v2 import V2Source

    def opener(key: str) -> io.BytesIO:
        if opened is not None:
            opened.append(key)
        return io.BytesIO(objects[key])

    return V2Source(io.BytesIO(manifest), f"{V2_FOLDER}/manifest.json", opener)


def v2_in_segments(
    doc: dict[str, Any], chunk_size: int, items_per_segment: int, tmp_path: Any, sync: bool = False
) -> tuple[PreparedBackup, ResumableMemorySink, list[Continuation], list[str]]:
    objects, manifest = to_v2(doc, users_per_file=25)
    (tmp_path / "files").mkdir(exist_ok=True)
    sink = ResumableMemorySink(str(tmp_path / "files"))
    continuations: list[Continuation] = []
    opened: list[str] = []
    for invocation in range(1, 1000):
        sandbox = tmp_path / f"sandbox-{invocation}"  # another sandbox each time: the index downloaded
        sandbox.mkdir()
        checks = {"n": 0}

        def should_stop(checks: dict[str, int] = checks) -> bool:
            checks["n"] += 1
            return checks["n"] >= items_per_segment

        result = Preparation(
            expected_pool_id=POOL,
            sink=sink,
            user_chunk_size=chunk_size,
            tmp_dir=str(sandbox),
            partition_by_sign_in=sync,
        ).run(v2_source(objects, manifest, opened), should_stop)
        if isinstance(result, PreparedBackup):
            return result, sink, continuations, opened
        continuations.append(result)
    raise AssertionError("the preparation never finished")


def v2_in_one_go(doc: dict[str, Any], chunk_size: int, sync: bool = False) -> tuple[PreparedBackup, MemorySink]:
    sink = MemorySink()
    objects, manifest = to_v2(doc, users_per_file=25)
    prepared = prepare_backup(
        None,  # type: ignore[arg-type]  # the source reads the files
        expected_pool_id=POOL,
        sink=sink,
        user_chunk_size=chunk_size,
        source=v2_source(objects, manifest),
        partition_by_sign_in=sync,
    )
    return prepared, sink


@pytest.mark.parametrize("items_per_segment", [1, 11, 40])
def test_a_v2_backup_in_segments_gives_the_preparation_in_one_go_and_the_v1_chunks(tmp_path, items_per_segment):
    doc = backup()
    expected_prepared, expected_sink = v2_in_one_go(doc, chunk_size=9)
    prepared, sink, continuations, opened = v2_in_segments(doc, 9, items_per_segment, tmp_path)
    assert outputs(prepared, sink) == outputs(expected_prepared, expected_sink)
    assert {c.stage for c in continuations} == {"scan", "users"}
    # A continuation inside a file reads it again from its start (gzip cannot seek): at most once more each.
    users_files = [k for k in opened if "/users/" in k]
    assert len(set(users_files)) == -(-len(doc["users"]) // 25)
    assert len(users_files) <= len(set(users_files)) + len(continuations)
    # The same chunk files and problems as the v1 document gives.
    v1 = outputs(*in_one_go(doc, chunk_size=9))
    got = outputs(prepared, sink)
    assert got["chunks"] == v1["chunks"] and got["problems"] == v1["problems"]
    assert prepared.counts["users"] == len(doc["users"]) and prepared.planned == in_one_go(doc, 9)[0].planned


def test_a_damaged_v2_users_file_fails_the_preparation_in_its_segment(tmp_path):
    from cognito_restore.errors import BackupInvalid

    doc = backup()
    objects, manifest = to_v2(doc, users_per_file=25)
    key = f"{V2_FOLDER}/users/0-00002.jsonl.gz"
    objects[key] = objects[key][:-8] + b"\0" * 8  # the gzip trailer damaged
    with pytest.raises(BackupInvalid, match=r"users/0-00002\.jsonl\.gz"):
        prepare_backup(
            None,  # type: ignore[arg-type]
            expected_pool_id=POOL,
            sink=MemorySink(),
            user_chunk_size=9,
            source=v2_source(objects, manifest),
        )


@pytest.mark.parametrize("items_per_segment", [3, 40])
def test_sync_mode_in_segments_gives_the_partitions_in_one_go(tmp_path, items_per_segment):
    """Sync mode: chunk i is partition i (hash of the sign-in name), empty ones included, across continuations."""
    from cognito_restore.sync_users import partition_of

    doc = backup()
    expected_prepared, expected_sink = v2_in_one_go(doc, chunk_size=9, sync=True)
    prepared, sink, continuations, _ = v2_in_segments(doc, 9, items_per_segment, tmp_path, sync=True)
    assert continuations and outputs(prepared, sink) == outputs(expected_prepared, expected_sink)
    got = outputs(prepared, sink)
    assert got["indexes"] == list(range(prepared.user_chunks)) and prepared.sign_in_chunks == 0
    for index, chunk in enumerate(got["chunks"]):
        assert all(partition_of(u["create_username"].lower(), prepared.user_chunks) == index for u in chunk)
    assert sum(got["counts_in_manifest"]) == prepared.planned["users"]
