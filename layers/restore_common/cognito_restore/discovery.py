"""Which backup object to restore, of either format (docs/backup-format.md):

- v1: cognito-backup/YYYY/MM/DD/<pool-id>-HHMMSS.json (one document);
- v2: cognito-backup/v2/<pool-id>/YYYY/MM/DD/HHMMSS/manifest.json (the manifest names the other files
  of its folder and is written last: a folder without one is an unfinished backup and is ignored).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeGuard

BACKUP_PREFIX = "cognito-backup/"
POOL_ID_PATTERN = re.compile(r"^[\w-]+_[0-9a-zA-Z]+$")
V2_PREFIX = "cognito-backup/v2/"
MANIFEST = "manifest.json"
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
    key: str  # v2: the manifest's key (the restore input's backup_key, the object the restore id derives from)
    pool_id: str
    format_version: int = 1

    @property
    def folder(self) -> str:
        """v2: the backup's folder (the manifest's keys are relative to it); v1: ""."""
        return self.key.removesuffix(MANIFEST) if self.format_version == 2 else ""


def parse_backup_key(key: str) -> BackupRef | None:
    """The pool id and time named by a backup key (v1 document or v2 manifest), or None for keys of
    another shape."""
    match = _KEY_PATTERN.fullmatch(key)
    version = 1
    if not match:
        match = _V2_KEY_PATTERN.fullmatch(key)
        version = 2
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
    return BackupRef(taken_at=taken_at, key=key, pool_id=match["pool"], format_version=version)


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


_YEAR, _TWO_DIGITS, _SIX_DIGITS = re.compile(r"^\d{4}/$"), re.compile(r"^\d{2}/$"), re.compile(r"^\d{6}/$")


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
    """Newest backup of exactly this pool in either format (by the time in the key; at the same second
    v2 wins: its key sorts after v1's)."""
    found = [
        ref for ref in (find_newest_v1_backup(s3, bucket, pool_id), find_newest_v2_backup(s3, bucket, pool_id)) if ref
    ]
    return max(found) if found else None


def find_newest_v2_backup(s3: Any, bucket: str, pool_id: str) -> BackupRef | None:
    """Newest finished v2 backup of exactly this pool: its folders under cognito-backup/v2/<pool id>/
    newest first, the first whose manifest exists. A folder without a manifest is a backup still being
    written or one that failed: skipped, and an older finished one is used."""
    if not is_valid_pool_id(pool_id):
        return None
    for year in _folders(s3, bucket, f"{V2_PREFIX}{pool_id}/", _YEAR):
        for month in _folders(s3, bucket, year, _TWO_DIGITS):
            for day in _folders(s3, bucket, month, _TWO_DIGITS):
                for folder in _folders(s3, bucket, day, _SIX_DIGITS):
                    listed = s3.list_objects_v2(Bucket=bucket, Prefix=f"{folder}{MANIFEST}", MaxKeys=1)
                    for item in listed.get("Contents", []):
                        ref = parse_backup_key(item["Key"])
                        if ref is not None and ref.pool_id == pool_id:
                            return ref
    return None


def find_newest_v1_backup(s3: Any, bucket: str, pool_id: str) -> BackupRef | None:
    """Newest v1 backup of exactly this pool, listing date folders newest first and stopping at the
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
