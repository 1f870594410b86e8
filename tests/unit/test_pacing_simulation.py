"""The pacing contract in virtual time (bench.quota_simulation --smoke): the layer's Pacer and RunningTasks
against token buckets with no burst / 1 s of burst, 0 / 150 ms per call, with and without 30 % live traffic.
Every cell at >= 0.85 of its bound (the quota, or what live traffic leaves) and no user lost."""

from __future__ import annotations

from bench.quota_simulation import MATRIX_TARGET, run_matrix


def test_every_cell_of_the_smoke_matrix_meets_the_contract() -> None:
    rows = run_matrix(sizes=(5_500,), bursts=(0.0, 1.0), latencies_ms=(0.0, 150.0), out=None)
    assert len(rows) == 8
    for row in rows:
        assert row.lost == 0, row
        assert row.ratio >= MATRIX_TARGET, row
    # no burst and no live traffic: the tasks interleave on one grid, Cognito refuses nothing
    assert [row.throttles for row in rows if row.burst_s == 0 and row.live == 0] == [0, 0]
    # live traffic: the restore backs off (AIMD) instead of crowding it out far beyond its share
    assert all(row.ratio < 1.2 for row in rows if row.live)
