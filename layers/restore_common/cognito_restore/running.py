"""Which chunk tasks of a restore are running, so each paces at 1/n of the share with n the real count.

One ledger item per restore and kind (``<restore_id>#running#users``) holds one attribute per
running chunk task: ``c<index>`` = ``"<from>:<until>"`` in ms of the shared clock. Membership
changes only at epoch boundaries (every EPOCH_S seconds of wall time): the set of tasks of epoch
b is the tasks with from <= b < until. Every task writes its heartbeat (UpdateItem with
ReturnValues ALL_NEW: one call writes and reads) READ_BEFORE_S before each boundary, and every
write made later than that is dated from or until a boundary after the next one, so every task
reads the same set for the next epoch and switches to its new place at the same instant: no two
tasks hold the same grid slots (cognito_restore.pacing). A task joining waits for its first
boundary (up to EPOCH_S + READ_BEFORE_S + MARGIN_S); a task leaving keeps its slots idle until
the boundary after its last read; a task that crashed drops out after LEASE_EPOCHS epochs.

Cost: one DynamoDB write per task every EPOCH_S seconds (10 tasks: 5 writes/s).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from cognito_restore import aws

EPOCH_S = 2.0
READ_BEFORE_S = 0.5  # heartbeat this long before each boundary
MARGIN_S = 0.25  # clock differences between hosts and write latency tolerated
LEASE_EPOCHS = 4  # a task that stops beating drops out after this many epochs


def next_boundary(t: float, at_least: float = 0.0) -> float:
    """The first epoch boundary at or after t + at_least."""
    return math.ceil((t + at_least) / EPOCH_S) * EPOCH_S


def members(attributes: dict[str, Any], boundary: float) -> list[str]:
    """Task names running in the epoch starting at boundary (from <= boundary < until), sorted."""
    edge = round(boundary * 1000)
    running = []
    for name, value in attributes.items():
        if not name.startswith("c") or "S" not in value:
            continue
        start, _, end = value["S"].partition(":")
        if int(start) <= edge < int(end):
            running.append(name)
    return sorted(running)


def expired(attributes: dict[str, Any], now: float) -> list[str]:
    edge = round(now * 1000)
    return [n for n, v in attributes.items() if n.startswith("c") and "S" in v and int(v["S"].partition(":")[2]) < edge]


@dataclass
class RunningTasks:
    table: str
    restore_id: str
    kind: str
    index: int
    joined_ms: int = 0

    @property
    def key(self) -> dict[str, Any]:
        # Restore ids are [A-Za-z0-9_-]: "#" cannot collide with a restore entry.
        return {"restore_id": {"S": f"{self.restore_id}#running#{self.kind}"}}

    @property
    def name(self) -> str:
        return f"c{self.index:06d}"

    def _write(self, value: str | None) -> dict[str, Any]:
        dynamodb = aws.client("dynamodb")
        if value is None:
            return dict(
                dynamodb.update_item(
                    TableName=self.table,
                    Key=self.key,
                    UpdateExpression="REMOVE #me",
                    ExpressionAttributeNames={"#me": self.name},
                )
            )
        answer = dynamodb.update_item(
            TableName=self.table,
            Key=self.key,
            UpdateExpression="SET #me = :span",
            ExpressionAttributeNames={"#me": self.name},
            ExpressionAttributeValues={":span": {"S": value}},
            ReturnValues="ALL_NEW",
        )
        return dict(answer.get("Attributes", {}))

    def join(self, now: float) -> float:
        """Register; returns the boundary from which this task has a place."""
        start = next_boundary(now, READ_BEFORE_S + MARGIN_S)
        self.joined_ms = round(start * 1000)
        self._write(f"{self.joined_ms}:{round((start + LEASE_EPOCHS * EPOCH_S) * 1000)}")
        return start

    def beat(self, now: float) -> tuple[int, int, float]:
        """Heartbeat (call READ_BEFORE_S before a boundary): (position, tasks) from the coming boundary on."""
        boundary = next_boundary(now, MARGIN_S)
        until = round((boundary + LEASE_EPOCHS * EPOCH_S) * 1000)
        attributes = self._write(f"{self.joined_ms}:{until}")
        self._prune(attributes, now)
        running = members(attributes, boundary)
        if self.name not in running:  # joined for a later boundary: not in this epoch yet
            return 0, 0, boundary
        return running.index(self.name), len(running), boundary

    def leave(self, now: float) -> None:
        """Keep the slots until the boundary after every other task's next read, then drop out."""
        until = round(next_boundary(now, READ_BEFORE_S + MARGIN_S) * 1000)
        self._write(f"{self.joined_ms}:{until}")

    def _prune(self, attributes: dict[str, Any], now: float) -> None:
        """Remove entries of tasks gone long ago (crashed), a few per beat, so the item stays small."""
        gone = [n for n in expired(attributes, now - LEASE_EPOCHS * EPOCH_S) if n != self.name][:20]
        if gone:
            aws.client("dynamodb").update_item(
                TableName=self.table,
                Key=self.key,
                UpdateExpression="REMOVE " + ", ".join(f"#g{i}" for i in range(len(gone))),
                ExpressionAttributeNames={f"#g{i}": n for i, n in enumerate(gone)},
            )
