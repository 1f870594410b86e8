"""The dry run of a sync at scale: CPU seconds and peak RSS of its users diff (docs/sync.md, Limits).

"Read target pool" lists the target in segments, but "Write dry-run report" diffs every user chunk with
its partition file in one invocation (sync_users.dry_run_users). This bench writes the files that phase
reads (chunk files as the preparation writes them, partition files as the listing writes them) under a
temp dir, with a share of users added, changed and target-only, then runs dry_run_users in a fresh
subprocess over a filesystem store (JSON parsed as from S3) and prints its CPU seconds, peak RSS and
the extrapolated size that fits the 900 s phase.

    .venv/bin/python -m bench.sync_dry_run --users 1000000
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "layers" / "restore_common"))

from bench.prepare_memory import FileSink  # noqa: E402  (after the layer is on the path)

PHASE_SECONDS = 900 - 60  # the verify function's timeout less the time its report needs (verification.TIME_RESERVE_MS)


class FileStore(FileSink):
    """The WorkStore calls dry_run_users makes, over files; each read waits ``latency`` seconds first (an
    S3 GET's first byte: the bench models it, the files come from the page cache)."""

    latency = 0.0

    def get_json(self, key: str) -> Any:
        if self.latency:
            time.sleep(self.latency)
        return json.loads((self.root / key).read_bytes())


def _user(i: int) -> dict[str, Any]:
    email = f"user{i:08d}@example.com"
    return {
        "old_username": f"user{i:08d}",
        "create_username": f"user{i:08d}",
        "attributes": [
            {"Name": "email", "Value": email},
            {"Name": "email_verified", "Value": "true"},
            {"Name": "name", "Value": f"User {i}"},
            {"Name": "custom:tenant_id", "Value": f"t{i % 97}"},
        ],
        "status": "CONFIRMED",
        "target_status": "CONFIRMED",
        "enabled": True,
        "set_permanent_password": True,
        "old_sub": None,
        "dropped_attributes": [],
        "notes": [],
        "sms_mfa": False,
        "email_mfa": False,
        "preferred_mfa": None,
        "links": [],
        "groups": [f"group-{i % 10:04d}"],
        "username_generated": False,
    }


def write_files(root: str, users: int, chunk_size: int, changed: float, added: float) -> dict[str, Any]:
    """Chunk i holds the users of partition i (a sync's preparation); the target lacks ``added`` of them,
    differs in one attribute for ``changed`` and has one target-only user per chunk."""
    from cognito_restore.sync_users import partition_key, partition_of, sign_in_key

    store = FileStore(root)
    partitions = max(1, -(-users // chunk_size))
    chunks: list[list[dict[str, Any]]] = [[] for _ in range(partitions)]
    for i in range(users):
        user = _user(i)
        chunks[partition_of(sign_in_key(user["create_username"], True), partitions)].append(user)
    manifest, step_changed, step_added = [], round(1 / changed), round(1 / added)
    for index, items in enumerate(chunks):
        entries = []
        for n, item in enumerate(items):
            if n % step_added == 1:
                continue  # absent from the target: the sync would create it
            attributes = [{"Name": "sub", "Value": f"sub-{item['old_username']}"}, *item["attributes"]]
            if n % step_changed == 0:
                attributes = [*attributes[:3], {"Name": "name", "Value": "changed"}, *attributes[4:]]
            entries.append(
                {
                    "key": sign_in_key(item["create_username"], True),
                    "username": item["create_username"],
                    "attributes": attributes,
                    "status": "CONFIRMED",
                    "enabled": True,
                    "mfa_options": [],
                    "groups": list(item["groups"]),
                }
            )
        entries.append(
            {
                **entries[-1],
                "key": f"only-{index}",
                "username": f"only-{index}",
                "action": "keep",
                "reason": "delete_missing is false",
            }
        )
        store.put_json(partition_key(store, index), {"case_sensitive": True, "immutable": [], "users": entries})
        key = store.chunk_key(f"users/chunk-{index:06d}.json")
        store.put_json(key, items)
        manifest.append({"index": index, "key": key, "count": len(items)})
    store.put_json(store.key("plan/users_manifest.json"), manifest)
    return {"partitions": partitions, "files": store.files, "mb": round(store.bytes / 1e6)}


def child(root: str, latency_ms: float, prefetch: int | None) -> dict[str, Any]:
    from cognito_restore import sync_users
    from cognito_restore.sync_users import dry_run_users

    if prefetch is not None:
        sync_users.DRY_RUN_PREFETCH = prefetch  # 0: one read at a time (the code before the read-ahead)

    store = FileStore(root)
    store.latency = latency_ms / 1000
    state = {
        "plan": {"users_manifest_key": store.key("plan/users_manifest.json")},
        "sync_target": {"read_calls": {"ListUsers": 0}},
    }
    before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.monotonic()
    rss_before = before.ru_maxrss / 1024
    plan = dry_run_users(state, store)
    after = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "cpu_s": round(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, 1),
        "wall_s": round(time.monotonic() - started, 1),
        "peak_rss_mb": round(after.ru_maxrss / 1024),
        "rss_before_mb": round(rss_before),
        "create": len(plan["create"]),
        "update": len(plan["update"]),
        "unchanged": plan["unchanged"],
        "absent": len(plan["absent_from_backup"]),
        "plan_mb": round(len(json.dumps(plan)) / 1e6, 1),
    }


def _run_self(arguments: list[str]) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "bench.sync_dry_run", *arguments],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "layers/restore_common")])},
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--chunk-size", type=int, default=1000, help="UserChunkSize (the template's default)")
    parser.add_argument("--changed", type=float, default=0.01, help="share of users with one attribute changed")
    parser.add_argument("--added", type=float, default=0.01, help="share of backed-up users absent from the target")
    parser.add_argument("--latency-ms", type=float, default=50, help="wait per S3 GET (first byte)")
    parser.add_argument("--prefetch", type=int, help="reads ahead (default: sync_users.DRY_RUN_PREFETCH; 0: none)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--write", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.latency_ms, args.prefetch)))
        return
    if args.write:
        print(json.dumps(write_files(args.write, args.users, args.chunk_size, args.changed, args.added)))
        return
    with tempfile.TemporaryDirectory(prefix="sync-dry-run-") as root:
        # Both steps in processes of their own: Linux keeps a forked child's RSS high-water mark, so the
        # measured process must not start from one that held the generated users.
        options = ["--users", str(args.users), "--chunk-size", str(args.chunk_size)]
        options += ["--changed", str(args.changed), "--added", str(args.added)]
        written = _run_self([*options, "--write", root])
        prefetch = [] if args.prefetch is None else ["--prefetch", str(args.prefetch)]
        measured = _run_self(["--child", root, "--latency-ms", str(args.latency_ms), *prefetch])
    per_user = measured["cpu_s"] / args.users
    print(f"users {args.users:,}, UserChunkSize {args.chunk_size}: {written['partitions']:,} chunk + partition files")
    print(f"  files read: {written['files']:,} ({written['mb']:,} MB of JSON)")
    print(
        f"  plan: create {measured['create']:,}, update {measured['update']:,}, unchanged {measured['unchanged']:,}, "
        f"absent {measured['absent']:,} ({measured['plan_mb']} MB of JSON in the report)"
    )
    print(
        f"  dry_run_users: {measured['cpu_s']} CPU s ({measured['wall_s']} s wall), peak RSS {measured['peak_rss_mb']} MB "
        f"({measured['rss_before_mb']} MB before the call: interpreter and imports)"
    )
    wall_per_user = measured["wall_s"] / args.users
    print(
        f"  {per_user * 1e6:.0f} us of CPU and {wall_per_user * 1e6:.0f} us of wall time per user with "
        f"{args.latency_ms:g} ms per GET: the {PHASE_SECONDS} s the phase has cover about "
        f"{PHASE_SECONDS / max(per_user, wall_per_user) / 1e6:.1f}M users at one vCPU"
    )


if __name__ == "__main__":
    main()
