"""Streaming reader and validator of the producer's backup document (docs/backup-format.md).

The document can be GBs (every user of the pool), so it is read as a stream, one JSON value at a
time: users and memberships are handed to callbacks one at a time, the small sections are kept.
The reader knows the byte offset it stands at, so a long read can stop and go on later.
Keys may come in any order. Error messages never quote the document (it holds personal data).
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, Any, Protocol

from cognito_restore.discovery import is_valid_pool_id
from cognito_restore.errors import BackupInvalid

# Small sections kept whole, with the JSON types the producer writes (None = "not backed up").
SECTION_TYPES: dict[str, type] = {
    "timestamp": str,
    "user_pool_id": str,
    "user_pool_config": dict,
    "app_clients": list,
    "groups": list,
    "identity_providers": list,
    "resource_servers": list,
    "user_pool_domain": dict,
    "ui_customization": dict,
    "risk_configuration": dict,
    "waf_configuration": dict,
}
STREAMED_SECTIONS = {"users": "array", "group_memberships": "map"}


@dataclass
class BackupParts:
    """Everything of the backup but users and memberships."""

    sections: dict[str, Any] = field(default_factory=dict)
    present: set[str] = field(default_factory=set)
    users_seen: int = 0
    memberships_seen: int = 0
    users_start: int | None = None  # byte offset just after the users list's "[" (a second pass reads from it)
    cursor: dict[str, Any] | None = None  # set when a segmented read stopped: where the next one resumes

    def to_dict(self) -> dict[str, Any]:
        return {
            "sections": self.sections,
            "present": sorted(self.present),
            "users_seen": self.users_seen,
            "memberships_seen": self.memberships_seen,
            "users_start": self.users_start,
            "cursor": self.cursor,
        }

    @classmethod
    def from_dict(cls, saved: dict[str, Any]) -> BackupParts:
        return cls(
            sections=saved["sections"],
            present=set(saved["present"]),
            users_seen=saved["users_seen"],
            memberships_seen=saved["memberships_seen"],
            users_start=saved["users_start"],
            cursor=saved["cursor"],
        )

    def get(self, name: str) -> Any:
        return self.sections.get(name)

    # Both checked by validate_sections (read_backup): a str, and an object with a Name.
    @property
    def pool_id(self) -> str:
        pool_id: str = self.sections["user_pool_id"]
        return pool_id

    @property
    def config(self) -> dict[str, Any]:
        config: dict[str, Any] = self.sections["user_pool_config"]
        return config


UserCallback = Callable[[Any], None]
MembershipCallback = Callable[[str, Any], None]
StopCheck = Callable[[], bool]

BLOCK = 1 << 20  # bytes read from the stream at a time
MAX_VALUE_CHARS = 256 << 20  # one section or user larger than this is refused (the producer writes none)
_WS = re.compile(r"[ \t\n\r]*")  # JSON whitespace only


def _reject_constant(_name: str) -> Any:
    raise BackupInvalid("The backup is not valid JSON (NaN or Infinity is not JSON).")


_DECODER = json.JSONDecoder(parse_constant=_reject_constant)  # strict: control characters refused
_TRUNCATED = "The backup is truncated: the document ends before it is complete."


class _Text:
    """The document as text, read block by block, decoded one value at a time by the C decoder
    (json.JSONDecoder.raw_decode), and knowing the byte offset it stands at: a continuation opens
    the object again at that offset (S3 ranged GET) and goes on with a fresh reader."""

    def __init__(self, stream: IO[bytes], base_offset: int = 0) -> None:
        self.stream = stream
        self.decoder = codecs.getincrementaldecoder("utf-8")()
        self.buf = ""
        self.pos = 0
        self.base = base_offset  # byte offset of buf[0] in the document
        self.eof = False
        self.bytes_read = 0

    def offset(self) -> int:
        """Byte offset in the document of the next character to read."""
        head = self.buf[: self.pos]
        return self.base + (len(head) if head.isascii() else len(head.encode()))

    def _compact(self) -> None:
        if self.pos > BLOCK:
            head = self.buf[: self.pos]
            self.base += len(head) if head.isascii() else len(head.encode())
            self.buf = self.buf[self.pos :]
            self.pos = 0

    def _more(self, at_least: int = BLOCK) -> bool:
        if self.eof:
            return False
        data = self.stream.read(max(at_least, BLOCK))
        self.bytes_read += len(data)
        try:
            text = self.decoder.decode(data, final=not data)
        except UnicodeDecodeError:
            raise BackupInvalid("The backup is not valid JSON (not UTF-8 text).") from None
        if not data:
            self.eof = True
        self.buf += text
        return True

    def peek(self) -> str:
        """The next character that is not whitespace ("" at the end of the document)."""
        self._compact()
        while True:
            match = _WS.match(self.buf, self.pos)
            self.pos = match.end() if match else self.pos
            if self.pos < len(self.buf):
                return self.buf[self.pos]
            if not self._more():
                return ""

    def expect(self, chars: str, what: str) -> str:
        found = self.peek()
        if not found:
            raise BackupInvalid(_TRUNCATED if self.bytes_read else "The backup is empty.")
        if found not in chars:
            raise BackupInvalid(f"The backup is not valid JSON (expecting {what}).")
        self.pos += 1
        return found

    def value(self) -> Any:
        """One complete JSON value."""
        if not self.peek():
            raise BackupInvalid(_TRUNCATED)
        start = self.pos
        while True:
            try:
                value, end = _DECODER.raw_decode(self.buf, start)
            except json.JSONDecodeError as error:
                at_end = error.msg.startswith("Unterminated string") or error.pos >= len(self.buf) - 16
                if at_end and not self.eof and len(self.buf) - start < MAX_VALUE_CHARS:
                    self._more(len(self.buf) - start)  # the value goes on in the next block: read more, again
                    continue
                rest = self.buf[error.pos :].strip()
                if error.msg.startswith("Unterminated string") or (len(rest) < 16 and not set(rest) & set("]}")):
                    raise BackupInvalid(_TRUNCATED) from None  # the document ends inside a value
                raise BackupInvalid(f"The backup is not valid JSON ({error.msg.lower()}).") from None
            if end == len(self.buf) and not self.eof:
                self._more()  # a number may go on in the next block
                continue
            self.pos = end
            return value

    def starts_a_value(self) -> bool:
        """Whether the next characters can begin a JSON value (without reading the value: it may be huge)."""
        first = self.peek()
        if first in '{["-0123456789':
            return bool(first)
        literal = {"t": "true", "f": "false", "n": "null"}.get(first, "")
        while literal and len(self.buf) - self.pos < len(literal) and self._more():
            pass
        return bool(literal) and self.buf.startswith(literal, self.pos)

    def key(self) -> str:
        if self.peek() != '"':
            self.expect('"', "a key in double quotes")
        key = self.value()
        assert isinstance(key, str)
        self.expect(":", "':'")
        return key


def _json_kind(first: str) -> str:
    return {"{": "an object", "[": "a list", '"': "a string", "t": "a boolean", "f": "a boolean", "n": "null"}.get(
        first, "a number"
    )


@dataclass
class Stopped(Exception):
    """Raised inside the reader when should_stop() says so; carries the resume point."""

    cursor: dict[str, Any]


def _stream_users(text: _Text, on_user: UserCallback, parts: BackupParts, first: bool, stop: StopCheck | None) -> None:
    """Users up to the end of the users list; after each, stop() may end the read (resume point saved)."""
    if first and text.peek() == "]":
        text.pos += 1
        return
    while True:
        if not first and text.expect(",]", "',' or ']' in users") == "]":
            return
        first = False
        on_user(text.value())
        parts.users_seen += 1
        if stop is not None and stop():
            raise Stopped({"offset": text.offset(), "where": "users", "first": False})


def _stream_members(
    text: _Text, group: str, on_membership: MembershipCallback, parts: BackupParts, first: bool, stop: StopCheck | None
) -> None:
    if first and text.peek() == "]":
        text.pos += 1
        return
    while True:
        if not first and text.expect(",]", "',' or ']' in a member list") == "]":
            return
        first = False
        on_membership(group, text.value())
        parts.memberships_seen += 1
        if stop is not None and stop():
            raise Stopped({"offset": text.offset(), "where": "members", "group": group, "first": False})


def _stream_memberships(
    text: _Text, on_membership: MembershipCallback, parts: BackupParts, first: bool, stop: StopCheck | None
) -> None:
    if first and text.peek() == "}":
        text.pos += 1
        return
    while True:
        if not first and text.expect(",}", "',' or '}' in group_memberships") == "}":
            return
        first = False
        group = text.key()
        found = text.peek()
        if found == "n":
            text.value()  # null: a group without a member list
            continue
        if found != "[":
            raise BackupInvalid("group_memberships has a group whose members are not a list of usernames.")
        text.pos += 1
        _stream_members(text, group, on_membership, parts, True, stop)


def read_backup(
    stream: IO[bytes],
    on_user: UserCallback,
    on_membership: MembershipCallback,
    on_section: Callable[[str, Any], None] | None = None,
    *,
    resume: dict[str, Any] | None = None,
    parts: BackupParts | None = None,
    should_stop: StopCheck | None = None,
) -> BackupParts:
    """Read the document once; raise BackupInvalid with a clear reason for any shape problem.

    on_section sees each small section as soon as it is read (the planner needs the pool config
    before the users, which the producer writes after it).

    Segmented reading: should_stop() is asked after each user and each membership; when it says
    yes, the returned parts carry a cursor (parts.cursor) and nothing is validated yet. The next
    segment passes that cursor as resume, the same parts (BackupParts.from_dict of to_dict), and a
    stream of the document from byte cursor["offset"] on (a ranged GET): a fresh reader goes on
    exactly after the last user or membership handed over.
    """
    parts = parts if parts is not None else BackupParts()
    parts.cursor = None
    text = _Text(stream, resume["offset"] if resume else 0)
    try:
        if resume is None:
            first = text.peek()
            if not first:
                raise BackupInvalid("The backup is empty.")
            if first != "{":
                if not text.starts_a_value():
                    raise BackupInvalid("The backup is not valid JSON (expecting value).")
                raise BackupInvalid(f"The backup must be a JSON object, found {_json_kind(first)}.")
            text.pos += 1
            at_start = True
        else:
            at_start = False
            if resume["where"] == "users":
                _stream_users(text, on_user, parts, bool(resume.get("first")), should_stop)
            elif resume["where"] == "members":
                _stream_members(text, resume["group"], on_membership, parts, bool(resume.get("first")), should_stop)
                _stream_memberships(text, on_membership, parts, False, should_stop)
        _read_top_level(text, parts, on_user, on_membership, on_section, at_start, should_stop)
    except Stopped as stopped:
        parts.cursor = stopped.cursor
        return parts
    validate_sections(parts)
    return parts


def _read_top_level(
    text: _Text,
    parts: BackupParts,
    on_user: UserCallback,
    on_membership: MembershipCallback,
    on_section: Callable[[str, Any], None] | None,
    at_start: bool,
    stop: StopCheck | None,
) -> None:
    if at_start and text.peek() == "}":
        text.pos += 1
    else:
        while True:
            if not at_start and text.expect(",}", "',' or '}' after a section") == "}":
                break
            at_start = False
            key = text.key()
            first = text.peek()
            parts.present.add(key)
            if first == "n":
                text.value()
                parts.sections[key] = None
                continue
            if key in STREAMED_SECTIONS:
                expected = STREAMED_SECTIONS[key]
                if key == "users" and first == "[":
                    if parts.users_start is not None:
                        raise BackupInvalid("The backup lists users twice.")
                    text.pos += 1
                    parts.users_start = text.offset()
                    _stream_users(text, on_user, parts, True, stop)
                elif key == "group_memberships" and first == "{":
                    text.pos += 1
                    _stream_memberships(text, on_membership, parts, True, stop)
                else:
                    raise BackupInvalid(
                        f"{key} must be {'a list' if expected == 'array' else 'an object'}, found {_json_kind(first)}."
                    )
            elif key in SECTION_TYPES:
                parts.sections[key] = text.value()
                if on_section is not None:
                    on_section(key, parts.sections[key])
            else:
                text.value()  # unknown producer additions are ignored
    if text.peek():
        raise BackupInvalid("The backup has data after its top-level object.")


def read_users(
    stream: IO[bytes],
    resume: dict[str, Any],
    on_user: UserCallback,
    should_stop: StopCheck | None = None,
) -> dict[str, Any] | None:
    """Only the users list, from a resume point inside it (a stream of the document from
    resume["offset"]; {"offset": parts.users_start, "first": True} is its beginning). Returns the
    next resume point when should_stop() said so, None at the end of the list. The whole document
    was read and validated before (a second pass)."""
    text = _Text(stream, resume["offset"])
    try:
        _stream_users(text, on_user, BackupParts(), bool(resume.get("first")), should_stop)
    except Stopped as stopped:
        return stopped.cursor
    return None


def validate_sections(parts: BackupParts) -> None:
    for name, expected in SECTION_TYPES.items():
        value = parts.sections.get(name)
        if value is not None and not isinstance(value, expected):
            raise BackupInvalid(f"{name} must be {'an object' if expected is dict else 'a ' + expected.__name__}.")
    pool_id = parts.sections.get("user_pool_id")
    if not is_valid_pool_id(pool_id):
        raise BackupInvalid("user_pool_id is missing or is not a user pool id.")
    config = parts.sections.get("user_pool_config")
    if not isinstance(config, dict) or not isinstance(config.get("Name"), str):
        raise BackupInvalid("user_pool_config is missing or has no Name: not a DescribeUserPool result.")
    if config.get("Id") not in (None, pool_id):
        shown = config.get("Id") if is_valid_pool_id(config.get("Id")) else "(not a pool id)"
        raise BackupInvalid(f"user_pool_config.Id {shown} differs from user_pool_id {pool_id}.")
    if "users" not in parts.present or parts.sections.get("users", []) is None:
        raise BackupInvalid("The backup has no users list: a restore without its users is refused.")
    for section in ("app_clients", "groups", "identity_providers", "resource_servers"):
        for item in parts.sections.get(section) or []:
            if not isinstance(item, dict):
                raise BackupInvalid(f"{section} must be a list of objects.")


class V1Source:
    """A v1 backup document as preparation reads it (plan.Preparation), in two segmented passes:
    scan (the whole document, validated; users counted, memberships handed over) and users (the
    users list again from its byte offset). open_at(offset) opens the document from that byte on
    (a ranged GET in Lambda)."""

    def __init__(self, open_at: Callable[[int], IO[bytes]]) -> None:
        self.open_at = open_at

    def scan(
        self, on_membership: MembershipCallback, parts: BackupParts, should_stop: StopCheck | None = None
    ) -> BackupParts:
        cursor = parts.cursor
        return read_backup(
            self.open_at(cursor["offset"] if cursor else 0),
            lambda _user: None,  # counted by the reader; planned in the users pass
            on_membership,
            resume=cursor,
            parts=parts,
            should_stop=should_stop,
        )

    def first_users_cursor(self, parts: BackupParts) -> dict[str, Any]:
        assert parts.users_start is not None  # validate_sections: a users list is present
        return {"offset": parts.users_start, "first": True}

    def read_users(
        self, cursor: dict[str, Any], on_user: UserCallback, should_stop: StopCheck | None = None
    ) -> dict[str, Any] | None:
        return read_users(self.open_at(cursor["offset"]), cursor, on_user, should_stop)

    def users_done(self, parts: BackupParts, users_read: int) -> None:
        """The scan counted the users (parts.users_seen) and validated the document."""


class BackupSource(Protocol):
    """What preparation needs of a backup format (V1Source, backup_v2.V2Source)."""

    def scan(
        self, on_membership: MembershipCallback, parts: BackupParts, should_stop: StopCheck | None = None
    ) -> BackupParts: ...

    def first_users_cursor(self, parts: BackupParts) -> dict[str, Any]: ...

    def read_users(
        self, cursor: dict[str, Any], on_user: UserCallback, should_stop: StopCheck | None = None
    ) -> dict[str, Any] | None: ...

    def users_done(self, parts: BackupParts, users_read: int) -> None: ...
