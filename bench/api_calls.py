"""Item (c): Cognito API calls per restored user, by operation, against the minimum.

Restores a synthetic backup with a known mix through the real workflow (unpaced: Quota*
parameters 100000) and compares the report's ``api_calls`` (summed ``ChunkOutcome.calls`` of every
user chunk) with the fewest calls that can do the job:

    1 AdminCreateUser per user
    + 1 AdminSetUserPassword per CONFIRMED / RESET_REQUIRED user (restored CONFIRMED)
    + 1 AdminAddUserToGroup per membership
    + 1 AdminDisableUser per disabled user

    .venv/bin/python -m bench.api_calls
    .venv/bin/python -m bench.api_calls --users 5000 --groups-per-user 3 --email-username
"""

from __future__ import annotations

import argparse
import time

from bench._workflow import DR_REGION, OUT_DIR, UNPACED, calls_table, restore
from bench.synthetic import DEFAULT_STATUS_MIX, SyntheticSpec, cached_backup, parse_status_mix
from tools.emulation import RestoreStack


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="API calls per restored user vs the minimum")
    parser.add_argument("--users", type=int, default=3000)
    parser.add_argument("--groups", type=int, default=70, help="groups (> 60: the producer lists only 60)")
    parser.add_argument("--groups-per-user", type=int, default=2)
    parser.add_argument("--status-mix", type=parse_status_mix, default=dict(DEFAULT_STATUS_MIX))
    parser.add_argument("--disabled", type=float, default=0.05)
    parser.add_argument("--email-username", action="store_true")
    parser.add_argument("--chunk-size", type=int, default=500)
    args = parser.parse_args(argv)

    spec = SyntheticSpec(
        users=args.users,
        groups=args.groups,
        groups_per_user=args.groups_per_user,
        status_mix=args.status_mix,
        disabled=args.disabled,
        email_username=args.email_username,
        pool_id="us-east-1_ApiCalls1",
    )
    backup = cached_backup(spec, OUT_DIR)
    with RestoreStack(
        region=DR_REGION, parameters={"Environment": "bench", "UserChunkSize": str(args.chunk_size), **UNPACED}
    ) as stack:
        started = time.monotonic()
        run = restore(stack, backup)
        seconds = time.monotonic() - started

    counts = run.report["counts"]
    print(
        f"users {args.users:,}: {backup.status_counts}, {backup.disabled} disabled; {args.groups} groups, "
        f"{args.groups_per_user} per user ({backup.memberships:,} memberships); "
        f"username {'= sub (email sign-in)' if args.email_username else 'as backed up'}"
    )
    print(
        f"restore SUCCEEDED in {seconds:.0f} s: users {counts['users']['restored']:,}/{counts['users']['backup']:,}, "
        f"memberships {counts['memberships']['restored']:,}/{counts['memberships']['backup']:,}, "
        f"throttled {run.report['throttled_calls']}"
    )
    print()
    lines, match = calls_table(run.report["api_calls"], backup.minimum_calls(), counts["users"]["restored"])
    print("\n".join(lines))
    print()
    print("calls match the minimum" if match else "calls DO NOT match the minimum")


if __name__ == "__main__":
    main()
