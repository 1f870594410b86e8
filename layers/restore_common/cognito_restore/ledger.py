"""The restore ledger (DynamoDB): binds a restore id to its backup and to the pool it created.

Conditional writes make the binding happen once, so retries, redrives and a second start with the
same restore id continue the same restore instead of creating a second pool.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from cognito_restore import aws
from cognito_restore.aws_errors import error_code
from cognito_restore.errors import RestoreConflict


@dataclass(frozen=True)
class LedgerEntry:
    restore_id: str
    source_pool_id: str
    backup_bucket: str
    backup_key: str
    new_pool_id: str | None = None

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> LedgerEntry:
        return cls(
            restore_id=item["restore_id"]["S"],
            source_pool_id=item["source_pool_id"]["S"],
            backup_bucket=item["backup_bucket"]["S"],
            backup_key=item["backup_key"]["S"],
            new_pool_id=item.get("new_pool_id", {}).get("S"),
        )


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

    def open(self, restore_id: str, source_pool_id: str, backup_bucket: str, backup_key: str) -> LedgerEntry:
        """Record which backup this restore uses; a re-run gets the backup recorded first."""
        try:
            aws.client("dynamodb").put_item(
                TableName=self.table,
                Item={
                    "restore_id": {"S": restore_id},
                    "source_pool_id": {"S": source_pool_id},
                    "backup_bucket": {"S": backup_bucket},
                    "backup_key": {"S": backup_key},
                    "opened_at": {"S": datetime.now(UTC).isoformat()},
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
        return entry

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
