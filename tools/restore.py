"""Operator CLI: start a restore in the DR Region, follow it with live progress, print the outcome.

    python -m tools.restore start --stack cognito-dr-restore-prod --pool-id us-east-1_AbCdEf123 --region us-west-2
    python -m tools.restore start --stack cognito-dr-restore-prod --pool-id us-east-1_AbCdEf123 --dry-run
    python -m tools.restore watch <execution-arn> --stack cognito-dr-restore-prod
    python -m tools.restore watch <execution-arn> --output json
    python -m tools.restore standby --stack cognito-dr-restore-prod --region us-west-2   # the day: final sync
    python -m tools.restore failback-check --bucket <b> --backup-key <v2 manifest> --since <ISO> --report <s3 uri>

Region and credentials: --region / --profile, else those boto3 reads (AWS_DEFAULT_REGION, AWS_PROFILE,
the shared config and credentials files; boto3 does not read AWS_REGION). Missing ones are one line
and exit code 2, before anything is called.

Exit codes: 0 complete; 2 bad option, input or environment (nothing started); 3 complete with items
not restorable, each named; 4 failed, incomplete, timed out or aborted.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import click
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, ProfileNotFound
from rich.console import Console

from tools.execution_input import (
    InvalidInput,
    RestoreRequest,
    StandbyConfig,
    changed_during_outage,
    find_newest_backup,
    read_jsonl_gz,
    verify_manifest,
)
from tools.progress import (
    EXIT_FAILED,
    OneLineGroup,
    OperatorError,
    ProgressDisplay,
    ProgressSource,
    not_restored,
    outcome_of,
    render_summary,
)
from tools.progress import (
    follow as follow_progress,
)

console = Console(soft_wrap=True)


def aws_session(region: str | None, profile: str | None) -> boto3.Session:
    """A session whose Region and credentials are known to resolve, or an OperatorError saying which is missing."""
    try:
        session = boto3.Session(profile_name=profile, region_name=region)
    except ProfileNotFound:
        raise OperatorError(f"AWS profile {profile!r} is not in the AWS config or credentials files.") from None
    if not session.region_name:
        raise OperatorError(
            "No AWS Region: pass --region <DR Region> (or set AWS_DEFAULT_REGION; boto3 does not read AWS_REGION)."
        )
    try:
        credentials = session.get_credentials()
    except BotoCoreError as error:
        raise OperatorError(f"AWS credentials could not be loaded: {type(error).__name__}.") from None
    if credentials is None:
        raise OperatorError(
            "No AWS credentials: pass --profile <name>, or set AWS_PROFILE or the AWS_ACCESS_KEY_ID variables."
        )
    return session


def state_machine_of(session: boto3.Session, stack: str) -> tuple[str, str | None]:
    """(StateMachineArn, WorkBucketName) of the deployed restore stack."""
    try:
        stacks = session.client("cloudformation").describe_stacks(StackName=stack)["Stacks"]
    except ClientError as error:
        raise OperatorError(f"stack {stack}: {error.response['Error'].get('Message', 'not found')}") from None
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}
    if "StateMachineArn" not in outputs:
        raise OperatorError(f"stack {stack} has no StateMachineArn output: is it the Cognito DR restore stack?")
    return outputs["StateMachineArn"], outputs.get("WorkBucketName")


def _report(session: boto3.Session, output: dict[str, Any] | None) -> dict[str, Any] | None:
    if not output or not output.get("report"):
        return None
    bucket, _, key = output["report"].removeprefix("s3://").partition("/")
    return json.loads(session.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())


def follow(
    session: boto3.Session, execution_arn: str, poll_interval: float, output_format: str, work_bucket: str | None
) -> int:
    sfn = session.client("stepfunctions")
    source = ProgressSource(sfn, session.client("s3"), execution_arn, work_bucket)

    def done() -> bool:
        return sfn.describe_execution(executionArn=execution_arn)["status"] != "RUNNING"

    if output_format == "json":
        follow_progress(source, None, done, interval=poll_interval)
    else:
        with ProgressDisplay(console) as display:
            follow_progress(source, display, done, interval=poll_interval)
    execution = sfn.describe_execution(executionArn=execution_arn)
    output = json.loads(execution["output"]) if execution.get("output") else None
    report = _report(session, output)
    outcome, code = outcome_of(execution["status"], report)
    if output_format == "json":
        click.echo(
            json.dumps(
                {
                    "execution_arn": execution_arn,
                    "status": execution["status"],
                    "outcome": outcome,
                    "exit_code": code,
                    "output": output,
                    "not_restored": not_restored(report),
                    "failure": source.failure,
                    "error": execution.get("error"),
                },
                indent=2,
                default=str,
            )
        )
        return code
    console.print(f"\n[bold]{execution['status']}[/bold]: {outcome}")
    if execution["status"] != "SUCCEEDED" and not source.failure:
        # No failure alert of the restore (e.g. it timed out or was aborted): the execution's own error name.
        console.print(f"Error: {execution.get('error') or execution['status']}. The alert topic has the details.")
    render_summary(console, output, report, source.failure)
    return code


def _run(session_args: tuple[str | None, str | None], action: Any) -> None:
    """Run an action; AWS errors become one line and exit code 4 (a restore may have started)."""
    try:
        raise SystemExit(action(aws_session(*session_args)))
    except (NoCredentialsError, ClientError, BotoCoreError) as error:
        message = error.response["Error"].get("Message", "") if isinstance(error, ClientError) else ""
        click.echo(f"Error: AWS call failed: {type(error).__name__} {message}".rstrip(), err=True)
        raise SystemExit(EXIT_FAILED) from None


_region = click.option("--region", help="The DR Region (default: AWS_DEFAULT_REGION or the profile's Region).")
_profile = click.option("--profile", help="AWS profile (default: AWS_PROFILE or the default profile).")
_output = click.option(
    "--output", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True
)


@click.group(cls=OneLineGroup)
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
@click.option(
    "--mode",
    type=click.Choice(["restore", "sync"]),
    default="restore",
    show_default=True,
    help="restore: into a new pool; sync: reconcile the backup into --target-pool-id (docs/sync.md).",
)
@click.option("--target-pool-id", help="With --mode sync: the existing pool of this Region to reconcile.")
@click.option("--delete-missing", is_flag=True, help="With --mode sync: delete users absent from the backup.")
@click.option("--max-deletes", type=int, help="With --delete-missing: the most users the sync may delete.")
@click.option("--watch/--no-watch", default=True, show_default=True, help="Follow the phases until the end.")
@click.option("--poll-interval", default=5.0, show_default=True, help="Seconds between progress reads.")
@_region
@_profile
@_output
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
    mode: str,
    target_pool_id: str | None,
    delete_missing: bool,
    max_deletes: int | None,
    watch: bool,
    poll_interval: float,
    region: str | None,
    profile: str | None,
    output_format: str,
) -> None:
    """Start a restore of POOL_ID's newest backup (or --backup-key)."""
    if not (stack or state_machine_arn):
        raise click.UsageError("give --stack or --state-machine-arn")
    try:
        request = RestoreRequest.parse(
            {
                "user_pool_id": pool_id,
                "dry_run": dry_run,
                "keep_client_secrets": not new_client_secrets,
                "preserve_old_sub": preserve_old_sub,
                **({"mode": mode} if mode != "restore" else {}),
                **({"target_user_pool_id": target_pool_id} if target_pool_id else {}),
                **({"delete_missing": True} if delete_missing else {}),
                **({"max_deletes": max_deletes} if max_deletes is not None else {}),
                **({"restore_id": restore_id} if restore_id else {}),
                **({"backup_key": backup_key} if backup_key else {}),
                **({"arn_map": _arn_map(arn_map)} if arn_map else {}),
            }
        )
    except InvalidInput as error:
        raise OperatorError(str(error)) from None

    def action(session: boto3.Session) -> int:
        arn, work_bucket = (state_machine_arn, None) if state_machine_arn else state_machine_of(session, stack or "")
        name = f"restore-{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
        execution = session.client("stepfunctions").start_execution(
            stateMachineArn=arn, name=name, input=json.dumps(request.to_input())
        )["executionArn"]
        say = (lambda text: click.echo(text, err=True)) if output_format == "json" else console.print
        say(f"Started {execution}")
        if restore_id:
            say(f"Restore id: {restore_id} (start again with --restore-id {restore_id} to continue it)")
        else:
            say("Restore id: derived from the backup object (in the summary); the same command continues this restore")
        if not watch:
            if output_format == "json":
                click.echo(json.dumps({"execution_arn": execution, "status": "RUNNING"}))
            return 0
        return follow(session, execution, poll_interval, output_format, work_bucket)

    _run((region, profile), action)


def _arn_map(path: Path) -> Any:
    """The --arn-map file's JSON; a one-line error naming the file, never quoting it."""
    try:
        return json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, ValueError):
        raise OperatorError(f"--arn-map {path}: not a readable JSON object of old ARN (or Region) -> new.") from None


@main.command()
@click.argument("execution_arn")
@click.option("--poll-interval", default=5.0, show_default=True)
@click.option("--stack", help="The restore stack: its work bucket shows the preparation progress too.")
@_region
@_profile
@_output
def watch(
    execution_arn: str,
    poll_interval: float,
    stack: str | None,
    region: str | None,
    profile: str | None,
    output_format: str,
) -> None:
    """Follow a running (or finished) restore with live progress and print its outcome."""

    def action(session: boto3.Session) -> int:
        work_bucket = state_machine_of(session, stack)[1] if stack else None
        return follow(session, execution_arn, poll_interval, output_format, work_bucket)

    _run((region, profile), action)


def standby_ids(session: boto3.Session, pool_id: str) -> dict[str, Any]:
    """What the apps' DR configuration already holds for the standby pool (nothing secret)."""
    cognito = session.client("cognito-idp")
    pool = cognito.describe_user_pool(UserPoolId=pool_id)["UserPool"]
    clients: list[dict[str, str]] = []
    for page in cognito.get_paginator("list_user_pool_clients").paginate(UserPoolId=pool_id):
        clients += [{"name": c["ClientName"], "client_id": c["ClientId"]} for c in page["UserPoolClients"]]
    region = pool_id.split("_", 1)[0]
    domain = pool.get("Domain")
    return {
        "user_pool_id": pool_id,
        "region": region,
        "app_clients": sorted(clients, key=lambda c: c["name"]),
        "domain": f"{domain}.auth.{region}.amazoncognito.com" if domain else None,
        "custom_domain": pool.get("CustomDomain"),
        "issuer": f"https://cognito-idp.{region}.amazonaws.com/{pool_id}",
    }


def _standby_settings(session: boto3.Session, stack: str) -> dict[str, str]:
    stacks = session.client("cloudformation").describe_stacks(StackName=stack)["Stacks"]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}
    if "StandbyTargetPoolId" not in outputs:
        raise OperatorError(
            f"stack {stack} has no warm standby (deploy it with StandbySourcePoolId and StandbyTargetPoolId)."
        )
    return {
        "state_machine_arn": outputs["StateMachineArn"],
        "source_pool_id": outputs["StandbySourcePoolId"],
        "target_pool_id": outputs["StandbyTargetPoolId"],
        "backup_bucket": outputs["BackupBucketName"],
        "queue_table": outputs["StandbyQueueTableName"],
        "work_bucket": outputs.get("WorkBucketName", ""),
    }


@main.command()
@click.option("--stack", help="The deployed restore stack with the warm standby (its outputs name everything).")
@click.option("--state-machine-arn", help="Instead of --stack: the restore state machine ...")
@click.option("--source-pool-id", help="... the standby's source pool ...")
@click.option("--target-pool-id", help="... the standby pool ...")
@click.option("--backup-bucket", help="... the backup bucket ...")
@click.option("--queue-table", help="... and the standby queue table.")
@click.option("--watch/--no-watch", default=True, show_default=True, help="Follow the final sync until the end.")
@click.option("--poll-interval", default=5.0, show_default=True, help="Seconds between progress reads.")
@_region
@_profile
@_output
def standby(
    stack: str | None,
    state_machine_arn: str | None,
    source_pool_id: str | None,
    target_pool_id: str | None,
    backup_bucket: str | None,
    queue_table: str | None,
    watch: bool,
    poll_interval: float,
    region: str | None,
    profile: str | None,
    output_format: str,
) -> None:
    """The day of the failover: the final sync of the standby pool with the newest backup, and its ids.

    The standby pool's ids (pool id, app client ids, domain, issuer) are printed first: the apps' DR
    configuration already holds them. A sync of the newest backup that the standby already runs is
    followed instead of started twice."""
    explicit = (state_machine_arn, source_pool_id, target_pool_id, backup_bucket, queue_table)
    if not stack and not all(explicit):
        raise click.UsageError(
            "give --stack, or all of --state-machine-arn --source-pool-id --target-pool-id --backup-bucket --queue-table"
        )

    def action(session: boto3.Session) -> int:
        settings: dict[str, str] = (
            _standby_settings(session, stack)
            if stack
            else {
                key: str(value)
                for key, value in zip(
                    ("state_machine_arn", "source_pool_id", "target_pool_id", "backup_bucket", "queue_table"),
                    explicit,
                    strict=True,
                )
            }
        )
        say = (lambda text: click.echo(text, err=True)) if output_format == "json" else console.print
        ids = standby_ids(session, settings["target_pool_id"])
        say("Standby pool (already in the apps' DR configuration):")
        say(json.dumps(ids, indent=2))
        newest = find_newest_backup(session.client("s3"), settings["backup_bucket"], settings["source_pool_id"])
        if newest is None:
            raise OperatorError(f"no backup of {settings['source_pool_id']} in {settings['backup_bucket']}.")
        config = StandbyConfig(
            settings["source_pool_id"], settings["target_pool_id"], 0, settings["state_machine_arn"], "", ""
        )
        queued = (
            session.client("dynamodb")
            .get_item(
                TableName=settings["queue_table"],
                Key={"source_pool_id": {"S": settings["source_pool_id"]}},
                ConsistentRead=True,
            )
            .get("Item", {})
        )
        sfn = session.client("stepfunctions")
        running = str(queued.get("running_arn", {}).get("S", ""))
        syncing = running and queued.get("running_key", {}).get("S") == newest.key
        if syncing and sfn.describe_execution(executionArn=running)["status"] == "RUNNING":
            say(f"The standby is syncing the newest backup ({newest.key}) already: following {running}")
            return follow(session, running, poll_interval, output_format, settings.get("work_bucket")) if watch else 0
        request = config.sync_input(newest.key)
        request.pop("alerts")  # the operator's final sync: every alert, as a restore
        request = RestoreRequest.parse(request).to_input()
        name = f"final-sync-{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
        execution = sfn.start_execution(
            stateMachineArn=settings["state_machine_arn"], name=name, input=json.dumps(request)
        )["executionArn"]
        say(
            f"Final sync of {ids['user_pool_id']} from {newest.key} (backup taken {newest.taken_at:%Y-%m-%d %H:%M:%S} UTC)"
        )
        say(f"Started {execution}")
        if not watch:
            if output_format == "json":
                click.echo(json.dumps({"execution_arn": execution, "status": "RUNNING", "standby": ids}))
            return 0
        return follow(session, execution, poll_interval, output_format, settings.get("work_bucket"))

    _run((region, profile), action)


@main.command("failback-check")
@click.option("--bucket", required=True, help="The bucket holding the DR pool's v2 backup.")
@click.option("--backup-key", required=True, help="The v2 manifest key of the DR pool's backup the failback synced.")
@click.option("--since", required=True, help="When the DR pool went live (ISO 8601, e.g. 2026-12-01T12:00:00Z).")
@click.option(
    "--report", "report_uri", help="The failback sync's report.json (s3://...): what the sync wrote per user."
)
@_region
@_profile
def failback_check(
    bucket: str, backup_key: str, since: str, report_uri: str | None, region: str | None, profile: str | None
) -> None:
    """The users of the DR pool that changed during the outage, and what failback could not copy for them
    (a password, a TOTP or a passkey set in the DR pool): docs/failback.md. JSON on stdout, usernames only."""
    try:
        went_live = datetime.fromisoformat(since.replace("Z", "+00:00"))
    except ValueError:
        raise OperatorError("--since must be an ISO 8601 time such as 2026-12-01T12:00:00Z.") from None
    if went_live.tzinfo is None:
        went_live = went_live.replace(tzinfo=UTC)

    def action(session: boto3.Session) -> int:
        s3 = session.client("s3")
        manifest = verify_manifest(s3, bucket, backup_key)  # every checksum: a damaged backup names no one wrongly
        folder = backup_key.removesuffix("manifest.json")
        users: list[dict[str, Any]] = []
        for entry in manifest["users"]["files"]:
            users += read_jsonl_gz(s3.get_object(Bucket=bucket, Key=folder + entry["key"])["Body"].read())
        synced: dict[str, list[str]] = {}
        if report_uri:
            report = _report(session, {"report": report_uri}) or {}
            synced = {c["item"]: c["changes"] for c in (report.get("sync_users") or {}).get("changes", [])}
        click.echo(json.dumps(changed_during_outage(users, went_live, synced), indent=2))
        return 0

    _run((region, profile), action)


if __name__ == "__main__":
    main()
