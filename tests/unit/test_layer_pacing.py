"""Pacing per quota category: every running chunk together stays at the quota, by construction."""

from __future__ import annotations

import pytest

from cognito_restore.pacing import CATEGORY_OF, DEFAULT_QUOTAS, concurrent_chunks, per_task_interval_ms, quotas_from_env


@pytest.mark.parametrize(
    ("quota", "concurrency", "interval"), [(50, 10, 200), (30, 10, 334), (25, 10, 400), (25, 1, 40)]
)
def test_each_chunk_gets_its_share_of_the_quota(quota: float, concurrency: int, interval: int) -> None:
    assert per_task_interval_ms(quota, concurrency) == interval
    total = concurrency * 1000 / per_task_interval_ms(quota, concurrency)
    assert total <= quota and total == pytest.approx(quota, rel=0.01)  # never above, barely below


def test_the_limiter_adds_no_buffer_to_the_interval() -> None:
    """pyrate-limiter's default buffer_ms (50) would make a 400 ms pace 450 ms: 0.89 of the quota."""
    from cognito_restore.pacing import Pacer

    pacer = Pacer(concurrency=10, quotas=dict(DEFAULT_QUOTAS))
    assert all(limiter.buffer_ms == 0 for limiter in pacer._limiters.values())


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


def test_create_group_runs_at_five_per_second_into_the_pool(monkeypatch: pytest.MonkeyPatch) -> None:
    """One groups task at a time: the whole 5/s, one CreateGroup every 200 ms."""
    from cognito_restore.pacing import Pacer

    monkeypatch.delenv("QUOTA_USER_POOL_RESOURCE_UPDATE", raising=False)
    assert per_task_interval_ms(quotas_from_env()["UserPoolResourceUpdate"], 1) == 200
    waits: list[str] = []
    pacer = Pacer(concurrency=1)
    monkeypatch.setattr(
        pacer._limiters["UserPoolResourceUpdate"], "try_acquire", lambda name, blocking: waits.append(name)
    )
    pacer.before("CreateGroup")
    pacer.before("ListGroups")  # not a paced write
    assert waits == ["UserPoolResourceUpdate"]
    monkeypatch.setenv("QUOTA_USER_POOL_RESOURCE_UPDATE", "2")
    assert quotas_from_env()["UserPoolResourceUpdate"] == 2


def test_raised_quotas_come_from_the_template_parameters(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUOTA_USER_CREATION", "200")
    assert quotas_from_env()["UserCreation"] == 200
    assert quotas_from_env()["UserUpdate"] == 25
