"""Item (a): memory, CPU and speed of the preparation as the backup grows (10k, 100k, 1M users), and a
10M-user synthetic backup, streamed, prepared segment by segment through its continuations.

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

Each child also reports its CPU seconds (user + system: what a Lambda function with one full vCPU
spends; wall time on a shared machine says little), the S3 objects it wrote and the peak of its /tmp
(the index, sampled every 0.2 s). ``--segmented USERS`` runs one more child: a synthetic backup of
that many users generated on the fly (``SyntheticStream``: never on disk, re-generated from the
nearest checkpoint for each ranged open) and prepared with ``Preparation.run`` in segments of
``--segment-cpu-seconds`` CPU seconds each, every segment in a fresh /tmp (the index downloaded
from the sink, as in another Lambda sandbox). The generator's own CPU is measured and left out.

    .venv/bin/python -m bench.prepare_memory --sizes 1000000 --segmented 10000000
"""

from __future__ import annotations

import argparse
import bisect
import contextlib
import io
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.synthetic import (
    _SQRT2,
    SyntheticSpec,
    _Mix,
    app_clients,
    cached_backup,
    group_name,
    groups_section,
    members_of,
    pool_config,
    user_item,
    username_of,
    write_backup,
)

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
        self.lock = threading.Lock()  # chunk files are written by the upload threads
        self.largest_file = 0  # the index, stored at each continuation

    def key(self, name: str) -> str:
        return f"restores/{self.restore_id}/{name}"

    def chunk_key(self, name: str) -> str:
        return f"chunks/{self.restore_id}/{name}"

    def put_json(self, key: str, value: Any) -> str:
        path = self.root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        body = json.dumps(value, separators=(",", ":"), default=str).encode()  # as WorkStore.put_json
        path.write_bytes(body)
        with self.lock:
            self.files += 1
            self.bytes += len(body)
        return key

    # ResumableSink: the state a segmented preparation keeps between invocations
    def get_json_or_none(self, key: str) -> Any | None:
        path = self.root / key
        return json.loads(path.read_bytes()) if path.exists() else None

    def put_file(self, key: str, path: str) -> None:
        target = self.root / key
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
        with self.lock:
            self.files += 1
            self.bytes += target.stat().st_size
            self.largest_file = max(self.largest_file, target.stat().st_size)

    def get_file(self, key: str, path: str) -> None:
        shutil.copyfile(self.root / key, path)


class TmpPeak:
    """Peak size of a directory (the preparation's /tmp), sampled every 0.2 s by a thread."""

    def __init__(self, directory: str) -> None:
        self.directory = directory
        self.peak = 0
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()

    def _size(self) -> int:
        total = 0
        for entry in os.scandir(self.directory):
            with contextlib.suppress(FileNotFoundError):
                total += entry.stat().st_size if entry.is_file() else 0
        return total

    def _sample(self) -> None:
        while not self.stopped.wait(0.2):
            self.peak = max(self.peak, self._size())

    def stop(self) -> int:
        self.stopped.set()
        self.thread.join()
        return max(self.peak, self._size())


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class SyntheticStream(io.RawIOBase):
    """The document bench.synthetic.write_backup writes, generated while it is read, from any byte offset.

    Pieces (the head, one per user, the middle, one per group's member list, the tail) are generated in
    order; the offset of every 1024th user and of every piece after the users is remembered in
    ``checkpoints`` (shared by the streams of one run), so a ranged open re-generates from the nearest
    checkpoint before its offset. ``generator_cpu`` counts the CPU the generation took (main thread)."""

    CHECKPOINT_EVERY = 1024
    TEMPLATES = 1024

    def __init__(
        self, spec: SyntheticSpec, checkpoints: dict[str, list[int]], offset: int = 0, fast: bool = False
    ) -> None:
        super().__init__()
        started = time.thread_time()
        self.spec = spec
        # fast: user i is user i % 1024 of the exact writer with its 7-digit number and sub replaced (one
        # tenth of the generator's CPU; usernames, e-mails and subs stay unique, the bytes differ).
        self.templates = self._templates(spec) if fast else None
        self.checkpoints = checkpoints  # {"pieces": [...], "offsets": [...]} sorted by offset
        self.mix = _Mix(spec.status_mix)
        self.generator_cpu = 0.0
        at = bisect.bisect_right(checkpoints["offsets"], offset) - 1 if checkpoints["offsets"] else -1
        piece, position = (checkpoints["pieces"][at], checkpoints["offsets"][at]) if at >= 0 else (0, 0)
        self.pieces = self._pieces(piece, position)
        self.pending = b""
        skip = offset - position
        while skip > 0:
            self.pending = next(self.pieces)
            taken = min(skip, len(self.pending))
            self.pending, skip = self.pending[taken:], skip - taken
        self.generator_cpu += time.thread_time() - started

    def _remember(self, piece: int, offset: int) -> None:
        offsets = self.checkpoints["offsets"]
        if not offsets or offset > offsets[-1]:
            offsets.append(offset)
            self.checkpoints["pieces"].append(piece)

    def _pieces(self, piece: int, offset: int) -> Iterator[bytes]:
        spec, users, groups = self.spec, self.spec.users, self.spec.groups
        dumps = json.dumps
        while True:
            if piece == 0:
                text = (
                    "{"
                    + f'"timestamp": {dumps(spec.timestamp)}, "user_pool_id": {dumps(spec.pool_id)}, '
                    + f'"user_pool_config": {dumps(pool_config(spec))}, "app_clients": {dumps(app_clients(spec))}'
                    + ', "users": ['
                )
            elif piece <= users:
                i = piece - 1
                if i % self.CHECKPOINT_EVERY == 0:
                    self._remember(piece, offset)
                if self.templates is not None:
                    template, number, sub = self.templates[i % self.TEMPLATES]
                    text = (", " if i else "") + template.replace(number, f"{i:07d}").replace(sub, _fast_sub(i))
                else:
                    enabled = ((i * _SQRT2 + 0.25) % 1.0) >= spec.disabled
                    text = (", " if i else "") + dumps(user_item(spec, i, self.mix.status(i), enabled))
            elif piece == users + 1:
                self._remember(piece, offset)
                text = "]" + f', "groups": {dumps(groups_section(spec))}' + ', "group_memberships": {'
            elif piece <= users + 1 + groups:
                self._remember(piece, offset)
                g = piece - users - 2
                members = [username_of(spec, i) for i in members_of(spec, g)]
                text = (", " if g else "") + dumps(group_name(g)) + ": " + dumps(members)
            elif piece == users + 2 + groups:
                self._remember(piece, offset)
                servers = [
                    {
                        "UserPoolId": spec.pool_id,
                        "Identifier": "https://api.example.com",
                        "Name": "orders-api",
                        "Scopes": [{"ScopeName": "orders.read", "ScopeDescription": "Read orders"}],
                    }
                ]
                text = (
                    '}, "identity_providers": [], "resource_servers": '
                    + dumps(servers)
                    + ', "user_pool_domain": {}, "ui_customization": null}'
                )
            else:
                return
            data = text.encode()
            offset += len(data)
            piece += 1
            yield data

    @classmethod
    def _templates(cls, spec: SyntheticSpec) -> list[tuple[str, str, str]]:
        mix = _Mix(spec.status_mix)
        templates = []
        for j in range(cls.TEMPLATES):
            enabled = ((j * _SQRT2 + 0.25) % 1.0) >= spec.disabled
            item = user_item(spec, j, mix.status(j), enabled)
            sub = next(a["Value"] for a in item["Attributes"] if a["Name"] == "sub")
            templates.append((json.dumps(item), f"{j:07d}", sub))
        return templates

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        started = time.thread_time()
        out = [self.pending]
        have = len(self.pending)
        while size < 0 or have < size:
            try:
                data = next(self.pieces)
            except StopIteration:
                break
            out.append(data)
            have += len(data)
        joined = b"".join(out)
        result, self.pending = (joined, b"") if size < 0 else (joined[:size], joined[size:])
        self.generator_cpu += time.thread_time() - started
        return result


def _fast_sub(i: int) -> str:
    return f"{i:08x}-5e9d-4a1b-8c2d-{i * 2654435761 % 2**48:012x}"


def same_bytes_as_the_writer(spec: SyntheticSpec) -> bool:
    """SyntheticStream writes what write_backup writes (checked on a small spec before a long run)."""
    text = io.StringIO()
    write_backup(spec, text)
    checkpoints: dict[str, list[int]] = {"pieces": [], "offsets": []}
    whole = SyntheticStream(spec, checkpoints).read()
    expected = text.getvalue().encode()
    middle = len(expected) * 2 // 3
    return whole == expected and SyntheticStream(spec, checkpoints, middle).read() == expected[middle:]


def segmented_child(users: int, groups: int, chunk_size: int, segment_cpu: float) -> dict[str, Any]:
    """Runs in the subprocess: the whole preparation of a generated backup, segment by segment."""
    from cognito_restore.backup import V1Source
    from cognito_restore.plan import Continuation, Preparation, PreparedBackup

    spec = SyntheticSpec(users=users, groups=groups)
    assert same_bytes_as_the_writer(SyntheticSpec(users=3000, groups=groups))
    checkpoints: dict[str, list[int]] = {"pieces": [], "offsets": []}
    work = tempfile.mkdtemp(prefix="bench-segmented-")
    sink = FileSink(os.path.join(work, "bucket"))
    before = _current_rss_mb()
    started_cpu, started_wall = _cpu_seconds(), time.perf_counter()
    generator_cpu = 0.0
    segments: list[dict[str, Any]] = []
    tmp_peak = 0
    try:
        while True:
            sandbox = tempfile.mkdtemp(prefix="sandbox-", dir=work)  # another Lambda sandbox each time
            streams: list[SyntheticStream] = []

            def open_at(offset: int, streams: list[SyntheticStream] = streams) -> SyntheticStream:
                streams.append(SyntheticStream(spec, checkpoints, offset, fast=True))
                return streams[-1]

            segment_start = _cpu_seconds()
            calls = {"n": 0}

            def should_stop(
                segment_start: float = segment_start,
                calls: dict[str, int] = calls,
                streams: list[SyntheticStream] = streams,
            ) -> bool:
                calls["n"] += 1
                if calls["n"] % 256:
                    return False
                own = _cpu_seconds() - segment_start - sum(s.generator_cpu for s in streams)
                return own > segment_cpu

            sampler = TmpPeak(sandbox)
            result = Preparation(
                expected_pool_id=spec.pool_id, sink=sink, user_chunk_size=chunk_size, tmp_dir=sandbox
            ).run(V1Source(open_at), should_stop)
            tmp_peak = max(tmp_peak, sampler.stop())
            generated = sum(s.generator_cpu for s in streams)
            generator_cpu += generated
            segments.append(
                {
                    "cpu": _cpu_seconds() - segment_start - generated,
                    "stage": result.stage if isinstance(result, Continuation) else "done",
                    "users_read": result.users_read if isinstance(result, Continuation) else users,
                }
            )
            print(json.dumps({"segment": len(segments), **segments[-1]}), file=sys.stderr, flush=True)
            shutil.rmtree(sandbox, ignore_errors=True)
            if isinstance(result, PreparedBackup):
                break
        cpu = _cpu_seconds() - started_cpu - generator_cpu
        return {
            "users": result.planned["users"],
            "backup_users": result.counts["users"],
            "memberships": result.planned["memberships"],
            "chunks": result.user_chunks,
            "sign_in_chunks": result.sign_in_chunks,
            "segments": segments,
            "cpu_seconds": cpu,
            "generator_cpu_seconds": generator_cpu,
            "wall_seconds": time.perf_counter() - started_wall,
            "peak_rss_mb": _rss_mb(),
            "rss_before_mb": before,
            "tmp_peak_mb": tmp_peak / 1e6,
            "largest_index_mb": sink.largest_file / 1e6,
            "files": sink.files,
            "backup_mb": (checkpoints["offsets"][-1] if checkpoints["offsets"] else 0) / 1e6,
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)


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
    tmp = os.path.join(work, "tmp")
    os.mkdir(tmp)
    try:
        sink = FileSink(os.path.join(work, "bucket"))
        before = _current_rss_mb()
        sampler = TmpPeak(tmp)
        started, started_cpu = time.perf_counter(), _cpu_seconds()
        with open(path, "rb") as stream:
            prepared = prepare_backup(
                stream, expected_pool_id=pool_id, sink=sink, user_chunk_size=chunk_size, tmp_dir=tmp
            )
        seconds = time.perf_counter() - started
        result: dict[str, Any] = {
            "seconds": seconds,
            "cpu_seconds": _cpu_seconds() - started_cpu,
            "tmp_peak_mb": sampler.stop() / 1e6,
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
    return _run(command, env)


def _run(command: list[str], env: dict[str, str], stream_stderr: bool = False) -> dict[str, Any]:
    done = subprocess.run(
        command,
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=None if stream_stderr else subprocess.PIPE,
        text=True,
        timeout=6 * 3600,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"child failed ({done.returncode}):\n{(done.stderr or '')[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_segmented_child(users: int, groups: int, chunk_size: int, segment_cpu: float) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "layers/restore_common")])}
    command = [sys.executable, "-m", "bench.prepare_memory", "--segmented-child", str(users)]
    command += ["--groups", str(groups), "--chunk-size", str(chunk_size), "--segment-cpu-seconds", str(segment_cpu)]
    return _run(command, env, stream_stderr=True)


LAMBDA_LIMIT_S = 900


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="prepare_backup: wall time, users/s and peak RSS per backup size")
    parser.add_argument("--sizes", default="10000,100000,1000000", help="comma-separated user counts")
    parser.add_argument("--chunk-size", type=int, default=500, help="UserChunkSize (template default 500)")
    parser.add_argument("--groups", type=int, default=10)
    parser.add_argument("--tracemalloc", action="store_true", help="also run each size under tracemalloc")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--pool-id", help=argparse.SUPPRESS)
    parser.add_argument("--trace", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument(
        "--segmented", type=int, default=0, help="also prepare a generated backup of N users in segments"
    )
    parser.add_argument("--segment-cpu-seconds", type=float, default=120.0, help="CPU seconds per segment")
    parser.add_argument("--segmented-child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.pool_id, args.chunk_size, args.trace)))
        return
    if args.segmented_child:
        result = segmented_child(args.segmented_child, args.groups, args.chunk_size, args.segment_cpu_seconds)
        print(json.dumps(result))
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

    if rows:
        _print_sizes(args, rows)
    if args.segmented:
        _print_segmented(args)


def _print_sizes(args: argparse.Namespace, rows: list[dict[str, Any]]) -> None:
    print()
    print(
        f"prepare_backup, UserChunkSize {args.chunk_size}, {args.groups} groups, 1 group per user "
        f"(python {sys.version.split()[0]}, {os.cpu_count()} cpus)"
    )
    header = (
        f"{'users':>10} {'backup MB':>10} {'chunks':>7} {'S3 objects':>10} {'wall s':>8} {'CPU s':>8} "
        f"{'users/CPU s':>11} {'RSS before MB':>14} {'peak RSS MB':>12} {'/tmp peak MB':>13}"
        + (f" {'traced peak MB':>15}" if args.tracemalloc else "")
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        line = (
            f"{r['size']:>10,} {r['mb']:>10,.0f} {r['chunks']:>7,} {r['files']:>10,} {r['seconds']:>8.1f} "
            f"{r['cpu_seconds']:>8.1f} {r['users'] / r['cpu_seconds']:>11,.0f} {r['rss_before_mb']:>14.0f} "
            f"{r['peak_rss_mb']:>12.0f} {r['tmp_peak_mb']:>13.0f}"
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
    largest_row = max(rows, key=lambda r: r["size"])
    per_user = largest_row["cpu_seconds"] / largest_row["size"]
    print(
        f"CPU per user at {largest_row['size']:,} users: {per_user * 1e6:.0f} us; at one vCPU (MemorySize 1769) "
        f"that is {per_user * 1e6 / 60:.1f} min of Lambda time for 1M users and {per_user * 1e7 / 60:.0f} min "
        f"for 10M ({per_user * 1e7 / (LAMBDA_LIMIT_S - 150):.1f} invocations of 750 s), assuming a Lambda vCPU "
        "as fast as one core here"
    )
    if args.tracemalloc:
        for r in rows:
            print(f"\nlargest live allocations at the end, {r['size']:,} users:")
            for line in r["top_at_end"]:
                print("  " + line)


def _print_segmented(args: argparse.Namespace) -> None:
    if args.segmented:
        print(
            f"\nsegmented: {args.segmented:,} users generated while read, segments of {args.segment_cpu_seconds:.0f} CPU s"
        )
        seg = run_segmented_child(args.segmented, args.groups, args.chunk_size, args.segment_cpu_seconds)
        stages = [f"{x['stage']}@{x['users_read']:,}" for x in seg["segments"]]
        print(
            f"  completed in {len(seg['segments'])} segments ({', '.join(stages)}): {seg['users']:,} users planned "
            f"of {seg['backup_users']:,}, {seg['memberships']:,} memberships, {seg['chunks']:,} chunk files "
            f"({seg['sign_in_chunks']:,} of users who can sign in), {seg['files']:,} objects written"
        )
        print(
            f"  CPU {seg['cpu_seconds']:.0f} s for the preparation ({seg['cpu_seconds'] / seg['users'] * 1e6:.0f} us per user; "
            f"the generator's {seg['generator_cpu_seconds']:.0f} s left out), wall {seg['wall_seconds']:.0f} s, "
            f"peak RSS {seg['peak_rss_mb']:.0f} MB (before {seg['rss_before_mb']:.0f}), /tmp peak {seg['tmp_peak_mb']:,.0f} MB "
            f"(index stored at the last continuation: {seg['largest_index_mb']:,.0f} MB), "
            f"backup {seg['backup_mb']:,.0f} MB"
        )


if __name__ == "__main__":
    main()
