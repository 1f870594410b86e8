"""The operator CLI against the emulated DR Region (boto3 goes to the emulation like to AWS)."""

from __future__ import annotations

from typing import Any

from click.testing import CliRunner

from tests.workflow.conftest import make_backup
from tools.emulation import RestoreStack
from tools.restore import main
from tools.sample_pool import SamplePoolSpec


def test_start_follows_the_phases_and_prints_the_summary(
    stack: RestoreStack, source_cognito: Any, monkeypatch: Any
) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", stack.region)
    source = make_backup(stack, source_cognito, SamplePoolSpec(users=15, groups=3))

    result = CliRunner().invoke(
        main,
        [
            "start",
            "--state-machine-arn",
            stack.state_machine_arn(),
            "--pool-id",
            source.pool_id,
            "--restore-id",
            "cli-test",
            "--poll-interval",
            "0",
        ],
    )

    assert result.exit_code == 0, result.output
    assert "Restore id: cli-test" in result.output
    assert "> Create user pool" in result.output and "ok Verify restored pool" in result.output
    assert "SUCCEEDED" in result.output and "New user pool: us-west-2_" in result.output


def test_start_needs_a_stack_or_a_state_machine() -> None:
    result = CliRunner().invoke(main, ["start", "--pool-id", "us-east-1_Abc"])

    assert result.exit_code != 0
    assert "give --stack or --state-machine-arn" in result.output
