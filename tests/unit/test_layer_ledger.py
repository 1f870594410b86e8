"""The ledger's claims: one execution per restore id, one invocation per chunk (DynamoDB in moto)."""

from __future__ import annotations

import contextlib
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


@contextlib.contextmanager
def moto_with_ledger_table(monkeypatch: pytest.MonkeyPatch, name: str = TABLE) -> Iterator[None]:
    """moto with test credentials in us-west-2 and an empty ledger table (the layer's clients made afresh)."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-west-2")
    for variable in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(variable, "testing")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws():
        aws.client.cache_clear()
        boto3.client("dynamodb").create_table(
            TableName=name,
            AttributeDefinitions=[{"AttributeName": "restore_id", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "restore_id", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
        )
        yield
    aws.client.cache_clear()


@pytest.fixture
def table(monkeypatch: pytest.MonkeyPatch) -> Iterator[Ledger]:
    with moto_with_ledger_table(monkeypatch):
        book = Ledger(TABLE)
        book.open("r1", "us-east-1_Abc", "bucket", "key", "etag:1", {"preserve_old_sub": False})
        yield book


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


def test_a_stale_reader_cannot_take_over_a_restore_its_owner_claimed_again_on_a_redrive(table: Ledger) -> None:
    """B reads "owner A, FAILED"; A is redriven and claims again; B's write must fail, or both would run."""
    assert table.claim("r1", A, statuses()) == 1
    real_get = Ledger.get
    raced = {"done": False}

    def get_then_redrive(self: Ledger, restore_id: str) -> Any:
        entry = real_get(self, restore_id)
        if not raced["done"]:  # B has read the entry; A's redrive claims before B writes
            raced["done"] = True
            assert Ledger(TABLE).claim("r1", A, statuses(), redrive_count=1) == 2
        return entry

    with mock.patch.object(Ledger, "get", get_then_redrive), pytest.raises(RestoreInProgress, match=A):
        table.claim("r1", B, statuses(**{A: "RUNNING"}))  # B read A as FAILED; when it re-reads, A runs again
    entry = table.get("r1")
    assert (entry.owner_execution, entry.owner_redrive, entry.claim_epoch) == (A, 1, 2)


def test_every_claim_increments_the_epoch_and_names_the_owning_run(table: Ledger) -> None:
    assert table.claim("r1", A, statuses()) == 1
    assert table.claim("r1", A, statuses(), redrive_count=1) == 2  # the owner's own re-claim writes too
    table.check_owner("r1", A, 1)
    with pytest.raises(RestoreInProgress):
        table.check_owner("r1", A, 0)  # the run before the redrive no longer owns it
    assert table.claim("r1", B, statuses(**{A: "FAILED"})) == 3
    with pytest.raises(RestoreInProgress, match=B):
        table.check_owner("r1", A, 1)


def test_a_chunk_lease_is_taken_only_while_the_execution_owns_the_restore(table: Ledger) -> None:
    table.claim("r1", A, statuses())
    ChunkLease(TABLE, "r1", "users", 0, "request-1").acquire(900_000, (A, 0))
    table.claim("r1", B, statuses(**{A: "FAILED"}))
    with pytest.raises(RestoreInProgress, match="taken over"):
        ChunkLease(TABLE, "r1", "users", 1, "request-2").acquire(900_000, (A, 0))
    with pytest.raises(ChunkLeaseHeld):  # B's own invocation: the lease condition still applies
        ChunkLease(TABLE, "r1", "users", 0, "request-3").acquire(1_000, (B, 0))
    ChunkLease(TABLE, "r1", "users", 1, "request-4").acquire(900_000, (B, 0))


def test_the_source_pointer_names_the_unfinished_restore_until_it_completes(table: Ledger) -> None:
    assert table.open_restore_of("us-east-1_Abc") == (None, None)
    assert table.point_source("us-east-1_Abc", "r1", None)
    table.claim("r1", A, statuses())
    pointed, entry = table.open_restore_of("us-east-1_Abc")
    assert pointed == "r1" and entry is not None and entry.restore_id == "r1"
    assert not table.point_source("us-east-1_Abc", "r2", None)  # another start named one meanwhile
    table.complete("r1", "us-east-1_Abc")
    assert table.get("r1").completed
    assert table.open_restore_of("us-east-1_Abc") == (None, None)
    assert table.point_source("us-east-1_Abc", "r2", None)
    table.claim("r1", B, statuses(**{A: "SUCCEEDED"}))  # a completed restore started again is open again
    assert not table.get("r1").completed
    table.complete("r1", "us-east-1_Abc")  # completes: r2, opened since, stays the pool's unfinished one
    assert table.open_restore_of("us-east-1_Abc")[0] == "r2"
