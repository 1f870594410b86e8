"""cognito_restore.verification: exact per-chunk accounting and the complete / incomplete decision."""

from __future__ import annotations

from cognito_restore.discovery import backup_time
from cognito_restore.verification import (
    LIST_LIMIT,
    UNACCOUNTED,
    account_users,
    caused_by_backup,
    decide,
    listable,
)

MANIFEST = [{"index": 0, "key": "c0", "count": 2}, {"index": 1, "key": "c1", "count": 3}]
CHUNKS = {"c0": ["ada", "grace"], "c1": ["alan", "edsger", "barbara"]}


def _result(restored: list[str], failed: list[str] = ()) -> dict:
    return {
        "done": True,
        "restored": len(restored),
        "ids": [{"old_username": u, "new_username": u, "old_sub": "s", "new_sub": "n"} for u in restored],
        "failed": [{"item": u, "reason": "InvalidParameterException: bad"} for u in failed],
    }


def _account(results: dict[int, dict | None]):
    return account_users(MANIFEST, results.get, lambda chunk: CHUNKS[chunk["key"]])


def test_every_chunk_with_its_result_accounts_for_every_user() -> None:
    accounting = _account({0: _result(["ada", "grace"]), 1: _result(["alan", "edsger"], ["barbara"])})
    assert accounting.planned == 5 and accounting.accounted == 5
    assert accounting.unaccounted == [] and accounting.unfinished_chunks == []
    assert accounting.restored_usernames == {"ada": 0, "grace": 0, "alan": 1, "edsger": 1}  # new username -> chunk


def test_a_chunk_without_its_result_file_leaves_its_users_unaccounted_by_name() -> None:
    accounting = _account({0: _result(["ada", "grace"])})
    assert accounting.unfinished_chunks == [1]
    assert [u["item"] for u in accounting.unaccounted] == ["alan", "edsger", "barbara"]
    assert {u["reason"] for u in accounting.unaccounted} == {UNACCOUNTED}


def test_a_result_naming_fewer_users_than_its_chunk_leaves_the_others_unaccounted() -> None:
    accounting = _account({0: _result(["ada", "grace"]), 1: _result(["alan"])})
    assert [u["item"] for u in accounting.unaccounted] == ["edsger", "barbara"]
    assert accounting.accounted == 3
    assert accounting.partial_chunks == [1]  # its result file must be invalidated, or a re-run returns at once


def test_decide() -> None:
    ok = {"groups": {"expected": 2, "found": 2, "ok": True}}
    assert decide(ok, 0, 0, 0, 0, "listed").status == "complete"
    assert decide(ok, 0, 0, 0, 3, "listed").status == "complete_with_unrestorable"
    lost = decide(ok, 30, 2, 0, 3, "listed")
    assert lost.status == "incomplete" and lost.missing == {"users": 32}
    short = decide({"groups": {"expected": 2, "found": 1, "ok": False}}, 0, 0, 0, 0, "listed")
    assert short.status == "incomplete" and short.missing == {"groups": 1}
    assert decide(ok, 0, 0, 1, 0, "listed").missing == {"failed_for_a_transient_cause": 1}
    assert decide(ok, 0, 0, 0, 0, "listed", unreported={"memberships": 4}).missing == {"memberships": 4}
    # More found than expected is no loss.
    assert decide({"users": {"expected": 2, "found": 3, "ok": False}}, 0, 0, 0, 0, "listed").status == "complete"


def test_only_data_errors_make_an_item_unrestorable() -> None:
    assert caused_by_backup({"item": "a", "reason": "InvalidParameterException: attribute too long"})
    assert not caused_by_backup({"item": "a", "reason": "ResourceNotFoundException: pool does not exist"})


def test_listing_limit_counts_users_and_memberships() -> None:
    assert listable(1000, 2000)
    assert not listable(LIST_LIMIT, 1)


def test_backup_time_is_always_a_string() -> None:
    key = "cognito-backup/2026/11/30/us-east-1_AbCdEf123-091500.json"
    assert backup_time("2026-11-30T09:15:02+00:00", key) == "2026-11-30T09:15:02+00:00"
    assert backup_time(None, key) == "2026-11-30T09:15:00Z (from the backup key)"
    assert backup_time("", "elsewhere/backup.json") == "unknown (the backup has no timestamp)"
