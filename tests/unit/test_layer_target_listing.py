"""The "Read target pool" listing in segments (cognito_restore.target_listing) against moto: stopped after
any page or partition, resumed from the saved cursor, a crashed segment redone; the partition files the
chunk tasks read are exactly those of the listing in one go (sync_users.read_target), deletions capped
by max_deletes in sign-in order, and every page counted."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest

from cognito_restore import target_listing
from cognito_restore.sync_users import SyncOptions, partition_key, read_target
from cognito_restore.target_listing import TargetListing
from tests.unit.test_layer_sync_users import _caller, _pool, cognito  # noqa: F401  # cognito: the moto fixture

PARTITIONS = 5


class Store:
    """The work bucket in memory (WorkStore's get_json, get_json_or_none, put_json, key)."""

    def __init__(self) -> None:
        self.objects: dict[str, Any] = {}

    def key(self, name: str) -> str:
        return f"restores/r-1/{name}"

    def put_json(self, key: str, value: Any) -> str:
        self.objects[key] = json.loads(json.dumps(value))
        return key

    def get_json(self, key: str) -> Any:
        return json.loads(json.dumps(self.objects[key]))  # a fresh copy, as each S3 GET

    def get_json_or_none(self, key: str) -> Any:
        return self.get_json(key) if key in self.objects else None


def _backup_chunks(store: Store, backed_up: list[str], partitions: int = PARTITIONS) -> list[str]:
    """Chunk i holds the backed-up users of partition i (what preparation in sync mode writes)."""
    from cognito_restore.sync_users import partition_of

    keys = []
    for index in range(partitions):
        items = [{"create_username": name} for name in backed_up if partition_of(name, partitions) == index]
        keys.append(store.put_json(store.key(f"users/chunk-{index:06d}.json"), items))
    return keys


def _listing(store: Store, client: Any, pool: str, calls: Counter[str], options: SyncOptions, chunks: list[str]):
    return TargetListing(store, _caller(client, calls), pool, PARTITIONS, (), True, frozenset(), options, chunks)


def _partitions(store: Store) -> list[list[dict[str, Any]]]:
    parts = [store.objects[partition_key(store, i)]["users"] for i in range(PARTITIONS)]
    return [sorted(part, key=lambda e: e["username"]) for part in parts]


@pytest.mark.parametrize("pages_per_segment", [1, 2, 5])
@pytest.mark.parametrize("crash", [False, True], ids=["", "crash"])
def test_a_listing_in_segments_gives_the_partitions_of_the_listing_in_one_go(
    cognito: Any,  # noqa: F811
    pages_per_segment: int,
    crash: bool,
) -> None:
    pool = _pool(cognito, 150, groups=3)  # 3 pages of users, 1 of groups, 3 groups of 50 members
    backed_up = [f"user{i:03d}" for i in range(0, 150) if i % 7]  # 22 target-only users
    options = SyncOptions(delete_missing=True, max_deletes=8)
    one_go = read_target(_caller(cognito, Counter()), pool, PARTITIONS, (), True, set(backed_up), options)

    store = Store()
    chunks = _backup_chunks(store, backed_up)
    calls: Counter[str] = Counter()
    results = []
    crashed = False
    for _invocation in range(100):
        checks = {"n": 0}

        def should_stop(checks: dict[str, int] = checks) -> bool:
            checks["n"] += 1
            return checks["n"] >= pages_per_segment

        listing = _listing(store, cognito, pool, calls, options, chunks)
        if crash and not crashed and listing.cursor["segment"] == 1:
            # This invocation dies after writing its segment's files, before its cursor: the next redoes it.
            original = listing._save
            listing._save = lambda: (_ for _ in ()).throw(RuntimeError("the sandbox died"))  # type: ignore[method-assign]
            with pytest.raises(RuntimeError):
                listing.run(should_stop)
            listing._save = original  # type: ignore[method-assign]
            crashed = True
            continue
        result = listing.run(should_stop)
        results.append(result)
        if result["done"]:
            break
    assert results[-1]["done"] and len(results) >= 2, "the test meant several invocations"
    assert crashed == crash

    expected = [sorted(part, key=lambda e: e["username"]) for part in one_go.partitions]
    assert _partitions(store) == expected
    summary = results[-1]
    assert (summary["target_users"], summary["target_memberships"]) == (one_go.users, one_go.memberships) == (150, 150)
    assert (summary["target_only"], summary["to_delete"], summary["kept"]) == (22, 8, 14)
    assert (one_go.target_only, one_go.to_delete, one_go.kept) == (22, 8, 14)
    assert summary["segments"] >= 2 and summary["invocations"] == len(results)  # a crashed one saved nothing
    # Every page counted; a crashed segment's pages are listed again.
    if not crash:
        assert calls == {"ListUsers": 3, "ListGroups": 1, "ListUsersInGroup": 3}
        assert summary["read_calls"] == dict(calls)
    deleted = sorted(e["key"] for part in _partitions(store) for e in part if e.get("action") == "delete")
    assert deleted == sorted(f"user{i:03d}" for i in range(0, 150, 7))[:8]


def test_a_segment_is_written_when_the_buffer_is_full(cognito: Any, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    monkeypatch.setattr(target_listing, "SEGMENT_ENTRIES", 60)  # one page of users
    pool = _pool(cognito, 130, groups=2)
    store = Store()
    chunks = _backup_chunks(store, [f"user{i:03d}" for i in range(130)])
    summary = _listing(store, cognito, pool, Counter(), SyncOptions(), chunks).run()
    assert summary["done"] and summary["segments"] >= 3 and summary["invocations"] == 1
    assert summary["target_users"] == summary["target_memberships"] == 130 and summary["target_only"] == 0


def test_the_marking_of_many_partitions_continues_across_invocations(cognito: Any) -> None:  # noqa: F811
    partitions = 70  # more than one batch of partitions between two stop checks
    pool = _pool(cognito, 100, groups=2)
    backed_up = [f"user{i:03d}" for i in range(90)]
    options = SyncOptions(delete_missing=True, max_deletes=3)
    one_go = read_target(_caller(cognito, Counter()), pool, partitions, (), True, set(backed_up), options)
    store = Store()
    chunks = _backup_chunks(store, backed_up, partitions)
    stages: list[str] = []
    for _invocation in range(100):
        listing = TargetListing(
            store, _caller(cognito, Counter()), pool, partitions, (), True, frozenset(), options, chunks
        )
        stages.append(listing.cursor["stage"])
        summary = listing.run(lambda: True)  # stop at every check
        if summary["done"]:
            break
    assert stages.count("mark") >= 2  # pass 1 stopped between batches of partitions (pass 2: only the 3 deletions)
    parts = [store.objects[partition_key(store, i)]["users"] for i in range(partitions)]
    assert [sorted(p, key=lambda e: e["username"]) for p in parts] == [
        sorted(p, key=lambda e: e["username"]) for p in one_go.partitions
    ]
    assert (summary["target_only"], summary["to_delete"], summary["kept"]) == (10, 3, 7)


def test_a_refused_page_token_starts_the_listing_again_and_each_user_is_listed_once(
    cognito: Any,  # noqa: F811
) -> None:
    from botocore.exceptions import ClientError

    pool = _pool(cognito, 130, groups=2)
    store = Store()
    backed_up = [f"user{i:03d}" for i in range(130)]
    chunks = _backup_chunks(store, backed_up)
    first = _listing(store, cognito, pool, Counter(), SyncOptions(), chunks).run(lambda: True)  # one page
    assert not first["done"]
    cognito.delete_group(UserPoolId=pool, GroupName="g1")  # before the groups are listed: only g0's members
    calls: Counter[str] = Counter()
    plain = _caller(cognito, calls)
    refused = {"n": 0}

    def expiring(operation: str, **params: Any) -> dict[str, Any]:
        if operation == "ListUsers" and "PaginationToken" in params and not refused["n"]:
            refused["n"] += 1
            raise ClientError({"Error": {"Code": "InvalidParameterException", "Message": "bad token"}}, operation)
        return plain(operation, **params)

    listing = TargetListing(store, expiring, pool, PARTITIONS, (), True, frozenset(), SyncOptions(), chunks)
    summary = listing.run()
    assert summary["done"] and refused["n"] == 1 and listing.cursor["restarts"] == 1
    assert summary["target_users"] == 130  # listed again from the first page, each user once
    assert summary["target_memberships"] == 65  # g0's members; g1 is gone
    parts = [store.objects[partition_key(store, i)]["users"] for i in range(PARTITIONS)]
    names = [e["username"] for p in parts for e in p]
    assert sorted(names) == backed_up


def test_a_group_deleted_between_listing_the_groups_and_its_members_has_no_members(
    cognito: Any,  # noqa: F811
) -> None:
    pool = _pool(cognito, 20, groups=2)
    store = Store()
    chunks = _backup_chunks(store, [f"user{i:03d}" for i in range(20)])
    listing = _listing(store, cognito, pool, Counter(), SyncOptions(), chunks)
    original = listing._list_members

    def delete_then_list() -> None:
        if listing.cursor["group_index"] == 1:
            cognito.delete_group(UserPoolId=pool, GroupName=listing.cursor["groups"][1])
        original()

    listing._list_members = delete_then_list  # type: ignore[method-assign]
    summary = listing.run()
    assert summary["done"] and summary["target_memberships"] == 10 and summary["target_users"] == 20
