"""The "Restore failed" task re-raises the original error under a name Step Functions accepts."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

_SPEC = importlib.util.spec_from_file_location(
    "fail_restore_app", Path(__file__).parents[2] / "functions" / "fail_restore" / "app.py"
)
assert _SPEC and _SPEC.loader
fail_restore = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(fail_restore)


def test_an_error_of_the_restore_keeps_its_name() -> None:
    error = fail_restore.original_error("BackupInvalid", "Validate and prepare backup: truncated")
    assert type(error).__name__ == "BackupInvalid"
    assert str(error) == "Validate and prepare backup: truncated"


@pytest.mark.parametrize(
    "name", ["States.ExceedToleratedFailureThreshold", "Lambda.ServiceException", "Sandbox.Timedout"]
)
def test_reserved_and_lambda_names_become_restore_failed_with_the_name_in_the_cause(name: str) -> None:
    # A Lambda.* name re-raised here would be retried by this task's own Lambda retrier.
    error = fail_restore.original_error(name, "Restore users and memberships: boom")
    assert type(error).__name__ == "RestoreFailed"
    assert str(error).startswith(f"{name}: ")


# ---------------------------------------------------------------- the sign-up window of a failed restore

STATE = {
    "restore": {"restore_id": "r1", "source_pool_id": "us-east-1_Source01"},
    "plan": {"status_counts": {"UNCONFIRMED": 3, "CONFIRMED": 10}},
    "pool": {"id": "us-west-2_New00001", "region": "us-west-2", "sign_up_client_id": "c1"},
}


@pytest.mark.parametrize(
    "state, phase, closes",
    [
        (STATE, "Restore users and memberships", True),
        (STATE, "Restore groups", True),
        (STATE, "Attach Lambda triggers", True),
        ({**STATE, "lambda_triggers": {}}, "Restore users and memberships", False),  # closed with the triggers
        (STATE, "Verify restored pool", False),
        ({**STATE, "plan": {"status_counts": {"CONFIRMED": 10}}, "pool": {"id": "p"}}, "Restore groups", False),
        ({**STATE, "restore": {**STATE["restore"], "mode": "sync", "target_pool_id": "p"}}, "Restore groups", False),
    ],
)
def test_the_window_is_closed_only_when_the_failed_phase_ran_with_it_open(state, phase, closes) -> None:
    assert fail_restore._window_was_open(state, phase) is closes


def test_a_window_that_cannot_be_closed_is_alerted_with_the_manual_step(monkeypatch: pytest.MonkeyPatch) -> None:
    from botocore.exceptions import ClientError

    published: list[dict] = []

    class Sns:
        def publish(self, **request: str) -> None:
            published.append(request)

    def refuse(*_args: object) -> None:
        raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "UpdateUserPool")

    monkeypatch.setenv("ALERT_TOPIC_ARN", "arn:aws:sns:us-west-2:123456789012:alerts")
    monkeypatch.setattr(fail_restore, "close_window_of", refuse)
    monkeypatch.setattr(fail_restore.aws, "client", lambda service: Sns())
    fail_restore._close_sign_up_window(STATE)
    (alert,) = published
    assert alert["Subject"] == "Cognito DR restore: close the sign-up window by hand"
    assert "us-west-2_New00001" in alert["Message"] and "AccessDeniedException" in alert["Message"]
    assert "cognito-dr-restore-sign-up" in alert["Message"]
