"""Shared by the workflow benches: a synthetic backup restored by the real state machine in the emulator."""

from __future__ import annotations

import contextlib
import json
import os
import traceback
import warnings
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from bench.synthetic import SyntheticBackup, upload_backup
from tools.emulation import ExecutionResult, RestoreStack

DR_REGION = "us-west-2"
QUOTA_PARAMETERS = {
    "UserCreation": "QuotaUserCreation",
    "UserAccountRecovery": "QuotaUserAccountRecovery",
    "UserUpdate": "QuotaUserUpdate",
    "UserResourceUpdate": "QuotaUserResourceUpdate",
    "UserPoolResourceUpdate": "QuotaUserPoolResourceUpdate",
}
UNPACED = {name: "100000" for name in QUOTA_PARAMETERS.values()}
USERS_MAP = "Restore users and memberships"
OUT_DIR = Path(__file__).resolve().parent / "out"
# Never closed: Powertools keeps its logging handler (and the stream it had) across stacks.
_DEVNULL = open(os.devnull, "w")  # noqa: SIM115
warnings.filterwarnings("ignore", message="No application metrics to publish")


@dataclass
class Restore:
    result: ExecutionResult
    report: dict[str, Any]

    @property
    def users_map_seconds(self) -> float:
        return map_seconds(self.result, USERS_MAP)

    @property
    def users_map_run(self) -> dict[str, Any]:
        return self.result.map_runs[0]


def state_span(history: list[dict[str, Any]], name: str) -> tuple[datetime, datetime]:
    """Timestamps of the state's first Entered and last Exited events."""
    entered = [
        e["timestamp"]
        for e in history
        if e["type"].endswith("StateEntered") and e.get("stateEnteredEventDetails", {}).get("name") == name
    ]
    exited = [
        e["timestamp"]
        for e in history
        if e["type"].endswith("StateExited") and e.get("stateExitedEventDetails", {}).get("name") == name
    ]
    if not entered or not exited:
        raise LookupError(f"state {name!r} did not run to its end")
    return entered[0], exited[-1]


def map_seconds(result: ExecutionResult, name: str = USERS_MAP) -> float:
    start, end = state_span(result.history, name)
    return (end - start).total_seconds()


def read_report(stack: RestoreStack, result: ExecutionResult) -> dict[str, Any]:
    location = result.output["report"]
    bucket, key = location.removeprefix("s3://").split("/", 1)
    return json.loads(stack.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())


def quiet() -> contextlib.AbstractContextManager[Any]:
    """The handlers' JSON logs and metrics (stdout) go nowhere."""
    return contextlib.redirect_stdout(_DEVNULL)


def restore(stack: RestoreStack, backup: SyntheticBackup, timeout: float = 3600, silent: bool = True) -> Restore:
    """Upload the backup to the stack's backup bucket and run the restore of its pool to the end.

    silent: the handlers' JSON logs and metrics (stdout) go to /dev/null during the run.
    """
    upload_backup(stack.client("s3"), stack.outputs["BackupBucketName"], backup)
    errors: list[str] = []
    runtime = stack.lambda_runtime
    call_handler = runtime.call_handler

    def recording(fn: Any, event: Any, context: Any = None) -> Any:
        try:
            return call_handler(fn, event, context)
        except Exception as error:
            errors.append(
                f"{fn.logical_id}: {type(error).__name__}: {error}\n" + "".join(traceback.format_exception(error)[-3:])
            )
            raise

    runtime.call_handler = recording  # type: ignore[method-assign]  # to say why a run failed
    try:
        with quiet() if silent else contextlib.nullcontext():
            result = stack.run({"user_pool_id": backup.pool_id}, timeout=timeout)
    finally:
        del runtime.call_handler
    if result.status != "SUCCEEDED":
        raise RuntimeError(
            f"restore {result.status}: {result.error} {result.cause}\nhandler errors "
            f"({len(errors)}):\n" + "\n".join(errors[:3])
        )
    return Restore(result, read_report(stack, result))


def calls_table(calls: dict[str, int], minimum: dict[str, int], users: int) -> tuple[list[str], bool]:
    """Lines comparing the report's api_calls with the minimum; and whether they match."""
    lines = [f"{'operation':<26} {'calls':>8} {'per user':>9} {'minimum':>8} {'min/user':>9}  match"]
    lines.append("-" * len(lines[0]))
    match = True
    for op in sorted(set(calls) | set(minimum)):
        got, least = calls.get(op, 0), minimum.get(op, 0)
        ok = got == least
        match &= ok
        lines.append(
            f"{op:<26} {got:>8,} {got / users:>9.3f} {least:>8,} {least / users:>9.3f}  {'yes' if ok else 'NO'}"
        )
    total, least_total = sum(calls.values()), sum(minimum.values())
    lines.append(
        f"{'total':<26} {total:>8,} {total / users:>9.3f} {least_total:>8,} {least_total / users:>9.3f}  "
        f"{'yes' if total == least_total else 'NO'}"
    )
    return lines, match
