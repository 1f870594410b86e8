"""Phase-by-phase progress of a restore execution, read from its history (drill and operator CLI)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.table import Table


class PhaseWatcher:
    """Prints each phase as it starts and ends; works with any boto3 Step Functions client."""

    def __init__(self, stepfunctions: Any, execution_arn: str, console: Console) -> None:
        self.sfn = stepfunctions
        self.arn = execution_arn
        self.console = console
        self.seen_events = 0
        self.started: dict[str, float] = {}
        self.map_iterations: dict[str, int] = {}

    def _events(self) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"executionArn": self.arn, "maxResults": 1000}
        while True:
            page = self.sfn.get_execution_history(**kwargs)
            events.extend(page["events"])
            if not page.get("nextToken"):
                return events
            kwargs["nextToken"] = page["nextToken"]

    def poll(self) -> None:
        events = self._events()
        for event in events[self.seen_events :]:
            self._show(event)
        self.seen_events = len(events)

    def _show(self, event: dict[str, Any]) -> None:
        kind = event["type"]
        if kind.endswith("StateEntered"):
            name = event["stateEnteredEventDetails"]["name"]
            self.started[name] = time.monotonic()
            self.console.print(f"  [cyan]>[/cyan] {name}")
        elif kind.endswith("StateExited"):
            name = event["stateExitedEventDetails"]["name"]
            took = time.monotonic() - self.started.get(name, time.monotonic())
            extra = ""
            if name in self.map_iterations:
                extra = f" ({self.map_iterations[name]} chunks)"
            self.console.print(f"  [green]ok[/green] {name}{extra} [dim]{took:.1f}s[/dim]")
        elif kind in ("MapIterationSucceeded", "MapRunSucceeded", "MapIterationStarted"):
            if kind == "MapIterationStarted":
                current = next(reversed(self.started), "")
                self.map_iterations[current] = self.map_iterations.get(current, 0) + 1
        elif kind in ("TaskFailed", "LambdaFunctionFailed", "ExecutionFailed", "MapRunFailed"):
            details: dict[str, Any] = next((v for k, v in event.items() if k.endswith("EventDetails")), {})
            self.console.print(f"  [red]x[/red] {kind}: {details.get('error', '')}")

    def follow(self, is_done: Callable[[], bool], interval: float = 0.25) -> None:
        """Poll the history until the execution ends (an operator display, not a test)."""
        while not is_done():
            self.poll()
            time.sleep(interval)
        self.poll()


def render_summary(console: Console, output: dict[str, Any] | None, report: dict[str, Any] | None) -> None:
    if not output:
        return
    console.print()
    if output.get("new_user_pool_id"):
        console.print(f"[bold]New user pool:[/bold] {output['new_user_pool_id']}")
    console.print(f"[bold]Restore id:[/bold] {output.get('restore_id')}   [bold]Report:[/bold] {output.get('report')}")
    table = Table(title="What came back", show_lines=False)
    for column in ("category", "in backup", "restored", "skipped", "failed"):
        table.add_column(column, justify="right" if column != "category" else "left")
    for name, counts in (output.get("counts") or {}).items():
        style = "red" if counts["failed"] else None
        table.add_row(
            name,
            str(counts["backup"]),
            str(counts["restored"]),
            str(counts["skipped"]),
            str(counts["failed"]),
            style=style,
        )
    console.print(table)
    if report:
        for client in report.get("client_ids", []):
            console.print(f"  app client {client['name']}: {client['old_client_id']} -> {client['new_client_id']}")
        if report.get("manual_steps"):
            console.print("[bold]Needs manual work:[/bold]")
            for step in report["manual_steps"]:
                console.print(f"  - {step}")
        checks = report.get("verification") or {}
        bad = [name for name, check in checks.items() if not check.get("ok")]
        console.print(f"[bold]Verification:[/bold] {'OK' if not bad else 'MISMATCH in ' + ', '.join(bad)}")
