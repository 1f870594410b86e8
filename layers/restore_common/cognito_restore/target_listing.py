"""Sync mode: the "Read target pool" phase, resumable, for targets of millions of users (docs/sync.md).

The target is listed once, page by page, at the UserList quota: ListUsers, then ListGroups and, per
group, ListUsersInGroup. At 30 calls/s and 60 users per page a million users and a million
memberships take about 18 minutes, more than one invocation, so the listing runs in **segments**:
when Lambda time runs low (should_stop, asked after each page) the users and memberships listed so
far are written to one file per partition for this segment
(``sync/target/part-NNNNNN/seg-SSSS.json``), then the cursor (the stage and the page token) is saved
(``sync/target/listing.json``), and the "Target pool read?" loop invokes the task again. A segment
also ends when SEGMENT_ENTRIES users and memberships are buffered (bounded memory).

Once everything is listed, the **mark** stage goes over the partitions: pass 1 writes each
partition's final file (``sync_users.partition_key``: what the chunk tasks read, the same as a
listing in one go gives) with the target users absent from the backup (a partition's backed-up users
are its chunk file) marked keep; pass 2 marks the first ``max_deletes`` of them in sign-in order for
deletion, rewriting only the partitions that hold one.

Crash safety: segment files are written before the cursor that counts them; a crash between the
two redoes the segment under the same number from the saved token, overwriting all its files.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from itertools import repeat
from typing import Any

from botocore.exceptions import ClientError

from cognito_restore.aws_errors import raise_if_throttled
from cognito_restore.sync_users import (
    KEPT_NOT_IN_BACKUP,
    KEPT_OVER_CAP,
    PAGE_SIZE,
    SyncOptions,
    partition_key,
    partition_of,
    sign_in_key,
    target_entry,
    target_sign_in,
)

LISTING = "sync/target/listing.json"  # the cursor of a segmented listing (work bucket)
SUMMARY = "sync/target/summary.json"  # the finished listing: a retry or redrive reuses it
SEGMENT_ENTRIES = 200_000  # users and memberships buffered at most before a segment is written (~200 MB)
WRITE_THREADS = 8  # partition files written (and read) in parallel: S3 latency, not CPU, bounds one at a time
LISTING_STAGES = ("users", "groups", "members")  # then "mark", then "done"
MAX_RESTARTS = 2  # listings started again from the first page after a page token was refused
_FRESH: dict[str, Any] = {  # a listing's cursor at its start (lists added per cursor: never shared)
    "stage": "users",
    "token": None,
    "group_index": 0,
    "segment": 0,
    "users": 0,
    "mark_index": 0,
    "marked": False,
    "memberships": 0,
    "delete_partitions": [],
}
StopCheck = Callable[[], bool]
Call = Callable[..., dict[str, Any]]


def segment_key(store: Any, partition: int, segment: int) -> str:
    return str(store.key(f"sync/target/part-{partition:06d}/seg-{segment:04d}.json"))


def list_page(call: Call, operation: str, pages: dict[str, int], token: str | None, **params: Any) -> dict[str, Any]:
    token_key = "PaginationToken" if operation == "ListUsers" else "NextToken"  # the botocore model's names
    pages[operation] = pages.get(operation, 0) + 1
    try:
        return call(operation, **params, **({token_key: token} if token else {}))
    except ClientError as error:
        raise_if_throttled(error)
        raise


def next_token(page: Mapping[str, Any], operation: str) -> str | None:
    token = page.get("PaginationToken" if operation == "ListUsers" else "NextToken")
    return token if isinstance(token, str) and token else None


class TargetListing:
    """One invocation's share of the listing. run() returns the summary: ``done`` false for a continuation."""

    def __init__(
        self,
        store: Any,
        call: Call,
        pool_id: str,
        partitions: int,
        username_attributes: tuple[str, ...],
        case_sensitive: bool,
        immutable: frozenset[str],
        options: SyncOptions,
        chunk_keys: list[str],
    ) -> None:
        self.store, self.call, self.pool_id = store, call, pool_id
        self.partitions = max(1, partitions)
        self.names, self.case_sensitive, self.immutable = username_attributes, case_sensitive, immutable
        self.options, self.chunk_keys = options, chunk_keys  # chunk_keys[i]: the backed-up users of partition i
        saved = store.get_json_or_none(store.key(LISTING)) or {}
        self.cursor: dict[str, Any] = saved or {
            **_FRESH,
            "groups": [],
            "unmatched": [],
            "target_only": [],
            "pages": {},
            "invocations": 0,
        }
        self.cursor["invocations"] += 1
        self.users: list[list[dict[str, Any]]] = [[] for _ in range(self.partitions)]
        self.members: list[list[list[str]]] = [[] for _ in range(self.partitions)]
        self.buffered = 0

    # --- the listing ------------------------------------------------------------------------------

    def run(self, should_stop: StopCheck | None = None) -> dict[str, Any]:
        stop = should_stop or (lambda: False)
        cursor = self.cursor
        listed = False
        while cursor["stage"] in LISTING_STAGES:
            try:
                getattr(self, f"_list_{cursor['stage']}")()
            except ClientError as error:
                if not self._token_refused(error):
                    raise
                continue
            listed = True
            if self.buffered >= SEGMENT_ENTRIES:
                self._write_segment()
            if cursor["stage"] in LISTING_STAGES and stop():
                self._write_segment()
                return self._continuation()
        if listed and self.buffered:  # the listing ended in this invocation: its last segment
            self._write_segment()
        elif listed:
            self._save()
        if cursor["stage"] == "mark" and not self._mark(stop):
            return self._continuation()
        return self._finish()

    def _token_refused(self, error: ClientError) -> bool:
        """A saved page token Cognito no longer takes (the API reference gives tokens no lifetime): the
        listing starts again from the first page, at most MAX_RESTARTS times. Segment numbers start again
        too and every partition file of a segment is rewritten, so nothing of the first attempt remains."""
        from cognito_restore.aws_errors import error_code

        cursor = self.cursor
        if cursor["token"] is None or error_code(error) != "InvalidParameterException":
            return False
        if cursor.get("restarts", 0) >= MAX_RESTARTS:
            return False
        restarts, pages, invocations = cursor.get("restarts", 0) + 1, cursor["pages"], cursor["invocations"]
        cursor.clear()  # in place: run() holds this cursor
        cursor.update(_FRESH, groups=[], unmatched=[], target_only=[], pages=pages)
        cursor.update(restarts=restarts, invocations=invocations)
        self.users = [[] for _ in range(self.partitions)]
        self.members = [[] for _ in range(self.partitions)]
        self.buffered = 0
        return True

    def _list_users(self) -> None:
        cursor = self.cursor
        page = list_page(
            self.call, "ListUsers", cursor["pages"], cursor["token"], UserPoolId=self.pool_id, Limit=PAGE_SIZE
        )
        for user in page.get("Users", []):
            sign_in = target_sign_in(user, self.names)
            if sign_in is None:  # cannot be matched with a backed-up user: reported, never touched
                cursor["unmatched"].append({"item": user["Username"], "reason": "no sign-in attribute: left as is"})
                continue
            key = sign_in_key(sign_in, self.case_sensitive)
            self.users[partition_of(key, self.partitions)].append(target_entry(user, key))
            cursor["users"] += 1
            self.buffered += 1
        cursor["token"] = next_token(page, "ListUsers")
        if cursor["token"] is None:
            cursor["stage"] = "groups"

    def _list_groups(self) -> None:
        cursor = self.cursor
        page = list_page(
            self.call, "ListGroups", cursor["pages"], cursor["token"], UserPoolId=self.pool_id, Limit=PAGE_SIZE
        )
        cursor["groups"].extend(group["GroupName"] for group in page.get("Groups", []))
        cursor["token"] = next_token(page, "ListGroups")
        if cursor["token"] is None:
            cursor["stage"] = "members" if cursor["groups"] else "mark"

    def _list_members(self) -> None:
        cursor = self.cursor
        group = cursor["groups"][cursor["group_index"]]
        try:
            page = list_page(
                self.call,
                "ListUsersInGroup",
                cursor["pages"],
                cursor["token"],
                UserPoolId=self.pool_id,
                GroupName=group,
                Limit=PAGE_SIZE,
            )
        except ClientError as error:
            from cognito_restore.aws_errors import error_code

            if error_code(error) != "ResourceNotFoundException":
                raise
            page = {}  # the group was deleted since ListGroups listed it: it has no members to list
        for member in page.get("Users", []):
            sign_in = target_sign_in(member, self.names)
            if sign_in is not None:  # ListUsersInGroup lists users with their attributes: the same key
                key = sign_in_key(sign_in, self.case_sensitive)
                self.members[partition_of(key, self.partitions)].append([member["Username"], group])
                self.buffered += 1
        cursor["token"] = next_token(page, "ListUsersInGroup")
        if cursor["token"] is None:
            cursor["group_index"] += 1
            if cursor["group_index"] >= len(cursor["groups"]):
                cursor["stage"] = "mark"

    def _write_segment(self) -> None:
        """Every partition's file of this segment (empty ones too: a redone segment leaves nothing stale),
        then the cursor that counts it."""
        segment = self.cursor["segment"]
        with ThreadPoolExecutor(max_workers=WRITE_THREADS, thread_name_prefix="target-segment") as pool:
            list(
                pool.map(
                    lambda i: self.store.put_json(
                        segment_key(self.store, i, segment), {"users": self.users[i], "memberships": self.members[i]}
                    ),
                    range(self.partitions),
                )
            )
        self.users = [[] for _ in range(self.partitions)]
        self.members = [[] for _ in range(self.partitions)]
        self.buffered = 0
        self.cursor["segment"] = segment + 1
        self._save()

    def _save(self) -> None:
        self.store.put_json(self.store.key(LISTING), self.cursor)

    def _continuation(self) -> dict[str, Any]:
        self._save()
        return {**self._counts(), "done": False}

    # --- marking the target-only users ------------------------------------------------------------

    def _partition(self, index: int) -> list[dict[str, Any]]:
        """The partition's users, with their groups, from every segment (joined by username, as listed)."""
        users: list[dict[str, Any]] = []
        memberships: list[list[str]] = []
        for segment in range(self.cursor["segment"]):
            listed = self.store.get_json(segment_key(self.store, index, segment))
            users.extend({**entry, "groups": []} for entry in listed["users"])
            memberships.extend(listed["memberships"])
        by_username = {entry["username"]: entry for entry in users}
        for username, group in memberships:
            if username in by_username:  # a member created after its users page was listed is not listed
                by_username[username]["groups"].append(group)
        return users

    def _backed_up(self, index: int) -> set[str]:
        items = self.store.get_json(self.chunk_keys[index]) if index < len(self.chunk_keys) else []
        return {sign_in_key(item["create_username"], self.case_sensitive) for item in items}

    def _mark(self, stop: StopCheck) -> bool:
        """Pass 1 writes each partition's final file, its target-only users kept; pass 2 marks the first
        max_deletes of them in sign-in order (deterministic) delete, rewriting only the partitions that
        hold one. False: stopped (the cursor says where to go on)."""
        cursor = self.cursor
        with ThreadPoolExecutor(max_workers=WRITE_THREADS, thread_name_prefix="target-mark") as pool:
            while True:
                todo = cursor["delete_partitions"] if cursor["marked"] else range(self.partitions)
                if cursor["mark_index"] >= len(todo):
                    if cursor["marked"]:
                        cursor["stage"] = "done"
                        return True
                    only = sorted(cursor["target_only"])  # [key, partition]
                    deleting = only[: self.options.max_deletes] if self.options.delete_missing else []
                    cursor["delete"] = [key for key, _ in deleting]
                    cursor["delete_partitions"] = sorted({index for _, index in deleting})
                    cursor["target_only_count"], cursor["target_only"] = len(only), []
                    cursor["marked"], cursor["mark_index"] = True, 0
                    continue
                batch = todo[cursor["mark_index"] : cursor["mark_index"] + 4 * WRITE_THREADS]
                if not cursor["marked"]:
                    for index, (only, memberships) in zip(batch, pool.map(self._write_partition, batch), strict=True):
                        cursor["target_only"].extend([key, index] for key in only)
                        cursor["memberships"] += memberships
                else:
                    list(pool.map(self._mark_deletions, batch, repeat(set(cursor["delete"]))))
                cursor["mark_index"] += len(batch)
                if cursor["mark_index"] < len(todo) and stop():
                    return False

    def _write_partition(self, index: int) -> tuple[list[str], int]:
        """The partition's final file (what the chunk task reads), its target-only users kept; returns their
        keys and the partition's memberships."""
        backed_up = self._backed_up(index)
        entries = self._partition(index)
        only = []
        for entry in entries:
            if entry["key"] not in backed_up:
                entry["action"] = "keep"
                entry["reason"] = KEPT_OVER_CAP if self.options.delete_missing else KEPT_NOT_IN_BACKUP
                only.append(entry["key"])
        self.store.put_json(
            partition_key(self.store, index),
            {"case_sensitive": self.case_sensitive, "immutable": sorted(self.immutable), "users": entries},
        )
        return only, sum(len(entry["groups"]) for entry in entries)

    def _mark_deletions(self, index: int, deleted: set[str]) -> None:
        key = partition_key(self.store, index)
        partition = self.store.get_json(key)
        for entry in partition["users"]:
            if entry["key"] in deleted:
                entry["action"] = "delete"
                entry.pop("reason", None)
        self.store.put_json(key, partition)

    # --- the end ----------------------------------------------------------------------------------

    def _counts(self) -> dict[str, Any]:
        cursor = self.cursor
        return {
            "target_users": cursor["users"],
            "read_calls": dict(cursor["pages"]),
            "partitions": self.partitions,
            "segments": cursor["segment"],
            "invocations": cursor["invocations"],
        }

    def _finish(self) -> dict[str, Any]:
        cursor = self.cursor
        memberships = cursor["memberships"]
        only = int(cursor.get("target_only_count", 0))
        deleting = len(cursor.get("delete", []))
        summary = {
            **self._counts(),
            "target_memberships": memberships,
            "target_only": only,
            "to_delete": deleting,
            "kept": only - deleting,
            "unmatched": len(cursor["unmatched"]),
            "done": True,
        }
        self.store.put_json(self.store.key("sync/target/unmatched.json"), cursor["unmatched"])
        self.store.put_json(self.store.key(SUMMARY), summary)
        self._save()
        return summary
