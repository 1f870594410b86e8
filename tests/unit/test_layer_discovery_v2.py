"""cognito_restore.discovery, format v2: finished backups only (manifest present), newest of both formats."""

from __future__ import annotations

from datetime import UTC, datetime

import boto3
import pytest
from moto import mock_aws

from cognito_restore.discovery import find_newest_backup, find_newest_v2_backup, parse_backup_key

POOL = "us-east-1_Abc"
BUCKET = "backups"


def v2(pool: str, stamp: str = "2026/12/01/100000", name: str = "manifest.json") -> str:
    return f"cognito-backup/v2/{pool}/{stamp}/{name}"


def v1(pool: str, date: str = "2026/12/01", time: str = "100000") -> str:
    return f"cognito-backup/{date}/{pool}-{time}.json"


@pytest.fixture
def s3():
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        yield client


def put(s3, *keys: str) -> None:
    for key in keys:
        s3.put_object(Bucket=BUCKET, Key=key, Body=b"{}")


def test_a_v2_manifest_key_parses_with_its_folder_and_version():
    ref = parse_backup_key(v2(POOL, "2026/12/01/093015"))
    assert ref is not None
    assert (ref.pool_id, ref.format_version) == (POOL, 2)
    assert ref.taken_at == datetime(2026, 12, 1, 9, 30, 15, tzinfo=UTC)
    assert ref.folder == f"cognito-backup/v2/{POOL}/2026/12/01/093015/"
    assert parse_backup_key(v1(POOL)).format_version == 1  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "other",
    [
        v2(POOL, name="pool.json"),
        v2(POOL, name="users/0-00000.jsonl.gz"),
        v2(POOL, "2026/12/01/1000"),
        v2(POOL, "2026/13/01/100000"),
        v2("not-a-pool", "2026/12/01/100000"),
        f"cognito-backup/v2/{POOL}/2026/12/01/100000/extra/manifest.json",
    ],
)
def test_other_v2_keys_are_not_backups(other):
    assert parse_backup_key(other) is None


def test_an_unfinished_backup_without_a_manifest_is_ignored(s3):
    put(s3, v2(POOL, "2026/12/01/100000"))  # finished
    put(s3, v2(POOL, "2026/12/01/110000", "pool.json"), v2(POOL, "2026/12/01/110000", "users/0-00000.jsonl.gz"))
    ref = find_newest_backup(s3, BUCKET, POOL)
    assert ref is not None and ref.key == v2(POOL, "2026/12/01/100000")


def test_only_unfinished_v2_backups_and_no_v1_is_no_backup(s3):
    put(s3, v2(POOL, "2026/12/01/110000", "pool.json"))
    assert find_newest_backup(s3, BUCKET, POOL) is None


@pytest.mark.parametrize(
    "keys,newest",
    [
        ([v1(POOL, time="120000"), v2(POOL, "2026/12/01/110000")], v1(POOL, time="120000")),
        ([v1(POOL, time="100000"), v2(POOL, "2026/12/01/110000")], v2(POOL, "2026/12/01/110000")),
        ([v1(POOL, "2026/12/02", "000001"), v2(POOL, "2026/12/01/235959")], v1(POOL, "2026/12/02", "000001")),
        ([v1(POOL, "2026/11/30"), v2(POOL, "2027/01/01/000000")], v2(POOL, "2027/01/01/000000")),
        ([v1(POOL, time="110000"), v2(POOL, "2026/12/01/110000")], v2(POOL, "2026/12/01/110000")),  # same second: v2
    ],
)
def test_v1_and_v2_side_by_side_the_newest_wins(s3, keys, newest):
    put(s3, *keys)
    ref = find_newest_backup(s3, BUCKET, POOL)
    assert ref is not None and ref.key == newest


def test_v2_discovery_never_matches_another_pool_with_a_longer_id(s3):
    put(s3, v2(POOL + "d", "2026/12/01/120000"), v2(POOL, "2026/12/01/100000"))
    assert find_newest_v2_backup(s3, BUCKET, POOL).key == v2(POOL, "2026/12/01/100000")  # type: ignore[union-attr]
    assert find_newest_v2_backup(s3, BUCKET, POOL + "d").key == v2(POOL + "d", "2026/12/01/120000")  # type: ignore[union-attr]


def test_v2_discovery_lists_newest_folders_first_and_stops(s3):
    put(s3, *(v2(POOL, f"2026/11/{day:02d}/100000") for day in range(1, 29)))
    put(s3, v2(POOL, "2026/12/01/090000"))
    calls = []
    s3.meta.events.register(
        "before-parameter-build.s3.ListObjectsV2", lambda params, **_: calls.append(params["Prefix"])
    )
    ref = find_newest_v2_backup(s3, BUCKET, POOL)
    assert ref is not None and ref.key == v2(POOL, "2026/12/01/090000")
    assert not any("/2026/11/" in prefix for prefix in calls)  # November was never listed
