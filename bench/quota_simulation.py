"""Item (b): does the paced restore run at Cognito's quotas? The real workflow against throttling moto.

``--matrix`` (issue 12, the contract): the users phase in virtual time (bench.pacing_des: the layer's
Pacer and RunningTasks on a virtual clock, the Map, botocore retries and Cognito's token buckets
modelled) over burst 0 / 0.2 / 1 s x latency 0 / 50 / 150 ms x 5,500 / 100,500 users x live traffic
0 / 30 % of each quota; it prints each cell's ratio to its bound (the quota, or the share the live
traffic leaves), users lost and throttles, then the time to "pool ready" and to 90 % of the users
who can sign in for 100k users. ``--smoke``: a reduced matrix (tests/unit/test_pacing_simulation.py).

The restore stack (``tools.emulation.RestoreStack``: template.yaml in moto, the real ASL, the real
handlers) restores a synthetic backup (10k users, all CONFIRMED, one group each by default) while
moto's Cognito backend of the restore Region refuses calls beyond token buckets at the default
quotas per category (UserCreation 50/s, UserAccountRecovery 30/s, UserUpdate 25/s,
UserResourceUpdate 25/s) with ``TooManyRequestsException``, as Cognito does.

Time is scaled by K so a run takes minutes: the emulated quotas AND the stack's Quota* parameters
are multiplied by K (the running-tasks epoch of cognito_restore.running is not: a chunk task's
wait for its first boundary counts K times).
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
K_CHOICES = (1, 2, 5, 10)
CPU_SHARE_LIMIT = 0.15  # moto + client cost at the scaled bound, share of one core (GIL)
PROJECTED_USERS = 100_000
PROJECTION_TARGET_MIN = 75.0
RATIO_TARGET = 0.85  # the pacer takes QuotaShare (0.9) of each quota: the contract is 0.85 of the bound


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


def choose_k(cost_ms_per_user: float, bound: float) -> int:
    """The largest K whose scaled bound keeps the measured per-user cost under CPU_SHARE_LIMIT of a core."""
    fitting = [k for k in K_CHOICES if bound * k * cost_ms_per_user / 1000 <= CPU_SHARE_LIMIT]
    return max(fitting) if fitting else 1


MATRIX_BURSTS = (0.0, 0.2, 1.0)
MATRIX_LATENCIES_MS = (0.0, 50.0, 150.0)
MATRIX_USERS = (5_500, 100_500)
MATRIX_LIVE = (0.0, 0.3)
MATRIX_TARGET = 0.85


@dataclass(frozen=True)
class MatrixRow:
    users: int
    burst_s: float
    latency_ms: float
    live: float
    ratio: float
    lost: int
    throttles: int
    live_refused: float
    seconds: float
    chunk_failures: int


def run_matrix(
    sizes: tuple[int, ...] = MATRIX_USERS,
    bursts: tuple[float, ...] = MATRIX_BURSTS,
    latencies_ms: tuple[float, ...] = MATRIX_LATENCIES_MS,
    lives: tuple[float, ...] = MATRIX_LIVE,
    share: float | None = None,
    seed: int = 1,
    out: Callable[[str], None] | None = print,
) -> list[MatrixRow]:
    """Every cell of the matrix in virtual time; prints a table row per cell."""
    from bench.pacing_des import Cell, Simulation, confirmed_users
    from bench.pacing_des import quota_bound as des_bound
    from cognito_restore.pacing import DEFAULT_SHARE

    rows = []
    if out:
        out(
            f"{'users':>8} {'burst s':>7} {'latency':>7} {'live':>5} {'bound/s':>8} {'users/s':>8} {'ratio':>6} "
            f"{'lost':>5} {'throttles':>9} {'live refused':>12} {'chunk fails':>11} {'elapsed':>9}"
        )
    for users_n in sizes:
        users = confirmed_users(users_n)
        bound, _ = des_bound(users)
        for live in lives:
            for burst in bursts:
                for latency in latencies_ms:
                    cell = Cell(users, burst, latency / 1000, live, share=share or DEFAULT_SHARE, seed=seed)
                    result = Simulation(cell).run()
                    cell_bound = bound * (1 - live)
                    rate = result.restored / result.seconds
                    row = MatrixRow(
                        users_n,
                        burst,
                        latency,
                        live,
                        rate / cell_bound,
                        users_n - result.restored,
                        result.throttles,
                        result.live_refused / result.live_sent if result.live_sent else 0.0,
                        result.seconds,
                        result.chunk_failures,
                    )
                    rows.append(row)
                    if out:
                        verdict = "OK" if row.ratio >= MATRIX_TARGET and row.lost == 0 else "MISSED"
                        out(
                            f"{users_n:>8,} {burst:>7g} {latency:>5g}ms {live:>5.0%} {cell_bound:>8.2f} {rate:>8.2f} "
                            f"{row.ratio:>6.3f} {row.lost:>5} {row.throttles:>9,} {row.live_refused:>12.1%} "
                            f"{row.chunk_failures:>11} {result.seconds / 60:>7.1f} m  {verdict}"
                        )
    return rows


@dataclass(frozen=True)
class Timeline:
    """Seconds from the start of the execution (sequential: today's ASL; parallel: domain beside users)."""

    pool_ready: float
    users_start: float
    sign_in_90: float
    all_users: float


def run_timeline(
    users_n: int,
    sign_in_first: bool,
    parallel: bool,
    groups: int = 10,
    latency_ms: float = 50.0,
    prepare_users_per_s: float = 3_500.0,
    domain_s: float = 60.0,
    phase_s: float = 0.5,
    seed: int = 1,
) -> Timeline:
    """The execution to the end of the users phase: phases before it as stated inputs (each Lambda task
    phase_s plus its calls at latency; preparation at prepare_users_per_s; CreateGroup at its share of 5/s;
    the domain's status loop domain_s), the users phase simulated (bench.pacing_des)."""
    from bench.pacing_des import Cell, Simulation, mixed_users
    from cognito_restore.pacing import DEFAULT_QUOTAS, DEFAULT_SHARE

    latency = latency_ms / 1000
    t = phase_s + phase_s + users_n / prepare_users_per_s  # find latest backup, validate and prepare
    t += phase_s  # alert restore started
    t += phase_s + 3 * latency  # create user pool (CreateUserPool, tags, ledger)
    t += 2 * (phase_s + latency)  # resource servers, identity providers (none here)
    t += phase_s + 2 * latency  # two app clients
    clients_done = t
    t += phase_s + groups / (DEFAULT_QUOTAS["UserPoolResourceUpdate"] * DEFAULT_SHARE)  # groups
    groups_done = t
    if parallel:
        pool_ready = clients_done + phase_s  # the alert right after the clients
        users_start = groups_done  # the domain's loop runs beside the users phase
    else:
        pool_ready = groups_done + domain_s + phase_s  # after the domain loop
        users_start = pool_ready
    users = mixed_users(users_n, sign_in_first)
    result = Simulation(Cell(users, 0.0, latency, seed=seed)).run()
    sign_in = sorted(t for t, user in zip(result.done_at, users, strict=True) if user.can_sign_in)
    return Timeline(
        pool_ready, users_start, users_start + sign_in[int(0.9 * len(sign_in)) - 1], users_start + result.seconds
    )


def main_matrix(args: argparse.Namespace) -> None:
    import bench.pacing_des  # noqa: F401  # puts the layer on the path
    from cognito_restore.pacing import DECREASE_PER_TASK, DEFAULT_SHARE, INCREASE_PER_S

    smoke = args.smoke
    print(
        f"users phase in virtual time (bench.pacing_des): share {DEFAULT_SHARE}, AIMD -{DECREASE_PER_TASK:g} x tasks / "
        f"+{INCREASE_PER_S}/s, UserChunkSize 500, UserMapConcurrency 10, all CONFIRMED, 1 group each "
        f"(bound: UserUpdate 25/s, or the 70 % live traffic leaves)"
    )
    cpu = time.process_time()
    rows = run_matrix(sizes=(5_500,), bursts=(0.0, 1.0), latencies_ms=(0.0, 150.0)) if smoke else run_matrix()
    worst = min(rows, key=lambda r: r.ratio)
    lost = sum(r.lost for r in rows)
    print(
        f"{len(rows)} cells: lowest ratio {worst.ratio:.3f} ({worst.users:,} users, burst {worst.burst_s:g} s, "
        f"{worst.latency_ms:g} ms, live {worst.live:.0%}); users lost {lost}; "
        f"{'every cell OK' if worst.ratio >= MATRIX_TARGET and lost == 0 else 'MISSED'} "
        f"(target >= {MATRIX_TARGET}); CPU {time.process_time() - cpu:.0f} s"
    )
    if smoke:
        return
    from bench.pacing_des import Cell, Simulation, confirmed_users
    from bench.pacing_des import quota_bound as des_bound

    print()
    print("outside the contract: each call reaching Cognito up to J ms after its slot (uniform), 5,500 users, 50 ms:")
    users = confirmed_users(5_500)
    bound, _ = des_bound(users)
    for jitter_ms in (5.0, 20.0):
        cells = []
        for burst in MATRIX_BURSTS:
            result = Simulation(Cell(users, burst, 0.05, jitter_s=jitter_ms / 1000)).run()
            cells.append(
                f"burst {burst:g} s: {result.restored / result.seconds / bound:.3f} ({result.throttles:,} throttles)"
            )
        print(f"  J = {jitter_ms:g} ms: " + ", ".join(cells))
    print()
    users_n = 100_000
    print(
        f"time to a usable pool, {users_n:,} users (85 % CONFIRMED, 2 % disabled, 1 group each, 10 groups), "
        f"burst 0, 50 ms per call; inputs: preparation {args.prepare_users_per_s:g} users/s, each phase "
        f"0.5 s, domain status loop {args.domain_s:g} s:"
    )
    print(f"{'layout':<44} {'pool ready':>10} {'users start':>11} {'90 % can sign in':>16} {'all users':>10}")
    for label, parallel, first in (
        ("sequential ASL, backup order", False, False),
        ("domain beside users, backup order", True, False),
        ("domain beside users, sign-in-able users first", True, True),
    ):
        line = run_timeline(
            users_n, first, parallel, prepare_users_per_s=args.prepare_users_per_s, domain_s=args.domain_s
        )
        print(
            f"{label:<44} {line.pool_ready / 60:>8.1f} m {line.users_start / 60:>9.1f} m "
            f"{line.sign_in_90 / 60:>14.1f} m {line.all_users / 60:>8.1f} m"
        )


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
    parser.add_argument("--matrix", action="store_true", help="the issue-12 matrix in virtual time (no moto)")
    parser.add_argument("--smoke", action="store_true", help="with --matrix: a reduced matrix")
    parser.add_argument("--prepare-users-per-s", type=float, default=3_500.0, help="with --matrix: preparation rate")
    parser.add_argument("--domain-s", type=float, default=60.0, help="with --matrix: the domain's status loop")
    args = parser.parse_args(argv)
    if args.matrix:
        main_matrix(args)
        return

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
        f"-> {chunks / args.concurrency:.1f} waves; the running chunk tasks share QuotaShare of each quota ({tasks} at once)"
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
        f"emulated latency {args.latency_ms:g} ms/call (slept {args.latency_ms / k:.1f} ms)",
        flush=True,
    )

    with (
        RestoreStack(region=DR_REGION, parameters=parameters) as stack,
        Throttler(DR_REGION, k, args.burst_seconds, args.latency_ms / 1000 / k).installed() as throttler,
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
    print("pacing per category (unscaled ms): gaps between consecutive admitted calls of all chunk tasks")
    print(f"{'category':<20} {'grid interval':>13} {'median gap':>11} {'min gap':>8} {'calls':>8}")
    for category, quota in DEFAULT_QUOTAS.items():
        stamps = sorted(t for m, c in CATEGORY_OF.items() if c == category for _, t in throttler.stamps.get(m, []))
        if len(stamps) < 2:
            continue
        gaps = [b - a for a, b in itertools.pairwise(stamps)]
        print(
            f"{category:<20} {1000 / (quota * 0.9):>13.1f} {statistics.median(gaps) * 1000 * k:>11.1f} "
            f"{min(gaps) * 1000 * k:>8.1f} {len(stamps):>8,}"
        )
    print(f"report api_calls: {report['api_calls']}")


if __name__ == "__main__":
    main()
