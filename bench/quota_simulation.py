"""Item (b): does the paced restore run at Cognito's quotas? The real workflow against throttling moto.

The restore stack (``tools.emulation.RestoreStack``: template.yaml in moto, the real ASL, the real
handlers) restores a synthetic backup (10k users, all CONFIRMED, one group each by default) while
moto's Cognito backend of the restore Region refuses calls beyond token buckets at the default
quotas per category (UserCreation 50/s, UserAccountRecovery 30/s, UserUpdate 25/s,
UserResourceUpdate 25/s) with ``TooManyRequestsException``, as Cognito does.

Time is scaled by K so a run takes minutes: the emulated quotas AND the stack's Quota* parameters
are multiplied by K, and the one time constant of the pacer that is not derived from a quota
(pyrate-limiter's ``buffer_ms``, added to every blocked wait: 50 ms by default, 0 since
cognito_restore.pacing passes ``buffer_ms=0``) is divided by K (``--pyrate-buffer-ms`` replaces
the pacer's value, unscaled, to see what another buffer gives).
What is NOT scaled: moto's own cost per call (it is measured first and K is chosen so it stays a
small share of one core: the handlers, the interpreter and moto share the GIL), botocore's retry
back-off after a throttle (real seconds), and Lambda/S3 overheads between chunks. ``--latency-ms`` adds an emulated Cognito
latency per call (given unscaled; slept latency/K).

Bucket capacity (burst) is ``--burst-seconds`` x the unscaled quota tokens (1 s by default):
Cognito does not document its burst.

    .venv/bin/python -m bench.quota_simulation                 # K = 2: ~4 min of Map for 10k users
    .venv/bin/python -m bench.quota_simulation --k 1           # no scaling (10k users: ~7.5 min)
    .venv/bin/python -m bench.quota_simulation --k auto        # K from the measured moto cost

K = 2 by default: moto + boto3 cost ~2.3 ms of CPU per CONFIRMED user (3 calls) on the 2-core
machine, so the scaled bound (50 users/s) needs ~12% of one core (~28% for the whole process), and
the unscaled rate is within 0.5% of K = 1. Larger K still runs but reads low: per-cycle overheads
that do not scale (~1 ms: sleep wake-up, GIL hand-offs) count K times (K = 5: -2%; bench/README.md).
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

import boto3
from moto.cognitoidp.models import CognitoIdpBackend
from moto.cognitoidp.responses import CognitoIdpResponse
from moto.core.exceptions import JsonRESTError

from bench._workflow import DR_REGION, OUT_DIR, QUOTA_PARAMETERS, restore
from bench.synthetic import SyntheticSpec, cached_backup
from tools.emulation import RestoreStack

DEFAULT_QUOTAS = {"UserCreation": 50.0, "UserAccountRecovery": 30.0, "UserUpdate": 25.0, "UserResourceUpdate": 25.0}
CATEGORY_OF = {  # backend method -> quota category (docs/cognito-behaviours.md §4)
    "admin_create_user": "UserCreation",
    "sign_up": "UserCreation",  # UNCONFIRMED users (cognito_restore/sign_up.py)
    "admin_update_user_attributes": "UserUpdate",
    "admin_set_user_password": "UserAccountRecovery",
    "admin_add_user_to_group": "UserUpdate",
    "admin_disable_user": "UserUpdate",
    "admin_link_provider_for_user": "UserUpdate",
    "admin_set_user_mfa_preference": "UserResourceUpdate",
}
OPERATION_CATEGORY = {
    "AdminCreateUser": "UserCreation",
    "SignUp": "UserCreation",
    "AdminUpdateUserAttributes": "UserUpdate",
    "AdminSetUserPassword": "UserAccountRecovery",
    "AdminAddUserToGroup": "UserUpdate",
    "AdminDisableUser": "UserUpdate",
    "AdminLinkProviderForUser": "UserUpdate",
    "AdminSetUserMFAPreference": "UserResourceUpdate",
}
PYRATE_BUFFER_MS = 50  # pyrate_limiter.Limiter's default buffer_ms
K_CHOICES = (1, 2, 5, 10)  # divisors of 50: the scaled pyrate-limiter buffer stays a whole ms (it asserts an int)
CPU_SHARE_LIMIT = 0.15  # moto + client cost at the scaled bound, share of one core (GIL)
PROJECTED_USERS = 100_000
PROJECTION_TARGET_MIN = 75.0
RATIO_TARGET = 0.9


class TokenBucket:
    """``rate`` tokens per second, at most ``capacity`` banked; thread-safe."""

    def __init__(self, rate: float, capacity: float) -> None:
        self.rate, self.capacity = rate, capacity
        self.tokens = capacity
        self.stamp = time.monotonic()
        self.lock = threading.Lock()

    def take(self) -> bool:
        with self.lock:
            now = time.monotonic()
            self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now
            if self.tokens >= 1:
                self.tokens -= 1
                return True
            return False


@dataclass
class Throttler:
    """moto's Cognito of one Region behind token buckets per quota category."""

    region: str
    k: float
    burst_seconds: float = 1.0
    latency_s: float = 0.0  # slept after each admitted call (already scaled)
    _due: threading.local = field(default_factory=threading.local)
    buckets: dict[str, TokenBucket] = field(default_factory=dict)
    admitted: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    refused: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    stamps: dict[str, list[tuple[int, float]]] = field(default_factory=lambda: defaultdict(list))  # op -> (thread, t)

    def __post_init__(self) -> None:
        for category, quota in DEFAULT_QUOTAS.items():
            self.buckets[category] = TokenBucket(quota * self.k, max(1.0, quota * self.burst_seconds))

    def _wrap(self, method: str, original: Callable[..., Any]) -> Callable[..., Any]:
        category = CATEGORY_OF[method]
        throttler = self

        def throttled(backend: Any, *args: Any, **kwargs: Any) -> Any:
            if backend.region_name != throttler.region:
                return original(backend, *args, **kwargs)
            if not throttler.buckets[category].take():
                throttler.refused[category] += 1
                raise JsonRESTError("TooManyRequestsException", "Too many requests")
            throttler.admitted[category] += 1
            result = original(backend, *args, **kwargs)
            throttler.stamps[method].append((threading.get_ident(), time.monotonic()))
            throttler._due.latency = throttler.latency_s
            return result

        return throttled

    def _with_latency(self, call_action: Callable[..., Any]) -> Callable[..., Any]:
        """Sleep the emulated latency after the request, outside tools/emulation/cognito's one-request-at-a-time
        lock (sleeping inside it would serialise every chunk task)."""
        due = self._due

        def timed_call_action(response: Any) -> Any:
            due.latency = 0.0
            try:
                return call_action(response)
            finally:
                if due.latency:
                    time.sleep(due.latency)

        return timed_call_action

    @contextmanager
    def installed(self) -> Iterator[Throttler]:
        with ExitStack() as stack:
            for method in CATEGORY_OF:
                original = getattr(CognitoIdpBackend, method, None)
                if original is not None:
                    stack.enter_context(mock.patch.object(CognitoIdpBackend, method, self._wrap(method, original)))
            if self.latency_s:
                stack.enter_context(
                    mock.patch.object(
                        CognitoIdpResponse, "call_action", self._with_latency(CognitoIdpResponse.call_action)
                    )
                )
            yield self


@dataclass
class PacerProbe:
    """Scales the buffer_ms of every pyrate-limiter Limiter by 1/K (or replaces it) and times every acquire.

    pyrate-limiter asserts an int wait, so the scaled buffer is rounded to a whole ms.
    """

    k: int
    override_ms: float | None = None  # unscaled buffer_ms to use instead of the pacer's own
    requested: set[float] = field(default_factory=set)  # buffer_ms the pacer asked for (unscaled)
    used: set[int] = field(default_factory=set)  # buffer_ms given to pyrate-limiter (scaled)
    intervals: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))  # category -> Rate ms (scaled)
    waits: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))

    @contextmanager
    def installed(self) -> Iterator[PacerProbe]:
        from pyrate_limiter import Limiter

        original_init, original_acquire = Limiter.__init__, Limiter.try_acquire
        probe = self

        def init(limiter: Any, argument: Any, buffer_ms: int = PYRATE_BUFFER_MS) -> None:
            probe.requested.add(buffer_ms)
            unscaled = buffer_ms if probe.override_ms is None else probe.override_ms
            scaled = max(0, round(unscaled / probe.k))
            probe.used.add(scaled)
            original_init(limiter, argument, buffer_ms=scaled)
            rates = argument if isinstance(argument, list) else [argument]
            limiter.bench_interval_ms = min((r.interval for r in rates if hasattr(r, "interval")), default=None)

        def try_acquire(limiter: Any, name: str = "pyrate", *args: Any, **kwargs: Any) -> Any:
            probe.intervals[name].add(getattr(limiter, "bench_interval_ms", None))
            started = time.monotonic()
            try:
                return original_acquire(limiter, name, *args, **kwargs)
            finally:
                probe.waits[name].append(time.monotonic() - started)

        with mock.patch.object(Limiter, "__init__", init), mock.patch.object(Limiter, "try_acquire", try_acquire):
            yield self


def measure_call_cost(samples: int = 300) -> dict[str, float]:
    """ms of CPU per call (boto3 client + moto, in-process) for the three calls of a CONFIRMED user."""
    cognito = boto3.client("cognito-idp", region_name="eu-west-1")  # not the restore Region
    pool = cognito.create_user_pool(
        PoolName="calibration", Schema=[{"Name": "tenant_id", "AttributeDataType": "String", "Mutable": True}]
    )["UserPool"]["Id"]
    cognito.create_group(UserPoolId=pool, GroupName="g")
    spent = defaultdict(float)
    for i in range(samples):
        name = f"calibration{i:05d}"
        t0 = time.process_time()
        cognito.admin_create_user(
            UserPoolId=pool,
            Username=name,
            MessageAction="SUPPRESS",
            UserAttributes=[
                {"Name": "email", "Value": f"{name}@example.com"},
                {"Name": "email_verified", "Value": "true"},
                {"Name": "name", "Value": "Cali Bration"},
                {"Name": "custom:tenant_id", "Value": "tenant-acme"},
            ],
        )
        t1 = time.process_time()
        cognito.admin_set_user_password(UserPoolId=pool, Username=name, Password="Calibr@tion-1x", Permanent=True)
        t2 = time.process_time()
        cognito.admin_add_user_to_group(UserPoolId=pool, Username=name, GroupName="g")
        t3 = time.process_time()
        spent["AdminCreateUser"] += t1 - t0
        spent["AdminSetUserPassword"] += t2 - t1
        spent["AdminAddUserToGroup"] += t3 - t2
    cognito.delete_user_pool(UserPoolId=pool)
    return {op: seconds * 1000 / samples for op, seconds in spent.items()}


def quota_bound(minimum_calls: dict[str, int], users: int) -> tuple[float, str]:
    """Users/s the default quotas allow for this mix: the slowest category."""
    per_category: dict[str, int] = defaultdict(int)
    for op, n in minimum_calls.items():
        per_category[OPERATION_CATEGORY[op]] += n
    rates = {c: DEFAULT_QUOTAS[c] * users / n for c, n in per_category.items() if n}
    category = min(rates, key=rates.get)
    return rates[category], category


def per_task_gaps(stamps: list[tuple[int, float]]) -> list[float]:
    """Seconds between consecutive calls of one operation made by the same thread (= one chunk task)."""
    by_thread: dict[int, list[float]] = defaultdict(list)
    for thread, t in stamps:
        by_thread[thread].append(t)
    gaps = []
    for times in by_thread.values():
        times.sort()
        gaps.extend(b - a for a, b in itertools.pairwise(times))
    return gaps


def choose_k(cost_ms_per_user: float, bound: float) -> int:
    """The largest K whose scaled bound keeps the measured per-user cost under CPU_SHARE_LIMIT of a core."""
    fitting = [k for k in K_CHOICES if bound * k * cost_ms_per_user / 1000 <= CPU_SHARE_LIMIT]
    return max(fitting) if fitting else 1


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Paced restore against emulated Cognito quotas (time-scaled by K)")
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--groups", type=int, default=10, help="groups in the pool (each user is in one)")
    parser.add_argument(
        "--k",
        default="2",
        help="time scale factor (an integer; divisors of 50 scale the pacer's "
        "buffer exactly), or 'auto' (from the measured moto cost)",
    )
    parser.add_argument("--chunk-size", type=int, default=500, help="UserChunkSize (template default 500)")
    parser.add_argument("--concurrency", type=int, default=10, help="UserMapConcurrency (template default 10)")
    parser.add_argument("--burst-seconds", type=float, default=1.0, help="bucket capacity, in seconds of quota")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="emulated Cognito latency per call (unscaled)")
    parser.add_argument(
        "--pyrate-buffer-ms",
        type=float,
        default=None,
        help="replace the pacer's pyrate-limiter buffer_ms (unscaled; library default 50); "
        "default: the pacer's own, divided by K",
    )
    args = parser.parse_args(argv)

    spec = SyntheticSpec(
        users=args.users, groups=args.groups, status_mix={"CONFIRMED": 1.0}, disabled=0.0, pool_id="us-east-1_QuotaSim1"
    )
    backup = cached_backup(spec, OUT_DIR)
    minimum = backup.minimum_calls()
    bound, bound_category = quota_bound(minimum, args.users)
    calls_per_user = sum(minimum.values()) / args.users

    with RestoreStack(region=DR_REGION, parameters={"Environment": "bench"}):  # moto with the stack's patches
        cost = measure_call_cost()
    cost_per_user = sum(cost.get(op, 0.0) * n for op, n in minimum.items()) / args.users
    k = choose_k(cost_per_user, bound) if args.k == "auto" else int(args.k)
    parameters = {
        "Environment": "bench",
        "UserChunkSize": str(args.chunk_size),
        "UserMapConcurrency": str(args.concurrency),
        **{QUOTA_PARAMETERS[c]: f"{q * k:g}" for c, q in DEFAULT_QUOTAS.items()},
    }
    chunks = -(-args.users // args.chunk_size)
    tasks = max(1, min(args.concurrency, chunks))  # each task's share: quota / tasks (pacing.concurrent_chunks)

    print(
        f"users {args.users:,} (all CONFIRMED, 1 group each: {calls_per_user:.0f} calls/user), "
        f"UserChunkSize {args.chunk_size} -> {chunks} chunks, UserMapConcurrency {args.concurrency} "
        f"-> {chunks / args.concurrency:.1f} waves; each chunk task paced at 1/{tasks} of each quota"
    )
    print(
        "moto cost per call (CPU, boto3 client + moto in-process): "
        + ", ".join(f"{op} {ms:.2f} ms" for op, ms in cost.items())
        + f"; {cost_per_user:.2f} ms per user"
    )
    why = (
        f" (auto: the largest of {K_CHOICES} keeping moto under {CPU_SHARE_LIMIT:.0%} of one core at the scaled bound)"
        if args.k == "auto"
        else ""
    )
    share = bound * k * cost_per_user / 1000
    print(
        f"K = {k}{why}: scaled bound {bound * k:g} users/s -> moto needs ~{share:.0%} of one core"
        + (" (WARNING: moto may cap the throughput; lower K)" if share > 0.5 else "")
    )
    print(
        f"stack Quota* parameters: {', '.join(f'{c} {q * k:g}/s' for c, q in DEFAULT_QUOTAS.items())}; "
        f"emulated buckets the same, capacity {args.burst_seconds:g} s of unscaled quota; "
        f"pyrate-limiter buffer_ms {'the pacer' + chr(39) + 's own' if args.pyrate_buffer_ms is None else f'{args.pyrate_buffer_ms:g}'} / K; "
        f"emulated latency {args.latency_ms:g} ms/call (slept {args.latency_ms / k:.1f} ms)",
        flush=True,
    )

    with (
        RestoreStack(region=DR_REGION, parameters=parameters) as stack,
        Throttler(DR_REGION, k, args.burst_seconds, args.latency_ms / 1000 / k).installed() as throttler,
        PacerProbe(k, args.pyrate_buffer_ms).installed() as probe,
    ):
        cpu_before, wall_before = time.process_time(), time.monotonic()
        run = restore(stack, backup, timeout=4 * 3600)
        cpu_share = (time.process_time() - cpu_before) / (time.monotonic() - wall_before)

    report = run.report
    restored = report["counts"]["users"]["restored"]
    seconds = run.users_map_seconds
    measured = restored / seconds
    unscaled = measured / k
    ratio = unscaled / bound
    projection_min = PROJECTED_USERS / unscaled / 60
    refused = sum(throttler.refused.values())
    item_counts = run.users_map_run["itemCounts"]

    print()
    print(
        f"restore {run.result.status}: users restored {restored:,}/{args.users:,}, memberships "
        f"{report['counts']['memberships']['restored']:,}; chunks {item_counts['succeeded']}/{item_counts['total']}"
    )
    rows = [
        (
            "Map 'Restore users and memberships' elapsed",
            f"{seconds:,.1f} s scaled = {seconds * k / 60:,.1f} min unscaled",
        ),
        ("achieved users/s (measured / unscaled)", f"{measured:,.1f} / {unscaled:,.2f}"),
        ("quota bound for this mix", f"{bound:g} users/s (set by {bound_category})"),
        ("achieved / bound", f"{ratio:.3f} (target >= {RATIO_TARGET}) {'OK' if ratio >= RATIO_TARGET else 'MISSED'}"),
        ("throttled calls (emulated refusals)", f"{refused:,} " + (str(dict(throttler.refused)) if refused else "")),
        ("throttled calls (report.throttled_calls)", f"{report['throttled_calls']:,}"),
        (
            f"projected {PROJECTED_USERS:,} users at default quotas",
            f"{projection_min:,.1f} min (target <= "
            f"{PROJECTION_TARGET_MIN:g}) "
            f"{'OK' if projection_min <= PROJECTION_TARGET_MIN else 'MISSED'}",
        ),
        ("CPU of this process during the run", f"{cpu_share:.0%} of one core"),
    ]
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")

    print()
    print("pacing per category (unscaled ms; a chunk task makes one call per interval per category):")
    print(f"{'category':<20} {'interval cfg':>12} {'median gap':>11} {'mean gap':>9} {'mean wait':>10} {'acquires':>9}")
    for category, _quota in DEFAULT_QUOTAS.items():
        ops = [m for m, c in CATEGORY_OF.items() if c == category and throttler.stamps.get(m)]
        gaps = [g for m in ops for g in per_task_gaps(throttler.stamps[m])]
        waits = probe.waits.get(category, [])
        if not waits:
            continue
        interval = max((i for i in probe.intervals[category] if i), default=0) * k  # the pacer's Rate
        print(
            f"{category:<20} {interval:>12.0f} {statistics.median(gaps) * 1000 * k if gaps else 0:>11.0f} "
            f"{statistics.fmean(gaps) * 1000 * k if gaps else 0:>9.0f} "
            f"{statistics.fmean(waits) * 1000 * k:>10.0f} {len(waits):>9,}"
        )
    bottleneck = max((i for i in probe.intervals[bound_category] if i), default=0) * k
    buffer_ms = max(probe.used, default=0) * k
    print(
        f"pacer's Limiter buffer_ms: asked {sorted(probe.requested)}, used {sorted(probe.used)} scaled "
        f"(= {buffer_ms:g} ms unscaled)"
    )
    print(
        f"expected per-task cycle with a blocked wait: interval + buffer = {bottleneck:.0f} + {buffer_ms:g} ms "
        f"-> at most {bottleneck / (bottleneck + buffer_ms):.3f} of the bound"
    )
    print(f"report api_calls: {report['api_calls']}")


if __name__ == "__main__":
    main()
