"""The one execution input schema (trigger, CLI, drill, first phase)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cognito_restore.errors import InvalidInput
from cognito_restore.execution_input import RestoreRequest, check_target_region, derived_restore_id

POOL = "us-east-1_AbCdEf123"
KEY = f"cognito-backup/2026/11/30/{POOL}-120000.json"


def test_every_option_is_kept() -> None:
    value = {
        "user_pool_id": POOL,
        "backup_key": KEY,
        "dry_run": True,
        "restore_id": "drill-1",
        "arn_map": {"us-east-1": "us-west-2"},
        "keep_client_secrets": False,
        "preserve_old_sub": True,
    }
    request = RestoreRequest.parse(value)
    assert request.to_input() == value
    assert request.options() == {"keep_client_secrets": False, "preserve_old_sub": True, "mode": "restore"}


TARGET = "us-west-2_Target9"


def test_sync_options_are_kept() -> None:
    value = {
        "user_pool_id": POOL,
        "mode": "sync",
        "target_user_pool_id": TARGET,
        "delete_missing": True,
        "max_deletes": 25,
    }
    request = RestoreRequest.parse(value)
    assert request.sync and request.to_input() == value
    # the cap is no part of the restore's identity: a re-run may raise it
    assert request.options() == {
        "keep_client_secrets": True,
        "preserve_old_sub": False,
        "mode": "sync",
        "target_user_pool_id": TARGET,
    }
    assert RestoreRequest.parse({"user_pool_id": POOL, "mode": "sync", "target_user_pool_id": TARGET}).max_deletes == 0


def test_a_sync_of_a_backup_has_its_own_id_per_target() -> None:
    taken = datetime(2026, 11, 30, 12, tzinfo=UTC)
    restore = derived_restore_id(POOL, KEY, "version:v1", taken, dry_run=False)
    sync = derived_restore_id(POOL, KEY, "version:v1", taken, dry_run=False, target_pool_id=TARGET)
    assert sync != restore
    assert sync != derived_restore_id(POOL, KEY, "version:v1", taken, dry_run=False, target_pool_id=TARGET + "x")
    assert derived_restore_id(POOL, KEY, "version:v1", taken, dry_run=True, target_pool_id=TARGET) == sync + "-dryrun"


def test_the_target_must_be_in_the_stack_region() -> None:
    check_target_region(TARGET, "us-west-2")
    with pytest.raises(InvalidInput, match="is not in eu-west-1"):
        check_target_region(TARGET, "eu-west-1")


SYNC = {"user_pool_id": POOL, "mode": "sync", "target_user_pool_id": TARGET}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"user_pool_id": POOL, "mode": "merge"}, 'mode must be "restore"'),
        ({"user_pool_id": POOL, "mode": "sync"}, "mode sync needs target_user_pool_id"),
        ({**SYNC, "target_user_pool_id": "not a pool"}, "mode sync needs target_user_pool_id"),
        ({"user_pool_id": POOL, "target_user_pool_id": TARGET}, "target_user_pool_id only with mode sync"),
        ({"user_pool_id": POOL, "delete_missing": False}, "delete_missing only with mode sync"),
        ({**SYNC, "delete_missing": "yes", "max_deletes": 1}, "delete_missing must be true or false"),
        ({**SYNC, "delete_missing": True}, "delete_missing true needs max_deletes"),
        ({**SYNC, "delete_missing": True, "max_deletes": -1}, "max_deletes must be a whole number >= 0"),
        ({**SYNC, "delete_missing": True, "max_deletes": True}, "max_deletes must be a whole number >= 0"),
        ({**SYNC, "delete_missing": True, "max_deletes": 1.5}, "max_deletes must be a whole number >= 0"),
        ({**SYNC, "max_deletes": 3}, "max_deletes above 0 only with delete_missing true"),
    ],
)
def test_bad_sync_input_is_a_clear_error(value: object, message: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        RestoreRequest.parse(value)
    assert message in str(refused.value)


def test_defaults_are_left_out_of_the_input() -> None:
    assert RestoreRequest.parse({"user_pool_id": POOL, "dry_run": False}).to_input() == {"user_pool_id": POOL}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"user_pool_id": POOL, "arn-map": {}}, "unknown key(s) 'arn-map'"),
        ({"user_pool_id": POOL, "jane@example.com": 1}, "unknown key(s) (a key not shown)"),
        ({"user_pool_id": POOL, "dry_run": "true"}, "dry_run must be true or false"),
        ({"user_pool_id": POOL, "preserve_old_sub": 1}, "preserve_old_sub must be true or false"),
        ({"user_pool_id": POOL, "restore_id": "a b"}, "restore_id must be 1-80 letters"),
        ({"user_pool_id": POOL, "backup_key": "x.json"}, "backup_key must be a backup object key"),
        ({"user_pool_id": POOL, "backup_key": KEY.replace(POOL, "us-east-1_Other1")}, "is not a backup of pool"),
        ({"user_pool_id": POOL, "arn_map": ["x"]}, "arn_map must map strings to strings"),
        ({"pool": POOL}, "user_pool_id must be the source user pool id"),
        ([POOL], "must be a JSON object"),
    ],
)
def test_bad_input_is_a_clear_error(value: object, message: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        RestoreRequest.parse(value)
    assert message in str(refused.value)
    assert "jane" not in str(refused.value)


def test_every_problem_is_named_at_once() -> None:
    with pytest.raises(InvalidInput) as refused:
        RestoreRequest.parse({"user_pool_id": POOL, "dry_run": "no", "extra": 1})
    assert "unknown key(s) 'extra'" in str(refused.value) and "dry_run must be" in str(refused.value)


def test_the_derived_restore_id_names_the_backup_object() -> None:
    taken = datetime(2026, 11, 30, 12, tzinfo=UTC)
    same = derived_restore_id(POOL, KEY, "version:v1", taken, dry_run=False)
    assert same == derived_restore_id(POOL, KEY, "version:v1", taken, dry_run=False)
    assert same.startswith(f"{POOL}-20261130T120000-")
    assert derived_restore_id(POOL, KEY, "version:v2", taken, dry_run=False) != same  # the backup overwritten
    assert derived_restore_id(POOL, KEY, "version:v1", taken, dry_run=True) == same + "-dryrun"
    longest = derived_restore_id("x" * 40 + "_" + "Y" * 14, KEY, "etag:e", taken, dry_run=True)
    assert RestoreRequest.parse({"user_pool_id": POOL, "restore_id": longest}).restore_id == longest
