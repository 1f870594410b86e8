"""The work bucket: chunk files, manifests, per-phase results and reports of one restore.

Only pointers to these objects travel in Step Functions state; the objects may hold personal data
and secrets (the backup does), so the bucket is private and encrypted.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from cognito_restore import aws
from cognito_restore.aws_errors import NOT_FOUND_CODES, error_code


@dataclass(frozen=True)
class WorkStore:
    bucket: str
    restore_id: str

    @property
    def prefix(self) -> str:
        return f"restores/{self.restore_id}/"

    def key(self, name: str) -> str:
        """Kept records of the restore: plan, results, id maps, reports."""
        return self.prefix + name

    def chunk_key(self, name: str) -> str:
        """Chunk inputs (copies of backup data): a lifecycle rule expires chunks/ after 30 days."""
        return f"chunks/{self.restore_id}/{name}"

    def put_json(self, key: str, value: Any) -> str:
        body = json.dumps(value, separators=(",", ":"), default=str).encode()
        aws.client("s3").put_object(Bucket=self.bucket, Key=key, Body=body, ContentType="application/json")
        return key

    def put_text(self, key: str, text: str, content_type: str = "text/markdown") -> str:
        aws.client("s3").put_object(Bucket=self.bucket, Key=key, Body=text.encode(), ContentType=content_type)
        return key

    def put_file(self, key: str, path: str) -> None:
        """A large local file (a segmented preparation's index): multipart, parts in parallel (s3transfer)."""
        aws.client("s3").upload_file(path, self.bucket, key)

    def get_file(self, key: str, path: str) -> None:
        aws.client("s3").download_file(self.bucket, key, path)

    def get_json(self, key: str) -> Any:
        body = aws.client("s3").get_object(Bucket=self.bucket, Key=key)["Body"].read()
        return json.loads(body)

    def get_json_or_none(self, key: str) -> Any | None:
        try:
            return self.get_json(key)
        except ClientError as error:
            if error_code(error) in NOT_FOUND_CODES:
                return None
            raise

    # Well-known objects of a restore.
    def result_key(self, phase: str) -> str:
        return self.key(f"results/{phase}.json")

    def chunk_result_key(self, kind: str, index: int) -> str:
        return self.key(f"results/{kind}/chunk-{index:06d}.json")

    def put_result(self, phase: str, result: dict[str, Any]) -> str:
        return self.put_json(self.result_key(phase), result)

    def get_result(self, phase: str) -> dict[str, Any] | None:
        return self.get_json_or_none(self.result_key(phase))

    def list_keys(self, prefix: str) -> list[str]:
        keys: list[str] = []
        paginator = aws.client("s3").get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
            keys.extend(item["Key"] for item in page.get("Contents", []))
        return keys
