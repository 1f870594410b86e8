"""Local DR drill: a sample source pool, its backup, and the real restore workflow, all offline.

    python -m tools.drill                     # 200-user sample pool, username sign-in
    python -m tools.drill --username-mode email --users 1000
    python -m tools.drill --backup path/to/backup.json
    python -m tools.drill --save-backup sample-backup.json --users 500   # a producer-format backup file
    python -m tools.drill --dry-run --output json

The source pool lives in an emulated us-east-1, the restore runs in an emulated DR Region
(us-west-2) with the real ASL, the real handlers and the wiring of template.yaml (tools.emulation).
Every execution-input option of a production restore is available (--arn-map, --restore-id,
--preserve-old-sub, --new-client-secrets). Exit codes as the operator CLI (tools/restore.py):
0 complete, 2 bad option or input, 3 complete with items not restorable (named), 4 failed or incomplete.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import boto3
import click
import ijson
from rich.console import Console
from rich.progress import Progress

from tools.execution_input import InvalidInput, RestoreRequest
from tools.progress import (
    OneLineCommand,
    OperatorError,
    ProgressDisplay,
    ProgressSource,
    Snapshot,
    follow,
    not_restored,
    outcome_of,
    render_summary,
)
from tools.sample_pool import SamplePoolSpec, backup_key, build_source_pool, export_backup, write_backup

SOURCE_REGION = "us-east-1"
DR_REGION = "us-west-2"
# The emulation has no quotas to protect: pace at 10x Cognito's defaults so the drill stays short.
DRILL_QUOTAS = {
    "QuotaUserCreation": "500",
    "QuotaUserAccountRecovery": "300",
    "QuotaUserUpdate": "250",
    "QuotaUserResourceUpdate": "250",
    "QuotaUserPoolResourceUpdate": "50",
}


def backup_pool_id(path: Path) -> str:
    """The backup file's pool id; the whole file is streamed (flat memory) so a truncated file is
    refused here too. A one-line error that never quotes the file."""
    pool_id: str | None = None
    try:
        with path.open("rb") as handle:
            if not handle.read(1):
                raise OperatorError(f"--backup {path} is empty: not a backup of the producer")
            handle.seek(0)
            for position, (prefix, event, value) in enumerate(ijson.parse(handle)):
                if position == 0 and event != "start_map":
                    raise OperatorError(f"--backup {path} is not a JSON object: not a backup of the producer")
                if prefix == "user_pool_id" and event == "string":
                    pool_id = str(value)
    except OSError as error:
        raise OperatorError(f"--backup {path} cannot be read ({type(error).__name__})") from None
    except ijson.JSONError:
        raise OperatorError(
            f"--backup {path} is not valid JSON (or is truncated): not a backup of the producer"
        ) from None
    if pool_id is None:
        raise OperatorError(f"--backup {path} has no user_pool_id: not a backup of the producer")
    return pool_id


def _arn_map(path: Path | None) -> dict[str, Any] | None:
    if path is None:
        return None
    try:
        value = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, ValueError):
        raise OperatorError(f"--arn-map {path}: not a readable JSON object of old ARN (or Region) -> new") from None
    return value


@dataclass
class DrillOptions:
    users: int = 200
    groups: int = 4
    username_mode: Literal["username", "email"] = "username"
    backup_path: Path | None = None
    chunk_size: int = 50
    dry_run: bool = False
    restore_id: str | None = None
    arn_map: dict[str, Any] | None = None
    preserve_old_sub: bool = False
    new_client_secrets: bool = False
    target_user_pool_id: str | None = None  # sync mode: reconcile into this pool of the DR Region
    delete_missing: bool = False
    max_deletes: int | None = None
    verbose: bool = False
    out: Path = Path("drill-out")
    output_format: str = "text"
    poll_interval: float = 0.25
    parameters: dict[str, str] = field(default_factory=dict)  # extra template parameters (tests)

    def request(self, pool_id: str) -> RestoreRequest:
        """The execution input, through the one schema the trigger and the CLI use."""
        value: dict[str, Any] = {
            "user_pool_id": pool_id,
            "dry_run": self.dry_run,
            "preserve_old_sub": self.preserve_old_sub,
            "keep_client_secrets": not self.new_client_secrets,
        }
        if self.restore_id:
            value["restore_id"] = self.restore_id
        if self.arn_map is not None:
            value["arn_map"] = self.arn_map
        if self.target_user_pool_id is not None:
            value |= {"mode": "sync", "target_user_pool_id": self.target_user_pool_id}
            value |= {"delete_missing": self.delete_missing} if self.delete_missing else {}
            value |= {"max_deletes": self.max_deletes} if self.max_deletes is not None else {}
        return RestoreRequest.parse(value)


def _upload_backup(stack: Any, path: Path, pool_id: str) -> str:
    key = backup_key(pool_id, datetime.now(UTC))
    stack.client("s3").upload_file(str(path), stack.outputs["BackupBucketName"], key)
    return key


def _sample_pool(console: Console, cognito: Any, options: DrillOptions, quiet: bool) -> Any:
    spec = SamplePoolSpec(users=options.users, groups=options.groups, username_mode=options.username_mode)
    with Progress(console=console, transient=True, disable=quiet) as bar:
        task = bar.add_task("Building the sample source pool: users", total=options.users)
        return build_source_pool(cognito, spec, on_user=lambda n: bar.update(task, completed=n))


def run_drill(options: DrillOptions, console: Console, on_snapshot: Callable[[Snapshot], None] | None = None) -> int:
    """The drill; returns its exit code. on_snapshot gets every progress snapshot (tests)."""
    from tools.emulation import RestoreStack  # imported late: option errors come before moto is loaded

    quiet = options.output_format == "json"
    say = (lambda text: None) if quiet else console.print
    pool_id = backup_pool_id(options.backup_path) if options.backup_path else None
    say(f"[bold]Cognito DR drill[/bold]: emulated AWS, source {SOURCE_REGION} -> DR {DR_REGION}")
    parameters = {
        "UserChunkSize": str(options.chunk_size),
        "Environment": "drill",
        **DRILL_QUOTAS,
        **options.parameters,
    }
    with RestoreStack(region=DR_REGION, parameters=parameters) as stack:
        if not options.verbose:  # read by each handler's Logger when it is first imported
            os.environ["POWERTOOLS_LOG_LEVEL"] = "WARNING"
            os.environ["POWERTOOLS_METRICS_DISABLED"] = "true"
        if options.backup_path and pool_id:
            key = _upload_backup(stack, options.backup_path, pool_id)
            say(f"Backup {options.backup_path} uploaded as s3://{stack.outputs['BackupBucketName']}/{key}")
        else:
            cognito_source = boto3.client("cognito-idp", region_name=SOURCE_REGION)
            pool = _sample_pool(console, cognito_source, options, quiet)
            backup = export_backup(cognito_source, pool.pool_id)
            key = write_backup(stack.client("s3"), stack.outputs["BackupBucketName"], backup, datetime.now(UTC))
            pool_id = pool.pool_id
            say(
                f"Source pool {pool_id}: {options.users} users, {options.groups} groups, "
                f"{len(pool.client_ids)} app clients; backup at {key}"
            )
        assert pool_id is not None
        execution = stack.start(options.request(pool_id).to_input())
        say(f"Execution {execution.rsplit(':', 1)[-1]}")
        outcome: dict[str, Any] = {}
        waiter = threading.Thread(target=lambda: outcome.update(result=stack.wait(execution)), daemon=True)
        waiter.start()
        source = ProgressSource(
            stack.client("stepfunctions"), stack.client("s3"), execution, stack.outputs["WorkBucketName"]
        )
        if quiet:
            follow(source, None, lambda: not waiter.is_alive(), options.poll_interval, on_snapshot)
        else:
            with ProgressDisplay(console) as display:
                follow(source, display, lambda: not waiter.is_alive(), options.poll_interval, on_snapshot)
        result = outcome["result"]
        report = _save_report(stack, result, options.out)
        status, code = outcome_of(result.status, report)
        if quiet:
            click.echo(
                json.dumps(
                    {
                        "status": result.status,
                        "outcome": status,
                        "exit_code": code,
                        "output": result.output,
                        "not_restored": not_restored(report),
                        "failure": source.failure,
                        "error": result.error,
                        "report_dir": str(options.out) if report else None,
                    },
                    indent=2,
                    default=str,
                )
            )
            return code
        console.print(f"\n[bold]{result.status}[/bold]: {status}")
        if result.status != "SUCCEEDED" and not source.failure:
            console.print(f"Error: {result.error}")
        render_summary(console, result.output, report, source.failure)
        if report:
            console.print(f"Report written to {options.out}/report.md and {options.out}/report.json")
        for alert in stack.alerts():
            console.print(f"[dim]alert: {alert['subject']}[/dim]")
        return code


def _save_report(stack: Any, result: Any, out: Path) -> dict[str, Any] | None:
    if not (result.output and result.output.get("report")):
        return None
    bucket, _, report_key = result.output["report"].removeprefix("s3://").partition("/")
    s3 = stack.client("s3")
    report: dict[str, Any] = json.loads(s3.get_object(Bucket=bucket, Key=report_key)["Body"].read())
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(report, indent=2))
    markdown = s3.get_object(Bucket=bucket, Key=report_key.replace("report.json", "report.md"))["Body"].read()
    (out / "report.md").write_bytes(markdown)
    return report


def save_sample_backup(path: Path, options: DrillOptions, console: Console) -> None:
    """Write a producer-format backup file of a sample pool (for --backup, here or elsewhere)."""
    from moto import mock_aws

    with mock_aws():
        cognito = boto3.client("cognito-idp", region_name=SOURCE_REGION)
        pool = _sample_pool(console, cognito, options, quiet=False)
        path.write_text(json.dumps(export_backup(cognito, pool.pool_id), default=str))
    console.print(f"Backup of sample pool {pool.pool_id} ({options.users} users) written to {path}")


@click.command(cls=OneLineCommand)
@click.option("--users", default=200, show_default=True, type=click.IntRange(min=1), help="Users in the sample pool.")
@click.option(
    "--groups", default=4, show_default=True, type=click.IntRange(min=3), help="Groups in the sample pool (3 or more)."
)
@click.option("--username-mode", type=click.Choice(["username", "email"]), default="username", show_default=True)
@click.option(
    "--backup",
    "backup_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Restore this backup file (producer format) instead of a sample pool.",
)
@click.option(
    "--save-backup",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Only write a producer-format backup file of the sample pool here (then restore it with --backup).",
)
@click.option(
    "--chunk-size",
    default=50,
    show_default=True,
    type=click.IntRange(10, 5000),
    help="Users per chunk (UserChunkSize, 10-5000).",
)
@click.option("--dry-run", is_flag=True, help="Validate and plan only: no Cognito write.")
@click.option("--restore-id", help="Name of the restore (default: derived from the backup object).")
@click.option(
    "--arn-map",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="JSON file: old ARN (or source Region) -> ARN (or Region) in the DR Region.",
)
@click.option("--preserve-old-sub", is_flag=True, help="Also store each user's old sub in custom:dr_old_sub.")
@click.option("--new-client-secrets", is_flag=True, help="Generate new client secrets instead of keeping them.")
@click.option("--verbose", is_flag=True, help="Show the Lambda handlers' own logs.")
@click.option("--output", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option(
    "--out",
    default="drill-out",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the restore report is written.",
)
def main(
    users: int,
    groups: int,
    username_mode: Literal["username", "email"],
    backup_path: Path | None,
    save_backup: Path | None,
    chunk_size: int,
    dry_run: bool,
    restore_id: str | None,
    arn_map: Path | None,
    preserve_old_sub: bool,
    new_client_secrets: bool,
    verbose: bool,
    output_format: str,
    out: Path,
) -> None:
    console = Console(soft_wrap=True, stderr=output_format == "json")  # never break ids an operator copies
    options = DrillOptions(
        users=users,
        groups=groups,
        username_mode=username_mode,
        backup_path=backup_path,
        chunk_size=chunk_size,
        dry_run=dry_run,
        restore_id=restore_id,
        arn_map=_arn_map(arn_map),
        preserve_old_sub=preserve_old_sub,
        new_client_secrets=new_client_secrets,
        verbose=verbose,
        out=out,
        output_format=output_format,
    )
    if save_backup:
        save_sample_backup(save_backup, options, console)
        return
    try:  # the options' own checks, before the emulator starts
        options.request("us-east-1_AbCdEf123")
        if not backup_path:
            SamplePoolSpec(users=users, groups=groups, username_mode=username_mode)
    except (InvalidInput, ValueError) as error:
        raise OperatorError(str(error)) from None
    raise SystemExit(run_drill(options, console))


if __name__ == "__main__":
    main()
