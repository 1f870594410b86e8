"""Operator options and Region clashes: old subs kept on request, a taken domain prefix."""

from __future__ import annotations

from typing import Any

from tests.workflow.conftest import make_backup
from tools.emulation import RestoreStack
from tools.sample_pool import SamplePoolSpec, domain_prefix


def _users(cognito: Any, pool_id: str) -> list[dict[str, Any]]:
    return [u for page in cognito.get_paginator("list_users").paginate(UserPoolId=pool_id) for u in page["Users"]]


def test_old_subs_are_kept_in_a_custom_attribute_when_asked(stack: RestoreStack, source_cognito: Any) -> None:
    source = make_backup(stack, source_cognito, SamplePoolSpec(users=15, groups=3))
    old_subs = {
        u["Username"]: next(a["Value"] for a in u["Attributes"] if a["Name"] == "sub") for u in source.backup["users"]
    }

    result = stack.run({"user_pool_id": source.pool_id, "preserve_old_sub": True})

    assert result.status == "SUCCEEDED", (result.error, result.cause)
    cognito = stack.client("cognito-idp")
    pool_id = result.output["new_user_pool_id"]
    schema = {a["Name"] for a in cognito.describe_user_pool(UserPoolId=pool_id)["UserPool"]["SchemaAttributes"]}
    assert "custom:dr_old_sub" in schema
    for user in _users(cognito, pool_id):
        attributes = {a["Name"]: a["Value"] for a in user["Attributes"]}
        assert attributes["custom:dr_old_sub"] == old_subs[user["Username"]]
        assert attributes["sub"] != old_subs[user["Username"]]


def test_old_subs_are_not_stored_by_default(stack: RestoreStack, source_cognito: Any) -> None:
    source = make_backup(stack, source_cognito, SamplePoolSpec(users=5, groups=3))

    result = stack.run({"user_pool_id": source.pool_id})

    cognito = stack.client("cognito-idp")
    for user in _users(cognito, result.output["new_user_pool_id"]):
        assert not any(a["Name"] == "custom:dr_old_sub" for a in user["Attributes"])


def test_a_taken_domain_prefix_gets_a_derived_one_and_a_manual_step(stack: RestoreStack, source_cognito: Any) -> None:
    spec = SamplePoolSpec(users=5, groups=3)
    source = make_backup(stack, source_cognito, spec)
    cognito = stack.client("cognito-idp")
    squatter = cognito.create_user_pool(PoolName="someone-else")["UserPool"]["Id"]
    cognito.create_user_pool_domain(Domain=domain_prefix(spec), UserPoolId=squatter)  # prefixes are unique per Region

    result = stack.run({"user_pool_id": source.pool_id})

    assert result.status == "SUCCEEDED", (result.error, result.cause)
    new_domain = cognito.describe_user_pool(UserPoolId=result.output["new_user_pool_id"])["UserPool"]["Domain"]
    assert new_domain == f"{domain_prefix(spec)}-dr"
    # "pool ready" goes out as soon as the clients exist, before the domain (issue 12): the complete alert names it
    ready = next(a["message"] for a in stack.alerts() if "ready" in a["subject"])
    assert result.output["new_user_pool_id"] in ready and new_domain not in ready
    complete = next(a["message"] for a in stack.alerts() if "complete" in a["subject"])
    assert f"the hosted UI is at {new_domain}" in complete
