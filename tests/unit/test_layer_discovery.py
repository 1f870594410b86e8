"""cognito_restore.discovery: which backup object to restore (docs/backup-format.md, "Where backups live")."""

from __future__ import annotations

import random
from datetime import datetime, timezone

import pytest

from cognito_restore.discovery import BACKUP_PREFIX, is_valid_pool_id, newest_backup, parse_backup_key

POOL = "us-east-1_Abc"


def key(pool: str, date: str = "2026/11/02", time: str = "101407") -> str:
    return f"cognito-backup/{date}/{pool}-{time}.json"


# --- parse_backup_key ---------------------------------------------------------------------------


def test_parse_key_gives_pool_and_utc_time_from_the_key():
    ref = parse_backup_key("cognito-backup/2026/11/02/us-east-1_AbCdEf123-091507.json")
    assert ref is not None
    assert ref.pool_id == "us-east-1_AbCdEf123"
    assert ref.taken_at == datetime(2026, 11, 2, 9, 15, 7, tzinfo=timezone.utc)
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
    assert newest_backup(keys, POOL).taken_at == datetime(2026, 11, 2, 11, 0, tzinfo=timezone.utc)
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
