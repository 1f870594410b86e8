"""Item (a): memory and speed of ``prepare_backup`` as the backup grows (10k, 100k, 1M users).

Each size's backup is written once by ``bench.synthetic`` into ``bench/out/`` (git-ignored; ~1 GB
for 1M users) and reused by later runs. ``prepare_backup`` then runs in a fresh subprocess per size,
reading the file as a stream and writing chunk files through a filesystem sink under a temporary
directory (the SQLite index goes there too), so each child's peak RSS
(``getrusage(RUSAGE_SELF).ru_maxrss``) is its own. The child also reports its RSS right before the
call (imports and interpreter), so the growth caused by the preparation itself is visible.

    .venv/bin/python -m bench.prepare_memory                       # 10k, 100k, 1M
    .venv/bin/python -m bench.prepare_memory --sizes 10000,100000 --tracemalloc

``--tracemalloc`` runs the children again under tracemalloc and prints the traced peak and the
biggest allocation sites at the end (slow: use it to find a culprit, not for the timings).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.synthetic import SyntheticSpec, cached_backup

OUT_DIR = Path(__file__).resolve().parent / "out"
REPO = Path(__file__).resolve().parents[1]
RSS_LIMIT_MB = 256


class FileSink:
    """``ChunkSink`` writing each object as a JSON file under ``root`` (what S3 would hold)."""

    def __init__(self, root: str, restore_id: str = "bench") -> None:
        self.root = Path(root)
        self.restore_id = restore_id
        self.files = 0
        self.bytes = 0

    def key(self, name: str) -> str:
        return f"restores/{self.restore_id}/{name}"

    def chunk_key(self, name: str) -> str:
        return f"chunks/{self.restore_id}/{name}"

    def put_json(self, key: str, value: Any) -> str:
        path = self.root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        body = json.dumps(value, separators=(",", ":"), default=str).encode()  # as WorkStore.put_json
        path.write_bytes(body)
        self.files += 1
        self.bytes += len(body)
        return key


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def _current_rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def child(path: str, pool_id: str, chunk_size: int, trace: bool) -> dict[str, Any]:
    """Runs in the subprocess: one prepare_backup over the file; returns the measurements."""
    from cognito_restore.plan import prepare_backup

    if trace:
        import tracemalloc

        tracemalloc.start(1)
    work = tempfile.mkdtemp(prefix="bench-prepare-")
    try:
        sink = FileSink(work)
        before = _current_rss_mb()
        started = time.perf_counter()
        with open(path, "rb") as stream:
            prepared = prepare_backup(
                stream, expected_pool_id=pool_id, sink=sink, user_chunk_size=chunk_size, tmp_dir=work
            )
        seconds = time.perf_counter() - started
        result: dict[str, Any] = {
            "seconds": seconds,
            "peak_rss_mb": _rss_mb(),
            "rss_before_mb": before,
            "users": prepared.planned["users"],
            "memberships": prepared.planned["memberships"],
            "chunks": prepared.user_chunks,
            "files": sink.files,
            "out_mb": sink.bytes / 1e6,
        }
        if trace:
            import tracemalloc

            snapshot = tracemalloc.take_snapshot()
            current, peak = tracemalloc.get_traced_memory()
            result["traced_peak_mb"] = peak / 2**20
            result["traced_end_mb"] = current / 2**20
            result["top_at_end"] = [str(s) for s in snapshot.statistics("lineno")[:8]]
        return result
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run_child(path: str, pool_id: str, chunk_size: int, trace: bool = False) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "layers/restore_common")])}
    command = [
        sys.executable,
        "-m",
        "bench.prepare_memory",
        "--child",
        path,
        "--pool-id",
        pool_id,
        "--chunk-size",
        str(chunk_size),
    ] + (["--trace"] if trace else [])
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=3600, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"child failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="prepare_backup: wall time, users/s and peak RSS per backup size")
    parser.add_argument("--sizes", default="10000,100000,1000000", help="comma-separated user counts")
    parser.add_argument("--chunk-size", type=int, default=500, help="UserChunkSize (template default 500)")
    parser.add_argument("--groups", type=int, default=10)
    parser.add_argument("--tracemalloc", action="store_true", help="also run each size under tracemalloc")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--pool-id", help=argparse.SUPPRESS)
    parser.add_argument("--trace", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.pool_id, args.chunk_size, args.trace)))
        return

    sizes = [int(s) for s in args.sizes.split(",") if s]
    rows = []
    for users in sizes:
        backup = cached_backup(SyntheticSpec(users=users, groups=args.groups), OUT_DIR)
        print(f"backup {users:>9,} users: {backup.path} ({backup.bytes / 1e6:,.0f} MB)", flush=True)
        result = run_child(backup.path, backup.pool_id, args.chunk_size)
        result.update(size=users, mb=backup.bytes / 1e6)
        if args.tracemalloc:
            traced = run_child(backup.path, backup.pool_id, args.chunk_size, trace=True)
            result["traced_peak_mb"] = traced["traced_peak_mb"]
            result["top_at_end"] = traced["top_at_end"]
        rows.append(result)
        print(f"  prepared in {result['seconds']:.1f} s, peak RSS {result['peak_rss_mb']:.0f} MB", flush=True)

    print()
    print(
        f"prepare_backup, UserChunkSize {args.chunk_size}, {args.groups} groups, 1 group per user "
        f"(python {sys.version.split()[0]}, {os.cpu_count()} cpus)"
    )
    header = (
        f"{'users':>10} {'backup MB':>10} {'chunks':>7} {'wall s':>8} {'users/s':>9} "
        f"{'RSS before MB':>14} {'peak RSS MB':>12}" + (f" {'traced peak MB':>15}" if args.tracemalloc else "")
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        line = (
            f"{r['size']:>10,} {r['mb']:>10,.0f} {r['chunks']:>7,} {r['seconds']:>8.1f} "
            f"{r['users'] / r['seconds']:>9,.0f} {r['rss_before_mb']:>14.0f} {r['peak_rss_mb']:>12.0f}"
        )
        if args.tracemalloc:
            line += f" {r['traced_peak_mb']:>15.1f}"
        print(line)
    peaks = {r["size"]: r["peak_rss_mb"] for r in rows}
    largest = max(peaks)
    print()
    print(
        f"peak RSS at {largest:,} users: {peaks[largest]:.0f} MB "
        f"({'under' if peaks[largest] < RSS_LIMIT_MB else 'OVER'} the {RSS_LIMIT_MB} MB target)"
    )
    if 100_000 in peaks and largest > 100_000:
        growth = peaks[largest] - peaks[100_000]
        per_100k = growth / ((largest - 100_000) / 100_000)
        print(
            f"growth from 100,000 to {largest:,} users: {growth:+.0f} MB ({per_100k:+.1f} MB per 100k more users; "
            f"{growth / RSS_LIMIT_MB:+.0%} of the {RSS_LIMIT_MB} MB budget)"
        )
    if args.tracemalloc:
        for r in rows:
            print(f"\nlargest live allocations at the end, {r['size']:,} users:")
            for line in r["top_at_end"]:
                print("  " + line)


if __name__ == "__main__":
    main()
