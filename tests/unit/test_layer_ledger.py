"""The ledger's claims: one execution per restore id, one invocation per chunk (DynamoDB in moto)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from unittest import mock

import boto3
import pytest
from moto import mock_aws

from cognito_restore import aws, ledger
from cognito_restore.errors import ChunkLeaseHeld, ChunkLeaseLost, RestoreConflict, RestoreInProgress
from cognito_restore.ledger import ChunkLease, Ledger

TABLE = "ledger"
A = "arn:aws:states:us-west-2:123456789012:execution:cognito-dr-restore-test:a"
B = "arn:aws:states:us-west-2:123456789012:execution:cognito-dr-restore-test:b"


@pytest.fixture
def table(monkeypatch: pytest.MonkeyPatch) -> Iterator[Ledger]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-west-2")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws():
        aws.client.cache_clear()
        boto3.client("dynamodb").create_table(
            TableName=TABLE,
            AttributeDefinitions=[{"AttributeName": "restore_id", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "restore_id", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
        )
        book = Ledger(TABLE)
        book.open("r1", "us-east-1_Abc", "bucket", "key", "etag:1", {"preserve_old_sub": False})
        yield book
    aws.client.cache_clear()


def statuses(**by_arn: str | None) -> Any:
    return lambda arn: by_arn[arn]


def test_the_first_claim_wins_and_a_second_execution_is_refused_while_it_runs(table: Ledger) -> None:
    table.claim("r1", A, statuses())
    with pytest.raises(RestoreInProgress, match=f"already being run by execution {A}"):
        table.claim("r1", B, statuses(**{A: "RUNNING"}))
    table.claim("r1", A, statuses())  # the owner (or its redrive: same ARN) claims again
    assert table.get("r1").owner_execution == A


@pytest.mark.parametrize("status", ["FAILED", "SUCCEEDED", "ABORTED", "TIMED_OUT"])
def test_a_finished_owner_is_taken_over(table: Ledger, status: str) -> None:
    table.claim("r1", A, statuses())
    table.claim("r1", B, statuses(**{A: status}))
    assert table.get("r1").owner_execution == B


def test_a_redrive_pending_owner_still_counts_as_running(table: Ledger) -> None:
    table.claim("r1", A, statuses())
    with pytest.raises(RestoreInProgress):
        table.claim("r1", B, statuses(**{A: "PENDING_REDRIVE"}))


def test_an_owner_step_functions_does_not_know_yet_counts_as_running_for_a_while(table: Ledger) -> None:
    """DescribeExecution is eventually consistent: a fresh claim not found yet is not taken over."""
    table.claim("r1", A, statuses())
    with pytest.raises(RestoreInProgress):
        table.claim("r1", B, statuses(**{A: None}))
    with mock.patch.object(ledger.time, "time", return_value=table.get("r1").owned_since + 601):
        table.claim("r1", B, statuses(**{A: None}))  # gone for good (history kept 90 days)
    assert table.get("r1").owner_execution == B


def test_of_two_takeovers_at_once_one_wins_and_the_other_sees_it_running(table: Ledger) -> None:
    table.claim("r1", A, statuses())
    c = A.replace(":a", ":c")
    real_get = Ledger.get
    stale_reads = {"left": 1}

    def get_then_race(self: Ledger, restore_id: str) -> Any:
        entry = real_get(self, restore_id)
        if stale_reads["left"]:  # C read the entry; B takes over before C writes
            stale_reads["left"] -= 1
            Ledger(TABLE).claim("r1", B, statuses(**{A: "FAILED"}))
        return entry

    with mock.patch.object(Ledger, "get", get_then_race), pytest.raises(RestoreInProgress, match=B):
        table.claim("r1", c, statuses(**{A: "FAILED", B: "RUNNING"}))
    assert table.get("r1").owner_execution == B


def test_other_options_on_the_same_restore_id_are_a_conflict(table: Ledger) -> None:
    with pytest.raises(RestoreConflict, match="preserve_old_sub"):
        table.open("r1", "us-east-1_Abc", "bucket", "key", "etag:1", {"preserve_old_sub": True})
    assert table.open("r1", "us-east-1_Abc", "bucket", "key", options={"preserve_old_sub": False}).backup_key == "key"


def test_a_newer_invocation_takes_the_chunk_lease_and_the_older_one_stops(table: Ledger) -> None:
    older = ChunkLease(TABLE, "r1", "users", 3, "request-1")
    older.acquire(remaining_ms=900_000)
    older.check()
    newer = ChunkLease(TABLE, "r1", "users", 3, "request-2")
    with mock.patch.object(ledger.time, "time", return_value=ledger.time.time() + 5):  # started 5 s later
        newer.acquire(remaining_ms=900_000)
    newer.check()
    with pytest.raises(ChunkLeaseLost, match="chunk 3"):
        older.check()
    with pytest.raises(ChunkLeaseHeld):  # the older one cannot take it back: the newer one outlives it
        older.acquire(remaining_ms=10_000)
    ChunkLease(TABLE, "r1", "users", 4, "request-1").acquire(remaining_ms=1_000)  # other chunks: own leases
    assert table.get("r1").owner_execution is None  # lease items live beside the restore's entry
