"""Idempotent by default: the same input continues the same restore, one execution runs it at a time,
and one invocation works on a chunk at a time. Always: one pool, every user exactly once."""

from __future__ import annotations

import contextvars
import json
import re
from datetime import UTC, datetime
from typing import Any
from unittest import mock

from moto.s3.models import S3Backend

from cognito_restore.ledger import ChunkLease
from tests.workflow.conftest import SourceBackup, make_backup
from tools.emulation import LambdaCrash, RestoreStack
from tools.sample_pool import SamplePoolSpec, write_backup


def _pools(stack: RestoreStack) -> list[dict[str, Any]]:
    return stack.client("cognito-idp").list_user_pools(MaxResults=60)["UserPools"]


def _every_user_once(stack: RestoreStack, source: SourceBackup, pool_id: str) -> None:
    assert [p["Id"] for p in _pools(stack)] == [pool_id]
    cognito = stack.client("cognito-idp")
    usernames = [
        u["Username"]
        for page in cognito.get_paginator("list_users").paginate(UserPoolId=pool_id)
        for u in page["Users"]
    ]
    assert len(usernames) == len(set(usernames)) == len(source.backup["users"])


def _ledger(stack: RestoreStack, restore_id: str) -> dict[str, Any]:
    return stack.client("dynamodb").get_item(
        TableName=stack.outputs["RestoreLedgerTableName"], Key={"restore_id": {"S": restore_id}}
    )["Item"]


def test_the_same_input_started_twice_continues_the_same_restore(stack: RestoreStack, source_cognito: Any) -> None:
    """No restore_id: a re-run after a failure, and a run after success, continue the one restore."""
    source = make_backup(stack, source_cognito, SamplePoolSpec(users=120, groups=3))
    request = {"user_pool_id": source.pool_id}

    def crash_on_last_chunk(name: str, event: dict) -> None:
        if name == "RestoreUsersFunction" and event["chunk"]["index"] == 2:
            raise LambdaCrash()

    stack.on_invoke(crash_on_last_chunk)
    first = stack.run(request)
    stack.on_invoke(None)
    second = stack.run(request)
    third = stack.run(request)

    assert first.status == "FAILED"
    assert second.status == third.status == "SUCCEEDED", (second.error, second.cause)
    restore_id = second.output["restore_id"]
    assert third.output["restore_id"] == restore_id
    assert re.fullmatch(rf"{source.pool_id[:40]}-\d{{8}}T\d{{6}}-[0-9a-f]{{12}}", restore_id)
    assert second.output["new_user_pool_id"] == third.output["new_user_pool_id"]
    _every_user_once(stack, source, second.output["new_user_pool_id"])
    assert second.output["counts"]["users"]["restored"] == 120
    assert _ledger(stack, restore_id)["owner_execution"]["S"] == third.arn


def test_a_new_restore_id_restores_the_same_backup_afresh(stack: RestoreStack, source_cognito: Any) -> None:
    source = make_backup(stack, source_cognito, SamplePoolSpec(users=10, groups=3))

    first = stack.run({"user_pool_id": source.pool_id})
    fresh = stack.run({"user_pool_id": source.pool_id, "restore_id": "fresh-restore"})

    assert first.status == fresh.status == "SUCCEEDED", (fresh.error, fresh.cause)
    assert first.output["new_user_pool_id"] != fresh.output["new_user_pool_id"]
    assert len(_pools(stack)) == 2


def test_the_restore_reads_the_backup_object_its_id_names(stack: RestoreStack, source_cognito: Any) -> None:
    """The key overwritten after the restore chose it (versioned bucket): the chosen version is restored."""
    source = make_backup(stack, source_cognito, SamplePoolSpec(users=20, groups=3))
    bucket = stack.outputs["BackupBucketName"]

    def overwrite_before_preparing(name: str, event: dict) -> None:
        if name == "PrepareBackupFunction":
            stack.client("s3").put_object(Bucket=bucket, Key=source.key, Body=b"{not a backup")

    stack.on_invoke(overwrite_before_preparing)
    result = stack.run({"user_pool_id": source.pool_id})
    stack.on_invoke(None)

    assert result.status == "SUCCEEDED", (result.error, result.cause)
    _every_user_once(stack, source, result.output["new_user_pool_id"])
    versions = stack.client("s3").list_object_versions(Bucket=bucket, Prefix=source.key)["Versions"]
    assert len(versions) == 2
    ledger_version = _ledger(stack, result.output["restore_id"])["backup_version"]["S"]
    assert ledger_version == f"version:{next(v for v in versions if not v['IsLatest'])['VersionId']}"


def test_an_unversioned_backup_overwritten_after_it_was_chosen_is_refused(
    stack: RestoreStack, source_cognito: Any
) -> None:
    """Without versions the ETag pins the object: another object under the key is not restored silently."""
    bucket = stack.outputs["BackupBucketName"]
    stack.client("s3").put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})
    source = make_backup(stack, source_cognito, SamplePoolSpec(users=5, groups=3))
    original = stack.client("s3").get_object(Bucket=bucket, Key=source.key)["Body"].read()

    def overwrite_before_preparing(name: str, event: dict) -> None:
        if name == "PrepareBackupFunction":
            stack.client("s3").put_object(Bucket=bucket, Key=source.key, Body=original + b" ")

    stack.on_invoke(overwrite_before_preparing)
    result = stack.run({"user_pool_id": source.pool_id})
    stack.on_invoke(None)

    assert result.status == "FAILED" and result.error == "RestoreConflict"
    assert "was overwritten after restore" in result.cause
    assert _ledger(stack, _only_restore_id(stack))["backup_version"]["S"].startswith("etag:")
    assert _pools(stack) == []


def _only_restore_id(stack: RestoreStack) -> str:
    items = stack.client("dynamodb").scan(TableName=stack.outputs["RestoreLedgerTableName"])["Items"]
    [restore_id] = [i["restore_id"]["S"] for i in items if "#" not in i["restore_id"]["S"]]
    return restore_id


def test_a_dry_run_has_its_own_restore_id(stack: RestoreStack, source_cognito: Any) -> None:
    source = make_backup(stack, source_cognito, SamplePoolSpec(users=10, groups=3))

    dry = stack.run({"user_pool_id": source.pool_id, "dry_run": True})
    real = stack.run({"user_pool_id": source.pool_id})

    assert dry.status == real.status == "SUCCEEDED", (real.error, real.cause)
    assert dry.output["restore_id"] == real.output["restore_id"] + "-dryrun"


def test_continuing_with_other_options_is_refused_before_anything_is_created(
    stack: RestoreStack, source_cognito: Any
) -> None:
    """preserve_old_sub shapes the pool's schema: the same restore cannot continue with another value."""
    source = make_backup(stack, source_cognito, SamplePoolSpec(users=10, groups=3))
    first = stack.run({"user_pool_id": source.pool_id})

    second = stack.run({"user_pool_id": source.pool_id, "preserve_old_sub": True})

    assert first.status == "SUCCEEDED"
    assert second.status == "FAILED" and second.error == "RestoreConflict"
    assert "preserve_old_sub" in second.cause and "new restore_id" in second.cause
    assert "Create user pool" not in second.states_entered()
    assert len(_pools(stack)) == 1


def test_a_double_click_stops_the_second_execution_before_it_creates_anything(
    stack: RestoreStack, source_cognito: Any
) -> None:
    """The trigger clicked twice: the second execution fails at once, naming the running one; the first completes."""
    source = make_backup(stack, source_cognito, SamplePoolSpec(users=60, groups=3))
    request = {"user_pool_id": source.pool_id}
    second: dict[str, Any] = {}

    def second_click_while_the_first_runs(name: str, event: dict) -> None:
        if name == "CreatePoolFunction" and not second:
            second["arn"] = stack.invoke("StartRestoreFunction", request)["execution_arn"]
            second["result"] = stack.wait(second["arn"])

    stack.on_invoke(second_click_while_the_first_runs)
    first_arn = stack.invoke("StartRestoreFunction", request)["execution_arn"]
    first = stack.wait(first_arn)
    stack.on_invoke(None)

    assert first.status == "SUCCEEDED", (first.error, first.cause)
    late = second["result"]
    assert late.status == "FAILED" and late.error == "RestoreInProgress"
    assert first_arn in late.cause and "new restore_id" in late.cause
    assert "Validate and prepare backup" not in late.states_entered()
    failure_alert = next(a for a in stack.alerts() if a["subject"].startswith("Cognito DR restore FAILED"))
    assert first_arn in failure_alert["message"]
    assert "Nothing was done by this execution" in failure_alert["message"]
    assert [name for name, _ in stack.invocations].count("CreatePoolFunction") == 1
    _every_user_once(stack, source, first.output["new_user_pool_id"])
    assert _ledger(stack, first.output["restore_id"])["owner_execution"]["S"] == first_arn


def test_a_redrive_of_an_execution_taken_over_meanwhile_stops_while_the_other_runs(
    stack: RestoreStack, source_cognito: Any
) -> None:
    """A failed; B (same input) took the restore over; A redriven while B runs: A stops, B completes."""
    source = make_backup(stack, source_cognito, SamplePoolSpec(users=60, groups=3))
    request = {"user_pool_id": source.pool_id}

    def crash_on_users(name: str, event: dict) -> None:
        if name == "RestoreUsersFunction":
            raise LambdaCrash()

    stack.on_invoke(crash_on_users)
    failed = stack.run(request)
    assert failed.status == "FAILED"
    redriven: dict[str, Any] = {}

    def redrive_the_failed_one_while_b_runs(name: str, event: dict) -> None:
        if name == "RestoreUsersFunction" and not redriven:
            redriven["result"] = stack.wait(stack.redrive(failed.arn))

    stack.on_invoke(redrive_the_failed_one_while_b_runs)
    b_arn = stack.start(request)
    b = stack.wait(b_arn)
    stack.on_invoke(None)

    assert b.status == "SUCCEEDED", (b.error, b.cause)
    late = redriven["result"]
    assert late.status == "FAILED" and late.error == "RestoreInProgress" and b_arn in late.cause
    assert "Restore users and memberships" not in late.states_entered()
    _every_user_once(stack, source, b.output["new_user_pool_id"])


def test_a_stale_chunk_invocation_stops_when_a_newer_one_takes_the_chunk_over(
    stack: RestoreStack, source_cognito: Any
) -> None:
    """Step Functions loses track of chunk 0's first invocation (it goes on running, stale) and retries the
    task: the newer invocation takes the lease and finishes the chunk; the stale one stops at its next lease
    check with ChunkLeaseLost, writing no progress; the task's retry finds the chunk finished; no user twice.

    The chunk task restores several users at once (worker threads), so the invocations are told apart by a
    context variable (the workers run in a copy of the invoking thread's context), and the newer invocation
    runs inside the stale one's second lease check: between two Cognito calls, never inside one."""
    source = make_backup(stack, source_cognito, SamplePoolSpec(users=120, groups=3))
    stale: dict[str, Any] = {"checks": 0}
    invocation: contextvars.ContextVar[str] = contextvars.ContextVar("invocation", default="")
    writes_after_overtaking: list[str] = []
    check, put_object = ChunkLease.check, S3Backend.put_object

    def on_chunk_task(name: str, event: dict) -> None:
        if name != "RestoreUsersFunction" or event["chunk"]["index"] != 0:
            return
        if "event" not in stale:
            stale.update(event=event)
            token = invocation.set("stale")
            try:  # the first invocation, running on after Step Functions lost track of it
                stack.invoke("RestoreUsersFunction", event)
            except Exception as error:  # noqa: BLE001 - the stale invocation's own end
                stale["stopped_with"] = type(error).__name__
            finally:
                invocation.reset(token)
            raise LambdaCrash()  # what Step Functions sees of that attempt: it retries the task
        elif "newer" in stale:
            stale["retried"] = True  # the task's retry, after the stale invocation stopped

    def lease_check(lease: ChunkLease) -> None:
        if invocation.get() == "stale" and "newer" not in stale and lease.index == 0:
            stale["checks"] += 1
            if stale["checks"] == 2:  # after its first batch of users: the newer invocation runs to its end
                token = invocation.set("newer")
                try:
                    stale["newer"] = stack.invoke("RestoreUsersFunction", stale["event"])
                finally:
                    invocation.reset(token)
        check(lease)

    def record_put(backend: Any, bucket_name: str, key_name: str, *args: Any, **kwargs: Any) -> Any:
        # Between the newer invocation's end and the task's retry, only the stale one runs on chunk 0.
        if "newer" in stale and "retried" not in stale and "/results/users/chunk-000000" in key_name:
            writes_after_overtaking.append(key_name)
        return put_object(backend, bucket_name, key_name, *args, **kwargs)

    stack.on_invoke(on_chunk_task)
    with (
        mock.patch.object(ChunkLease, "check", lease_check),
        mock.patch.object(S3Backend, "put_object", record_put),
    ):
        result = stack.run({"user_pool_id": source.pool_id})
    stack.on_invoke(None)

    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert stale["newer"]["done"] is True  # its counts are in the chunk result file, checked below
    assert stale["stopped_with"] == "ChunkLeaseLost"
    assert stale["checks"] >= 2 and stale["retried"]
    assert writes_after_overtaking == []  # the stale invocation wrote no progress and no result
    work = stack.client("s3")
    restore_id = result.output["restore_id"]
    chunk = json.loads(
        work.get_object(
            Bucket=stack.outputs["WorkBucketName"], Key=f"restores/{restore_id}/results/users/chunk-000000.json"
        )["Body"].read()
    )
    assert chunk["done"] is True and chunk["restored"] == 50 and not chunk["failed"]
    _every_user_once(stack, source, result.output["new_user_pool_id"])
    assert result.output["counts"]["users"]["restored"] == 120


def _take_over(stack: RestoreStack, restore_id: str, other: str) -> None:
    """Another execution's claim, as Ledger.claim writes it (the next epoch, that execution as owner)."""
    from cognito_restore.ledger import Ledger

    Ledger(stack.outputs["RestoreLedgerTableName"]).claim(restore_id, other, lambda arn: "FAILED")


def test_an_execution_taken_over_before_it_creates_the_pool_creates_none(
    stack: RestoreStack, source_cognito: Any
) -> None:
    """Another execution claims the restore between this one's claim and its CreateUserPool: this one checks
    again right before creating and stops (RestoreInProgress); no pool is created by it."""
    source = make_backup(stack, source_cognito, SamplePoolSpec(users=10, groups=3))
    other = "arn:aws:states:us-west-2:123456789012:execution:cognito-dr-restore-test:other"

    def taken_over_meanwhile(name: str, event: dict) -> None:
        if name == "CreatePoolFunction":
            _take_over(stack, event["state"]["restore"]["restore_id"], other)

    stack.on_invoke(taken_over_meanwhile)
    result = stack.run({"user_pool_id": source.pool_id})
    stack.on_invoke(None)

    assert result.status == "FAILED" and result.error == "RestoreInProgress", (result.error, result.cause)
    assert other in result.cause
    assert _pools(stack) == []


def test_a_chunk_of_an_execution_taken_over_meanwhile_is_not_started(stack: RestoreStack, source_cognito: Any) -> None:
    """The chunk lease is taken in one transaction with a check that this run of this execution still owns
    the restore: once another execution has taken it over, this one's chunks create no user (and a lost
    lease is not retried, so two executions cannot take a chunk in turns)."""
    source = make_backup(stack, source_cognito, SamplePoolSpec(users=60, groups=3))
    other = "arn:aws:states:us-west-2:123456789012:execution:cognito-dr-restore-test:other"
    taken: dict[str, bool] = {}

    def taken_over_before_the_users(name: str, event: dict) -> None:
        if name == "RestoreUsersFunction" and not taken:
            taken["yes"] = True
            _take_over(stack, event["restore"]["restore_id"], other)

    stack.on_invoke(taken_over_before_the_users)
    result = stack.run({"user_pool_id": source.pool_id})
    stack.on_invoke(None)

    assert result.status == "FAILED", (result.error, result.cause)
    [pool] = _pools(stack)
    assert stack.client("cognito-idp").list_users(UserPoolId=pool["Id"])["Users"] == []
    errors = [
        json.loads(stack.client("s3").get_object(Bucket=stack.outputs["WorkBucketName"], Key=key)["Body"].read())
        for key in (
            o["Key"]
            for o in stack.client("s3").list_objects_v2(Bucket=stack.outputs["WorkBucketName"])["Contents"]
            if o["Key"].endswith(".error.json")
        )
    ]
    assert errors and {e["Error"] for e in errors} == {"RestoreInProgress"}


def test_an_unfinished_restore_is_continued_when_a_newer_backup_has_arrived(
    stack: RestoreStack, source_cognito: Any
) -> None:
    """The same input started again after a failure continues the unfinished restore (its backup, its pool),
    even though a newer backup of the pool replicated meanwhile, and says so; once that restore is complete,
    the same input restores the newest backup."""
    source = make_backup(
        stack, source_cognito, SamplePoolSpec(users=60, groups=3), when=datetime(2026, 11, 30, 10, tzinfo=UTC)
    )
    request = {"user_pool_id": source.pool_id}

    def crash_on_users(name: str, event: dict) -> None:
        if name == "RestoreUsersFunction":
            raise LambdaCrash()

    stack.on_invoke(crash_on_users)
    failed = stack.run(request)
    stack.on_invoke(None)
    assert failed.status == "FAILED"
    [first_pool] = _pools(stack)
    newer = write_backup(
        stack.client("s3"),
        stack.outputs["BackupBucketName"],
        source.backup,
        datetime(2026, 11, 30, 11, tzinfo=UTC),
    )

    continued = stack.run(request)

    assert continued.status == "SUCCEEDED", (continued.error, continued.cause)
    assert [p["Id"] for p in _pools(stack)] == [first_pool["Id"]] == [continued.output["new_user_pool_id"]]
    restore_id = continued.output["restore_id"]
    assert _ledger(stack, restore_id)["backup_key"]["S"] == source.key != newer
    started = [a["message"] for a in stack.alerts() if (a["subject"] or "").startswith("Cognito DR restore started")]
    assert f"It continues the unfinished restore {restore_id} of this pool" in started[-1]
    assert "continues the unfinished" not in started[0]
    _every_user_once(stack, source, first_pool["Id"])

    fresh = stack.run(request)  # complete: no longer continued; the newest backup is restored

    assert fresh.status == "SUCCEEDED", (fresh.error, fresh.cause)
    assert fresh.output["restore_id"] != restore_id
    assert _ledger(stack, fresh.output["restore_id"])["backup_key"]["S"] == newer
    assert len(_pools(stack)) == 2
