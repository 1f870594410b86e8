"""The restore ledger (DynamoDB): binds a restore id to its backup and to the pool it created.

Conditional writes make the binding happen once, so retries, redrives and a second start with the
same restore id continue the same restore instead of creating a second pool. The entry also names
the execution running the restore (one at a time), and one item per chunk holds the lease of the
Lambda invocation working on that chunk (one worker per chunk).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from cognito_restore import aws
from cognito_restore.aws_errors import cancellation_reasons, error_code
from cognito_restore.errors import ChunkLeaseHeld, ChunkLeaseLost, RestoreConflict, RestoreInProgress

# DescribeExecution is eventually consistent: an owner claimed this recently and not found yet is
# taken as running (the second of two executions started together must not take over the first).
OWNER_GRACE_SECONDS = 600
RUNNING_STATUSES = frozenset({"RUNNING", "PENDING_REDRIVE"})


def execution_status(execution_arn: str) -> str | None:
    """The status of a restore execution, None when it does not exist (or no longer: 90 days)."""
    try:
        status: str = aws.client("stepfunctions").describe_execution(executionArn=execution_arn)["status"]
        return status
    except ClientError as error:
        if error_code(error) == "ExecutionDoesNotExist":
            return None
        raise


@dataclass(frozen=True)
class LedgerEntry:
    restore_id: str
    source_pool_id: str
    backup_bucket: str
    backup_key: str
    backup_version: str = ""  # "version:<id>" or "etag:<etag>" ("" in entries older than it)
    new_pool_id: str | None = None
    owner_execution: str | None = None
    owned_since: float = 0.0
    options: dict[str, bool | str] | None = None
    claim_epoch: int = 0  # incremented by every claim: a claim is a conditional write on the epoch it read
    owner_redrive: int = 0  # the owner's Execution.RedriveCount when it claimed (which run of it owns the restore)
    completed: bool = False

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> LedgerEntry:
        return cls(
            restore_id=item["restore_id"]["S"],
            source_pool_id=item["source_pool_id"]["S"],
            backup_bucket=item["backup_bucket"]["S"],
            backup_key=item["backup_key"]["S"],
            backup_version=item.get("backup_version", {}).get("S", ""),
            new_pool_id=item.get("new_pool_id", {}).get("S"),
            owner_execution=item.get("owner_execution", {}).get("S"),
            owned_since=float(item.get("owned_since", {}).get("N", "0")),
            options={k: v.get("BOOL", v.get("S")) for k, v in item["options"]["M"].items()}
            if "options" in item
            else None,
            claim_epoch=int(item.get("claim_epoch", {}).get("N", "0")),
            owner_redrive=int(item.get("owner_redrive", {}).get("N", "0")),
            completed="completed_at" in item,
        )


def _attribute(value: bool | str) -> dict[str, Any]:
    return {"BOOL": value} if isinstance(value, bool) else {"S": value}


def _source_key(source_pool_id: str) -> dict[str, Any]:
    # Restore ids are [A-Za-z0-9_-]: "source#" cannot collide with a restore entry.
    return {"restore_id": {"S": f"source#{source_pool_id}"}}


@dataclass(frozen=True)
class Ledger:
    table: str

    def get(self, restore_id: str) -> LedgerEntry | None:
        item = (
            aws.client("dynamodb")
            .get_item(TableName=self.table, Key={"restore_id": {"S": restore_id}}, ConsistentRead=True)
            .get("Item")
        )
        return LedgerEntry.from_item(item) if item else None

    def open(
        self,
        restore_id: str,
        source_pool_id: str,
        backup_bucket: str,
        backup_key: str,
        backup_version: str = "",
        options: dict[str, bool | str] | None = None,
    ) -> LedgerEntry:
        """Record which backup this restore uses; a re-run gets the backup recorded first."""
        try:
            aws.client("dynamodb").put_item(
                TableName=self.table,
                Item={
                    "restore_id": {"S": restore_id},
                    "source_pool_id": {"S": source_pool_id},
                    "backup_bucket": {"S": backup_bucket},
                    "backup_key": {"S": backup_key},
                    "backup_version": {"S": backup_version},
                    "opened_at": {"S": datetime.now(UTC).isoformat()},
                    **({"options": {"M": {k: _attribute(v) for k, v in options.items()}}} if options else {}),
                },
                ConditionExpression="attribute_not_exists(restore_id)",
            )
        except ClientError as error:
            if error_code(error) != "ConditionalCheckFailedException":
                raise
        entry = self.get(restore_id)
        assert entry is not None
        if entry.source_pool_id != source_pool_id:
            raise RestoreConflict(
                f"Restore id {restore_id} already restores source pool {entry.source_pool_id}, "
                f"not {source_pool_id}; start with another restore id."
            )
        differing = sorted(k for k, v in (options or {}).items() if (entry.options or {}).get(k, v) != v)
        if differing:
            raise RestoreConflict(
                f"Restore {restore_id} was started with other values of {', '.join(differing)}; continue it with "
                "the same options, or pass a new restore_id for a fresh restore."
            )
        return entry

    def claim(
        self, restore_id: str, execution_arn: str, status_of: Callable[[str], str | None], redrive_count: int = 0
    ) -> int:
        """Make this run of this execution the one running the restore, unless another one still runs it.

        Every claim, the owner's own re-claim on a redrive included, is a conditional write on the epoch
        it read and increments it: of two claims from the same read, one wins and the other reads again
        (and sees the winner running), so a stale reader can never take over a restore its owner has
        claimed again since. ``status_of`` gives an execution's status, None when Step Functions does
        not know it. Returns the new epoch. The entry stops counting as completed.
        """
        for _ in range(3):
            entry = self.get(restore_id)
            if entry is None:
                raise RestoreConflict(f"Restore {restore_id} has no ledger entry; start it from the beginning.")
            owner = entry.owner_execution
            if owner and owner != execution_arn:
                status = status_of(owner)
                recent = time.time() - entry.owned_since < OWNER_GRACE_SECONDS
                if status in RUNNING_STATUSES or (status is None and recent):
                    raise RestoreInProgress(
                        f"Restore {restore_id} is already being run by execution {owner}: this execution "
                        "stopped before doing anything. Follow that one (python -m tools.restore watch "
                        f"{owner}); to restore the same backup once more, pass a new restore_id."
                    )
            epoch = entry.claim_epoch
            condition = "claim_epoch = :epoch" if epoch else "attribute_not_exists(claim_epoch)"
            try:
                aws.client("dynamodb").update_item(
                    TableName=self.table,
                    Key={"restore_id": {"S": restore_id}},
                    UpdateExpression="SET owner_execution = :me, owned_since = :now, claim_epoch = :next, "
                    "owner_redrive = :redrive REMOVE completed_at",
                    ConditionExpression=f"attribute_exists(restore_id) AND {condition}",
                    ExpressionAttributeValues={
                        ":me": {"S": execution_arn},
                        ":now": {"N": f"{time.time():.3f}"},
                        ":next": {"N": str(epoch + 1)},
                        ":redrive": {"N": str(redrive_count)},
                        **({":epoch": {"N": str(epoch)}} if epoch else {}),
                    },
                )
                return epoch + 1
            except ClientError as error:
                if error_code(error) != "ConditionalCheckFailedException":
                    raise
        raise RestoreInProgress(f"Restore {restore_id} is being claimed by another execution; follow that one.")

    def owner_condition(self, restore_id: str, execution_arn: str, redrive_count: int) -> dict[str, Any]:
        """A TransactWriteItems ConditionCheck: this run of this execution still owns the restore."""
        return {
            "ConditionCheck": {
                "TableName": self.table,
                "Key": {"restore_id": {"S": restore_id}},
                "ConditionExpression": "owner_execution = :me AND owner_redrive = :redrive",
                "ExpressionAttributeValues": {":me": {"S": execution_arn}, ":redrive": {"N": str(redrive_count)}},
            }
        }

    def check_owner(self, restore_id: str, execution_arn: str, redrive_count: int) -> None:
        """Raise RestoreInProgress unless this run of this execution still owns the restore (strongly consistent)."""
        entry = self.get(restore_id)
        if entry is None or entry.owner_execution != execution_arn or entry.owner_redrive != redrive_count:
            owner = entry.owner_execution if entry else None
            raise RestoreInProgress(
                f"Restore {restore_id} was taken over by execution {owner} (or a later run of this one): this "
                "execution stopped before creating anything. Follow that one."
            )

    def complete(self, restore_id: str, source_pool_id: str) -> None:
        """Mark the restore completed; the source pool no longer has it as its unfinished restore."""
        dynamodb = aws.client("dynamodb")
        dynamodb.update_item(
            TableName=self.table,
            Key={"restore_id": {"S": restore_id}},
            UpdateExpression="SET completed_at = :now",
            ConditionExpression="attribute_exists(restore_id)",
            ExpressionAttributeValues={":now": {"S": datetime.now(UTC).isoformat()}},
        )
        try:
            dynamodb.update_item(
                TableName=self.table,
                Key=_source_key(source_pool_id),
                UpdateExpression="REMOVE open_restore_id",
                ConditionExpression="open_restore_id = :me",
                ExpressionAttributeValues={":me": {"S": restore_id}},
            )
        except ClientError as error:
            if error_code(error) != "ConditionalCheckFailedException":
                raise  # else another restore of the pool was opened since: it stays the open one

    def open_restore_of(self, source_pool_id: str) -> tuple[str | None, LedgerEntry | None]:
        """The pointer's restore id (None without one) and its entry when that restore is unfinished."""
        item = (
            aws.client("dynamodb")
            .get_item(TableName=self.table, Key=_source_key(source_pool_id), ConsistentRead=True)
            .get("Item")
            or {}
        )
        pointed = item.get("open_restore_id", {}).get("S")
        if pointed is None:
            return None, None
        entry = self.get(pointed)
        return pointed, entry if entry is not None and not entry.completed else None

    def point_source(self, source_pool_id: str, restore_id: str, seen: str | None, force: bool = False) -> bool:
        """Name restore_id as the source pool's unfinished restore; False when another start named one since
        (``seen``: the pointer's value read before, None when absent). ``force``: whatever it names (a
        restore started with an explicit restore_id or backup_key is the newest unfinished one)."""
        condition = "attribute_not_exists(open_restore_id) OR open_restore_id = :me"
        values = {":me": {"S": restore_id}}
        if seen is not None:
            condition += " OR open_restore_id = :seen"
            values[":seen"] = {"S": seen}
        try:
            aws.client("dynamodb").update_item(
                TableName=self.table,
                Key=_source_key(source_pool_id),
                UpdateExpression="SET open_restore_id = :me",
                ExpressionAttributeValues={":me": values[":me"]} if force else values,
                **({} if force else {"ConditionExpression": condition}),
            )
        except ClientError as error:
            if error_code(error) != "ConditionalCheckFailedException":
                raise
            return False
        return True

    def bind_pool(self, restore_id: str, new_pool_id: str) -> str:
        """Bind the new pool to the restore once; returns the pool actually bound."""
        try:
            aws.client("dynamodb").update_item(
                TableName=self.table,
                Key={"restore_id": {"S": restore_id}},
                UpdateExpression="SET new_pool_id = :pool",
                ConditionExpression="attribute_exists(restore_id) AND attribute_not_exists(new_pool_id)",
                ExpressionAttributeValues={":pool": {"S": new_pool_id}},
            )
            return new_pool_id
        except ClientError as error:
            if error_code(error) != "ConditionalCheckFailedException":
                raise
        entry = self.get(restore_id)
        if entry is None or entry.new_pool_id is None:
            raise RestoreConflict(f"Restore {restore_id} has no ledger entry; start it from the beginning.")
        return entry.new_pool_id


@dataclass
class ChunkLease:
    """One worker per chunk: the newest invocation working on a chunk holds its lease.

    When a Map run fails or is redriven, or Step Functions retries a task whose invocation it lost
    track of, the chunk's earlier invocation may still be running. Each invocation takes the lease
    with an expiry at its own deadline (now + its remaining time; it cannot run longer). A newer
    invocation has a later deadline, so its conditional write wins; the older one sees, at its next
    check (before each checkpoint write and each batch of Cognito writes), that it lost the lease
    and stops without writing progress. A lease is never held past its holder's deadline.
    """

    table: str
    restore_id: str
    kind: str
    index: int
    owner: str
    expires_ms: int = 0

    @property
    def key(self) -> dict[str, Any]:
        # Restore ids are [A-Za-z0-9_-]: "#" cannot collide with a restore entry.
        return {"restore_id": {"S": f"{self.restore_id}#lease#{self.kind}-{self.index:06d}"}}

    def acquire(self, remaining_ms: int, restore_owner: tuple[str, int] | None = None) -> None:
        """Take the lease; with ``restore_owner`` (execution ARN, redrive count), only while that run of that
        execution owns the restore, checked in the same transaction (an execution taken over meanwhile
        cannot start a chunk: RestoreInProgress, final)."""
        self.expires_ms = int(time.time() * 1000) + remaining_ms
        update = {
            "TableName": self.table,
            "Key": self.key,
            "UpdateExpression": "SET lease_owner = :me, lease_expires = :expires",
            "ConditionExpression": "attribute_not_exists(lease_expires) OR lease_expires <= :expires",
            "ExpressionAttributeValues": {":me": {"S": self.owner}, ":expires": {"N": str(self.expires_ms)}},
        }
        dynamodb = aws.client("dynamodb")
        try:
            if restore_owner is None:
                dynamodb.update_item(**update)
            else:
                dynamodb.transact_write_items(
                    TransactItems=[
                        {"Update": update},
                        Ledger(self.table).owner_condition(self.restore_id, *restore_owner),
                    ]
                )
        except ClientError as error:
            code = error_code(error)
            if code == "TransactionCanceledException":
                reasons = cancellation_reasons(error)
                if len(reasons) > 1 and reasons[1] == "ConditionalCheckFailed":
                    raise RestoreInProgress(
                        f"Restore {self.restore_id} was taken over by another execution (or a later run of this "
                        f"one): {self.kind} chunk {self.index} not started by this one."
                    ) from None
                if not reasons or reasons[0] != "ConditionalCheckFailed":
                    raise
            elif code != "ConditionalCheckFailedException":
                raise
            raise ChunkLeaseHeld(
                f"{self.kind} chunk {self.index} is held by an invocation that runs longer than this one; retry later."
            ) from None

    def check(self) -> None:
        """Raise ChunkLeaseLost when a newer invocation took the chunk over."""
        item = (
            aws.client("dynamodb")
            .get_item(TableName=self.table, Key=self.key, ConsistentRead=True, ProjectionExpression="lease_owner")
            .get("Item")
            or {}
        )
        if item.get("lease_owner", {}).get("S") != self.owner:
            raise ChunkLeaseLost(
                f"{self.kind} chunk {self.index}: a newer invocation took it over; this one stopped without "
                "writing progress."
            )
