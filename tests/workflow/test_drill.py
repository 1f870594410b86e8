"""The local DR drill, as the README runs it: phase progress, then the summary."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
from click.testing import CliRunner
from moto import mock_aws

from tools.drill import main
from tools.sample_pool import SamplePoolSpec, build_source_pool, export_backup


def test_drill_prints_phases_and_summary(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["--users", "30", "--out", str(tmp_path / "out")])

    assert result.exit_code == 0, result.output
    for phase in (
        "Find latest backup",
        "Validate and prepare backup",
        "Create user pool",
        "Restore users and memberships",
        "Attach Lambda triggers",
        "Verify restored pool",
    ):
        assert f"> {phase}" in result.output
        assert f"ok {phase}" in result.output
    assert "SUCCEEDED" in result.output
    assert "New user pool: us-west-2_" in result.output
    assert "Verification: OK" in result.output
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["counts"]["users"] == {"backup": 30, "restored": 30, "skipped": 0, "failed": 0}


def test_drill_restores_a_backup_file(tmp_path: Path) -> None:
    with mock_aws():
        cognito = boto3.client("cognito-idp", region_name="us-east-1")
        pool = build_source_pool(cognito, SamplePoolSpec(users=12, groups=3, username_mode="email"))
        backup = export_backup(cognito, pool.pool_id)
    path = tmp_path / "backup.json"
    path.write_text(json.dumps(backup))

    result = CliRunner().invoke(main, ["--backup", str(path), "--out", str(tmp_path / "out")])

    assert result.exit_code == 0, result.output
    assert f"Backup {path} uploaded" in result.output
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["source_pool_id"] == pool.pool_id
    assert report["counts"]["users"]["restored"] == 12


def test_drill_rejects_a_file_that_is_not_a_backup(tmp_path: Path) -> None:
    path = tmp_path / "not-a-backup.json"
    path.write_text(json.dumps({"hello": "world"}))

    result = CliRunner().invoke(main, ["--backup", str(path)])

    assert result.exit_code != 0
    assert "not a backup of the producer" in result.output
