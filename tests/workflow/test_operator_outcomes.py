"""Incident day: live progress, a real plan, loud partial loss, one-line answers instead of tracebacks.

The drill and the operator CLI exit 0 when complete, 3 when complete with named items not restored,
4 when failed or incomplete, 2 for a bad option, input or environment (before anything starts).
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from click.testing import CliRunner
from moto import mock_aws
from rich.console import Console

from tools import drill, restore
from tools.drill import DrillOptions, run_drill
from tools.progress import EXIT_COMPLETE_WITH_SKIPS, EXIT_USAGE, Snapshot
from tools.sample_pool import SamplePoolSpec, build_source_pool, export_backup

SECRET_LOOKING = "hunter2-not-for-the-terminal"


@pytest.fixture
def no_aws_environment(monkeypatch: Any, tmp_path: Path) -> None:
    """No Region, credentials or profile anywhere boto3 looks (and no instance metadata to wait for)."""
    for name in (
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


def _one_line(result: Any) -> str:
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert "Traceback" not in result.output
    return lines[0]


START = ["start", "--state-machine-arn", "arn:aws:states:us-west-2:123456789012:stateMachine:x", "--pool-id"]


def test_cli_without_region_says_so_in_one_line(no_aws_environment: None, monkeypatch: Any) -> None:
    monkeypatch.setenv("AWS_REGION", "us-west-2")  # boto3 does not read it: the message says so

    result = CliRunner().invoke(restore.main, [*START, "us-east-1_AbCdEf123"])

    assert result.exit_code == EXIT_USAGE
    line = _one_line(result)
    assert "No AWS Region" in line and "--region" in line and "AWS_REGION" in line


def test_cli_without_credentials_says_so_in_one_line(no_aws_environment: None) -> None:
    result = CliRunner().invoke(restore.main, [*START, "us-east-1_AbCdEf123", "--region", "us-west-2"])

    assert result.exit_code == EXIT_USAGE
    assert "No AWS credentials" in _one_line(result)


def test_cli_with_an_unknown_profile_says_so_in_one_line(no_aws_environment: None) -> None:
    result = CliRunner().invoke(
        restore.main, [*START, "us-east-1_AbCdEf123", "--region", "us-west-2", "--profile", "nope"]
    )

    assert result.exit_code == EXIT_USAGE
    assert "profile 'nope'" in _one_line(result)


def test_cli_watch_without_region_says_so_in_one_line(no_aws_environment: None) -> None:
    result = CliRunner().invoke(restore.main, ["watch", "arn:aws:states:us-west-2:1:execution:x:y"])

    assert result.exit_code == EXIT_USAGE
    assert "No AWS Region" in _one_line(result)


def test_cli_bad_input_and_bad_arn_map_in_one_line(no_aws_environment: None, tmp_path: Path) -> None:
    bad_pool = CliRunner().invoke(restore.main, [*START, "not-a-pool"])
    assert bad_pool.exit_code == EXIT_USAGE and "user_pool_id must be" in _one_line(bad_pool)

    arn_map = tmp_path / "map.json"
    arn_map.write_text(f"{{ {SECRET_LOOKING}")
    bad_map = CliRunner().invoke(restore.main, [*START, "us-east-1_AbCdEf123", "--arn-map", str(arn_map)])
    assert bad_map.exit_code == EXIT_USAGE and "--arn-map" in _one_line(bad_map)
    assert SECRET_LOOKING not in bad_map.output


@pytest.fixture
def no_emulator(monkeypatch: Any) -> None:
    """Option and file errors must be found before the emulated stack starts."""

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the emulator was started")

    monkeypatch.setattr("tools.emulation.RestoreStack.__init__", refuse)


@pytest.mark.parametrize(
    "args,expected",
    [
        (["--users", "0"], "--users"),
        (["--chunk-size", "0"], "--chunk-size"),
        (["--users", "1", "--groups", "4"], "groups must be <= 3 * users"),
        (["--restore-id", "has spaces"], "restore_id must be"),
    ],
)
def test_drill_bad_numbers_and_options_in_one_line(no_emulator: None, args: list[str], expected: str) -> None:
    result = CliRunner().invoke(drill.main, args)

    assert result.exit_code == EXIT_USAGE
    assert expected in _one_line(result)


@pytest.mark.parametrize(
    "content,expected",
    [
        (b"", "is empty"),
        (f'{{"user_pool_id": "{SECRET_LOOKING}", '.encode(), "not valid JSON"),
        (f"{SECRET_LOOKING} plain text".encode(), "not valid JSON"),
        (json.dumps([SECRET_LOOKING]).encode(), "not a JSON object"),
        (json.dumps({"users": [SECRET_LOOKING]}).encode(), "has no user_pool_id"),
    ],
)
def test_drill_bad_backup_file_in_one_line_never_quoting_it(
    no_emulator: None, tmp_path: Path, content: bytes, expected: str
) -> None:
    path = tmp_path / "backup.json"
    path.write_bytes(content)

    result = CliRunner().invoke(drill.main, ["--backup", str(path)])

    assert result.exit_code == EXIT_USAGE
    assert expected in _one_line(result)
    assert SECRET_LOOKING not in result.output


def test_drill_dry_run_prints_a_plan_with_an_estimate(tmp_path: Path) -> None:
    result = CliRunner().invoke(drill.main, ["--users", "40", "--dry-run", "--out", str(tmp_path / "out")])

    assert result.exit_code == 0, result.output
    assert "Restore plan (dry run: nothing was created)" in result.output
    assert "would create" in result.output
    assert "Estimated duration: about" in result.output
    lowered = result.output.lower()
    assert "failed" not in lowered and "verification" not in lowered and "unaccounted" not in lowered
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["plan"]["categories"]["users"] == {"backup": 40, "would_create": 40, "would_skip": 0}


def test_drill_with_a_duplicate_user_exits_complete_with_skips_and_names_it(tmp_path: Path) -> None:
    with mock_aws():
        cognito = boto3.client("cognito-idp", region_name="us-east-1")
        pool = build_source_pool(cognito, SamplePoolSpec(users=12, groups=3))
        backup = export_backup(cognito, pool.pool_id)
    duplicate = backup["users"][3]
    backup["users"].append(duplicate)
    path = tmp_path / "backup.json"
    path.write_text(json.dumps(backup, default=str))

    result = CliRunner().invoke(drill.main, ["--backup", str(path), "--out", str(tmp_path / "out")])

    assert result.exit_code == EXIT_COMPLETE_WITH_SKIPS, result.output
    assert f"users skipped: {duplicate['Username']}: listed twice in the backup" in result.output
    assert "complete_with_skips" in result.output

    as_json = CliRunner(mix_stderr=False).invoke(
        drill.main, ["--backup", str(path), "--out", str(tmp_path / "out2"), "--output", "json"]
    )
    assert as_json.exit_code == EXIT_COMPLETE_WITH_SKIPS
    document = json.loads(as_json.stdout)
    assert document["outcome"] == "complete_with_skips"
    assert f"users skipped: {duplicate['Username']}: listed twice in the backup" in document["not_restored"]


def test_drill_of_2000_users_shows_users_progress_with_rate_and_eta(tmp_path: Path) -> None:
    snapshots: list[Snapshot] = []
    terminal = io.StringIO()

    code = run_drill(
        DrillOptions(users=2000, groups=3, chunk_size=50, out=tmp_path / "out", poll_interval=0.05),
        Console(file=terminal, width=160),
        on_snapshot=snapshots.append,
    )

    assert code == 0, terminal.getvalue()
    users = [
        s for s in snapshots if s.users_total == 2000 and any(p.name.startswith("Restore users") for p in s.phases)
    ]
    done = [s.users_done for s in users]
    assert done == sorted(done), "progress never goes back"
    during = sorted({d for d in done if 0 < d < 2000})
    assert len(during) >= 3, f"the users bar must advance while the phase runs: {during}"
    assert done[-1] == 2000
    moving = [s for s in users if s.rate and s.eta_seconds is not None and 0 < s.users_done < 2000]
    assert moving, "a rate and an ETA while users are restored"
    assert all(s.rate_bound and s.rate_bound > 0 for s in moving)  # the quota bound the rate is compared with
    # preparation: 40 chunk files of 50, or 41 when the users who can sign in (first) and the others
    # each end in a partial one
    assert any(s.chunks_written in (40, 41) for s in users)
    assert "Users restored" in terminal.getvalue() and "users/s" in terminal.getvalue()


def test_cli_failed_phase_shows_the_failure_alert_not_raw_errors_and_never_ok(stack: Any, monkeypatch: Any) -> None:
    from datetime import UTC, datetime

    from tests.workflow.conftest import put_raw_backup
    from tools.sample_pool import backup_key

    monkeypatch.setenv("AWS_DEFAULT_REGION", stack.region)
    pool_id = "us-east-1_AbCdEf123"
    put_raw_backup(stack, backup_key(pool_id, datetime.now(UTC)), f'{{"user_pool_id": "{SECRET_LOOKING}'.encode())

    result = CliRunner().invoke(
        restore.main,
        ["start", "--state-machine-arn", stack.state_machine_arn(), "--pool-id", pool_id, "--poll-interval", "0"],
    )

    assert result.exit_code == 4, result.output
    assert "FAILED Validate and prepare backup" in result.output
    assert "ok Validate and prepare backup" not in result.output
    assert "Cognito DR restore FAILED in phase 'Validate and prepare backup'" in result.output
    assert "redrive this execution" in result.output  # how to continue
    assert '"errorMessage"' not in result.output and '"Payload"' not in result.output  # no raw Lambda JSON
    assert SECRET_LOOKING not in result.output


def test_drill_passes_every_execution_input_option(tmp_path: Path) -> None:
    arn_map = tmp_path / "arn-map.json"
    arn_map.write_text(json.dumps({"us-east-1": "us-west-2"}))

    result = CliRunner(mix_stderr=False).invoke(
        drill.main,
        [
            "--users",
            "10",
            "--restore-id",
            "drill-options",
            "--arn-map",
            str(arn_map),
            "--preserve-old-sub",
            "--new-client-secrets",
            "--output",
            "json",
            "--out",
            str(tmp_path / "out"),
        ],
    )

    assert result.exit_code == 0, result.output + result.stderr
    document = json.loads(result.stdout)
    assert document["outcome"] == "complete" and document["output"]["restore_id"] == "drill-options"
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["restore_id"] == "drill-options"
    notes = " ".join(n["note"] for n in report["categories"]["app_clients"]["notes"])
    assert "new" in notes.lower() and "secret" in notes.lower()  # --new-client-secrets reached the clients phase


def test_save_backup_writes_a_producer_format_file_the_drill_restores(no_emulator: None, tmp_path: Path) -> None:
    path = tmp_path / "sample-backup.json"

    result = CliRunner().invoke(drill.main, ["--save-backup", str(path), "--users", "7"])

    assert result.exit_code == 0, result.output
    backup = json.loads(path.read_text())
    assert len(backup["users"]) == 7 and backup["user_pool_id"].startswith("us-east-1_")
    assert {"user_pool_config", "app_clients", "groups", "group_memberships"} <= set(backup)
    assert drill.backup_pool_id(path) == backup["user_pool_id"]


def test_cli_watch_output_json_for_scripts(stack: Any, source_cognito: Any, monkeypatch: Any) -> None:
    from tests.workflow.conftest import make_backup

    monkeypatch.setenv("AWS_DEFAULT_REGION", stack.region)
    source = make_backup(stack, source_cognito, SamplePoolSpec(users=8, groups=3))
    finished = stack.run({"user_pool_id": source.pool_id})

    result = CliRunner(mix_stderr=False).invoke(
        restore.main, ["watch", finished.arn, "--output", "json", "--poll-interval", "0"]
    )

    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["status"] == "SUCCEEDED" and document["outcome"] == "complete" and document["exit_code"] == 0
    assert document["not_restored"] == [] and document["output"]["new_user_pool_id"].startswith("us-west-2_")
