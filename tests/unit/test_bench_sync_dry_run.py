"""bench/sync_dry_run.py measures what it says: its files give the plan it was built to give."""

from __future__ import annotations

from pathlib import Path

from bench.sync_dry_run import child, write_files


def test_the_bench_files_give_a_plan_whose_counts_add_up(tmp_path: Path) -> None:
    written = write_files(str(tmp_path), 3_000, 500, changed=0.01, added=0.01)

    measured = child(str(tmp_path), latency_ms=0, prefetch=2)

    assert written["partitions"] == 6 and written["files"] == 13  # chunk and partition files, the manifest
    assert measured["create"] + measured["update"] + measured["unchanged"] == 3_000
    assert 0 < measured["create"] < 60 and 0 < measured["update"] < 60  # about 1 % each
    assert measured["absent"] == 6  # one target-only user per partition
