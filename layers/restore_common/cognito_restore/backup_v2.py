"""Reader of backup format v2 (docs/backup-format.md, "Format v2"): a manifest, pool.json, and users
and memberships in gzip JSON-lines chunk files. It feeds the same callbacks as the v1 reader
(``backup.read_backup``), so planning is the same for both formats.

Flat memory: each chunk file is streamed line by line through gzip, its sha256 computed as its
bytes go by; a mismatch of checksum, size or count raises BackupInvalid naming the file (never its
content). The whole backup is read before anything is created (prepare_backup), so a file found
bad after its users were planned still stops the restore before any Cognito write.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import posixpath
from collections.abc import Callable
from typing import IO, Any

from cognito_restore.backup import (
    SECTION_TYPES,
    BackupParts,
    MembershipCallback,
    UserCallback,
    validate_sections,
)
from cognito_restore.discovery import is_valid_pool_id
from cognito_restore.errors import BackupInvalid

MANIFEST_NAME = "manifest.json"
FORMAT = "cognito-dr-backup"
VERSION = 2
MAX_POOL_JSON_BYTES = 256 * 1024 * 1024  # pool.json holds the small sections: refuse a runaway file

# pool.json: the v1 small sections plus these (None = not backed up, [] = none).
V2_SECTION_TYPES: dict[str, type] = {
    **SECTION_TYPES,
    "custom_domain": dict,
    "mfa_config": dict,
    "ui_customizations": list,
    "risk_configurations": list,
    "managed_login_branding": list,
    "terms": list,
    "log_delivery_configuration": dict,
}
V2_ONLY_SECTIONS = tuple(name for name in V2_SECTION_TYPES if name not in SECTION_TYPES)

Opener = Callable[[str], IO[bytes]]  # object key -> its body (a stream)


def is_v2_key(key: str) -> bool:
    """A v2 backup is named by its manifest's key (the v1 document is one .json object)."""
    return posixpath.basename(key) == MANIFEST_NAME


class _Hashing(io.RawIOBase):
    """Passes a stream through, counting and hashing the stored (compressed) bytes."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream
        self.sha256 = hashlib.sha256()
        self.bytes = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._stream.read(len(buffer))
        self.sha256.update(data)
        self.bytes += len(data)
        buffer[: len(data)] = data
        return len(data)


def _relative_key(folder: str, entry: Any, what: str) -> tuple[str, str]:
    """(absolute key, relative key) of a manifest entry; keys may not leave the backup's folder."""
    if not isinstance(entry, dict) or not isinstance(entry.get("key"), str) or not entry["key"]:
        raise BackupInvalid(f"The manifest's {what} entry has no key.")
    relative = entry["key"]
    normal = posixpath.normpath(relative)
    if relative.startswith("/") or normal.startswith("..") or normal != relative:
        raise BackupInvalid(f"The manifest's {what} key {relative!r} is not a plain key inside the backup's folder.")
    return f"{folder}/{relative}" if folder else relative, relative


def _check_file(relative: str, entry: dict[str, Any], hashing: _Hashing) -> None:
    if isinstance(entry.get("bytes"), int) and hashing.bytes != entry["bytes"]:
        raise BackupInvalid(f"{relative}: {hashing.bytes} bytes stored, the manifest says {entry['bytes']}.")
    if not isinstance(entry.get("sha256"), str) or hashing.sha256.hexdigest() != entry["sha256"].lower():
        raise BackupInvalid(f"{relative}: its sha256 differs from the manifest's (the file is damaged or replaced).")


def _lines(opener: Opener, key: str, relative: str, entry: dict[str, Any], on_line: Callable[[Any], None]) -> int:
    """Stream one gzip JSON-lines file: each line to on_line; checks size, checksum and count."""
    hashing = _Hashing(opener(key))
    count = 0
    try:
        with gzip.GzipFile(fileobj=io.BufferedReader(hashing, 1024 * 1024), mode="rb") as lines:
            for number, line in enumerate(lines, start=1):
                if not line.strip():
                    continue
                try:
                    value = json.loads(line)
                except ValueError:
                    raise BackupInvalid(f"{relative}: line {number} is not JSON.") from None
                on_line(value)
                count += 1
    except (OSError, EOFError):  # gzip.BadGzipFile is an OSError
        raise BackupInvalid(f"{relative}: not a complete gzip file.") from None
    _check_file(relative, entry, hashing)
    if entry.get("count") != count:
        raise BackupInvalid(f"{relative}: {count} lines, the manifest says {entry.get('count')}.")
    return count


def _files(manifest: dict[str, Any], section: str) -> tuple[int, list[Any]]:
    value = manifest.get(section)
    if (
        not isinstance(value, dict)
        or not isinstance(value.get("files"), list)
        or not isinstance(value.get("count"), int)
    ):
        raise BackupInvalid(f"The manifest has no {section} file list with a count.")
    return value["count"], value["files"]


def read_manifest(stream: IO[bytes]) -> dict[str, Any]:
    try:
        manifest = json.loads(stream.read())
    except ValueError:
        raise BackupInvalid("The manifest is not valid JSON.") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT or manifest.get("version") != VERSION:
        raise BackupInvalid(f"The manifest is not a {FORMAT} version {VERSION} manifest.")
    if not is_valid_pool_id(manifest.get("user_pool_id")):
        raise BackupInvalid("The manifest's user_pool_id is missing or is not a user pool id.")
    return manifest


def read_backup_v2(
    manifest_stream: IO[bytes],
    manifest_key: str,
    opener: Opener,
    on_user: UserCallback,
    on_membership: MembershipCallback,
    on_section: Callable[[str, Any], None] | None = None,
) -> BackupParts:
    """Read a v2 backup: the manifest (already opened: the restore pins its version), then pool.json,
    then every users and memberships file; the same callbacks and result as ``read_backup``."""
    manifest = read_manifest(manifest_stream)
    folder = posixpath.dirname(manifest_key)
    parts = BackupParts()

    key, relative = _relative_key(folder, manifest.get("pool"), "pool")
    hashing = _Hashing(opener(key))
    buffer = bytearray()
    while len(buffer) <= MAX_POOL_JSON_BYTES:
        piece = hashing.read(1024 * 1024)
        if not piece:
            break
        buffer += piece
    raw = bytes(buffer)
    if len(raw) > MAX_POOL_JSON_BYTES:
        raise BackupInvalid(f"{relative} is larger than {MAX_POOL_JSON_BYTES} bytes.")
    _check_file(relative, manifest["pool"], hashing)
    try:
        pool = json.loads(raw)
    except ValueError:
        raise BackupInvalid(f"{relative} is not valid JSON.") from None
    if not isinstance(pool, dict):
        raise BackupInvalid(f"{relative} must be a JSON object.")
    if pool.get("user_pool_id") != manifest["user_pool_id"]:
        raise BackupInvalid(f"{relative} is of another pool than the manifest's {manifest['user_pool_id']}.")
    # the pool configuration first: the planner needs it before the users
    for name in sorted(V2_SECTION_TYPES, key=lambda n: n != "user_pool_config"):
        if name not in pool:
            continue
        parts.present.add(name)
        parts.sections[name] = pool[name]
        if pool[name] is not None and on_section is not None:
            on_section(name, pool[name])
    parts.sections.setdefault("timestamp", manifest.get("timestamp"))
    parts.sections["user_mfa_settings"] = manifest.get("user_mfa_settings") is True

    member_file = ["memberships"]  # the file being read, for the messages

    def user(value: Any) -> None:
        on_user(value)
        parts.users_seen += 1

    def membership(value: Any) -> None:
        if not isinstance(value, dict) or not isinstance(value.get("group"), str):
            raise BackupInvalid(f"{member_file[0]}: a line is not a {{group, username}} membership.")
        on_membership(value["group"], value.get("username"))  # a non-string username is reported by the planner
        parts.memberships_seen += 1

    parts.present.add("users")
    for section, callback in (("users", user), ("group_memberships", membership)):
        expected, files = _files(manifest, section)
        total = 0
        for entry in files:
            key, relative = _relative_key(folder, entry, section)
            member_file[0] = relative
            total += _lines(opener, key, relative, entry, callback)
        if total != expected:
            raise BackupInvalid(f"The manifest counts {expected} {section}, its files hold {total}.")
    raw_counts = manifest.get("counts")
    counts: dict[str, Any] = raw_counts if isinstance(raw_counts, dict) else {}
    if counts.get("users") not in (None, parts.users_seen):
        raise BackupInvalid(f"The manifest counts {counts['users']} users, its files hold {parts.users_seen}.")
    _validate_v2(parts, counts)
    return parts


def _validate_v2(parts: BackupParts, counts: dict[str, Any]) -> None:
    validate_sections(parts)  # the v1 sections and rules
    for name in V2_ONLY_SECTIONS:
        value = parts.sections.get(name)
        expected = V2_SECTION_TYPES[name]
        if value is not None and not isinstance(value, expected):
            raise BackupInvalid(f"{name} must be {'an object' if expected is dict else 'a list'}.")
        if isinstance(value, list) and any(not isinstance(item, dict) for item in value):
            raise BackupInvalid(f"{name} must be a list of objects.")
    for section, count_name in (
        ("groups", "groups"),
        ("app_clients", "app_clients"),
        ("identity_providers", "identity_providers"),
        ("resource_servers", "resource_servers"),
        ("managed_login_branding", "managed_login_branding"),
        ("terms", "terms"),
    ):
        value = parts.sections.get(section)
        if isinstance(counts.get(count_name), int) and isinstance(value, list) and len(value) != counts[count_name]:
            raise BackupInvalid(f"pool.json holds {len(value)} {section}, the manifest counts {counts[count_name]}.")
