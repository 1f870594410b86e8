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
