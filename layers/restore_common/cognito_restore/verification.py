"""Compares what the new pool holds with what the restore says it restored (counts, read back live)."""

from __future__ import annotations

from typing import Any

from cognito_restore import aws

# Above this many users, count with DescribeUserPool's estimate instead of listing (ListUsers: 30 RPS).
FULL_LIST_LIMIT = 20_000


def _count(operation: str, key: str, **kwargs: Any) -> int:
    paginator = aws.client("cognito-idp").get_paginator(operation)
    return sum(len(page.get(key, [])) for page in paginator.paginate(**kwargs))


def live_counts(pool_id: str, expected_users: int, groups: list[str]) -> dict[str, int]:
    cognito = aws.client("cognito-idp")
    counts = {
        "app_clients": _count("list_user_pool_clients", "UserPoolClients", UserPoolId=pool_id, MaxResults=60),
        "groups": _count("list_groups", "Groups", UserPoolId=pool_id, Limit=60),
        "identity_providers": _count("list_identity_providers", "Providers", UserPoolId=pool_id, MaxResults=60),
        "resource_servers": _count("list_resource_servers", "ResourceServers", UserPoolId=pool_id, MaxResults=50),
    }
    if expected_users <= FULL_LIST_LIMIT:
        counts["users"] = _count("list_users", "Users", UserPoolId=pool_id, Limit=60)
        counts["memberships"] = sum(
            _count("list_users_in_group", "Users", UserPoolId=pool_id, GroupName=group, Limit=60) for group in groups
        )
    else:
        counts["users"] = int(
            cognito.describe_user_pool(UserPoolId=pool_id)["UserPool"].get("EstimatedNumberOfUsers", 0)
        )
    return counts


def compare(expected: dict[str, int], found: dict[str, int]) -> dict[str, dict[str, Any]]:
    return {
        name: {"expected": expected[name], "found": found[name], "ok": found[name] == expected[name]}
        for name in found
        if name in expected
    }
