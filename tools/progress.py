"""Live progress of a restore execution, from what the stack itself exposes (drill and operator CLI).

The source (`ProgressSource`) reads:
- the execution history: phases entered and exited, the restore id and the plan (prepare's output);
- the work bucket: `restores/<id>/plan/progress.json` (users read, chunk files written while the
  backup is prepared) and each user chunk's progress and result file (users restored or failed);
- DescribeMapRun item counts (chunks succeeded / failed / running) once the Distributed Map runs.
Each `snapshot()` returns counts and the rate and ETA of the users phase; `ProgressDisplay` shows
them as rich progress bars and prints each phase as it starts and ends.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

_CHUNK = re.compile(r"/chunk-(\d+)(\.progress)?\.json$")
USERS_PHASE = "Restore users and memberships"
GROUPS_PHASE = "Restore groups"
PREPARE_PHASE = "Validate and prepare backup"


@dataclass
class Phase:
    name: str
    status: str = "running"  # running | ok | failed
    seconds: float = 0.0


@dataclass
class Snapshot:
    at: float
    phases: list[Phase] = field(default_factory=list)
    restore_id: str | None = None
    users_total: int | None = None
    users_done: int = 0  # restored + failed so far
    users_restored: int = 0
    users_failed: int = 0
    users_read: int = 0  # preparation
    chunks_written: int = 0
    chunks_total: int | None = None
    groups_total: int | None = None
    groups_done: int = 0  # from the groups phase's checkpoint (every 100 groups)
    map_items: dict[str, int] = field(default_factory=dict)  # DescribeMapRun itemCounts
    rate: float | None = None  # users per second, over the users phase so far
    rate_bound: float | None = None  # what the configured quotas allow (plan estimate)
    eta_seconds: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "phases": [p.__dict__ for p in self.phases]}


class ProgressSource:
    """Reads a restore's progress; works with any boto3 Step Functions and S3 clients."""

    def __init__(
        self, stepfunctions: Any, s3: Any, execution_arn: str, work_bucket: str | None = None, clock: Any = time
    ) -> None:
        self.sfn, self.s3, self.arn, self.work_bucket = stepfunctions, s3, execution_arn, work_bucket
        self.clock = clock
        self.plan: dict[str, Any] | None = None
        self.restore_id: str | None = None
        self.map_run_arn: str | None = None
        self.users_started_at: float | None = None  # wall clock (history timestamps are AWS's)
        self.users_done_at_start = 0
        self.failure: dict[str, str] | None = None
        self._finished: dict[int, tuple[int, int]] = {}  # chunk index -> (restored, failed) of its result file

    def events(self) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"executionArn": self.arn, "maxResults": 1000}
        while True:
            page = self.sfn.get_execution_history(**kwargs)
            events.extend(page["events"])
            if not page.get("nextToken"):
                return events
            kwargs["nextToken"] = page["nextToken"]

    def _phases(self, events: list[dict[str, Any]]) -> list[Phase]:
        """Each state as last seen: running, ok, or failed (its last task attempt failed: a retried
        attempt that then succeeded is ok, a caught failure is failed, never 'ok')."""
        phases: dict[str, Phase] = {}
        entered: dict[str, Any] = {}
        last_attempt: dict[str, str] = {}
        current = ""
        for event in events:
            kind = event["type"]
            if kind.endswith("StateEntered"):
                current = event["stateEnteredEventDetails"]["name"]
                entered[current] = event["timestamp"]
                last_attempt.pop(current, None)
                phases.pop(current, None)
                phases[current] = Phase(current)  # re-entered (loops): moves to the end
            elif kind.endswith("StateExited"):
                details = event["stateExitedEventDetails"]
                name = details["name"]
                phase = phases.setdefault(name, Phase(name))
                phase.status = "failed" if last_attempt.get(name) == "failed" else "ok"
                if name in entered:
                    phase.seconds = (event["timestamp"] - entered[name]).total_seconds()
                self._capture_output(name, details.get("output"))
            elif kind in ("TaskFailed", "LambdaFunctionFailed", "MapRunFailed", "TaskTimedOut"):
                last_attempt[current] = "failed"  # retried, or caught when the state exits
            elif kind in ("ExecutionFailed", "ExecutionTimedOut", "ExecutionAborted"):
                if current in phases and phases[current].status == "running":
                    phases[current].status = "failed"
            elif kind in ("TaskScheduled", "LambdaFunctionScheduled") and current in phases:
                last_attempt[current] = "running"  # a retry
                phases[current].status = "running"
            elif kind == "MapRunStarted":
                self.map_run_arn = event.get("mapRunStartedEventDetails", {}).get("mapRunArn")
            elif kind in ("TaskSucceeded", "LambdaFunctionSucceeded"):
                last_attempt[current] = "succeeded"
                if current == "Alert restore failed":
                    self._capture_alert(event)
        return list(phases.values())

    def _capture_output(self, name: str, output: str | None) -> None:
        if not output:
            return
        try:
            state = json.loads(output)
        except ValueError:
            return
        if not isinstance(state, dict):
            return
        restore = state.get("restore")
        if isinstance(restore, dict) and restore.get("restore_id"):
            self.restore_id = restore["restore_id"]
        if name == PREPARE_PHASE and isinstance(state.get("plan"), dict):
            self.plan = state["plan"]
            self.work_bucket = self.work_bucket or self.plan.get("work_bucket")

    def _capture_alert(self, event: dict[str, Any]) -> None:
        details: dict[str, Any] = next((v for k, v in event.items() if k.endswith("EventDetails")), {})
        try:
            result = json.loads(details.get("output") or "{}")
        except ValueError:
            return
        result = result.get("Payload", result) if isinstance(result, dict) else {}
        if isinstance(result, dict) and result.get("message"):
            self.failure = {"subject": str(result.get("subject", "")), "message": str(result["message"])}

    def _json(self, key: str) -> Any:
        try:
            return json.loads(self.s3.get_object(Bucket=self.work_bucket, Key=key)["Body"].read())
        except Exception:  # noqa: BLE001 - progress is best effort: an absent or unreadable object shows as no progress
            return None

    def _keys(self, prefix: str) -> list[str]:
        keys: list[str] = []
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.work_bucket, Prefix=prefix):
            keys.extend(item["Key"] for item in page.get("Contents", []))
        return keys

    def _users(self, snap: Snapshot) -> None:
        """Sum the chunk result files (finished chunks, read once: they never change) and the
        progress files of the unfinished ones."""
        keys = {}
        for key in self._keys(f"restores/{self.restore_id}/results/users/"):
            match = _CHUNK.search(key)
            if match:
                keys[(int(match.group(1)), bool(match.group(2)))] = key
        counts: dict[int, tuple[int, int]] = {}
        for (index, is_progress), key in sorted(keys.items(), key=lambda item: item[0][1]):
            if index in self._finished:
                continue
            if not is_progress or (index, False) not in keys:
                body = self._json(key)
                if isinstance(body, dict):
                    value = (int(body.get("restored", 0)), len(body.get("failed") or []))
                    if is_progress:
                        counts[index] = value
                    else:
                        self._finished[index] = value
        for restored, failed in [*self._finished.values(), *counts.values()]:
            snap.users_restored += restored
            snap.users_failed += failed
        snap.users_done = snap.users_restored + snap.users_failed

    def snapshot(self) -> Snapshot:
        events = self.events()
        snap = Snapshot(at=self.clock.monotonic(), phases=self._phases(events))
        snap.restore_id = self.restore_id
        if self.plan:
            snap.users_total = int((self.plan.get("planned") or {}).get("users", 0))
            snap.chunks_total = int(self.plan.get("user_chunks", 0))
            snap.rate_bound = (self.plan.get("estimate") or {}).get("users_per_second_bound")
            snap.users_read = snap.users_total
            snap.chunks_written = snap.chunks_total
        if self.work_bucket and self.restore_id:
            if not self.plan:
                progress = self._json(f"restores/{self.restore_id}/plan/progress.json") or {}
                snap.users_read = int(progress.get("users_read", 0))
                snap.chunks_written = int(progress.get("chunks_written", 0))
            groups = next((p for p in snap.phases if p.name == GROUPS_PHASE), None)
            if self.plan and groups is not None:
                snap.groups_total = int((self.plan.get("counts") or {}).get("groups", 0))
                if groups.status == "ok":
                    snap.groups_done = snap.groups_total
                else:
                    checkpoint = self._json(f"restores/{self.restore_id}/results/groups.progress.json") or {}
                    snap.groups_done = int(checkpoint.get("offset", 0))
            if self.plan and any(p.name == USERS_PHASE for p in snap.phases):
                self._users(snap)
                self._rate(snap)
        if self.map_run_arn:
            try:
                counts = self.sfn.describe_map_run(mapRunArn=self.map_run_arn).get("itemCounts") or {}
                snap.map_items = {k: int(v) for k, v in counts.items() if isinstance(v, int)}
            except Exception:  # noqa: BLE001 - an emulation without DescribeMapRun: the chunk files still count
                self.map_run_arn = None
        return snap

    def _rate(self, snap: Snapshot) -> None:
        if self.users_started_at is None:
            self.users_started_at, self.users_done_at_start = snap.at, snap.users_done
            return
        elapsed = snap.at - self.users_started_at
        done = snap.users_done - self.users_done_at_start
        if elapsed > 0 and done > 0:
            snap.rate = done / elapsed
            if snap.users_total is not None:
                snap.eta_seconds = max(snap.users_total - snap.users_done, 0) / snap.rate


def _eta(snap: Snapshot) -> str:
    if snap.eta_seconds is None:
        return "ETA -"
    minutes, seconds = divmod(round(snap.eta_seconds), 60)
    return f"ETA {minutes}:{seconds:02d}"


class ProgressDisplay:
    """Phase lines plus progress bars (preparation, users) on a rich console."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.shown: dict[str, str] = {}
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[detail]}"),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        )
        self.tasks: dict[str, TaskID] = {}

    def __enter__(self) -> ProgressDisplay:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def _bar(self, name: str, description: str, completed: int, total: int | None, detail: str) -> None:
        if name not in self.tasks:
            self.tasks[name] = self.progress.add_task(description, total=total, detail=detail)
        self.progress.update(self.tasks[name], completed=completed, total=total, detail=detail)

    def show(self, snap: Snapshot) -> None:
        for phase in snap.phases:
            before = self.shown.get(phase.name)
            if before is None:
                self.console.print(f"  [cyan]>[/cyan] {phase.name}")
            if phase.status != before and phase.status == "ok":
                self.console.print(f"  [green]ok[/green] {phase.name} [dim]{phase.seconds:.1f}s[/dim]")
            elif phase.status != before and phase.status == "failed":
                self.console.print(f"  [red]FAILED[/red] {phase.name} (the failure alert below says why)")
            self.shown[phase.name] = phase.status
        if snap.users_read or snap.chunks_written:
            self._bar(
                "prepare",
                "Preparation: users read",
                snap.users_read,
                snap.users_total,
                f"{snap.chunks_written} chunk files written",
            )
        if snap.groups_total:
            self._bar("groups", "Groups created", snap.groups_done, max(snap.groups_total, snap.groups_done), "")
        if snap.users_total is not None and USERS_PHASE in self.shown:
            rate = f"{snap.rate:.1f} users/s" if snap.rate else "- users/s"
            bound = f" of {snap.rate_bound:.1f} the quotas allow" if snap.rate_bound else ""
            chunks = ""
            if snap.map_items:
                chunks = f", chunks {snap.map_items.get('succeeded', 0)}/{snap.map_items.get('total', 0)}"
            failed = f", {snap.users_failed} failed" if snap.users_failed else ""
            self._bar(
                "users",
                "Users restored",
                snap.users_done,
                snap.users_total,
                f"{rate}{bound}, {_eta(snap)}{failed}{chunks}",
            )


def follow(
    source: ProgressSource,
    display: ProgressDisplay | None,
    is_done: Callable[[], bool],
    interval: float = 0.25,
    on_snapshot: Callable[[Snapshot], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Snapshot:
    """Poll until the execution ends (an operator display); returns the last snapshot."""
    while True:
        finished = is_done()
        snap = source.snapshot()
        if on_snapshot is not None:
            on_snapshot(snap)
        if display is not None:
            display.show(snap)
        if finished:
            return snap
        sleep(interval)


# -------------------------------------------------------------- outcome, summary, exit codes, errors

EXIT_COMPLETE = 0
EXIT_USAGE = 2  # bad option, input or environment: nothing was started
EXIT_COMPLETE_WITH_SKIPS = 3  # complete; items not restorable, each named in the report
EXIT_FAILED = 4  # failed, incomplete, timed out or aborted


class OperatorError(click.ClickException):
    """One line on stderr and exit code 2: a bad option, input or environment (never a traceback)."""

    exit_code = EXIT_USAGE

    def show(self, file: Any = None) -> None:
        click.echo(f"Error: {self.format_message()}", err=True)


class OneLineCommand(click.Command):
    """Usage errors (a bad number, a missing file) as one line, exit code 2."""

    def make_context(self, *args: Any, **kwargs: Any) -> click.Context:
        try:
            return super().make_context(*args, **kwargs)
        except click.UsageError as error:
            raise OperatorError(error.format_message()) from None


class OneLineGroup(click.Group):
    command_class = OneLineCommand

    def make_context(self, *args: Any, **kwargs: Any) -> click.Context:
        try:
            return super().make_context(*args, **kwargs)
        except click.UsageError as error:
            raise OperatorError(error.format_message()) from None


def not_restored(report: dict[str, Any] | None) -> list[str]:
    """Every item a restore (or a plan) leaves out, by name: '<category> <outcome>: <item>: <reason>'."""
    if not report:
        return []
    if report.get("dry_run"):
        return [
            f"{name} would skip: {item['item']}: {item['reason']}"
            for name, items in ((report.get("plan") or {}).get("would_skip") or {}).items()
            for item in items
        ]
    return [
        f"{name} {kind}: {item['item']}: {item['reason']}"
        for name, category in (report.get("categories") or {}).items()
        for kind in ("skipped", "failed")
        for item in category.get(f"{kind}_items", [])
    ]


def outcome_of(status: str, report: dict[str, Any] | None) -> tuple[str, int]:
    """(outcome, exit code): complete, complete_with_skips, or failed (also incomplete, timed out, aborted)."""
    if status != "SUCCEEDED":
        return "failed", EXIT_FAILED
    if report is None:
        return "complete", EXIT_COMPLETE
    if not report.get("dry_run") and (report.get("outcome") or {}).get("status") == "incomplete":
        return "failed", EXIT_FAILED
    return ("complete_with_skips", EXIT_COMPLETE_WITH_SKIPS) if not_restored(report) else ("complete", EXIT_COMPLETE)


def render_summary(
    console: Console,
    output: dict[str, Any] | None,
    report: dict[str, Any] | None,
    failure: dict[str, str] | None = None,
    limit: int = 20,
) -> None:
    if failure:
        console.print(f"\n[bold red]{failure.get('subject', 'Restore FAILED')}[/bold red]")
        console.print(failure["message"])
    if not output:
        return
    console.print()
    dry_run = bool((report or {}).get("dry_run") or output.get("dry_run"))
    if output.get("new_user_pool_id"):
        console.print(f"[bold]New user pool:[/bold] {output['new_user_pool_id']}")
    console.print(f"[bold]Restore id:[/bold] {output.get('restore_id')}   [bold]Report:[/bold] {output.get('report')}")
    counts = output.get("counts") or {}
    columns: tuple[str, ...]
    keys: tuple[str, ...]
    if dry_run:
        table = Table(title="Restore plan (dry run: nothing was created)")
        columns = ("category", "in backup", "would create", "would skip")
        keys = ("backup", "would_create", "would_skip")
    else:
        table = Table(title="What came back")
        columns = ("category", "in backup", "restored", "skipped", "failed")
        keys = ("backup", "restored", "skipped", "failed")
    for column in columns:
        table.add_column(column, justify="right" if column != "category" else "left")
    for name, c in counts.items():
        style = "red" if c.get("failed") else None
        table.add_row(name, *(str(c.get(k, 0)) for k in keys), style=style)
    console.print(table)
    if not report:
        return
    if dry_run:
        plan = report.get("plan") or {}
        console.print(f"[bold]Estimated duration:[/bold] {(plan.get('estimate') or {}).get('text', 'unknown')}")
        if plan.get("readiness"):
            console.print("[bold]Readiness (Region-bound settings that will not apply as they are):[/bold]")
            for finding in plan["readiness"]:
                console.print(f"  - {finding}")
    for client in report.get("client_ids", []):
        console.print(f"  app client {client['name']}: {client['old_client_id']} -> {client['new_client_id']}")
    items = not_restored(report)
    if items:
        console.print(f"[bold]{'Would not be created' if dry_run else 'Not restored'} ({len(items)}):[/bold]")
        for line in items[:limit]:
            console.print(f"  - {line}")
        if len(items) > limit:
            console.print(f"  ... {len(items) - limit} more in the report")
    steps = (report.get("plan") or {}).get("manual_steps") if dry_run else report.get("manual_steps")
    if steps:
        console.print(f"[bold]{'Manual steps a restore will need' if dry_run else 'Needs manual work'}:[/bold]")
        for step in steps:
            console.print(f"  - {step}")
    if not dry_run:
        checks = report.get("verification") or {}
        bad = [name for name, check in checks.items() if not check.get("ok")]
        status = (report.get("outcome") or {}).get("status")
        console.print(
            f"[bold]Verification:[/bold] {'OK' if not bad else 'MISMATCH in ' + ', '.join(bad)}"
            + (f" (outcome: {status})" if status else "")
        )
