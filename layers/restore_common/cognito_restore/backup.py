"""Streaming reader and validator of the producer's backup document (docs/backup-format.md).

The document can be hundreds of MB (every user of the pool), so it is read as a stream of JSON
events: users and memberships are handed to callbacks one at a time, the small sections are kept.
Keys may come in any order. Error messages never quote the document (it holds personal data).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

import ijson

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


def _build(first_event: str, first_value: Any, events: Iterator[tuple[str, str, Any]]) -> Any:
    """Consume one complete JSON value whose first event was already read."""
    if first_event not in ("start_map", "start_array"):
        return first_value
    builder = ijson.ObjectBuilder()
    builder.event(first_event, first_value)
    depth = 1
    for _, event, value in events:
        builder.event(event, value)
        if event in ("start_map", "start_array"):
            depth += 1
        elif event in ("end_map", "end_array"):
            depth -= 1
            if depth == 0:
                return builder.value
    raise BackupInvalid("The backup is truncated: the document ends inside a value.")


def _skip(first_event: str, events: Iterator[tuple[str, str, Any]]) -> None:
    if first_event not in ("start_map", "start_array"):
        return
    depth = 1
    for _, event, _ in events:
        if event in ("start_map", "start_array"):
            depth += 1
        elif event in ("end_map", "end_array"):
            depth -= 1
            if depth == 0:
                return


def _stream_users(events: Iterator[tuple[str, str, Any]], on_user: UserCallback, parts: BackupParts) -> None:
    for _, event, value in events:
        if event == "end_array":
            return
        on_user(_build(event, value, events))
        parts.users_seen += 1
    raise BackupInvalid("The backup is truncated inside users.")


def _stream_memberships(
    events: Iterator[tuple[str, str, Any]], on_membership: MembershipCallback, parts: BackupParts
) -> None:
    for _, event, group in events:
        if event == "end_map":
            return
        if event != "map_key":
            raise BackupInvalid("group_memberships must map group names to lists of usernames.")
        _, first_event, _first_value = next(events)
        if first_event == "null":
            continue
        if first_event != "start_array":
            raise BackupInvalid("group_memberships has a group whose members are not a list of usernames.")
        for _, member_event, member in events:
            if member_event == "end_array":
                break
            on_membership(group, _build(member_event, member, events))
            parts.memberships_seen += 1
    raise BackupInvalid("The backup is truncated inside group_memberships.")


def _json_kind(event: str) -> str:
    return {
        "start_map": "an object",
        "start_array": "a list",
        "string": "a string",
        "number": "a number",
        "boolean": "a boolean",
        "null": "null",
    }.get(event, event)


def read_backup(
    stream: IO[bytes],
    on_user: UserCallback,
    on_membership: MembershipCallback,
    on_section: Callable[[str, Any], None] | None = None,
) -> BackupParts:
    """Read the whole document once; raise BackupInvalid with a clear reason for any shape problem.

    on_section sees each small section as soon as it is read (the planner needs the pool config
    before the users, which the producer writes after it).
    """
    parts = BackupParts()
    counted = CountingStream(stream)
    events = iter(ijson.parse(counted, use_float=True))
    try:
        try:
            _, first, _ = next(events)
        except StopIteration:
            raise BackupInvalid("The backup is empty.") from None
        if first != "start_map":
            raise BackupInvalid(f"The backup must be a JSON object, found {_json_kind(first)}.")
        for _, event, key in events:
            if event == "end_map":
                break
            _, value_event, value = next(events)
            parts.present.add(key)
            if value_event == "null":
                parts.sections[key] = None
                continue
            if key in STREAMED_SECTIONS:
                expected = STREAMED_SECTIONS[key]
                if key == "users" and value_event == "start_array":
                    _stream_users(events, on_user, parts)
                elif key == "group_memberships" and value_event == "start_map":
                    _stream_memberships(events, on_membership, parts)
                else:
                    raise BackupInvalid(
                        f"{key} must be {'a list' if expected == 'array' else 'an object'}, "
                        f"found {_json_kind(value_event)}."
                    )
            elif key in SECTION_TYPES:
                parts.sections[key] = _build(value_event, value, events)
                if on_section is not None:
                    on_section(key, parts.sections[key])
            else:
                _skip(value_event, events)  # unknown producer additions are ignored
        else:
            raise BackupInvalid("The backup is truncated: the top-level object is not closed.")
        for _ in events:
            raise BackupInvalid("The backup has data after its top-level object.")
    except ijson.JSONError as error:
        raise BackupInvalid(_parse_error_reason(error, counted)) from None
    except StopIteration:
        raise BackupInvalid("The backup is truncated.") from None
    validate_sections(parts)
    return parts


_TRUNCATION_MARKERS = ("premature eof", "incomplete json content", "unexpected end")
_PARSER_PHRASE = re.compile(r"^(?:lexical|parse) error: [a-z0-9 ]{1,60}")


def _parse_error_reason(error: Exception, stream: CountingStream) -> str:
    """A clear reason from the parser's error, never quoting the document (later lines of it do)."""
    first_line = (str(error).splitlines() or ["parse error"])[0].strip()
    if getattr(stream, "bytes_read", None) == 0:
        return "The backup is empty."
    if any(marker in first_line.lower() for marker in _TRUNCATION_MARKERS):
        return "The backup is truncated: the document ends before it is complete."
    # Keep only the parser's own words ("lexical error: invalid char in json text"): it may quote data after them.
    phrase = _PARSER_PHRASE.match(first_line)
    return f"The backup is not valid JSON ({phrase.group(0).strip() if phrase else 'syntax error'})."


class CountingStream:
    """Counts the bytes read, so an empty object can be told from a truncated one."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream
        self.bytes_read = 0

    def read(self, size: int = -1) -> bytes:
        data = self._stream.read(size)
        self.bytes_read += len(data)
        return data


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
