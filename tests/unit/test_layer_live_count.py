"""The live count of a large restored pool (cognito_restore.live_count) against moto: stopped after any
page and resumed from the saved cursor it equals the count in one go; a fresh pass ignores the saved
cursor; only the backed-up groups' members count, and a group deleted meanwhile has none."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from cognito_restore.live_count import count_pool
from tests.unit.test_layer_sync_users import _caller, _pool, cognito  # noqa: F401  # cognito: the moto fixture
from tests.unit.test_layer_target_listing import Store


def _count(store: Store, client: Any, pool: str, groups: list[str], pages_per_invocation: int) -> dict[str, Any]:
    calls: Counter[str] = Counter()
    fresh, invocations = True, 0
    while True:
        looks = iter(range(pages_per_invocation, 0, -1))  # the invocation stops at its last page
        counted = count_pool(store, _caller(client, calls), pool, groups, fresh, lambda ls=looks: next(ls, 0) <= 1)
        fresh, invocations = False, invocations + 1
        if counted["done"]:
            return {**counted, "calls": dict(calls), "loop": invocations}


@pytest.mark.parametrize("pages_per_invocation", [1, 2, 100])
def test_a_count_over_several_invocations_equals_the_count_in_one_go(
    cognito: Any,  # noqa: F811
    pages_per_invocation: int,
) -> None:
    pool = _pool(cognito, 130, groups=3)  # 3 groups of 44, 43, 43 members (1 page each)

    counted = _count(Store(), cognito, pool, ["g0", "g1", "g2"], pages_per_invocation)

    assert (counted["users"], counted["memberships"], counted["identity_links"]) == (130, 130, 0)
    # Each page read once across the continuations: 16 sub shards of at most 60 users, 1 page of groups,
    # 1 page per group (the pages in flight when the time runs low are counted, then the tokens saved).
    assert counted["read_calls"] == {"ListUsers": 16, "ListGroups": 1, "ListUsersInGroup": 3}
    assert counted["invocations"] == counted["loop"]
    assert counted["loop"] > 1 if pages_per_invocation < 100 else counted["loop"] == 1


def test_a_fresh_pass_counts_again_and_only_backed_up_groups_count(cognito: Any) -> None:  # noqa: F811
    pool = _pool(cognito, 30, groups=3)
    store = Store()
    _count(store, cognito, pool, ["g0", "g1", "g2"], 1)
    cognito.admin_delete_user(UserPoolId=pool, Username="user000")  # a member of g0

    again = _count(store, cognito, pool, ["g0", "g2", "not-in-pool"], 100)

    assert (again["users"], again["memberships"]) == (29, 19)  # g0 9 + g2 10; g1 is not backed up


def test_a_group_deleted_before_its_members_are_counted_has_none(cognito: Any) -> None:  # noqa: F811
    pool = _pool(cognito, 20, groups=2)
    store = Store()
    calls: Counter[str] = Counter()
    # Time runs low right after the groups page: the next invocation starts with the members.
    first = count_pool(store, _caller(cognito, calls), pool, ["g0", "g1"], True, lambda: calls["ListGroups"] >= 1)
    assert not first["done"] and store.get_json(store.key("verify/live_count.json"))["stage"] == "members"
    cognito.delete_group(UserPoolId=pool, GroupName="g1")

    counted = count_pool(store, _caller(cognito, calls), pool, ["g0", "g1"], False, lambda: False)

    assert counted["done"] and counted["memberships"] == 10
    assert calls["ListUsersInGroup"] == 2  # g1 was asked for (and refused: ResourceNotFoundException)


def test_a_refused_page_token_starts_the_count_again(cognito: Any) -> None:  # noqa: F811
    from botocore.exceptions import ClientError

    pool = _pool(cognito, 130, groups=1)  # one group of 130 members: 3 pages, so a token is saved
    store, calls = Store(), Counter[str]()
    listed = _caller(cognito, calls)
    first = count_pool(store, listed, pool, ["g0"], True, lambda: calls["ListUsersInGroup"] >= 1)
    assert not first["done"]  # stopped after the group's first page, its token saved
    refused: list[str] = []

    def refuses_one_token(operation: str, **params: Any) -> dict[str, Any]:
        if params.get("NextToken") and not refused:
            refused.append(params["NextToken"])
            raise ClientError({"Error": {"Code": "InvalidParameterException", "Message": "bad token"}}, operation)
        return listed(operation, **params)

    counted = count_pool(store, refuses_one_token, pool, ["g0"], False, lambda: False)

    assert refused and counted["done"]
    assert (counted["users"], counted["memberships"]) == (130, 130)  # counted once, from the first page
    assert store.get_json(store.key("verify/live_count.json"))["restarts"] == 1
