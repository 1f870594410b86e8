"""Discrete-event model of the users phase against Cognito's quotas, in virtual time (bench.quota_simulation --matrix).

What runs is the layer's own pacing code: ``cognito_restore.pacing.Pacer`` (grid slots, AIMD,
threads_for) and ``cognito_restore.running.RunningTasks`` (join / beat / leave, with its DynamoDB
item replaced by a dict), on a virtual clock. What is modelled around them, as the real thing does
it (chunks.run_user_chunk, the ASL's users Map, botocore's standard retries):

- the Distributed Map: ``concurrency`` chunk tasks at once, the next chunk started ``child_start_s``
  after one ends; a chunk task hands back a continuation after ``invocation_s`` of work;
- a chunk task: joins the running tasks, takes its place at its first boundary, beats before each
  boundary, runs threads_for(...) workers (grown when fewer tasks run); each worker restores one user
  at a time, its calls in order (create, password, disable, one group);
- a call: sent at the pacer's slot, admitted or refused by the category's token bucket at
  send + latency/2, answered at send + latency; a refusal is retried as aws.new_client's needs-retry
  handler does it, with Pacer.retry_delay (the task's next slot, slower pace, backoff from the 4th
  attempt); past MAX_THROTTLE_ATTEMPTS the chunk task fails (CognitoThrottled) and Step Functions
  retries it (5 s x 2^n, full jitter, max 120 s);
- Cognito: one token bucket per category at its quota, capacity max(1, quota x burst_s) tokens;
  live traffic: Poisson arrivals at live x quota per category that take a token when there is one.

Not modelled: variance of latency (constant per call), the clocks of Lambda hosts (one clock), moto.
bench/README.md compares a cell with the real workflow in the emulator.
"""

from __future__ import annotations

import heapq
import itertools
import math
import random
import sys
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "layers" / "restore_common"))

from cognito_restore import pacing, running  # noqa: E402  # the layer, as the Lambda runtime finds it
from cognito_restore.pacing import CATEGORY_OF, DEFAULT_QUOTAS, Pacer, threads_for  # noqa: E402
from cognito_restore.running import EPOCH_S, READ_BEFORE_S, RunningTasks  # noqa: E402

USER_QUOTAS = {c: q for c, q in DEFAULT_QUOTAS.items() if c != "UserPoolResourceUpdate"}


@dataclass(frozen=True)
class User:
    calls: tuple[str, ...]
    can_sign_in: bool  # enabled and CONFIRMED


def confirmed_users(count: int) -> list[User]:
    """The existing bench's mix: all CONFIRMED, one group each (bound: UserUpdate, 25 users/s)."""
    user = User(("AdminCreateUser", "AdminSetUserPassword", "AdminAddUserToGroup"), True)
    return [user] * count


def mixed_users(count: int, sign_in_first: bool) -> list[User]:
    """bench.synthetic's default mix (85 % CONFIRMED, 7 FORCE_CHANGE_PASSWORD, 5 UNCONFIRMED, 3 RESET_REQUIRED,
    2 % disabled, spread evenly), one group each; sign_in_first: the enabled CONFIRMED users first."""
    users = []
    for i in range(count):
        u = (i * 0.6180339887498949) % 1.0  # low-discrepancy, as bench.synthetic spreads statuses
        status = (
            "CONFIRMED"
            if u < 0.85
            else "FORCE_CHANGE_PASSWORD"
            if u < 0.92
            else "UNCONFIRMED"
            if u < 0.97
            else "RESET_REQUIRED"
        )
        disabled = (i * 0.7548776662466927) % 1.0 < 0.02
        calls = ["AdminCreateUser"]
        if status in ("CONFIRMED", "RESET_REQUIRED"):
            calls.append("AdminSetUserPassword")
        if disabled:
            calls.append("AdminDisableUser")
        calls.append("AdminAddUserToGroup")
        users.append(User(tuple(calls), status == "CONFIRMED" and not disabled))
    if sign_in_first:
        users.sort(key=lambda user: not user.can_sign_in)  # stable: the rest keep their order
    return users


def quota_bound(users: list[User], quotas: dict[str, float] = USER_QUOTAS) -> tuple[float, str]:
    """Users/s the quotas allow for this mix: the slowest category."""
    per_category: dict[str, int] = defaultdict(int)
    for user in users:
        for op in user.calls:
            per_category[CATEGORY_OF[op]] += 1
    rates = {c: quotas[c] * len(users) / n for c, n in per_category.items()}
    slowest = min(rates, key=lambda c: rates[c])
    return rates[slowest], slowest


class Bucket:
    def __init__(self, rate: float, capacity: float) -> None:
        self.rate, self.capacity, self.tokens, self.stamp = rate, capacity, capacity, 0.0

    def take(self, now: float) -> bool:
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1.0 - 1e-9:
            self.tokens -= 1.0
            return True
        return False


class _Registry(RunningTasks):
    """RunningTasks with its ledger item in a dict (the same join / beat / leave arithmetic)."""

    item: dict[str, Any]

    def _write(self, value: str | None) -> dict[str, Any]:
        if value is None:
            self.item.pop(self.name, None)
        else:
            self.item[self.name] = {"S": value}
        return dict(self.item)

    def _prune(self, attributes: dict[str, Any], now: float) -> None:
        for name in running.expired(attributes, now - running.LEASE_EPOCHS * EPOCH_S):
            if name != self.name:
                self.item.pop(name, None)


@dataclass
class Cell:
    users: list[User]
    burst_s: float
    latency_s: float
    live: float = 0.0  # share of each quota taken by live traffic
    share: float = pacing.DEFAULT_SHARE
    concurrency: int = 10
    chunk_size: int = 500
    child_start_s: float = 0.5
    invocation_s: float = 840.0  # 900 s timeout less the 60 s reserve
    seed: int = 1
    jitter_s: float = 0.0  # each call reaches Cognito up to this much later than its slot (uniform)


@dataclass
class Result:
    seconds: float = 0.0
    restored: int = 0
    throttles: int = 0  # refusals of the restore's calls
    live_refused: int = 0
    live_sent: int = 0
    chunk_failures: int = 0  # chunk tasks that failed CognitoThrottled (retried by Step Functions)
    invocations: int = 0
    done_at: list[float] = field(default_factory=list)  # per user, in chunk order
    calls: dict[str, int] = field(default_factory=lambda: defaultdict(int))


class Simulation:
    def __init__(self, cell: Cell) -> None:
        self.cell = cell
        self.now = 0.0
        self.heap: list[tuple[float, int, Callable[..., None], tuple[Any, ...]]] = []
        self.seq = itertools.count()
        self.rng = random.Random(cell.seed)
        self.buckets = {c: Bucket(q, max(1.0, q * cell.burst_s)) for c, q in USER_QUOTAS.items()}
        self.item: dict[str, Any] = {}
        self.result = Result(done_at=[math.nan] * len(cell.users))
        self.chunks = [
            list(range(start, min(start + cell.chunk_size, len(cell.users))))
            for start in range(0, len(cell.users), cell.chunk_size)
        ]
        self.progress = [0] * len(self.chunks)  # merged offset per chunk
        self.pending = list(range(len(self.chunks)))[::-1]
        self.running = 0
        self.finished = 0
        self.failures: dict[int, int] = defaultdict(int)

    def at(self, when: float, fn: Callable[..., None], *args: Any) -> None:
        heapq.heappush(self.heap, (when, next(self.seq), fn, args))

    def run(self) -> Result:
        random.seed(self.cell.seed)  # the Pacer's random start position (unused once placed)
        for _ in range(self.cell.concurrency):
            self._next_chunk()
        if self.cell.live:
            for category, quota in USER_QUOTAS.items():
                self.at(self.rng.expovariate(quota * self.cell.live), self._live, category)
        while self.heap and self.finished < len(self.chunks):
            self.now, _, fn, args = heapq.heappop(self.heap)
            fn(*args)
        self.result.seconds = self.now
        self.result.restored = sum(1 for t in self.result.done_at if not math.isnan(t))
        return self.result

    def _live(self, category: str) -> None:
        self.result.live_sent += 1
        if not self.buckets[category].take(self.now):
            self.result.live_refused += 1
        self.at(self.now + self.rng.expovariate(USER_QUOTAS[category] * self.cell.live), self._live, category)

    def _next_chunk(self) -> None:
        if self.pending:
            self.running += 1
            Task(self, self.pending.pop()).start()


class Task:
    """One invocation of the restore_users function on one chunk."""

    def __init__(self, sim: Simulation, chunk: int) -> None:
        self.sim, self.chunk = sim, chunk
        cell = sim.cell
        self.pacer = Pacer(
            concurrency=min(cell.concurrency, len(sim.chunks)),
            quotas=dict(USER_QUOTAS),
            share=cell.share,
            clock=lambda: sim.now,
            sleep=lambda _: None,
        )
        self.registry = _Registry("ledger", "restore", "users", chunk)
        self.registry.item = sim.item
        self.items = sim.chunks[chunk]
        self.next = sim.progress[chunk]
        self.finished: set[int] = set()
        self.workers = 0
        self.active = 0
        self.stopping = False
        self.failed = False
        self.placed = False
        self.began = 0.0
        self.ended = False
        self.waiting: list[tuple[int, int, int]] = []  # calls waiting for the next assignment

    def start(self) -> None:
        sim = self.sim
        sim.result.invocations += 1
        self.began = sim.now
        self.pacer.unplace()  # as run_user_chunk: no slots before the first boundary
        first = self.registry.join(sim.now)
        sim.at(first - READ_BEFORE_S, self._beat)

    def _beat(self) -> None:
        if self.ended:
            return
        position, tasks, boundary = self.registry.beat(self.sim.now)
        if tasks:
            self.pacer.assign(position, tasks, boundary, boundary + EPOCH_S)
            self.placed = True
            waiting, self.waiting = self.waiting, []
            for position_, step, attempt_ in waiting:
                self._call(position_, step, attempt_)
            self._grow(threads_for(self.pacer.quotas, self.pacer.share, tasks))
        self.sim.at(boundary + EPOCH_S - READ_BEFORE_S, self._beat)

    def _grow(self, count: int) -> None:
        while self.workers < count and not self.stopping:
            self.workers += 1
            self._pull()

    def _pull(self) -> None:
        sim = self.sim
        if self.stopping or self.next >= len(self.items) or sim.now - self.began > sim.cell.invocation_s:
            self.stopping = True
            self.workers -= 1
            if self.workers == 0:
                self._end()
            return
        position = self.next
        self.next += 1
        self.active += 1
        self._call(position, 0, 1)

    def _call(self, position: int, step: int, attempt: int, paced: bool = True) -> None:
        sim = self.sim
        user = sim.cell.users[self.items[position]]
        op = user.calls[step]
        if not paced:
            send = sim.now  # a retry was given its slot by retry_delay
        else:
            send = self.pacer.try_reserve(op)
            if send is None:  # no place yet for its slot: Pacer.reserve waits for the next assignment
                self.waiting.append((position, step, attempt))
                return
        sim.result.calls[op] += 1
        jitter = sim.rng.random() * sim.cell.jitter_s if sim.cell.jitter_s else 0.0
        sim.at(send + sim.cell.latency_s / 2 + jitter, self._arrive, position, step, attempt, op)

    def _arrive(self, position: int, step: int, attempt: int, op: str) -> None:
        sim = self.sim
        admitted = sim.buckets[CATEGORY_OF[op]].take(sim.now)
        sim.at(sim.now + sim.cell.latency_s / 2, self._answer, position, step, attempt, op, admitted)

    def _answer(self, position: int, step: int, attempt: int, op: str, admitted: bool) -> None:
        sim = self.sim
        user = sim.cell.users[self.items[position]]
        if admitted:
            if step + 1 < len(user.calls):
                self._call(position, step + 1, 1)
            else:
                self._user_done(position)
            return
        sim.result.throttles += 1
        if attempt < pacing.MAX_THROTTLE_ATTEMPTS:
            # the layer's retry: the task's next slot, backoff later (or, no place yet, wait for one)
            delay = self.pacer.retry_delay(op, attempt, blocking=False)
            if delay is None:
                self.waiting.append((position, step, attempt + 1))
            else:
                sim.at(sim.now + delay, self._call, position, step, attempt + 1, False)
            return
        self.pacer.throttled(op)
        self.failed = True  # CognitoThrottled: the chunk task stops; this user is redone by the retry
        self.stopping = True
        self.active -= 1
        self.workers -= 1
        if self.workers == 0:
            self._end()

    def _user_done(self, position: int) -> None:
        sim = self.sim
        self.active -= 1
        self.finished.add(position)
        sim.result.done_at[self.items[position]] = sim.now
        offset = sim.progress[self.chunk]
        while offset in self.finished:
            offset += 1
        sim.progress[self.chunk] = offset
        self._pull()

    def _end(self) -> None:
        sim = self.sim
        self.ended = True
        self.registry.leave(sim.now)
        for position in self.finished:  # users past a gap are redone by the next invocation (counted once)
            if position >= sim.progress[self.chunk]:
                sim.result.done_at[self.items[position]] = math.nan
        if sim.progress[self.chunk] >= len(self.items):
            sim.running -= 1
            sim.finished += 1
            sim.at(sim.now + sim.cell.child_start_s, sim._next_chunk)
            return
        if self.failed:
            sim.result.chunk_failures += 1
            sim.failures[self.chunk] += 1
            delay = sim.rng.random() * min(5 * 2 ** min(sim.failures[self.chunk] - 1, 10), 120)
        else:
            delay = 0.2  # a continuation: the Choice loops back at once
        sim.at(sim.now + delay, Task(sim, self.chunk).start)
