"""Faults during the restore: each run completes through retries or fails cleanly, and continuing completes.

Always: 0 users lost, 0 duplicates, 1 pool. Waits are patched (the emulator patches Step Functions
waits and retry intervals; this module patches botocore's retry sleep), so nothing here sleeps.
"""

from __future__ import annotations

import json
import random
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any
from unittest import mock

import pytest
from botocore.awsrequest import AWSResponse
from moto.cognitoidp.responses import CognitoIdpResponse
from moto.core.botocore_stubber import MockRawResponse
from moto.core.exceptions import JsonRESTError, ServiceException
from moto.sns.exceptions import SNSException
from moto.sns.models import SNSBackend

from cognito_restore.sign_up import SIGN_UP_CLIENT_NAME
from tests.workflow.conftest import SourceBackup, make_backup
from tools.emulation import LambdaCrash, RestoreStack
from tools.sample_pool import SamplePoolSpec

ADMIN_OPERATIONS = (
    "admin_create_user",
    "admin_set_user_password",
    "admin_disable_user",
    "admin_add_user_to_group",
    "admin_get_user",
    "create_group",
    "create_user_pool_client",
    "create_resource_server",
    "create_identity_provider",
    "list_users",
    "describe_user_pool",
)


@pytest.fixture(autouse=True)
def no_sdk_backoff() -> Iterator[list[float]]:
    """botocore sleeps between its retries: record the delays instead of waiting."""
    delays: list[float] = []
    with mock.patch("botocore.endpoint.time.sleep", side_effect=delays.append):
        yield delays


def _restored_exactly_once(stack: RestoreStack, source: SourceBackup, result: Any) -> None:
    """0 users lost, 0 duplicates, 1 pool."""
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    cognito = stack.client("cognito-idp")
    pools = cognito.list_user_pools(MaxResults=60)["UserPools"]
    assert [p["Id"] for p in pools] == [result.output["new_user_pool_id"]]
    users = [
        u for page in cognito.get_paginator("list_users").paginate(UserPoolId=pools[0]["Id"]) for u in page["Users"]
    ]
    usernames = [u["Username"] for u in users]
    assert len(usernames) == len(set(usernames)) == len(source.backup["users"])
    assert {u["Username"] for u in users} == {u["Username"] for u in source.backup["users"]}
    for group, members in source.backup["group_memberships"].items():
        restored = cognito.list_users_in_group(UserPoolId=pools[0]["Id"], GroupName=group)["Users"]
        assert sorted(u["Username"] for u in restored) == sorted(members), group


def _report(stack: RestoreStack, result: Any) -> dict[str, Any]:
    bucket, _, key = result.output["report"].removeprefix("s3://").partition("/")
    return json.loads(stack.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())


def _failing(
    original: Callable[..., Any], should_fail: Callable[[Any, tuple, dict], bool], error: Callable[[], Exception]
) -> Callable[..., Any]:
    def wrapper(backend: Any, *args: Any, **kwargs: Any) -> Any:
        if should_fail(backend, args, kwargs):
            raise error()
        return original(backend, *args, **kwargs)

    return wrapper


def test_a_throttling_storm_is_absorbed_and_counted(stack: RestoreStack, source_cognito: Any) -> None:
    """35 % of the Cognito requests of the restore are refused with TooManyRequestsException."""
    source = make_backup(stack, source_cognito, SamplePoolSpec(users=120, groups=4))
    storm = random.Random(30)
    throttled = {"count": 0, "requests": 0}

    def in_storm(response: Any, args: tuple, kwargs: dict) -> bool:
        if response.region != stack.region:
            return False
        throttled["requests"] += 1
        hit = storm.random() < 0.35
        throttled["count"] += hit
        return hit

    # One decision per request, at moto's response layer (a backend method can serve several lookups).
    patches = [
        mock.patch.object(
            CognitoIdpResponse,
            name,
            _failing(
                getattr(CognitoIdpResponse, name),
                in_storm,
                lambda: JsonRESTError("TooManyRequestsException", "Too many requests"),
            ),
        )
        for name in ADMIN_OPERATIONS
    ]
    for patch in patches:
        patch.start()
    try:
        result = stack.run({"user_pool_id": source.pool_id})
    finally:
        for patch in patches:
            patch.stop()

    _restored_exactly_once(stack, source, result)
    assert throttled["count"] / throttled["requests"] >= 0.3
    assert _report(stack, result)["throttled_calls"] > 0


def test_a_lambda_crash_in_the_middle_of_a_chunk_resumes_without_duplicates(
    stack: RestoreStack, source_cognito: Any
) -> None:
    source = make_backup(stack, source_cognito, SamplePoolSpec(users=80, groups=3))
    from cognito_restore.users import UserPlan

    original = UserPlan.from_item.__func__
    planned: Counter[str] = Counter()
    crashed: list[str] = []
    lock = threading.Lock()

    def crash_once(cls: type, item: dict) -> Any:
        # Counted per chunk (its worker threads are named chunk-<index>-w<n>): the two chunks run at
        # once, and a count over both could crash a chunk before it had created any user.
        chunk = threading.current_thread().name.split("-w")[0]
        with lock:
            planned[chunk] += 1
            crash = planned[chunk] == 21 and not crashed  # 20 users of that chunk exist when the process dies
            if crash:
                crashed.append(chunk)
        if crash:
            raise LambdaCrash()
        return original(cls, item)

    with mock.patch.object(UserPlan, "from_item", classmethod(crash_once)):
        result = stack.run({"user_pool_id": source.pool_id})

    _restored_exactly_once(stack, source, result)
    assert crashed and crashed[0].startswith("chunk-"), crashed  # a chunk's worker crashed, once
    calls = [name for name, _ in stack.invocations if name == "RestoreUsersFunction"]
    assert len(calls) == 3  # two chunks, one of them twice
    assert _report(stack, result)["api_calls"]["AdminGetUser"] >= 1  # the retry found users created before the crash


def test_a_persistent_crash_fails_cleanly_and_starting_again_completes(
    stack: RestoreStack, source_cognito: Any
) -> None:
    source = make_backup(stack, source_cognito, SamplePoolSpec(users=60, groups=3))
    request = {"user_pool_id": source.pool_id, "restore_id": "crash-then-continue"}

    def crash_on_users(name: str, event: dict) -> None:
        if name == "RestoreUsersFunction" and event["chunk"]["index"] == 1:
            raise LambdaCrash()

    stack.on_invoke(crash_on_users)
    first = stack.run(request)
    stack.on_invoke(None)
    assert first.status == "FAILED"
    assert "Restore users and memberships" in [a["message"] for a in stack.alerts() if a["subject"]][-1]
    second = stack.run(request)

    _restored_exactly_once(stack, source, second)


class SnsOutage(ServiceException):
    code = "InternalError"
    message = "SNS is unavailable"


def test_sns_hiccups_are_retried_and_every_alert_is_delivered(stack: RestoreStack, source_cognito: Any) -> None:
    source = make_backup(stack, source_cognito, SamplePoolSpec(users=10, groups=3))
    failures = {"left": 2}

    def flaky(backend: Any, args: tuple, kwargs: dict) -> bool:
        failures["left"] -= 1
        return failures["left"] >= 0

    with mock.patch.object(
        SNSBackend,
        "publish",
        # SNS's own throttling error (ThrottledException, code Throttled): a bare moto ServiceException has no
        # SNS error shape, which moto's Step Functions turned into States.Runtime (no Retry can match it).
        _failing(SNSBackend.publish, flaky, lambda: SNSException("Throttled", "Rate exceeded")),
    ):
        result = stack.run({"user_pool_id": source.pool_id})

    _restored_exactly_once(stack, source, result)
    assert len(stack.alerts()) == 3


def test_an_sns_outage_fails_cleanly_and_starting_again_completes(stack: RestoreStack, source_cognito: Any) -> None:
    source = make_backup(stack, source_cognito, SamplePoolSpec(users=10, groups=3))
    request = {"user_pool_id": source.pool_id, "restore_id": "sns-outage"}

    with mock.patch.object(SNSBackend, "publish", _failing(SNSBackend.publish, lambda *_: True, SnsOutage)):
        first = stack.run(request)

    assert first.status == "FAILED"
    assert "Restore failed" in first.states_entered()
    second = stack.run(request)
    _restored_exactly_once(stack, source, second)


def _s3_error(status: int, code: str, message: str) -> AWSResponse:
    body = f"<Error><Code>{code}</Code><Message>{message}</Message></Error>".encode()
    return AWSResponse("https://s3.amazonaws.com/", status, {"Content-Type": "application/xml"}, MockRawResponse(body))


def _fail_chunk_reads(should_fail: Callable[[str], AWSResponse | None]) -> None:
    """Answer the functions' own S3 GetObject of chunk files before moto does, as S3 would."""
    from cognito_restore import aws

    def before_send(request: Any, **_: Any) -> AWSResponse | None:
        return should_fail(request.url)

    aws.client("s3").meta.events.register_first("before-send.s3.GetObject", before_send)


def test_s3_read_errors_are_retried(stack: RestoreStack, source_cognito: Any) -> None:
    source = make_backup(stack, source_cognito, SamplePoolSpec(users=60, groups=3))
    slowdowns = {"left": 4}

    def slow_down(url: str) -> AWSResponse | None:
        if "/chunks/" in url and slowdowns["left"] > 0:
            slowdowns["left"] -= 1
            return _s3_error(503, "SlowDown", "Please reduce your request rate.")
        return None

    _fail_chunk_reads(slow_down)
    result = stack.run({"user_pool_id": source.pool_id})

    _restored_exactly_once(stack, source, result)
    assert slowdowns["left"] == 0


def test_an_unreadable_chunk_fails_cleanly_and_starting_again_completes(
    stack: RestoreStack, source_cognito: Any
) -> None:
    source = make_backup(stack, source_cognito, SamplePoolSpec(users=60, groups=3))
    request = {"user_pool_id": source.pool_id, "restore_id": "unreadable-chunk"}
    outage = {"on": True}
    _fail_chunk_reads(
        lambda url: (
            _s3_error(403, "AccessDenied", "Access Denied")
            if outage["on"] and url.endswith("users/chunk-000001.json")
            else None
        )
    )

    first = stack.run(request)
    outage["on"] = False

    assert first.status == "FAILED"
    assert "AccessDenied" in [a["message"] for a in stack.alerts() if a["subject"]][-1]
    second = stack.run(request)
    _restored_exactly_once(stack, source, second)


def test_redrive_resumes_at_the_failed_phase_without_redoing_the_rest(stack: RestoreStack, source_cognito: Any) -> None:
    """The sample holds UNCONFIRMED users: the failed restore closes its sign-up window ("Restore failed"),
    and the redrive resumes at "Create user pool", the one phase that reopens it; the phases before it
    are not run again, those after it find their work done."""
    source = make_backup(stack, source_cognito, SamplePoolSpec(users=60, groups=3))

    def crash_on_users(name: str, event: dict) -> None:
        if name == "RestoreUsersFunction" and event["chunk"]["index"] == 1:
            raise LambdaCrash()

    stack.on_invoke(crash_on_users)
    failed = stack.run({"user_pool_id": source.pool_id})
    stack.on_invoke(None)
    assert failed.status == "FAILED" and failed.error == "RestoreFailed"
    assert "States.ExceedToleratedFailureThreshold" in failed.cause
    before = [name for name, _ in stack.invocations]
    # Failed, and not left open to self-registration: the backup's sign-up settings, no temporary client.
    cognito = stack.client("cognito-idp")
    (pool,) = cognito.list_user_pools(MaxResults=60)["UserPools"]
    described = cognito.describe_user_pool(UserPoolId=pool["Id"])["UserPool"]
    backed_up = source.backup["user_pool_config"]
    assert described["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    assert backed_up["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    assert sorted(described.get("AutoVerifiedAttributes", [])) == sorted(backed_up.get("AutoVerifiedAttributes", []))
    clients = cognito.list_user_pool_clients(UserPoolId=pool["Id"], MaxResults=60)["UserPoolClients"]
    assert SIGN_UP_CLIENT_NAME not in {c["ClientName"] for c in clients}

    redriven = stack.wait(stack.redrive(failed.arn))

    _restored_exactly_once(stack, source, redriven)
    again = [name for name, _ in stack.invocations][len(before) :]
    assert redriven.states_entered()[:3] == ["Restore failed", "Resume at the failed phase", "Create user pool"]
    assert "Restore users and memberships" in redriven.states_entered()
    for done_before in ("FindBackupFunction", "PrepareBackupFunction"):
        assert done_before not in again
    assert again.count("RestoreUsersFunction") == 2  # chunk 0 finds its result at once, chunk 1 is restored
    assert any(a["subject"] == "Cognito DR restore resumed: Create user pool" for a in stack.alerts())
    statuses = {u["Username"]: u["UserStatus"] for u in source.backup["users"]}
    listed = {
        u["Username"]: u["UserStatus"]
        for page in cognito.get_paginator("list_users").paginate(UserPoolId=pool["Id"])
        for u in page["Users"]
    }
    assert [n for n, s in statuses.items() if s == "UNCONFIRMED"]
    assert all(listed[n] == "UNCONFIRMED" for n, s in statuses.items() if s == "UNCONFIRMED")
    assert stack.messages_sent(pool["Id"]) == 0


def test_redrive_after_a_failure_before_the_pool_exists(stack: RestoreStack, source_cognito: Any) -> None:
    spec = SamplePoolSpec(users=10, groups=3)
    failed = stack.run({"user_pool_id": "us-east-1_NotYetReplicated"})
    assert failed.status == "FAILED" and failed.error == "BackupNotFound"
    source = make_backup(stack, source_cognito, spec)
    assert source.pool_id != "us-east-1_NotYetReplicated"

    redriven = stack.wait(stack.redrive(failed.arn))

    # Redrive keeps the original input: it looks for that pool again and fails the same way, cleanly.
    assert redriven.status == "FAILED" and redriven.error == "BackupNotFound"
    assert redriven.states_entered()[:3] == ["Restore failed", "Resume at the failed phase", "Find latest backup"]
