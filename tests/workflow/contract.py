"""Checks JSON values against the TypedDicts of cognito_restore.state, at run time.

A TypedDict is checked closed: every required key present, no key it does not declare (the
ASL and the handlers must not pass anything the contract does not name), each value of its type.
"""

from __future__ import annotations

import types
import typing
from typing import Any, Literal, NotRequired, Required, TypeVar, Union, get_args, get_origin, is_typeddict


def violations(value: Any, expected: Any, path: str = "$") -> list[str]:
    """Every way value breaks the type, as "path: what" lines (empty: it keeps to it)."""
    if expected is Any or expected is object:
        return []
    if expected is None or expected is type(None):
        return [] if value is None else [f"{path}: {_kind(value)}, expected null"]
    origin, args = get_origin(expected), get_args(expected)
    if origin in (NotRequired, Required):
        return violations(value, args[0], path)
    if origin in (Union, types.UnionType):
        found = [violations(value, option, path) for option in args]
        return [] if any(not f for f in found) else [f"{path}: {_kind(value)} matches none of {_name(expected)}"]
    if origin is Literal:
        return [] if value in args and type(value) in {type(a) for a in args} else [f"{path}: {value!r} not in {args}"]
    if is_typeddict(origin or expected):
        return _typeddict_violations(value, expected, path)
    if origin is list:
        if not isinstance(value, list):
            return [f"{path}: {_kind(value)}, expected a list"]
        return [line for i, item in enumerate(value) for line in violations(item, args[0], f"{path}[{i}]")]
    if origin is dict:
        if not isinstance(value, dict):
            return [f"{path}: {_kind(value)}, expected an object"]
        key_type, value_type = args
        lines = [line for key in value for line in violations(key, key_type, f"{path}.<key {key!r}>")]
        return lines + [line for key, item in value.items() for line in violations(item, value_type, f"{path}.{key}")]
    if expected is bool:
        return [] if isinstance(value, bool) else [f"{path}: {_kind(value)}, expected a boolean"]
    if expected is int:
        return (
            []
            if isinstance(value, int) and not isinstance(value, bool)
            else [f"{path}: {_kind(value)}, expected an integer"]
        )
    if expected is float:
        return (
            []
            if isinstance(value, int | float) and not isinstance(value, bool)
            else [f"{path}: {_kind(value)}, expected a number"]
        )
    if expected is str:
        return [] if isinstance(value, str) else [f"{path}: {_kind(value)}, expected a string"]
    raise TypeError(f"{path}: the checker does not know {expected!r}")


def keys_of(expected: Any) -> tuple[frozenset[str], frozenset[str]]:
    """(required, optional) keys of a TypedDict, or of a parametrised generic one."""
    typed = get_origin(expected) or expected
    return frozenset(typed.__required_keys__), frozenset(typed.__optional_keys__)


def _typeddict_violations(value: Any, expected: Any, path: str) -> list[str]:
    if not isinstance(value, dict):
        return [f"{path}: {_kind(value)}, expected an object ({_name(expected)})"]
    typed = get_origin(expected) or expected
    hints = typing.get_type_hints(typed)
    substitutions: dict[Any, Any] = dict(zip(getattr(typed, "__parameters__", ()), get_args(expected), strict=False))
    required, optional = keys_of(expected)
    lines = [f"{path}: {key} missing ({_name(expected)})" for key in sorted(required - value.keys())]
    lines += [f"{path}: {key} is not in {_name(expected)}" for key in sorted(value.keys() - required - optional)]
    for key in sorted(value.keys() & (required | optional)):
        hint = hints[key]
        hint = substitutions.get(hint, hint) if isinstance(hint, TypeVar) else hint
        lines += violations(value[key], hint, f"{path}.{key}")
    return lines


def _name(expected: Any) -> str:
    return getattr(expected, "__name__", None) or str(expected)


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), type(value).__name__
    )
