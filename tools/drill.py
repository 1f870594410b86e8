"""Local DR drill: a sample source pool, its backup, and the real restore workflow, all offline.

    python -m tools.drill                     # 200-user sample pool, username sign-in
    python -m tools.drill --username-mode email --users 1000
    python -m tools.drill --backup path/to/backup.json

The source pool lives in an emulated us-east-1, the restore runs in an emulated DR Region
(us-west-2) with the real ASL, the real handlers and the wiring of template.yaml (tools.emulator).
"""

from __future__ import annotations

import json
import os
import threading
import warnings
from datetime import datetime, timezone
from pathlib import Path
from typing import Literal

import boto3
import click
import ijson
from rich.console import Console

from tools.emulator import RestoreStack
from tools.execution_input import RestoreRequest
from tools.progress import PhaseWatcher, render_summary
from tools.sample_pool import SamplePoolSpec, backup_key, build_source_pool, export_backup, write_backup

SOURCE_REGION = "us-east-1"
DR_REGION = "us-west-2"


def _backup_pool_id(path: Path) -> str:
    with path.open("rb") as handle:
        for prefix, event, value in ijson.parse(handle):
            if prefix == "user_pool_id" and event == "string":
                return value
    raise click.BadParameter(f"{path} has no user_pool_id: not a backup of the producer")


def _upload_backup(stack: RestoreStack, path: Path) -> tuple[str, str]:
    pool_id = _backup_pool_id(path)
    key = backup_key(pool_id, datetime.now(timezone.utc))
    stack.client("s3").upload_file(str(path), stack.outputs["BackupBucketName"], key)
    return pool_id, key


@click.command()
@click.option("--users", default=200, show_default=True, help="Users in the sample source pool.")
@click.option("--groups", default=4, show_default=True, help="Groups in the sample source pool.")
@click.option("--username-mode", type=click.Choice(["username", "email"]), default="username", show_default=True)
@click.option(
    "--backup",
    "backup_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Restore this backup file (producer format) instead of a sample pool.",
)
@click.option("--chunk-size", default=50, show_default=True, help="Users per chunk (UserChunkSize).")
@click.option("--dry-run", is_flag=True, help="Validate and plan only: no Cognito write.")
@click.option("--verbose", is_flag=True, help="Show the Lambda handlers' own logs.")
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
    chunk_size: int,
    dry_run: bool,
    verbose: bool,
    out: Path,
) -> None:
    console = Console(soft_wrap=True)  # never break ids an operator copies
    if not verbose:
        warnings.filterwarnings("ignore", message="No application metrics")
    console.print(f"[bold]Cognito DR drill[/bold]: emulated AWS, source {SOURCE_REGION} -> DR {DR_REGION}")
    # The emulation has no quotas to protect: pace at 10x Cognito's defaults so the drill stays short.
    quotas = {
        "QuotaUserCreation": "500",
        "QuotaUserAccountRecovery": "300",
        "QuotaUserUpdate": "250",
        "QuotaUserResourceUpdate": "250",
        "QuotaUserPoolResourceUpdate": "50",
    }
    with RestoreStack(
        region=DR_REGION, parameters={"UserChunkSize": str(chunk_size), "Environment": "drill", **quotas}
    ) as stack:
        if not verbose:  # read by each handler's Logger when it is first imported
            os.environ["POWERTOOLS_LOG_LEVEL"] = "WARNING"
            os.environ["POWERTOOLS_METRICS_DISABLED"] = "true"
        if backup_path:
            pool_id, key = _upload_backup(stack, backup_path)
            console.print(f"Backup {backup_path} uploaded as s3://{stack.outputs['BackupBucketName']}/{key}")
        else:
            cognito_source = boto3.client("cognito-idp", region_name=SOURCE_REGION)
            pool = build_source_pool(
                cognito_source, SamplePoolSpec(users=users, groups=groups, username_mode=username_mode)
            )
            backup = export_backup(cognito_source, pool.pool_id)
            key = write_backup(
                stack.client("s3"), stack.outputs["BackupBucketName"], backup, datetime.now(timezone.utc)
            )
            pool_id = pool.pool_id
            console.print(
                f"Source pool {pool_id}: {users} users, {groups} groups, {len(pool.client_ids)} app clients; backup at {key}"
            )
        execution = stack.start(RestoreRequest.parse({"user_pool_id": pool_id, "dry_run": dry_run}).to_input())
        console.print(f"Execution {execution.rsplit(':', 1)[-1]}")
        outcome: dict = {}
        waiter = threading.Thread(target=lambda: outcome.update(result=stack.wait(execution)), daemon=True)
        waiter.start()
        PhaseWatcher(stack.client("stepfunctions"), execution, console).follow(lambda: not waiter.is_alive())
        result = outcome["result"]
        report = None
        if result.output and result.output.get("report"):
            bucket, _, report_key = result.output["report"].removeprefix("s3://").partition("/")
            s3 = stack.client("s3")
            report = json.loads(s3.get_object(Bucket=bucket, Key=report_key)["Body"].read())
            out.mkdir(parents=True, exist_ok=True)
            (out / "report.json").write_text(json.dumps(report, indent=2))
            markdown = s3.get_object(Bucket=bucket, Key=report_key.replace("report.json", "report.md"))["Body"].read()
            (out / "report.md").write_bytes(markdown)
        console.print(f"\n[bold]{result.status}[/bold]" + (f": {result.error}: {result.cause}" if result.error else ""))
        render_summary(console, result.output, report)
        if report:
            console.print(f"Report written to {out}/report.md and {out}/report.json")
        for alert in stack.alerts():
            console.print(f"[dim]alert: {alert['subject']}[/dim]")
        if result.status != "SUCCEEDED":
            raise SystemExit(1)


if __name__ == "__main__":
    main()
