"""Verification of a large restore: the new pool's users, identity links and memberships counted live.

"Verify restored pool" lists the pool by name itself when the plan fits its 15 minutes
(verification.LIST_LIMIT: 180,000 users + memberships). A larger plan (the preparation sets
``count_live_in_segments``) is counted first by "Count the restored pool", in as many invocations as
it takes: ListUsers pages (users, and the identity links their ``identities`` attribute holds) in
16 streams, one per first hex digit of ``sub`` (``Filter: sub ^= "x"``, as the producer's shards), then
ListGroups and, in one stream per backed-up group, ListUsersInGroup pages; at most STREAMS pages in
flight, paced under UserList for all of them (at ~200 ms a call one stream reaches 5 pages a second,
16 reach the 30/s quota). After each invocation the cursor (the stage, each open stream's page
token) and the counts so far are saved in the work bucket; "Restored pool counted?" loops until
``done``. A saved token Cognito refuses starts the count again (at most MAX_RESTARTS times). The verify phase compares those
live counts with the chunk results: a user or membership absent from the pool shows as a count below
the restored one (names are compared only by the listing within one phase).

Each pass through "Start counting the restored pool" (a Pass state) starts a fresh count: a redrive
that re-ran chunks counts the pool as it is now, never a count from before.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from botocore.exceptions import ClientError

from cognito_restore.aws_errors import error_code
from cognito_restore.sync_users import PAGE_SIZE
from cognito_restore.target_listing import list_page, next_token
from cognito_restore.verification import identity_links

CURSOR = "verify/live_count.json"
MAX_RESTARTS = 2  # counts started again from the first page after a saved page token was refused
STAGES = ("users", "groups", "members")  # then "done"
SUB_PREFIXES = "0123456789abcdef"  # users listed in 16 streams by `sub ^= "x"` (a sub is a UUID)
STREAMS = 16  # pages in flight at most: 200 ms a call x 16 streams reach the UserList quota (30/s)
StopCheck = Callable[[], bool]
Call = Callable[..., dict[str, Any]]


def _fresh() -> dict[str, Any]:
    return {
        "stage": "users",
        "streams": {prefix: None for prefix in SUB_PREFIXES},  # open stream -> its page token (None: first)
        "token": None,  # ListGroups
        "groups": [],  # the backed-up groups the pool has (a group that failed is reported, not listed)
        "users": 0,
        "identity_links": 0,
        "memberships": 0,
        "pages": {},
        "invocations": 0,
    }


class _Counter:
    """One invocation's share of the count: the streams of a stage paged in parallel (the call is paced
    for all of them), each until it ends or Lambda time runs low."""

    def __init__(self, cursor: dict[str, Any], call: Call, pool_id: str, should_stop: StopCheck) -> None:
        self.cursor, self.call, self.pool_id, self.should_stop = cursor, call, pool_id, should_stop
        self.lock = threading.Lock()
        self.stopped = False

    def run_streams(self, operation: str, params: Callable[[str], dict[str, Any]], on_page: PageCounter) -> bool:
        """Every open stream paged to its end; False when time ran low first (the tokens are in the cursor)."""
        streams: dict[str, str | None] = self.cursor["streams"]
        with ThreadPoolExecutor(max_workers=STREAMS, thread_name_prefix="live-count") as pool:
            list(pool.map(lambda name: self._stream(operation, name, params(name), on_page), list(streams)))
        return not self.stopped

    def _stream(self, operation: str, name: str, params: dict[str, Any], on_page: PageCounter) -> None:
        try:
            self._page_through(operation, name, params, on_page)
        except BaseException:
            self.stopped = True  # the other streams stop at their next page: the task fails, Step Functions retries
            raise

    def _page_through(self, operation: str, name: str, params: dict[str, Any], on_page: PageCounter) -> None:
        streams, pages = self.cursor["streams"], self.cursor["pages"]
        while not self.stopped:
            with self.lock:
                token = streams[name]
            try:
                page = list_page(self.call, operation, {}, token, UserPoolId=self.pool_id, **params)
            except ClientError as error:
                if operation != "ListUsersInGroup" or error_code(error) != "ResourceNotFoundException":
                    raise
                page = {}  # the group was deleted since it was listed: it has no members
            with self.lock:  # the counts and the token move together: a saved cursor is consistent
                pages[operation] = pages.get(operation, 0) + 1
                on_page(page)
                following = next_token(page, operation) if page else None
                if following is None:
                    del streams[name]
                else:
                    streams[name] = following
            if self.should_stop():  # after every page: the streams still open go on in the next invocation
                self.stopped = True
            if following is None:
                return


PageCounter = Callable[[Mapping[str, Any]], None]


def _sub_shard(prefix: str) -> dict[str, Any]:
    return {"Limit": PAGE_SIZE, "Filter": f'sub ^= "{prefix}"'}


def _members_of(group: str) -> dict[str, Any]:
    return {"GroupName": group, "Limit": PAGE_SIZE}


def count_pool(
    store: Any,
    call: Call,
    pool_id: str,
    backed_up_groups: list[str],
    fresh: bool,
    should_stop: StopCheck,
) -> dict[str, Any]:
    """One invocation's share of the count; returns the counts with ``done`` (false: a continuation).
    fresh: the first invocation of this pass through the loop (the saved cursor is not used)."""
    cursor = _fresh() if fresh else (store.get_json_or_none(store.key(CURSOR)) or _fresh())
    cursor["invocations"] += 1
    while True:
        try:
            return _count(store, cursor, call, pool_id, set(backed_up_groups), should_stop)
        except ClientError as error:
            # A saved page token Cognito no longer takes (the API reference gives tokens no lifetime): the
            # count starts again from the first page, at most MAX_RESTARTS times (as the sync's listing).
            resumed = cursor["token"] is not None or any(cursor["streams"].values())
            restarts = cursor.get("restarts", 0)
            if not resumed or error_code(error) != "InvalidParameterException" or restarts >= MAX_RESTARTS:
                raise
            cursor = {**_fresh(), "restarts": restarts + 1, "invocations": cursor["invocations"]}


def _count(
    store: Any, cursor: dict[str, Any], call: Call, pool_id: str, wanted: set[str], should_stop: StopCheck
) -> dict[str, Any]:
    counter = _Counter(cursor, call, pool_id, should_stop)

    def users_page(page: Mapping[str, Any]) -> None:
        for user in page.get("Users", []):
            cursor["users"] += 1
            cursor["identity_links"] += identity_links(user)

    def members_page(page: Mapping[str, Any]) -> None:
        cursor["memberships"] += len(page.get("Users", []))

    while cursor["stage"] in STAGES:
        stage = cursor["stage"]
        if stage == "users":
            if counter.run_streams("ListUsers", _sub_shard, users_page):
                cursor["stage"] = "groups"
        elif stage == "groups":
            page = list_page(call, "ListGroups", cursor["pages"], cursor["token"], UserPoolId=pool_id, Limit=PAGE_SIZE)
            cursor["groups"] += [g["GroupName"] for g in page.get("Groups", []) if g["GroupName"] in wanted]
            cursor["token"] = next_token(page, "ListGroups")
            if cursor["token"] is None:
                cursor["stage"] = "members"
                cursor["streams"] = {group: None for group in cursor["groups"]}
        elif counter.run_streams("ListUsersInGroup", _members_of, members_page):
            cursor["stage"] = "done"
        if counter.stopped or (cursor["stage"] in STAGES and should_stop()):
            break
    store.put_json(store.key(CURSOR), cursor)
    return _summary(cursor, done=cursor["stage"] == "done")


def _summary(cursor: Mapping[str, Any], done: bool) -> dict[str, Any]:
    return {
        "done": done,
        "users": cursor["users"],
        "identity_links": cursor["identity_links"],
        "memberships": cursor["memberships"],
        "read_calls": dict(cursor["pages"]),
        "invocations": cursor["invocations"],
    }
