"""Client-side pacing of Cognito admin calls per quota category (docs/quotas.md, "How the restore paces").

Cognito's quotas are per account and Region, shared by every chunk task of the restore and by the
live traffic of the account. Each category is paced at ``QuotaShare`` of its quota (default 0.9),
divided among the chunk tasks that are actually running (RunningTasks, in the ledger table), so a
partial last wave of chunks gets the whole share, not 1/MapConcurrency of it.

The calls of all running tasks are interleaved on one time grid per category: slot k of the
category is at ``k / (quota * share)`` seconds of the shared clock, and task i of n running takes
the slots k with ``k % n == i``. Together they then send evenly spaced calls at the share, which a
token bucket with no burst capacity admits, where tasks paced independently collide whenever two
of them send within 1/quota of each other (random start offsets alone do not prevent it: the
offsets stay fixed, so the same two tasks collide on every cycle). A task that does not know its
position (no registry: groups, tests) takes a random one (a random start offset).

Adaptive (AIMD): a throttled call (TooManyRequestsException seen by botocore's retry handler)
lowers the task's rate in its category by DECREASE_PER_TASK x the running tasks; the rate creeps
back up by INCREASE_PER_S of the share per second, never above the share. A lowered rate skips some of the task's grid slots rather than
moving the grid, so the tasks stay interleaved.
"""

from __future__ import annotations

import math
import os
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

# Default requests per second (quotas page); raised quotas are given as template parameters.
# UserPoolResourceUpdate is 15/s per account, but any one of its operations is held to 5/s per user
# pool: CreateGroup into the new pool cannot go faster than 5/s (docs/quotas.md).
DEFAULT_QUOTAS = {
    "UserCreation": 50.0,
    "UserAccountRecovery": 30.0,
    "UserUpdate": 25.0,
    "UserResourceUpdate": 25.0,
    "UserPoolResourceUpdate": 5.0,
}
CATEGORY_OF = {
    "CreateGroup": "UserPoolResourceUpdate",
    "UpdateGroup": "UserPoolResourceUpdate",  # sync mode
    "AdminCreateUser": "UserCreation",
    "SignUp": "UserCreation",
    "AdminUpdateUserAttributes": "UserUpdate",
    "AdminSetUserPassword": "UserAccountRecovery",
    "AdminDisableUser": "UserUpdate",
    "AdminAddUserToGroup": "UserUpdate",
    "AdminLinkProviderForUser": "UserUpdate",
    "AdminSetUserMFAPreference": "UserResourceUpdate",
    # Sync mode (sync_users.py): the writes of a matched user or a deletion.
    "AdminConfirmSignUp": "UserCreation",
    "AdminEnableUser": "UserUpdate",
    "AdminDeleteUserAttributes": "UserUpdate",
    "AdminRemoveUserFromGroup": "UserUpdate",
    "AdminDeleteUser": "UserUpdate",
}
_ENV = {
    "UserCreation": "QUOTA_USER_CREATION",
    "UserAccountRecovery": "QUOTA_USER_ACCOUNT_RECOVERY",
    "UserUpdate": "QUOTA_USER_UPDATE",
    "UserResourceUpdate": "QUOTA_USER_RESOURCE_UPDATE",
    "UserPoolResourceUpdate": "QUOTA_USER_POOL_RESOURCE_UPDATE",
}
DEFAULT_SHARE = 0.9  # of each quota; the rest is left to the account's live traffic (template QuotaShare)

# Multiplicative decrease on each throttle of the category: by DECREASE_PER_TASK x the running tasks
# (at most MAX_DECREASE). Each task sees about 1/n of the refusals and holds 1/n of the rate, so the
# whole restore slows by the same amount per refusal whether 1 or 10 tasks run.
DECREASE_PER_TASK = 0.03
MAX_DECREASE = 0.5
INCREASE_PER_S = 0.1  # additive increase, share per second (from 0.5 back to the full share in 5 s)
MIN_FACTOR = 0.05  # never stop a category altogether
# A throttled call is retried on the task's next slot (retry_delay), not by botocore's backoff:
# it stays on the grid, and it does not drain botocore's retry quota into failing the chunk.
MAX_THROTTLE_ATTEMPTS = 10  # attempts of one call; then botocore decides (no retry left: CognitoThrottled)
BACKOFF_FROM_ATTEMPT = 4  # from this attempt on, a random backoff is added to the slot (full jitter)

# In-task concurrency: enough users in flight that per-call latency does not cap a task's share.
LATENCY_BUDGET_S = 0.2  # per call (the brief's target: 200 ms must not cap throughput)
CALLS_IN_CHAIN = 4  # sequential calls of a typical user: create, password, disable or MFA, a group
MAX_THREADS = 32


def quotas_from_env() -> dict[str, float]:
    return {category: float(os.environ.get(_ENV[category], default)) for category, default in DEFAULT_QUOTAS.items()}


def share_from_env() -> float:
    share = float(os.environ.get("QUOTA_SHARE", DEFAULT_SHARE))
    if not 0 < share <= 1:
        raise ValueError(f"QUOTA_SHARE must be in (0, 1], got {share}")
    return share


def concurrent_chunks(map_concurrency: int, chunks: int) -> int:
    """Chunks that can run at once: fewer chunks than the Map allows each get a larger share."""
    return max(1, min(int(map_concurrency), int(chunks)))


def per_task_interval_ms(quota: float, concurrency: int, share: float = 1.0) -> int:
    """One call per interval per task: concurrency tasks together make at most quota x share calls per second."""
    return max(1, math.ceil(1000 * max(concurrency, 1) / (quota * share)))


def threads_for(quotas: dict[str, float], share: float, tasks: int) -> int:
    """Worker threads of one chunk task: its share of the fastest user category x a chain of calls at the
    latency budget (Little's law: in flight = rate x time per user), at least 2, at most MAX_THREADS."""
    users_per_s = quotas["UserCreation"] * share / max(tasks, 1)
    return max(2, min(MAX_THREADS, math.ceil(users_per_s * LATENCY_BUDGET_S * CALLS_IN_CHAIN * 1.5)))


@dataclass(frozen=True)
class Assignment:
    """This task's place on the grids: position among tasks, from a time of the shared clock on."""

    position: int
    tasks: int
    at: float = -math.inf
    until: float = math.inf  # slots from here on wait for the next assignment (the registry's next epoch)


@dataclass
class _Lane:
    """One category's grid slots for one task, and its AIMD factor."""

    rate: float  # calls per second of all running tasks together (quota x share)
    factor: float = 1.0
    slot: int = -1  # last slot taken
    credit: float = 0.0  # fraction of owned slots used while factor < 1
    updated_at: float | None = None

    def creep(self, now: float) -> None:
        if self.updated_at is not None and self.factor < 1.0:
            self.factor = min(1.0, self.factor + INCREASE_PER_S * max(0.0, now - self.updated_at))
        self.updated_at = now

    def _owned(self, first: int, place: Assignment) -> int:
        return first + (place.position - first) % place.tasks  # the first k >= first with k % tasks == position

    def reserve(self, now: float, current: Assignment | None, pending: Assignment | None) -> float | None:
        """The send time of this task's next usable slot at or after now (pending: the next assignment);
        None when that slot lies past what the assignments known so far cover (ask again when placed anew)."""
        self.creep(now)
        k = max(self.slot + 1, math.ceil(now * self.rate))
        credit = self.credit
        while True:
            place = current
            if pending is not None and (place is None or k >= pending.at * self.rate):
                place, k = pending, max(k, math.ceil(pending.at * self.rate))
            if place is None:
                return None
            k = self._owned(k, place)
            if pending is not None and place is current and k >= pending.at * self.rate:
                continue  # past the switch: take the slot from the next assignment
            if k >= place.until * self.rate:
                return None  # another task may hold this slot in the next epoch
            credit += self.factor
            if credit >= 1.0 - 1e-9:
                self.credit, self.slot = credit - 1.0, k
                return k / self.rate
            k += 1  # skipped: the task runs below its share in this category

    def throttled(self, now: float, tasks: int) -> bool:
        self.creep(now)
        self.factor = max(MIN_FACTOR, self.factor * (1.0 - min(MAX_DECREASE, DECREASE_PER_TASK * tasks)))
        return True


@dataclass
class Pacer:
    """Blocks each call until its category's slot for this task (thread-safe: a chunk task's workers share it).

    concurrency: the task count assumed until the RunningTasks registry gives one (assign); without a
    registry the task takes a random position among them.
    """

    concurrency: int
    quotas: dict[str, float] = field(default_factory=quotas_from_env)
    share: float = field(default_factory=share_from_env)
    clock: Callable[[], float] = time.time  # a clock all tasks share: wall time (Lambda hosts keep it synced)
    sleep: Callable[[float], None] = time.sleep
    throttles: dict[str, int] = field(default_factory=dict)  # per category, as the AIMD saw them
    decreases: int = 0
    _lanes: dict[str, _Lane] = field(default_factory=dict)
    _lock: threading.Condition = field(default_factory=threading.Condition)

    def __post_init__(self) -> None:
        tasks = max(1, int(self.concurrency))
        self.current: Assignment | None = Assignment(random.randrange(tasks), tasks)  # a random start offset
        self.pending: Assignment | None = None
        for category, quota in self.quotas.items():
            self._lanes[category] = _Lane(rate=quota * self.share)

    @property
    def tasks(self) -> int:
        place = self.current or self.pending
        return place.tasks if place else 1

    def unplace(self) -> None:
        """No slots until the registry gives this task a place (assign): calls wait."""
        with self._lock:
            self.current, self.pending = None, None

    def assign(self, position: int, tasks: int, at: float, until: float = math.inf) -> None:
        """From time ``at`` of the shared clock on (until ``until``, when the next assignment takes over),
        this task is ``position`` of ``tasks``."""
        with self._lock:
            now = self.clock()
            if self.pending is not None and self.pending.at <= now:
                self.current = self.pending
            self.pending = Assignment(position % max(1, tasks), max(1, tasks), at, until)
            if at <= now:
                self.current, self.pending = self.pending, None
            self._lock.notify_all()

    def hold_place(self, until: float) -> None:
        """The registry could not be read: keep the latest place until ``until`` (a random one when there is
        none yet), so the task goes on; a wrong guess costs throttles, which the AIMD absorbs."""
        with self._lock:
            place = self.pending or self.current
            if place is None:
                tasks = max(1, int(self.concurrency))
                place = Assignment(random.randrange(tasks), tasks)
            self.current, self.pending = Assignment(place.position, place.tasks, -math.inf, until), None
            self._lock.notify_all()

    def try_reserve(self, operation: str) -> float | None:
        """The time at which this call may be sent, or None when this task has no place for it yet."""
        category = CATEGORY_OF[operation]
        with self._lock:
            now = self.clock()
            if self.pending is not None and self.pending.at <= now:
                self.current, self.pending = self.pending, None
            return self._lanes[category].reserve(now, self.current, self.pending)

    def reserve(self, operation: str) -> float | None:
        """The time at which this call may be sent (None: not a paced call); waits for a place when needed."""
        if CATEGORY_OF.get(operation) is None:
            return None
        while (at := self.try_reserve(operation)) is None:
            with self._lock:
                self._lock.wait(timeout=0.25)  # placed anew by the heartbeat thread (assign)
        return at

    def before(self, operation: str) -> None:
        at = self.reserve(operation)
        if at is not None:
            delay = at - self.clock()
            if delay > 0:
                self.sleep(delay)

    def throttled(self, operation: str) -> None:
        """A call of this operation was refused with throttling (botocore retries it; the pace slows)."""
        category = CATEGORY_OF.get(operation)
        if category is None:
            return
        with self._lock:
            self.throttles[category] = self.throttles.get(category, 0) + 1
            if self._lanes[category].throttled(self.clock(), self.tasks):
                self.decreases += 1

    def retry_delay(self, operation: str, attempts: int, blocking: bool = True) -> float | None:
        """Seconds before the next attempt of a throttled call (aws.new_client's on_throttle): the pace slows
        (throttled), and the retry waits for a slot of this task, with a growing random backoff after a
        few attempts. None: not a paced call, or attempts used up (or, not blocking, no place yet)."""
        if CATEGORY_OF.get(operation) is None:
            return None
        self.throttled(operation)
        if attempts >= MAX_THROTTLE_ATTEMPTS:
            return None
        at = self.reserve(operation) if blocking else self.try_reserve(operation)
        if at is None:
            return None  # not blocking (bench.pacing_des): no place yet
        jitter = 0.0
        if attempts >= BACKOFF_FROM_ATTEMPT:
            jitter = random.random() * min(2.0 ** (attempts - BACKOFF_FROM_ATTEMPT), 20.0)
        return max(0.0, at - self.clock()) + jitter

    def factor(self, category: str) -> float:
        with self._lock:
            return self._lanes[category].factor
