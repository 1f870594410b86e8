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
    StopCheck,
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


def _lines(
    opener: Opener,
    key: str,
    relative: str,
    entry: dict[str, Any],
    on_line: Callable[[Any], None],
    skip: int = 0,
    should_stop: StopCheck | None = None,
) -> int | None:
    """Stream one gzip JSON-lines file: each line to on_line; checks size, checksum and count.

    skip: lines an earlier segment handed over (read again for the checksum, not handed over).
    Returns the line count, or None when should_stop() said yes after a line (the file's checks are
    then made by the segment that reads it to its end)."""
    hashing = _Hashing(opener(key))
    count = 0
    try:
        with gzip.GzipFile(fileobj=io.BufferedReader(hashing, 1024 * 1024), mode="rb") as lines:
            for number, line in enumerate(lines, start=1):
                if not line.strip():
                    continue
                count += 1
                if count <= skip:
                    continue
                try:
                    value = json.loads(line)
                except ValueError:
                    raise BackupInvalid(f"{relative}: line {number} is not JSON.") from None
                on_line(value)
                if should_stop is not None and should_stop():
                    return None
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


class V2Source:
    """A v2 backup as preparation reads it (plan.Preparation), in two segmented passes:

    scan: the manifest, pool.json and every memberships file (the users are not read: their files
    are checked as the users pass streams them, still before anything is created); users: every
    users file in manifest order. A stop lands after a line; the cursor ``{"file": i, "line": n}``
    names the next line, and the next segment reads file i again from its start (gzip cannot seek;
    the checksum needs every byte) without handing over its first n lines again."""

    def __init__(self, manifest_stream: IO[bytes], manifest_key: str, opener: Opener) -> None:
        self.manifest = read_manifest(manifest_stream)  # the restore pinned its version: read once per segment
        self.folder = posixpath.dirname(manifest_key)
        self.opener = opener

    def scan(
        self, on_membership: MembershipCallback, parts: BackupParts, should_stop: StopCheck | None = None
    ) -> BackupParts:
        cursor, parts.cursor = parts.cursor, None
        if cursor is None:
            self._read_pool(parts)
            cursor = {"file": 0, "line": 0}
        current = ["memberships"]  # the file being read, for the messages

        def membership(value: Any) -> None:
            if not isinstance(value, dict) or not isinstance(value.get("group"), str):
                raise BackupInvalid(f"{current[0]}: a line is not a {{group, username}} membership.")
            on_membership(value["group"], value.get("username"))  # a non-string username: the planner reports it
            parts.memberships_seen += 1

        stopped = self._read_files("group_memberships", cursor, membership, current, should_stop)
        if stopped is not None:
            parts.cursor = stopped
            return parts
        expected, _ = _files(self.manifest, "group_memberships")
        if parts.memberships_seen != expected:
            raise BackupInvalid(
                f"The manifest counts {expected} group_memberships, its files hold {parts.memberships_seen}."
            )
        _files(self.manifest, "users")  # the users pass needs the list: refuse its absence now
        _validate_v2(parts, self._counts())
        return parts

    def first_users_cursor(self, parts: BackupParts) -> dict[str, Any]:
        return {"file": 0, "line": 0}

    def read_users(
        self, cursor: dict[str, Any], on_user: UserCallback, should_stop: StopCheck | None = None
    ) -> dict[str, Any] | None:
        return self._read_files("users", cursor, on_user, ["users"], should_stop)

    def users_done(self, parts: BackupParts, users_read: int) -> None:
        """After the users pass: its count against the manifest's."""
        parts.users_seen = users_read
        expected, _ = _files(self.manifest, "users")
        if users_read != expected:
            raise BackupInvalid(f"The manifest counts {expected} users, its files hold {users_read}.")
        counted = self._counts().get("users")
        if counted not in (None, users_read):
            raise BackupInvalid(f"The manifest counts {counted} users, its files hold {users_read}.")

    def _counts(self) -> dict[str, Any]:
        counts = self.manifest.get("counts")
        return counts if isinstance(counts, dict) else {}

    def _read_files(
        self,
        section: str,
        cursor: dict[str, Any],
        on_line: Callable[[Any], None],
        current: list[str],
        should_stop: StopCheck | None,
    ) -> dict[str, Any] | None:
        _, files = _files(self.manifest, section)
        for number in range(int(cursor["file"]), len(files)):
            key, relative = _relative_key(self.folder, files[number], section)
            current[0] = relative
            handed = [int(cursor["line"]) if number == cursor["file"] else 0]

            def counted(value: Any, handed: list[int] = handed) -> None:
                on_line(value)
                handed[0] += 1

            if _lines(self.opener, key, relative, files[number], counted, handed[0], should_stop) is None:
                return {"file": number, "line": handed[0]}
        return None

    def _read_pool(self, parts: BackupParts) -> None:
        manifest = self.manifest
        key, relative = _relative_key(self.folder, manifest.get("pool"), "pool")
        hashing = _Hashing(self.opener(key))
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
        for name in V2_SECTION_TYPES:
            if name in pool:
                parts.present.add(name)
                parts.sections[name] = pool[name]
        parts.sections.setdefault("timestamp", manifest.get("timestamp"))
        parts.sections["user_mfa_settings"] = manifest.get("user_mfa_settings") is True
        parts.present.add("users")


def read_backup_v2(
    manifest_stream: IO[bytes],
    manifest_key: str,
    opener: Opener,
    on_user: UserCallback,
    on_membership: MembershipCallback,
    on_section: Callable[[str, Any], None] | None = None,
) -> BackupParts:
    """Read a whole v2 backup in one go (tools, tests): the pool's sections (the configuration first),
    the memberships, then the users; the same callbacks and result as ``read_backup``."""
    source = V2Source(manifest_stream, manifest_key, opener)
    parts = BackupParts()
    source._read_pool(parts)
    if on_section is not None:
        for name in sorted(parts.sections, key=lambda n: n != "user_pool_config"):
            if name in V2_SECTION_TYPES and parts.sections[name] is not None:
                on_section(name, parts.sections[name])
    parts.cursor = {"file": 0, "line": 0}
    source.scan(on_membership, parts)
    users = [0]

    def user(value: Any) -> None:
        on_user(value)
        users[0] += 1

    source.read_users(source.first_users_cursor(parts), user)
    source.users_done(parts, users[0])
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
