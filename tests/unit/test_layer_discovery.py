"""cognito_restore.discovery: which backup object to restore (docs/backup-format.md, "Where backups live")."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import boto3
import pytest
from moto import mock_aws

from cognito_restore.discovery import (
    BACKUP_PREFIX,
    find_newest_backup,
    is_valid_pool_id,
    newest_backup,
    parse_backup_key,
)

POOL = "us-east-1_Abc"


def key(pool: str, date: str = "2026/11/02", time: str = "101407") -> str:
    return f"cognito-backup/{date}/{pool}-{time}.json"


# --- parse_backup_key ---------------------------------------------------------------------------


def test_parse_key_gives_pool_and_utc_time_from_the_key():
    ref = parse_backup_key("cognito-backup/2026/11/02/us-east-1_AbCdEf123-091507.json")
    assert ref is not None
    assert ref.pool_id == "us-east-1_AbCdEf123"
    assert ref.taken_at == datetime(2026, 11, 2, 9, 15, 7, tzinfo=UTC)
    assert ref.taken_at.utcoffset().total_seconds() == 0
    assert ref.key == "cognito-backup/2026/11/02/us-east-1_AbCdEf123-091507.json"


def test_prefix_constant_matches_documented_layout():
    assert BACKUP_PREFIX == "cognito-backup/"
    assert key(POOL).startswith(BACKUP_PREFIX)


@pytest.mark.parametrize("pool", ["eu-west-1_X", "ap-southeast-2_9zZ", "us-gov-west-1_AbC123xyz"])
def test_parse_key_accepts_pools_of_other_regions(pool):
    ref = parse_backup_key(key(pool))
    assert ref is not None and ref.pool_id == pool


@pytest.mark.parametrize(
    "other",
    [
        "cognito-backup/2026/11/02/us-east-1_Abc.json",  # no time
        "cognito-backup/2026/11/02/us-east-1_Abc-1014.json",  # short time
        "cognito-backup/2026/11/02/us-east-1_Abc-1014070.json",  # long time
        "cognito-backup/2026/11/02/us-east-1_Abc-101407.json.bak",  # other suffix
        "cognito-backup/2026/11/02/us-east-1_Abc-101407.JSON",
        "cognito-backup/2026/11/us-east-1_Abc-101407.json",  # no day
        "cognito-backup/26/11/02/us-east-1_Abc-101407.json",  # 2-digit year
        "cognito-backup/2026/11/02/extra/us-east-1_Abc-101407.json",  # extra folder
        "other/cognito-backup/2026/11/02/us-east-1_Abc-101407.json",  # other prefix
        "cognito-backups/2026/11/02/us-east-1_Abc-101407.json",
        "cognito-backup/2026/11/02/",  # folder marker
        "cognito-backup/2026/11/02/abc-101407.json",  # not a pool id
        "cognito-backup/2026/11/02/us-east-1_Ab c-101407.json",
        "",
    ],
)
def test_keys_of_other_shapes_are_ignored(other):
    assert parse_backup_key(other) is None


@pytest.mark.parametrize(
    "bad_time",
    [
        ("2026/13/02", "101407"),
        ("2026/02/30", "101407"),
        ("2026/11/00", "101407"),
        ("2026/11/02", "246000"),
        ("2026/11/02", "106000"),
        ("2026/11/02", "101460"),
    ],
)
def test_impossible_dates_and_times_are_ignored(bad_time):
    date, time = bad_time
    assert parse_backup_key(key(POOL, date, time)) is None


# --- newest_backup ------------------------------------------------------------------------------


def test_newest_by_time_in_key_across_days_and_months():
    keys = [
        key(POOL, "2026/11/02", "235959"),
        key(POOL, "2026/11/03", "000001"),  # newest
        key(POOL, "2026/10/31", "120000"),
        key(POOL, "2025/12/31", "235959"),
    ]
    for _ in range(5):
        random.Random(_).shuffle(keys)
        assert newest_backup(keys, POOL).key == key(POOL, "2026/11/03", "000001")


def test_newest_uses_time_not_listing_order_or_lastmodified():
    # The key listed last (what "LastModified"/listing order would favour) is the older backup:
    # e.g. a CRR replication of an old object that arrived late.
    keys = [key(POOL, "2026/11/02", "110000"), key(POOL, "2026/11/02", "090000")]
    assert newest_backup(keys, POOL).taken_at == datetime(2026, 11, 2, 11, 0, tzinfo=UTC)
    assert newest_backup(list(reversed(keys)), POOL).taken_at.hour == 11


def test_newest_not_decided_by_lexical_order_of_other_key_parts():
    # The lexically largest keys belong to other pools (or an older time on a later day would
    # win if only HHMMSS were compared): only this pool's keys, ordered by key time, count.
    keys = [
        key(POOL, "2026/11/02", "090000"),
        key("us-east-1_Abc2", "2026/11/02", "230000"),  # lexically after, other pool
        key(POOL, "2026/11/02", "100000"),
        key("us-east-1_Zzz", "2026/12/31", "235959"),
        key(POOL, "2026/11/01", "235959"),  # larger HHMMSS, earlier day
    ]
    ref = newest_backup(keys, POOL)
    assert ref.key == key(POOL, "2026/11/02", "100000")
    assert max(keys) != ref.key  # lexical max is another pool's object


@pytest.mark.parametrize(
    "impostor",
    [
        key("us-east-1_Abc2", "2027/01/01", "000000"),  # pool id is a prefix of it
        key("eu-west-1_Abc", "2027/01/01", "000000"),  # same suffix, other region
        key("xus-east-1_Abc", "2027/01/01", "000000"),
        "cognito-backup/2027/01/01/us-east-1_Abc-000000.json.tmp",
        "cognito-backup/us-east-1_Abc/2027/01/01/us-east-1_Abc-000000.json",
        "archive/cognito-backup/2027/01/01/us-east-1_Abc-000000.json",
        "cognito-backup/2027/01/01/us-east-1_Abc-000000-us-east-1_Abc-000000.json",
    ],
)
def test_exact_pool_id_match_only(impostor):
    mine = key(POOL, "2026/11/02", "101407")
    ref = newest_backup([impostor, mine], POOL)
    assert ref is not None and ref.key == mine and ref.pool_id == POOL


def test_pool_id_that_is_prefix_of_another_is_not_matched_the_other_way():
    keys = [key("us-east-1_Abc", "2027/01/01", "000000")]
    assert newest_backup(keys, "us-east-1_Ab") is None
    assert newest_backup(keys, "us-east-1_Abc2") is None
    assert newest_backup(keys, "US-EAST-1_ABC") is None


def test_no_backup_of_the_pool_gives_none():
    assert newest_backup([], POOL) is None
    assert newest_backup(["cognito-backup/readme.txt", key("eu-west-1_Q")], POOL) is None


def test_newest_accepts_any_iterable():
    gen = (k for k in [key(POOL, time="000001"), key(POOL, time="000002")])
    assert newest_backup(gen, POOL).key == key(POOL, time="000002")


# --- is_valid_pool_id ---------------------------------------------------------------------------


@pytest.mark.parametrize("pool", ["us-east-1_AbCdEf123", "eu-west-1_X", "ap-northeast-2_0aZ9"])
def test_valid_pool_ids(pool):
    assert is_valid_pool_id(pool)


@pytest.mark.parametrize(
    "pool",
    [
        None,
        123,
        ["us-east-1_Abc"],
        "",
        "us-east-1",
        "us-east-1_",
        "_Abc",
        "us-east-1_Ab-c",
        "us-east-1_Ab c",
        "us-east-1_Abc/..",
        "us-east-1_Abc.json",
        "us east-1_Abc",
        "us-east-1_Abc*",
        "us-east-1_" + "A" * 60,
    ],
)
def test_invalid_pool_ids(pool):
    assert not is_valid_pool_id(pool)


def test_pool_id_with_trailing_newline_is_invalid():
    assert not is_valid_pool_id("us-east-1_Abc\n")


# --- find_newest_backup: the bounded S3 walk ----------------------------------------------------

BUCKET = "dr-backups"


@pytest.fixture
def s3():
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        calls: list[dict] = []
        client.meta.events.register(
            "before-parameter-build.s3.ListObjectsV2", lambda params, **_: calls.append(dict(params))
        )
        client.calls = calls
        yield client


def put(s3, *keys: str) -> None:
    for k in keys:
        s3.put_object(Bucket=BUCKET, Key=k, Body=b"{}")


def listed_prefixes(s3) -> list[str]:
    return [c["Prefix"] for c in s3.calls]


def test_walk_finds_the_newest_backup_and_stops_at_its_day(s3):
    put(
        s3,
        key(POOL, "2026/11/02", "235959"),
        key(POOL, "2026/11/03", "000001"),  # newest
        key(POOL, "2026/11/03", "000000"),
        key(POOL, "2025/12/31", "235959"),
        key("us-east-1_Zzz", "2026/11/04", "120000"),  # a later day of another pool only
        key("us-east-1_Zzz", "2027/01/01", "120000"),
    )
    ref = find_newest_backup(s3, BUCKET, POOL)
    assert ref is not None and ref.key == key(POOL, "2026/11/03", "000001")
    prefixes = listed_prefixes(s3)
    # Years, then 2027's months and days (another pool only), then back to 2026/11 newest day first.
    assert prefixes[0] == BACKUP_PREFIX
    assert "cognito-backup/2026/11/02/" not in " ".join(prefixes)  # never listed: an older day
    assert "cognito-backup/2025/" not in prefixes
    assert all(c.get("Delimiter") == "/" for c in s3.calls)
    day_listings = [p for p in prefixes if p.count("/") == 4]
    assert day_listings == [
        f"cognito-backup/2027/01/01/{POOL}-",
        f"cognito-backup/2026/11/04/{POOL}-",
        f"cognito-backup/2026/11/03/{POOL}-",
    ]


def test_walk_crosses_months_and_years_when_recent_days_hold_only_other_pools(s3):
    put(s3, key(POOL, "2025/12/31", "101010"), key("eu-west-1_Q", "2026/01/01", "000000"))
    assert find_newest_backup(s3, BUCKET, POOL).key == key(POOL, "2025/12/31", "101010")


def test_walk_keeps_the_exact_pool_match(s3):
    mine = key(POOL, "2026/11/02", "101407")
    put(
        s3,
        mine,
        key("us-east-1_Abc2", "2026/11/03", "000000"),
        key("eu-west-1_Abc", "2026/11/03", "000000"),
        "cognito-backup/2026/11/03/us-east-1_Abc-000000.json.tmp",
        "cognito-backup/2026/11/03/us-east-1_Abc-000000-us-east-1_Abc-000000.json",
        "cognito-backup/2026/11/03/extra/us-east-1_Abc-000000.json",
        "cognito-backup/us-east-1_Abc/2027/01/01/us-east-1_Abc-000000.json",
        "archive/cognito-backup/2027/01/01/us-east-1_Abc-000000.json",
    )
    assert find_newest_backup(s3, BUCKET, POOL).key == mine
    assert find_newest_backup(s3, BUCKET, "us-east-1_Ab") is None
    assert find_newest_backup(s3, BUCKET, "US-EAST-1_ABC") is None


def test_walk_orders_by_the_time_in_the_key_not_listing_order(s3):
    put(s3, key(POOL, "2026/11/02", "090000"), key(POOL, "2026/11/02", "110000"), key(POOL, "2026/11/02", "100000"))
    assert find_newest_backup(s3, BUCKET, POOL).taken_at.hour == 11


def test_walk_skips_folders_and_days_of_other_shapes_and_impossible_dates(s3):
    put(
        s3,
        key(POOL, "2026/11/02", "101407"),
        key(POOL, "2026/02/30", "101407"),  # impossible date: not a backup
        key(POOL, "2026/13/01", "101407"),
        "cognito-backup/9999x/01/01/us-east-1_Abc-000000.json",
        "cognito-backup/readme.txt",
    )
    assert find_newest_backup(s3, BUCKET, POOL).key == key(POOL, "2026/11/02", "101407")


def test_walk_reads_every_page_of_a_busy_day(s3):
    times = [f"{h:02d}{m:02d}00" for h in range(24) for m in range(0, 60, 1)][:1100]  # over one page of 1,000
    put(s3, *(key(POOL, "2026/11/02", t) for t in times))
    assert find_newest_backup(s3, BUCKET, POOL).key == key(POOL, "2026/11/02", max(times))


def test_walk_with_no_backup_of_the_pool_gives_none(s3):
    assert find_newest_backup(s3, BUCKET, POOL) is None
    put(s3, key("eu-west-1_Q"))
    assert find_newest_backup(s3, BUCKET, POOL) is None


def v2_manifest(pool: str, day: str, time: str) -> str:
    return f"cognito-backup/v2/{pool}/{day}/{time}/manifest.json"


def test_walk_finds_the_newest_backup_of_either_format_and_ignores_unfinished_v2_backups(s3):
    put(
        s3,
        key(POOL, "2026/11/02", "100000"),
        v2_manifest(POOL, "2026/11/02", "090000"),
        f"cognito-backup/v2/{POOL}/2026/11/02/093000/pool.json",  # no manifest yet: unfinished
        v2_manifest("us-east-1_Zzz", "2026/11/03", "000000"),
    )
    assert find_newest_backup(s3, BUCKET, POOL).key == key(POOL, "2026/11/02", "100000")
    put(s3, v2_manifest(POOL, "2026/11/02", "110000"))
    ref = find_newest_backup(s3, BUCKET, POOL)
    assert ref.key == v2_manifest(POOL, "2026/11/02", "110000") and ref.pool_id == POOL
    assert all(f"v2/{POOL}/" in p or "/v2/" not in p for p in listed_prefixes(s3))  # never another pool's v2
