"""Item (e): finding the newest backup in a bucket of many pools and many days, old vs new discovery.

A moto S3 bucket holds producer-shaped keys ``cognito-backup/YYYY/MM/DD/<pool-id>-HHMMSS.json``
(default: 25 pools x 200 days x 20 backups a day = 100,000 keys, plus a pool whose backups stopped
30 days ago: 103,400 keys). For a few target pools it runs

- **old**: list every key under ``cognito-backup/`` (all pools, all days), then pick the newest of
  the pool (``newest_backup``): what functions/find_backup did before;
- **new**: ``cognito_restore.discovery.find_newest_backup``: date folders newest first
  (``Delimiter='/'``), only ``<day>/<pool-id>-`` keys, stop at the first day holding a backup;

and prints, for each, the ListObjectsV2 calls, the keys read (``Contents``), the folder prefixes
read (``CommonPrefixes``) and the wall time. Both must find the same key.

    .venv/bin/python -m bench.discovery
    .venv/bin/python -m bench.discovery --pools 100 --days 1000 --per-day 1
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
from moto import mock_aws

# The layer, as Lambda has it on its path (/opt/python).
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "layers" / "restore_common"))
from cognito_restore.discovery import BACKUP_PREFIX, BackupRef, find_newest_backup, newest_backup

BUCKET = "cognito-backup-dr-bench-123456789012"
NEWEST_DAY = datetime(2026, 11, 30, tzinfo=UTC)


def pool_id(index: int) -> str:
    return f"us-east-1_Pool{index:05d}"


def populate(pools: int, days: int, per_day: int, stale_days: int) -> int:
    """Keys put straight into moto's backend (the S3 API would take minutes for 100k objects).
    Pools 1..pools are backed up up to the newest day; one more, pool 0, stopped ``stale_days`` before."""
    from moto.s3.models import s3_backends

    backend = s3_backends["123456789012"]["aws"]
    count = 0
    for day in range(days):
        date = NEWEST_DAY - timedelta(days=day)
        for pool in range(pools + 1):
            if pool == 0 and day < stale_days:
                continue
            for n in range(per_day):
                seconds = n * (86_400 // per_day)
                hhmmss = f"{seconds // 3600:02d}{seconds // 60 % 60:02d}{seconds % 60:02d}"
                backend.put_object(BUCKET, f"{BACKUP_PREFIX}{date:%Y/%m/%d}/{pool_id(pool)}-{hhmmss}.json", b"{}")
                count += 1
    return count


class Counter:
    """ListObjectsV2 calls and what they returned, from the client's own events."""

    def __init__(self, s3: Any):
        self.calls = self.keys = self.prefixes = 0
        s3.meta.events.register("before-call.s3.ListObjectsV2", self._call)
        s3.meta.events.register("after-call.s3.ListObjectsV2", self._read)

    def _call(self, **_: Any) -> None:
        self.calls += 1

    def _read(self, parsed: dict[str, Any], **_: Any) -> None:
        self.keys += len(parsed.get("Contents", []))
        self.prefixes += len(parsed.get("CommonPrefixes", []))

    def reset(self) -> None:
        self.calls = self.keys = self.prefixes = 0


def old_discovery(s3: Any, pool: str) -> BackupRef | None:
    keys = (
        item["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=BACKUP_PREFIX)
        for item in page.get("Contents", [])
    )
    return newest_backup(keys, pool)


def measure(s3: Any, counter: Counter, find: Any, pool: str) -> tuple[BackupRef | None, dict[str, float]]:
    counter.reset()
    started = time.perf_counter()
    ref = find(s3, pool)
    seconds = time.perf_counter() - started
    return ref, {"calls": counter.calls, "keys": counter.keys, "prefixes": counter.prefixes, "seconds": seconds}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="ListObjectsV2 calls and keys read: old vs new backup discovery")
    parser.add_argument("--pools", type=int, default=25)
    parser.add_argument("--days", type=int, default=200)
    parser.add_argument("--per-day", type=int, default=20, help="backups per pool per day")
    parser.add_argument("--stale-days", type=int, default=30, help="age of the last backup of the stale pool")
    args = parser.parse_args(argv)

    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=BUCKET)
        started = time.perf_counter()
        total = populate(args.pools, args.days, args.per_day, args.stale_days)
        print(
            f"bucket: {total:,} keys, {args.pools} pools x {args.days} days x {args.per_day} a day + 1 stale pool "
            f"(written in {time.perf_counter() - started:.1f} s); moto S3, one process"
        )
        counter = Counter(s3)
        scenarios = [
            (f"pool backed up today ({pool_id(1)})", pool_id(1)),
            (f"pool last backed up {args.stale_days} days ago ({pool_id(0)})", pool_id(0)),
            ("pool with no backup at all (us-east-1_Missing1)", "us-east-1_Missing1"),
        ]
        print(
            "| target | discovery | ListObjectsV2 calls | keys read | prefixes read | seconds | found |\n"
            "| --- | --- | ---: | ---: | ---: | ---: | --- |"
        )
        for label, pool in scenarios:
            old_ref, old = measure(s3, counter, old_discovery, pool)
            new_ref, new = measure(s3, counter, lambda client, p: find_newest_backup(client, BUCKET, p), pool)
            if old_ref != new_ref:
                raise SystemExit(f"{label}: old found {old_ref}, new found {new_ref}")
            found = old_ref.key.removeprefix(BACKUP_PREFIX) if old_ref else "none"
            for name, m in (("old: every key", old), ("new: newest day first", new)):
                print(
                    f"| {label} | {name} | {m['calls']:,} | {m['keys']:,} | {m['prefixes']:,} "
                    f"| {m['seconds']:.2f} | {found} |"
                )


if __name__ == "__main__":
    main()
