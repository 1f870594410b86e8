"""Pacing per quota category: the running chunk tasks together stay at the share of each quota."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from cognito_restore import aws
from cognito_restore.pacing import (
    CATEGORY_OF,
    DECREASE_PER_TASK,
    DEFAULT_QUOTAS,
    INCREASE_PER_S,
    Pacer,
    concurrent_chunks,
    per_task_interval_ms,
    quotas_from_env,
    share_from_env,
    threads_for,
)
from cognito_restore.running import EPOCH_S, MARGIN_S, READ_BEFORE_S, RunningTasks, members


class Clock:
    """A clock the test moves: reserve() never sleeps on it."""

    def __init__(self, now: float = 1_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _pacer(clock: Clock, position: int, tasks: int, share: float = 0.9) -> Pacer:
    pacer = Pacer(concurrency=tasks, quotas=dict(DEFAULT_QUOTAS), share=share, clock=clock, sleep=lambda _: None)
    pacer.assign(position, tasks, at=clock.now)
    return pacer


@pytest.mark.parametrize(
    ("quota", "concurrency", "interval"), [(50, 10, 200), (30, 10, 334), (25, 10, 400), (25, 1, 40)]
)
def test_each_chunk_gets_its_share_of_the_quota(quota: float, concurrency: int, interval: int) -> None:
    assert per_task_interval_ms(quota, concurrency) == interval
    total = concurrency * 1000 / per_task_interval_ms(quota, concurrency)
    assert total <= quota and total == pytest.approx(quota, rel=0.01)  # never above, barely below
    assert per_task_interval_ms(quota, concurrency, 0.9) >= 1000 * concurrency / (quota * 0.9)


def test_running_tasks_interleave_on_one_grid_at_the_share() -> None:
    """Ten tasks at their ten positions send evenly spaced calls at 0.9 x 25/s: never two within 1/quota
    (what a token bucket with no burst capacity refuses)."""
    clock = Clock()
    pacers = [_pacer(clock, i, 10) for i in range(10)]
    sent = sorted(t for p in pacers for t in (p.reserve("AdminAddUserToGroup") for _ in range(50)) if t is not None)
    gaps = [b - a for a, b in itertools.pairwise(sent)]
    assert min(gaps) == pytest.approx(1 / 22.5) and max(gaps) == pytest.approx(1 / 22.5)
    assert min(gaps) > 1 / 25
    assert len(sent) / (sent[-1] - sent[0] + 1 / 22.5) == pytest.approx(22.5)


def test_the_last_task_running_gets_the_whole_share() -> None:
    """No tail effect: the registry says one task runs, so it paces at the whole 0.9 x quota."""
    clock = Clock()
    pacer = _pacer(clock, 0, 10)
    pacer.assign(0, 1, at=clock.now + 2)
    times = [pacer.reserve("AdminCreateUser") for _ in range(300)]
    late = [t for t in times if t is not None and t >= clock.now + 2]
    assert [b - a for a, b in itertools.pairwise(late)] == pytest.approx([1 / 45] * (len(late) - 1))
    early = [t for t in times if t is not None and t < clock.now + 2]
    assert all(round(t * 45) % 10 == 0 for t in early)  # before the boundary: its old slots only


def test_throttles_slow_the_category_and_the_rate_creeps_back() -> None:
    clock = Clock()
    pacer = _pacer(clock, 3, 10)
    pacer.throttled("AdminAddUserToGroup")
    pacer.throttled("AdminAddUserToGroup")
    decrease = 1 - DECREASE_PER_TASK * 10  # 10 running tasks: each sees ~1/10 of the refusals
    assert pacer.factor("UserUpdate") == pytest.approx(decrease**2)
    assert pacer.factor("UserCreation") == 1.0 and pacer.throttles == {"UserUpdate": 2} and pacer.decreases == 2
    sent = [pacer.reserve("AdminAddUserToGroup") for _ in range(70)]
    assert all(round(t * 22.5) % 10 == 3 for t in sent if t is not None)  # still on its own slots
    span = sent[-1] - sent[0]  # type: ignore[operator]
    assert 69 / span == pytest.approx(2.25 * decrease**2, rel=0.05)  # fewer of its slots used
    clock.now += (1 - decrease**2) / INCREASE_PER_S + 0.1
    pacer.reserve("AdminAddUserToGroup")
    assert pacer.factor("UserUpdate") == 1.0
    alone = _pacer(clock, 0, 1)
    alone.throttled("AdminDisableUser")  # the last task running: it sees every refusal, so a small step
    assert alone.factor("UserUpdate") == pytest.approx(1 - DECREASE_PER_TASK)


def test_a_throttled_call_is_retried_on_the_tasks_next_slot() -> None:
    """aws.new_client's needs-retry handler: the retry waits for a slot of this task (it stays on the grid,
    and botocore's retry quota does not fail the chunk), then a growing random backoff; None at the end."""
    clock = Clock(1000.0)
    pacer = _pacer(clock, 4, 10)
    delay = pacer.retry_delay("AdminCreateUser", 1)
    assert delay is not None and 0 <= delay <= 2 * 10 / 45 + 1e-9  # one of its slots, some skipped (slower)
    assert round((clock.now + delay) * 45) % 10 == 4
    assert pacer.throttles == {"UserCreation": 1}
    assert pacer.retry_delay("AdminGetUser", 1) is None  # not paced: botocore's own retry
    assert (
        pacer.retry_delay("AdminCreateUser", 10) is None
    )  # attempts used up: CognitoThrottled, the state machine retries


def test_a_task_without_a_registry_takes_a_random_place() -> None:
    positions = {Pacer(concurrency=10, quotas=dict(DEFAULT_QUOTAS), share=0.9).current.position for _ in range(200)}  # type: ignore[union-attr]
    assert len(positions) > 5 and positions <= set(range(10))


def test_the_share_comes_from_the_template(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("QUOTA_SHARE", raising=False)
    assert share_from_env() == 0.9
    monkeypatch.setenv("QUOTA_SHARE", "0.7")
    assert share_from_env() == 0.7
    monkeypatch.setenv("QUOTA_SHARE", "1.5")
    with pytest.raises(ValueError, match="QUOTA_SHARE"):
        share_from_env()


@pytest.mark.parametrize("tasks", [1, 2, 5, 10])
def test_enough_threads_that_200_ms_per_call_does_not_cap_a_task(tasks: int) -> None:
    """Little's law: users in flight = users/s x seconds per user (4 sequential calls of 200 ms)."""
    threads = threads_for(dict(DEFAULT_QUOTAS), 0.9, tasks)
    users_per_s = 30 * 0.9 / tasks  # the fastest a user mix can go: UserAccountRecovery, not adjustable
    assert threads >= users_per_s * 4 * 0.2


def test_fewer_chunks_than_the_map_allows_share_the_whole_quota() -> None:
    assert concurrent_chunks(10, 3) == 3
    assert concurrent_chunks(10, 400) == 10
    assert concurrent_chunks(10, 0) == 1


def test_every_restore_write_is_paced_in_its_quota_category() -> None:
    """docs/quotas.md: the category of each paced call the restore makes."""
    assert CATEGORY_OF == {
        "CreateGroup": "UserPoolResourceUpdate",
        "UpdateGroup": "UserPoolResourceUpdate",  # a sync's changed groups
        "AdminCreateUser": "UserCreation",
        "SignUp": "UserCreation",  # UNCONFIRMED users
        "AdminUpdateUserAttributes": "UserUpdate",  # their verified flags / developer-only attributes
        "AdminSetUserPassword": "UserAccountRecovery",
        "AdminDisableUser": "UserUpdate",
        "AdminAddUserToGroup": "UserUpdate",
        "AdminLinkProviderForUser": "UserUpdate",
        "AdminSetUserMFAPreference": "UserResourceUpdate",
        # a sync's user writes (docs/sync.md)
        "AdminConfirmSignUp": "UserCreation",
        "AdminEnableUser": "UserUpdate",
        "AdminDeleteUserAttributes": "UserUpdate",
        "AdminRemoveUserFromGroup": "UserUpdate",
        "AdminDeleteUser": "UserUpdate",
    }
    assert DEFAULT_QUOTAS == {
        "UserCreation": 50,
        "UserAccountRecovery": 30,
        "UserUpdate": 25,
        "UserResourceUpdate": 25,
        "UserPoolResourceUpdate": 5,  # 15/s per account, but 5/s per pool for any one operation
    }


def test_create_group_runs_at_its_share_of_five_per_second_into_the_pool(monkeypatch: pytest.MonkeyPatch) -> None:
    """One groups task at a time: the whole share of 5/s, one CreateGroup every 222 ms at 0.9."""
    monkeypatch.delenv("QUOTA_USER_POOL_RESOURCE_UPDATE", raising=False)
    monkeypatch.delenv("QUOTA_SHARE", raising=False)
    assert per_task_interval_ms(quotas_from_env()["UserPoolResourceUpdate"], 1, share_from_env()) == 223
    clock = Clock()
    slept: list[float] = []
    pacer = Pacer(concurrency=1, clock=clock, sleep=slept.append)
    pacer.before("CreateGroup")
    pacer.before("CreateGroup")
    pacer.before("ListGroups")  # not a paced write
    assert len(slept) <= 2 and sum(slept) == pytest.approx(1 / 4.5, abs=1 / 4.5)
    monkeypatch.setenv("QUOTA_USER_POOL_RESOURCE_UPDATE", "2")
    assert quotas_from_env()["UserPoolResourceUpdate"] == 2


def test_raised_quotas_come_from_the_template_parameters(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUOTA_USER_CREATION", "200")
    assert quotas_from_env()["UserCreation"] == 200
    assert quotas_from_env()["UserUpdate"] == 25


@pytest.fixture
def ledger_table(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-west-2")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws():
        aws.client.cache_clear()
        boto3.client("dynamodb").create_table(
            TableName="ledger",
            AttributeDefinitions=[{"AttributeName": "restore_id", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "restore_id", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
        )
        yield "ledger"
    aws.client.cache_clear()


def test_running_tasks_all_read_the_same_places_for_the_next_epoch(ledger_table: str) -> None:
    """Tasks join, beat and leave at any time; every task reading before a boundary gets the same set."""
    t = 100 * EPOCH_S
    a, b, c = (RunningTasks(ledger_table, "r1", "users", i) for i in (1, 2, 3))
    start_a, start_b = a.join(t), b.join(t + 0.1)
    assert start_a == start_b >= t + READ_BEFORE_S + MARGIN_S
    read = start_a - READ_BEFORE_S
    assert a.beat(read) == (0, 2, start_a) and b.beat(read + 0.01) == (1, 2, start_a)
    # c joins just before the next read: it is not in the coming epoch for anyone, nor for itself
    late_join = start_a + EPOCH_S - READ_BEFORE_S - 0.1
    start_c = c.join(late_join)
    assert start_c == start_a + 2 * EPOCH_S
    read = start_a + EPOCH_S - READ_BEFORE_S
    assert a.beat(read) == (0, 2, start_a + EPOCH_S) and c.beat(read) == (0, 0, start_a + EPOCH_S)
    b.leave(read + 0.01)  # b leaves after a read: it keeps its place for the coming epoch
    assert a.beat(read + 0.02)[:2] == (0, 2)
    read += EPOCH_S
    assert a.beat(read) == (0, 2, start_c) and c.beat(read) == (1, 2, start_c)  # b gone, c in


def test_a_task_that_stopped_beating_drops_out(ledger_table: str) -> None:
    a, b = RunningTasks(ledger_table, "r1", "users", 1), RunningTasks(ledger_table, "r1", "users", 2)
    start = a.join(0) and b.join(0)
    a.beat(start - READ_BEFORE_S)
    later = start + 20 * EPOCH_S
    assert a.beat(later - READ_BEFORE_S)[:2] == (0, 1)  # b crashed long ago
    item = boto3.client("dynamodb").get_item(TableName=ledger_table, Key=a.key)["Item"]
    assert "c000002" not in item  # pruned
    assert members({"c000001": {"S": "0:4000"}, "restore_id": {"S": "x"}}, 2.0) == ["c000001"]


def test_a_task_whose_registry_read_failed_keeps_going() -> None:
    """No place yet (or its epoch over) and the heartbeat failed: the task keeps its last place, or takes a
    random one, rather than waiting forever."""
    clock = Clock()
    pacer = _pacer(clock, 2, 10)
    pacer.unplace()
    assert pacer.try_reserve("AdminCreateUser") is None
    pacer.hold_place(clock.now + 4)
    assert pacer.try_reserve("AdminCreateUser") is not None
    pacer.assign(7, 10, clock.now + 1, clock.now + 3)
    clock.now += 3.5  # past the assignment's epoch: its slots wait for the next one
    assert pacer.try_reserve("AdminCreateUser") is None
    pacer.hold_place(clock.now + 2)
    at = pacer.try_reserve("AdminCreateUser")
    assert at is not None and round(at * 45) % 10 == 7
