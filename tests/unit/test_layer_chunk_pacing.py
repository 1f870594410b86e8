"""A chunk task keeps its place on the pacing grids until its last paced call (moto S3 and DynamoDB).

The defect this guards against: in sync mode the chunk's finish hook (the partition's deletions)
ran after the heartbeat thread had stopped, so a call whose slot lay past the task's last
assignment waited for an assignment that never came, and the chunk task never returned.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from cognito_restore.chunks import ChunkOutcome, run_user_chunk
from cognito_restore.pacing import Pacer, quotas_from_env
from cognito_restore.store import WorkStore
from tests.unit.test_layer_ledger import moto_with_ledger_table

TABLE, BUCKET, RESTORE_ID = "ledger", "work", "r1"


class _Context:
    aws_request_id = str(uuid.uuid4())

    def get_remaining_time_in_millis(self) -> int:
        return 600_000


@pytest.fixture
def chunk_event(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    monkeypatch.setenv("LEDGER_TABLE", TABLE)
    monkeypatch.setenv("WORK_BUCKET", BUCKET)
    with moto_with_ledger_table(monkeypatch, TABLE):
        boto3.client("s3").create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "us-west-2"})
        yield {"chunk": {"index": 0}, "restore": {"restore_id": RESTORE_ID}}


@pytest.mark.parametrize("users", [1, 0], ids=["after-users", "empty-partition"])
def test_the_finish_hooks_paced_calls_past_the_last_heartbeat_are_still_sent(
    chunk_event: dict[str, Any], users: int
) -> None:
    store = WorkStore(bucket=BUCKET, restore_id=RESTORE_ID)
    items: list[dict[str, Any]] = [{"n": i} for i in range(users)]
    chunk_event["chunk"]["key"] = store.put_json(store.chunk_key("users/chunk-000000.json"), items)
    # 4 AdminDeleteUser calls a second: 12 deletions span 3 s, past the 2 s epoch the last heartbeat covers.
    pacer = Pacer(concurrency=1, quotas={**quotas_from_env(), "UserUpdate": 4.0}, share=1.0)
    deleted: list[int] = []

    def finish(outcome: ChunkOutcome) -> None:
        for n in range(12):
            outcome.call("AdminDeleteUser")
            deleted.append(n)

    result: list[ChunkOutcome] = []
    task = threading.Thread(
        target=lambda: result.append(
            run_user_chunk(chunk_event, _Context(), lambda _item, _outcome: None, pacer, finish=finish)  # type: ignore[arg-type]
        ),
        daemon=True,
    )
    task.start()
    task.join(timeout=30)  # a bound on a hang, not a wait for time to pass: it returns within seconds
    assert not task.is_alive(), f"the chunk task hangs after {len(deleted)} of 12 paced deletions"
    assert result[0].done and len(deleted) == 12
