"""``prepare_backup`` over a format-v2 backup (manifest, pool.json, gzip JSON-lines chunk files): time
and peak RSS per size, as ``bench.prepare_memory`` measures v1.

The v2 backup is written once per size into ``bench/out/v2-<users>/`` (git-ignored) from the same
synthetic users and groups as ``bench.synthetic`` (users sharded by the first character of their
sub, 10,000 per file; memberships 50,000 per file). ``prepare_backup`` then runs in a fresh
subprocess per size with ``backup_v2.read_backup_v2`` reading the files from disk (sha256 and counts
checked as the restore does), so each child's peak RSS is its own.

    .venv/bin/python -m bench.prepare_memory_v2                    # 10k, 100k
    .venv/bin/python -m bench.prepare_memory_v2 --sizes 10000,100000,1000000
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import IO, Any

from bench.prepare_memory import FileSink, _current_rss_mb, _rss_mb
from bench.synthetic import (
    SyntheticSpec,
    _Mix,
    app_clients,
    group_name,
    groups_section,
    members_of,
    pool_config,
    sub_of,
    user_item,
    username_of,
)

OUT_DIR = Path(__file__).resolve().parent / "out"
REPO = Path(__file__).resolve().parents[1]
USERS_PER_FILE = 10_000
MEMBERSHIPS_PER_FILE = 50_000


class _Lines:
    """One gzip JSON-lines file being written, rolled over every ``limit`` lines."""

    def __init__(self, folder: Path, name: str, limit: int, files: list[dict[str, Any]]) -> None:
        self.folder, self.name, self.limit, self.files = folder, name, limit, files
        self.index, self.count, self.handle = 0, 0, None

    def add(self, value: Any) -> None:
        if self.handle is None:
            self.relative = f"{self.name}-{self.index:05d}.jsonl.gz"
            (self.folder / self.relative).parent.mkdir(parents=True, exist_ok=True)
            self.handle = gzip.open(self.folder / self.relative, "wb", compresslevel=5)  # noqa: SIM115 - closed by close()
        self.handle.write(json.dumps(value, separators=(",", ":")).encode() + b"\n")
        self.count += 1
        if self.count == self.limit:
            self.close()

    def close(self) -> None:
        if self.handle is None:
            return
        self.handle.close()
        body = (self.folder / self.relative).read_bytes()
        self.files.append(
            {"key": self.relative, "count": self.count, "sha256": hashlib.sha256(body).hexdigest(), "bytes": len(body)}
        )
        self.index, self.count, self.handle = self.index + 1, 0, None


def write_v2(spec: SyntheticSpec, folder: Path) -> dict[str, Any]:
    """Write the v2 backup into ``folder``; returns the manifest (also written, last)."""
    folder.mkdir(parents=True, exist_ok=True)
    listed = groups_section(spec)  # v1's first page; v2 holds every group
    pool = {
        "user_pool_id": spec.pool_id,
        "timestamp": spec.timestamp,
        "user_pool_config": pool_config(spec),
        "app_clients": app_clients(spec),
        "groups": listed + [{"GroupName": group_name(g)} for g in range(len(listed), spec.groups)],
        "identity_providers": [],
        "resource_servers": [],
        "user_pool_domain": None,
        "custom_domain": None,
        "ui_customization": None,
        "risk_configuration": None,
        "waf_configuration": None,
        "mfa_config": {"MfaConfiguration": "OFF"},
        "ui_customizations": [],
        "risk_configurations": [],
        "managed_login_branding": [],
        "terms": [],
        "log_delivery_configuration": None,
    }
    body = json.dumps(pool).encode()
    (folder / "pool.json").write_bytes(body)
    shards: dict[str, _Lines] = {}
    user_files: list[dict[str, Any]] = []
    mix = _Mix(spec.status_mix)
    for i in range(spec.users):
        shard = sub_of(spec, i)[0]
        if shard not in shards:
            shards[shard] = _Lines(folder, f"users/{shard}", USERS_PER_FILE, user_files)
        shards[shard].add(user_item(spec, i, mix.status(i), True))
    for lines in shards.values():
        lines.close()
    member_files: list[dict[str, Any]] = []
    members = _Lines(folder, "memberships/m", MEMBERSHIPS_PER_FILE, member_files)
    for g in range(spec.groups):
        for i in members_of(spec, g):
            members.add({"group": group_name(g), "username": username_of(spec, i)})
    members.close()
    memberships = sum(f["count"] for f in member_files)
    manifest = {
        "format": "cognito-dr-backup",
        "version": 2,
        "user_pool_id": spec.pool_id,
        "timestamp": spec.timestamp,
        "region": "us-east-1",
        "pool": {"key": "pool.json", "sha256": hashlib.sha256(body).hexdigest(), "bytes": len(body)},
        "users": {"count": spec.users, "files": user_files},
        "group_memberships": {"count": memberships, "files": member_files},
        "counts": {"users": spec.users, "groups": len(pool["groups"]), "group_memberships": memberships},
        "user_mfa_settings": False,
    }
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return manifest


def child(folder: str, pool_id: str, chunk_size: int) -> dict[str, Any]:
    from cognito_restore.backup_v2 import V2Source
    from cognito_restore.plan import prepare_backup

    work = tempfile.mkdtemp(prefix="bench-prepare-v2-")
    root = Path(folder)

    def opener(key: str) -> IO[bytes]:
        return open(root / key.removeprefix("v2/"), "rb")  # noqa: SIM115 - closed by the reader's GC

    try:
        sink = FileSink(work)
        before = _current_rss_mb()
        started = time.perf_counter()
        with open(root / "manifest.json", "rb") as manifest:
            prepared = prepare_backup(
                None,  # type: ignore[arg-type]  # the source reads the files
                expected_pool_id=pool_id,
                sink=sink,
                user_chunk_size=chunk_size,
                tmp_dir=work,
                source=V2Source(manifest, "v2/manifest.json", opener),
            )
        return {
            "seconds": time.perf_counter() - started,
            "peak_rss_mb": _rss_mb(),
            "rss_before_mb": before,
            "users": prepared.planned["users"],
            "memberships": prepared.planned["memberships"],
            "chunks": prepared.user_chunks,
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="prepare_backup over a v2 backup: wall time and peak RSS")
    parser.add_argument("--sizes", default="10000,100000", help="comma-separated user counts")
    parser.add_argument("--chunk-size", type=int, default=500)
    parser.add_argument("--groups", type=int, default=100)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--pool-id", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.pool_id, args.chunk_size)))
        return
    rows = []
    for users in [int(s) for s in args.sizes.split(",") if s]:
        spec = SyntheticSpec(users=users, groups=args.groups)
        folder = OUT_DIR / f"v2-{users}-{args.groups}"
        if not (folder / "manifest.json").exists():
            started = time.perf_counter()
            write_v2(spec, folder)
            print(f"wrote {folder} in {time.perf_counter() - started:.1f} s", flush=True)
        size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "layers/restore_common")])}
        command = [sys.executable, "-m", "bench.prepare_memory_v2", "--child", str(folder), "--pool-id", spec.pool_id]
        command += ["--chunk-size", str(args.chunk_size)]
        done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=3600, check=False)
        if done.returncode != 0:
            raise RuntimeError(done.stderr[-3000:])
        result = json.loads(done.stdout.strip().splitlines()[-1])
        result.update(size=users, mb=size / 1e6)
        rows.append(result)
    print(
        f"\nprepare_backup over v2 backups, {args.groups} groups (python {sys.version.split()[0]}, {os.cpu_count()} cpus)"
    )
    header = f"{'users':>10} {'files MB':>9} {'chunks':>7} {'wall s':>8} {'users/s':>9} {'RSS before MB':>14} {'peak RSS MB':>12}"
    print(header)
    print("-" * len(header))
    for r in rows:
        print(
            f"{r['size']:>10,} {r['mb']:>9,.0f} {r['chunks']:>7,} {r['seconds']:>8.1f} "
            f"{r['users'] / r['seconds']:>9,.0f} {r['rss_before_mb']:>14.0f} {r['peak_rss_mb']:>12.0f}"
        )


if __name__ == "__main__":
    main()
