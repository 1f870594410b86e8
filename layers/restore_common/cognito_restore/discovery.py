"""Which backup object to restore: keys are cognito-backup/YYYY/MM/DD/<pool-id>-HHMMSS.json."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeGuard

BACKUP_PREFIX = "cognito-backup/"
POOL_ID_PATTERN = re.compile(r"^[\w-]+_[0-9a-zA-Z]+$")
_KEY_PATTERN = re.compile(
    r"^cognito-backup/(?P<y>\d{4})/(?P<m>\d{2})/(?P<d>\d{2})/(?P<pool>[\w-]+_[0-9a-zA-Z]+)-(?P<t>\d{6})\.json$"
)
# Format v2: the backup is named by its manifest (docs/backup-format.md, "Format v2").
_V2_KEY_PATTERN = re.compile(
    r"^cognito-backup/v2/(?P<pool>[\w-]+_[0-9a-zA-Z]+)/(?P<y>\d{4})/(?P<m>\d{2})/(?P<d>\d{2})/(?P<t>\d{6})/manifest\.json$"
)


@dataclass(frozen=True, order=True)
class BackupRef:
    taken_at: datetime
    key: str
    pool_id: str


def parse_backup_key(key: str) -> BackupRef | None:
    """The pool id and time named by a backup key, or None for keys of another shape."""
    match = _KEY_PATTERN.fullmatch(key) or _V2_KEY_PATTERN.fullmatch(key)
    if not match:
        return None
    t = match["t"]
    try:
        taken_at = datetime(
            int(match["y"]),
            int(match["m"]),
            int(match["d"]),
            int(t[:2]),
            int(t[2:4]),
            int(t[4:]),
            tzinfo=UTC,
        )
    except ValueError:
        return None
    return BackupRef(taken_at=taken_at, key=key, pool_id=match["pool"])


def newest_backup(keys: Iterable[str], pool_id: str) -> BackupRef | None:
    """Newest backup of exactly this pool (by the time in the key, not LastModified)."""
    best: BackupRef | None = None
    for key in keys:
        ref = parse_backup_key(key)
        if ref is not None and ref.pool_id == pool_id and (best is None or ref > best):
            best = ref
    return best


def is_valid_pool_id(pool_id: object) -> TypeGuard[str]:
    return isinstance(pool_id, str) and len(pool_id) <= 55 and bool(POOL_ID_PATTERN.fullmatch(pool_id))


_YEAR, _TWO_DIGITS = re.compile(r"^\d{4}/$"), re.compile(r"^\d{2}/$")


def _folders(s3: Any, bucket: str, prefix: str, shape: re.Pattern[str]) -> list[str]:
    """Date folders directly under prefix (Delimiter='/'), newest first; folders of other shapes are ignored."""
    found: list[str] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix, Delimiter="/"):
        for common in page.get("CommonPrefixes", []):
            name = common["Prefix"][len(prefix) :]
            if shape.fullmatch(name):
                found.append(common["Prefix"])
    return sorted(found, reverse=True)  # zero-padded: lexical order is date order


def find_newest_backup(s3: Any, bucket: str, pool_id: str) -> BackupRef | None:
    """Newest backup of exactly this pool in either format (v1 document or v2 manifest), by the time in its key."""
    found = [ref for ref in (_find_newest_v1(s3, bucket, pool_id), find_newest_v2(s3, bucket, pool_id)) if ref]
    return max(found) if found else None


_TIME = re.compile(r"^\d{6}/$")


def find_newest_v2(s3: Any, bucket: str, pool_id: str) -> BackupRef | None:
    """Newest v2 backup of this pool: its folders cognito-backup/v2/<pool>/YYYY/MM/DD/HHMMSS/ newest first,
    the first whose manifest exists (a folder without one is an unfinished backup: ignored)."""
    for year in _folders(s3, bucket, f"{BACKUP_PREFIX}v2/{pool_id}/", _YEAR):
        for month in _folders(s3, bucket, year, _TWO_DIGITS):
            for day in _folders(s3, bucket, month, _TWO_DIGITS):
                for time in _folders(s3, bucket, day, _TIME):
                    listed = s3.list_objects_v2(Bucket=bucket, Prefix=f"{time}manifest.json", MaxKeys=1)
                    for item in listed.get("Contents", []):
                        ref = parse_backup_key(item["Key"])
                        if ref is not None and ref.pool_id == pool_id:
                            return ref
    return None


def _find_newest_v1(s3: Any, bucket: str, pool_id: str) -> BackupRef | None:
    """Newest backup of exactly this pool, listing date folders newest first and stopping at the
    first day that holds one: the keys of other pools and of older days are never listed.

    A backup's date is its folder's (the key pattern), so no key of an older day can be newer.
    Within a day only keys starting with "<pool id>-" are listed; newest_backup still applies the
    exact key pattern and pool id to each.
    """
    for year in _folders(s3, bucket, BACKUP_PREFIX, _YEAR):
        for month in _folders(s3, bucket, year, _TWO_DIGITS):
            for day in _folders(s3, bucket, month, _TWO_DIGITS):
                keys = (
                    item["Key"]
                    for page in s3.get_paginator("list_objects_v2").paginate(
                        Bucket=bucket, Prefix=f"{day}{pool_id}-", Delimiter="/"
                    )
                    for item in page.get("Contents", [])
                )
                ref = newest_backup(keys, pool_id)
                if ref is not None:
                    return ref
    return None


def backup_time(timestamp: str | None, key: str) -> str:
    """When the backup was taken, always a string (the state machine formats it into an alert): the
    backup's own timestamp, else the time in its key, else a plain "unknown"."""
    if isinstance(timestamp, str) and timestamp:
        return timestamp
    ref = parse_backup_key(key)
    if ref is not None:
        return f"{ref.taken_at:%Y-%m-%dT%H:%M:%SZ} (from the backup key)"
    return "unknown (the backup has no timestamp)"
