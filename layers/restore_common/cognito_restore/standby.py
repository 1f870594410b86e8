"""Warm standby: a sync of the standby pool for each new backup of the source pool, one at a time.

The standby function (functions/standby_sync) gets two kinds of EventBridge events:

* S3 "Object Created" of a backup of the source pool in the backup bucket (a v1 key or a v2
  manifest, the object that completes a v2 backup): the backup is *offered* to the pool's queue;
* "Step Functions Execution Status Change" of a standby sync that ended: the queue is *released*.

The queue is one DynamoDB item per source pool (``StandbyQueueTable``): at most one sync running
(``running_*``) and at most one backup waiting (``pending_*``). A newer backup replaces the waiting
one (it is superseded: a sync of the newer backup leaves the pool as the newer backup, so syncing the
older first is wasted quota); a backup not newer than the one waiting, running or last synced is
ignored (EventBridge delivers at least once, and replication may deliver out of order). Every change
is a conditional write, so two deliveries at once (or a retried one) cannot start two syncs.

A sync's execution name is derived from the backup key: the claim writes the execution ARN first,
then starts it; a crash in between leaves a claim whose execution does not exist, which the next
event starts (StartExecution with the same name and input is idempotent for a running execution).
docs/standby.md has the AWS behaviours this relies on.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from cognito_restore.aws_errors import error_code
from cognito_restore.discovery import BackupRef, parse_backup_key

ENDED_STATUSES = frozenset({"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"})
NAME_PREFIX = "standby-"  # the status-change rule selects the standby's executions by it (template.yaml)
# DescribeExecution is eventually consistent: a claim this recent whose execution is not found yet is running.
CLAIM_GRACE_SECONDS = 600


def backup_of(key: str) -> BackupRef | None:
    """The pool and time of a backup key (a v1 object or the manifest that completes a v2 backup), else None."""
    return parse_backup_key(key)


def execution_name(ref: BackupRef) -> str:
    """Deterministic per backup key, readable, within the 80-character limit, selected by NAME_PREFIX."""
    digest = hashlib.sha256(ref.key.encode()).hexdigest()[:10]
    pool = re.sub(r"[^A-Za-z0-9_-]", "-", ref.pool_id)[:40]
    return f"{NAME_PREFIX}{pool}-{ref.taken_at:%Y%m%dT%H%M%S}-{digest}"


def execution_arn(state_machine_arn: str, name: str) -> str:
    return state_machine_arn.replace(":stateMachine:", ":execution:", 1) + f":{name}"


@dataclass(frozen=True)
class StandbyConfig:
    source_pool_id: str
    target_pool_id: str
    max_deletes: int  # 0: users absent from the backup are only reported; > 0: deleted, at most this many
    state_machine_arn: str
    backup_bucket: str
    table: str

    def sync_input(self, backup_key: str) -> dict[str, Any]:
        """The sync's execution input (validated by the caller with the one input schema)."""
        request: dict[str, Any] = {
            "user_pool_id": self.source_pool_id,
            "backup_key": backup_key,
            "mode": "sync",
            "target_user_pool_id": self.target_pool_id,
            "alerts": "failures",  # a sync every backup: the topic hears of it only when it fails
        }
        if self.max_deletes > 0:
            request.update(delete_missing=True, max_deletes=self.max_deletes)
        return request


@dataclass(frozen=True)
class Decision:
    """What one event did, for the log and the function's answer (keys and ARNs only)."""

    action: str  # ignored | queued | superseded | started | waiting | released
    reason: str = ""
    backup_key: str | None = None
    execution_arn: str | None = None
    superseded_key: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v not in (None, "")}


class StandbyQueue:
    """The pool's queue item: conditional writes only (``dynamodb`` and ``sfn`` are boto3 clients)."""

    def __init__(self, config: StandbyConfig, dynamodb: Any, sfn: Any, now: Any = time.time):
        self.config = config
        self.dynamodb = dynamodb
        self.sfn = sfn
        self.now = now
        self.key = {"source_pool_id": {"S": config.source_pool_id}}

    # ------------------------------------------------------------------ events

    def offer(self, ref: BackupRef) -> Decision:
        """A new backup: it becomes the pending one unless something as new is pending, running or synced."""
        at = ref.taken_at.strftime("%Y-%m-%dT%H:%M:%SZ")  # fixed width: string order is time order
        try:
            old = self.dynamodb.update_item(
                TableName=self.config.table,
                Key=self.key,
                UpdateExpression="SET pending_key = :key, pending_at = :at",
                ConditionExpression=(
                    "(attribute_not_exists(pending_at) OR pending_at < :at)"
                    " AND (attribute_not_exists(running_at) OR running_at < :at)"
                    " AND (attribute_not_exists(last_at) OR last_at < :at)"
                ),
                ExpressionAttributeValues={":key": {"S": ref.key}, ":at": {"S": at}},
                ReturnValues="UPDATED_OLD",
            ).get("Attributes", {})
        except ClientError as error:
            if error_code(error) != "ConditionalCheckFailedException":
                raise
            return Decision("ignored", "a backup as new or newer is already waiting, running or synced", ref.key)
        replaced = old.get("pending_key", {}).get("S")
        if replaced:
            self.dynamodb.update_item(
                TableName=self.config.table,
                Key=self.key,
                UpdateExpression="ADD superseded :one SET last_superseded_key = :old",
                ExpressionAttributeValues={":one": {"N": "1"}, ":old": {"S": replaced}},
            )
            return Decision("superseded", "a newer backup replaced the waiting one", ref.key, superseded_key=replaced)
        return Decision("queued", "", ref.key)

    def release(self, arn: str, status: str) -> Decision:
        """A standby sync ended: the pool is free (only if that execution is the one running)."""
        try:
            self.dynamodb.update_item(
                TableName=self.config.table,
                Key=self.key,
                UpdateExpression=(
                    "SET last_key = running_key, last_at = running_at, last_execution = running_arn,"
                    " last_status = :status, last_ended = :now REMOVE running_key, running_at, running_arn, claimed"
                ),
                ConditionExpression="running_arn = :arn",
                ExpressionAttributeValues={
                    ":arn": {"S": arn},
                    ":status": {"S": status},
                    ":now": {"N": str(int(self.now()))},
                },
            )
        except ClientError as error:
            if error_code(error) != "ConditionalCheckFailedException":
                raise
            return Decision("ignored", "not the sync this queue is running (a repeated event)", execution_arn=arn)
        return Decision("released", status, execution_arn=arn)

    def start_next(self) -> Decision:
        """Start the pending backup's sync when none is running; a claim left by a crash is started again."""
        item = self.dynamodb.get_item(TableName=self.config.table, Key=self.key, ConsistentRead=True).get("Item", {})
        running = item.get("running_arn", {}).get("S")
        if running:
            status = self._status(running)
            if status in ("RUNNING", "PENDING_REDRIVE"):
                return Decision("waiting", "a sync of this pool is running", execution_arn=running)
            claimed = float(item.get("claimed", {}).get("N", "0"))
            if status is None and self.now() - claimed < CLAIM_GRACE_SECONDS:
                return Decision("waiting", "a sync was just claimed", execution_arn=running)
            if status is None:  # claimed, never started (a crash between claim and start): start it now
                return self._start(item["running_key"]["S"], running)
            # It ended and its status-change event was lost or is late: release it, then go on.
            self.release(running, status)
            item = self.dynamodb.get_item(TableName=self.config.table, Key=self.key, ConsistentRead=True).get(
                "Item", {}
            )
        pending = item.get("pending_key", {}).get("S")
        if not pending:
            return Decision("ignored", "nothing waiting")
        ref = backup_of(pending)
        if ref is None:  # never written by offer(); a hand-edited item
            raise ValueError("the standby queue holds a pending key that is not a backup key")
        arn = execution_arn(self.config.state_machine_arn, execution_name(ref))
        try:
            self.dynamodb.update_item(
                TableName=self.config.table,
                Key=self.key,
                UpdateExpression=(
                    "SET running_key = pending_key, running_at = pending_at, running_arn = :arn, claimed = :now"
                    " REMOVE pending_key, pending_at"
                ),
                ConditionExpression="attribute_not_exists(running_arn) AND pending_key = :key",
                ExpressionAttributeValues={
                    ":arn": {"S": arn},
                    ":key": {"S": pending},
                    ":now": {"N": str(int(self.now()))},
                },
            )
        except ClientError as error:
            if error_code(error) != "ConditionalCheckFailedException":
                raise
            return Decision("waiting", "another delivery claimed the pool first", pending)
        return self._start(pending, arn)

    # ------------------------------------------------------------------ helpers

    def _start(self, backup_key: str, arn: str) -> Decision:
        name = arn.rsplit(":", 1)[1]
        try:
            self.sfn.start_execution(
                stateMachineArn=self.config.state_machine_arn,
                name=name,
                input=json.dumps(self.config.sync_input(backup_key)),
            )
        except ClientError as error:
            if error_code(error) != "ExecutionAlreadyExists":
                raise
            # Started before and ended since (StartExecution is idempotent only while it runs): free the pool.
            status = self._status(arn) or "UNKNOWN"
            self.release(arn, status)
            return Decision("released", f"the sync of this backup had already ended {status}", backup_key, arn)
        return Decision("started", "", backup_key, arn)

    def _status(self, arn: str) -> str | None:
        try:
            status: str = self.sfn.describe_execution(executionArn=arn)["status"]
            return status
        except ClientError as error:
            if error_code(error) == "ExecutionDoesNotExist":
                return None
            raise
