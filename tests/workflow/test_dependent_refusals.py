"""What a user brings with it (memberships, identity links, SMS MFA preference) is never lost quietly.

A refusal not caused by the backed-up data (InternalErrorException, a pool or group gone) fails the chunk,
which the state machine retries and a second start re-runs; recording it would lose the item for good
(the chunk would be finished). A refusal caused by the data (a link to a provider the pool does not have)
is counted: the outcome is "complete with unrestorable items" and the report names the user.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from unittest import mock

from tests.workflow.conftest import put_raw_backup
from tools.emulation import RestoreStack
from tools.sample_pool import (
    OIDC_PROVIDER_NAME,
    SamplePoolSpec,
    add_federated_users,
    backup_key,
    build_source_pool,
    export_backup,
)


def _report(stack: RestoreStack, restore_id: str) -> dict[str, Any]:
    body = stack.client("s3").get_object(
        Bucket=stack.outputs["WorkBucketName"], Key=f"restores/{restore_id}/report.json"
    )["Body"]
    return json.loads(body.read())


def _backup(stack: RestoreStack, cognito: Any, provider: str = OIDC_PROVIDER_NAME) -> tuple[str, dict[str, Any]]:
    pool = build_source_pool(cognito, SamplePoolSpec(users=40, groups=3, with_domain=False))
    backup = export_backup(cognito, pool.pool_id)
    add_federated_users(backup, provider, 2, group="editors")
    put_raw_backup(stack, backup_key(pool.pool_id, datetime.now(UTC)), json.dumps(backup).encode())
    return pool.pool_id, backup


def _failing_once(stack: RestoreStack, operation: str, hits: Callable[[Any], bool]) -> tuple[Any, dict[str, bool]]:
    """The Cognito operation answers InternalErrorException for the matching requests while control is on."""
    from moto.cognitoidp.responses import CognitoIdpResponse
    from moto.core.exceptions import JsonRESTError

    original = getattr(CognitoIdpResponse, operation)
    control = {"failing": True, "refused": False}

    def refusing(response: Any) -> Any:
        if control["failing"] and response.region == stack.region and hits(response):
            control["refused"] = True
            raise JsonRESTError("InternalErrorException", "Internal error")
        return original(response)

    return mock.patch.object(CognitoIdpResponse, operation, refusing), control


def _run_twice(stack: RestoreStack, request: dict[str, Any], patch: Any, control: dict[str, bool]) -> tuple[Any, Any]:
    with patch:
        first = stack.run(request)
        control["failing"] = False
        second = stack.run(request)
    assert control["refused"], "the refusal was never triggered"
    return first, second


def test_a_transient_refusal_of_a_membership_fails_the_chunk_and_starting_again_restores_it(
    stack: RestoreStack, source_cognito: Any
) -> None:
    pool_id, backup = _backup(stack, source_cognito)
    group, members = next((g, m) for g, m in backup["group_memberships"].items() if m)
    victim = members[0]
    patch, control = _failing_once(
        stack,
        "admin_add_user_to_group",
        lambda r: r._get_param("Username") == victim and r._get_param("GroupName") == group,
    )
    request = {"user_pool_id": pool_id, "restore_id": "membership-refused"}

    first, second = _run_twice(stack, request, patch, control)

    assert first.status == "FAILED" and first.error == "RestoreFailed", (first.error, first.cause)
    assert second.status == "SUCCEEDED", (second.error, second.cause)
    cognito = stack.client("cognito-idp")
    new_pool = second.output["new_user_pool_id"]
    in_group = [u["Username"] for u in cognito.list_users_in_group(UserPoolId=new_pool, GroupName=group)["Users"]]
    assert victim in in_group
    report = _report(stack, "membership-refused")
    assert report["counts"]["memberships"]["failed"] == 0
    assert report["outcome"]["status"] == "complete"


def test_a_transient_refusal_of_an_identity_link_fails_the_chunk_and_starting_again_links_it(
    stack: RestoreStack, source_cognito: Any
) -> None:
    pool_id, _ = _backup(stack, source_cognito)
    patch, control = _failing_once(
        stack,
        "admin_link_provider_for_user",
        lambda r: (r._get_param("SourceUser") or {}).get("ProviderAttributeValue") == "00009001",
    )
    request = {"user_pool_id": pool_id, "restore_id": "link-refused"}

    first, second = _run_twice(stack, request, patch, control)

    assert first.status == "FAILED" and first.error == "RestoreFailed", (first.error, first.cause)
    assert second.status == "SUCCEEDED", (second.error, second.cause)
    report = _report(stack, "link-refused")
    links = report["counts"]["identity_links"]
    assert links == {"backup": 2, "restored": 2, "skipped": 0, "failed": 0}, links
    assert report["verification"]["identity_links"] == {"expected": 2, "found": 2, "ok": True}  # listed live
    assert report["outcome"]["status"] == "complete"
    cognito = stack.client("cognito-idp")
    linked = [
        json.loads(a["Value"])
        for page in cognito.get_paginator("list_users").paginate(UserPoolId=second.output["new_user_pool_id"])
        for u in page["Users"]
        for a in u["Attributes"]
        if a["Name"] == "identities"
    ]
    assert sorted(i["userId"] for ids in linked for i in ids) == ["00009000", "00009001"]


def test_a_link_refused_because_of_the_data_is_counted_and_names_the_user(
    stack: RestoreStack, source_cognito: Any
) -> None:
    """The backup's federated users name a provider the pool does not have: the users are restored (their
    placeholders), their links are not, and the run says so instead of ending a silent "complete"."""
    pool_id, backup = _backup(stack, source_cognito, provider="GoneIdP")
    gone = [u["Username"] for u in backup["users"] if u["Username"].startswith("GoneIdP_")]
    assert len(gone) == 2

    result = stack.run({"user_pool_id": pool_id, "restore_id": "link-data"})

    assert result.status == "SUCCEEDED", (result.error, result.cause)
    report = _report(stack, "link-data")
    links = report["counts"]["identity_links"]
    assert links["backup"] == 2 and links["restored"] == 0 and links["failed"] == 2, links
    failed = report["categories"]["identity_links"]["failed_items"]
    assert sorted(f["item"].split(":")[0] for f in failed) == sorted(gone)
    assert all("InvalidParameterException" in f["reason"] for f in failed), failed
    assert report["outcome"]["status"] == "complete_with_unrestorable"
    assert report["outcome"]["unrestorable"] >= 2
    assert "not restorable" in stack.alerts()[-1]["subject"]


def test_members_of_a_group_cognito_refused_to_create_are_reported_and_the_restore_ends(
    stack: RestoreStack, source_cognito: Any
) -> None:
    """A group refused because of its data is a failed group; its memberships cannot be made (Cognito would
    answer ResourceNotFoundException, which otherwise fails the chunk on every run): they are reported."""
    from moto.cognitoidp.responses import CognitoIdpResponse
    from moto.core.exceptions import JsonRESTError

    pool_id, backup = _backup(stack, source_cognito)
    group, members = next((g, m) for g, m in backup["group_memberships"].items() if m)
    original = CognitoIdpResponse.create_group

    def create_group(response: Any) -> Any:
        if response.region == stack.region and response._get_param("GroupName") == group:
            raise JsonRESTError("InvalidParameterException", "Invalid group role")
        return original(response)

    with mock.patch.object(CognitoIdpResponse, "create_group", create_group):
        result = stack.run({"user_pool_id": pool_id, "restore_id": "group-refused"})

    assert result.status == "SUCCEEDED", (result.error, result.cause)
    report = _report(stack, "group-refused")
    assert [f["item"] for f in report["categories"]["groups"]["failed_items"]] == [group]
    failed = report["categories"]["memberships"]["failed_items"]
    assert sorted(f["item"] for f in failed) == sorted(f"{group}: {m}" for m in members)
    assert all(f["reason"] == "group not restored (see groups)" for f in failed)
    assert report["outcome"]["status"] == "complete_with_unrestorable"
