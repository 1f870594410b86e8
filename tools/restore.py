"""Operator CLI: start a restore in the DR Region, follow it phase by phase, print the summary.

    python -m tools.restore start --stack cognito-dr-restore-prod --pool-id us-east-1_AbCdEf123
    python -m tools.restore start --stack cognito-dr-restore-prod --pool-id us-east-1_AbCdEf123 --dry-run
    python -m tools.restore watch <execution-arn>

Uses the AWS credentials and Region of the environment (AWS_PROFILE, AWS_REGION), like the AWS CLI.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import boto3
import click
from rich.console import Console

from tools.execution_input import InvalidInput, RestoreRequest
from tools.progress import PhaseWatcher, render_summary

console = Console(soft_wrap=True)


def state_machine_of(stack: str) -> str:
    outputs = boto3.client("cloudformation").describe_stacks(StackName=stack)["Stacks"][0].get("Outputs", [])
    for output in outputs:
        if output["OutputKey"] == "StateMachineArn":
            return output["OutputValue"]
    raise click.ClickException(f"stack {stack} has no StateMachineArn output: is it the Cognito DR restore stack?")


def _report(output: dict[str, Any] | None) -> dict[str, Any] | None:
    if not output or not output.get("report"):
        return None
    bucket, _, key = output["report"].removeprefix("s3://").partition("/")
    return json.loads(boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())


def follow(execution_arn: str, poll_interval: float) -> int:
    sfn = boto3.client("stepfunctions")
    status = {"value": "RUNNING"}

    def done() -> bool:
        status["value"] = sfn.describe_execution(executionArn=execution_arn)["status"]
        return status["value"] != "RUNNING"

    PhaseWatcher(sfn, execution_arn, console).follow(done, interval=poll_interval)
    execution = sfn.describe_execution(executionArn=execution_arn)
    console.print(
        f"\n[bold]{execution['status']}[/bold]"
        + (f": {execution.get('error')}: {execution.get('cause')}" if execution.get("error") else "")
    )
    output = json.loads(execution["output"]) if execution.get("output") else None
    render_summary(console, output, _report(output))
    return 0 if execution["status"] == "SUCCEEDED" else 1


@click.group()
def main() -> None:
    """Cognito DR restore: operator commands."""


@main.command()
@click.option("--pool-id", required=True, help="Source user pool id (the one in the backup keys).")
@click.option("--stack", help="Name of the deployed restore stack (its StateMachineArn output is used).")
@click.option("--state-machine-arn", help="The restore state machine, instead of --stack.")
@click.option(
    "--restore-id",
    help="Name (or continue) a restore; default: the pool's unfinished restore, else derived from the newest backup, so the same input continues the same restore.",
)
@click.option("--backup-key", help="Restore this backup object instead of the newest.")
@click.option("--dry-run", is_flag=True, help="Validate and plan only: no Cognito write.")
@click.option(
    "--arn-map",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="JSON file: old ARN (or source Region) -> ARN (or Region) in this Region.",
)
@click.option("--new-client-secrets", is_flag=True, help="Generate new client secrets instead of keeping them.")
@click.option("--preserve-old-sub", is_flag=True, help="Also store each user's old sub in custom:dr_old_sub.")
@click.option("--watch/--no-watch", default=True, show_default=True, help="Follow the phases until the end.")
@click.option("--poll-interval", default=5.0, show_default=True, help="Seconds between progress reads.")
def start(
    pool_id: str,
    stack: str | None,
    state_machine_arn: str | None,
    restore_id: str | None,
    backup_key: str | None,
    dry_run: bool,
    arn_map: Path | None,
    new_client_secrets: bool,
    preserve_old_sub: bool,
    watch: bool,
    poll_interval: float,
) -> None:
    """Start a restore of POOL_ID's newest backup (or --backup-key)."""
    if not (stack or state_machine_arn):
        raise click.UsageError("give --stack or --state-machine-arn")
    arn = state_machine_arn or state_machine_of(stack or "")
    try:
        request = RestoreRequest.parse(
            {
                "user_pool_id": pool_id,
                "dry_run": dry_run,
                "keep_client_secrets": not new_client_secrets,
                "preserve_old_sub": preserve_old_sub,
                **({"restore_id": restore_id} if restore_id else {}),
                **({"backup_key": backup_key} if backup_key else {}),
                **({"arn_map": json.loads(arn_map.read_text())} if arn_map else {}),
            }
        )
    except (InvalidInput, ValueError) as error:
        raise click.UsageError(str(error)) from None
    name = f"restore-{datetime.now(timezone.utc):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
    execution = boto3.client("stepfunctions").start_execution(
        stateMachineArn=arn, name=name, input=json.dumps(request.to_input())
    )["executionArn"]
    console.print(f"Started {execution}")
    if restore_id:
        console.print(f"Restore id: {restore_id} (start again with --restore-id {restore_id} to continue it)")
    else:
        console.print(
            "Restore id: derived from the backup object (in the summary); the same command continues this restore"
        )
    if watch:
        raise SystemExit(follow(execution, poll_interval))


@main.command()
@click.argument("execution_arn")
@click.option("--poll-interval", default=5.0, show_default=True)
def watch(execution_arn: str, poll_interval: float) -> None:
    """Follow a running (or finished) restore and print its summary."""
    raise SystemExit(follow(execution_arn, poll_interval))


if __name__ == "__main__":
    main()
