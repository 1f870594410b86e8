"""ListUsers with a ``sub`` filter, served from an index (the backup producer's shards).

The producer lists a pool in shards, ``Filter='sub ^= "<hex prefix>"'``, 60 users a page. moto
answers every page by filtering every user of the pool and then walking the filtered list to the
page token: a 1,000,000-user pool in 16 shards is ~16,700 pages of a million-user scan each, days
of CPU. Here a pool keeps a sorted index of (sub, username), rebuilt only after a user was added or
removed (the pool's ``users`` mapping counts its changes), and a page is a bisection into it: the
same users, in sub order, with an opaque PaginationToken that names the last sub returned (stable
when users are added meanwhile, as Cognito's tokens are). Filters on other attributes, or none,
are moto's own code. Cognito documents ``sub`` as a searchable attribute with ``=`` and ``^=``
(ListUsers API reference); other operators are refused by moto's parser already.
"""

from __future__ import annotations

import base64
import bisect
import re
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from tools.emulation.cognito.common import error

_SUB_FILTER = re.compile(r'^\s*sub\s*(=|\^=)\s*"(.*)"\s*$')
_TOKEN_PREFIX = "emulator-sub:"


class CountingUsers(OrderedDict[str, Any]):
    """``pool.users`` that counts additions and removals (the index is rebuilt when it changed)."""

    changes = 0

    def __setitem__(self, key: Any, value: Any) -> None:
        if key not in self:
            self.changes += 1
        super().__setitem__(key, value)

    def __delitem__(self, key: Any) -> None:
        self.changes += 1
        super().__delitem__(key)

    def pop(self, key: Any, *default: Any) -> Any:
        if key in self:
            self.changes += 1
        return super().pop(key, *default)


def _index(pool: Any) -> tuple[list[str], list[str]]:
    """(subs sorted, usernames in the same order) of the pool, rebuilt when its users changed."""
    if not isinstance(pool.users, CountingUsers):
        pool.users = CountingUsers(pool.users)
    cached = getattr(pool, "_emulator_sub_index", None)
    if cached is not None and cached[0] == pool.users.changes:
        return cached[1], cached[2]
    pairs = sorted((user.attribute_lookup.get("sub", user.id), name) for name, user in pool.users.items())
    subs, names = [p[0] for p in pairs], [p[1] for p in pairs]
    pool._emulator_sub_index = (pool.users.changes, subs, names)
    return subs, names


def _token(sub: str) -> str:
    return base64.urlsafe_b64encode((_TOKEN_PREFIX + sub).encode()).decode()


def _after(token: str) -> str:
    try:
        decoded = base64.urlsafe_b64decode(token.encode()).decode()
    except ValueError:
        decoded = ""
    if not decoded.startswith(_TOKEN_PREFIX):
        raise error("InvalidParameterException", "Invalid pagination token.")
    return decoded[len(_TOKEN_PREFIX) :]


def make_list_users(original: Callable) -> Callable:
    def list_users(
        self: Any, user_pool_id: str, filt: str | None, limit: int | None = None, pagination_token: str | None = None
    ) -> Any:
        match = _SUB_FILTER.match(filt or "")
        if not match:
            return original(self, user_pool_id, filt, limit=limit, pagination_token=pagination_token)
        op, value = match.groups()
        pool = self.describe_user_pool(user_pool_id)
        subs, names = _index(pool)
        start = bisect.bisect_left(subs, value)
        if pagination_token:
            start = max(start, bisect.bisect_right(subs, _after(pagination_token)))
        page_size = int(limit or 60)
        users: list[Any] = []
        last: str | None = None
        position = start
        while position < len(subs) and len(users) < page_size:
            sub = subs[position]
            if not sub.startswith(value) or (op == "=" and sub != value):
                break
            user = pool.users.get(names[position])
            if user is not None:
                users.append(user)
            last = sub
            position += 1
        more = (
            position < len(subs)
            and subs[position].startswith(value)
            and (op == "^=" or subs[position] == value)
            and last is not None
        )
        return users, (_token(last) if more and last is not None else None)

    return list_users
