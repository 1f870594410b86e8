"""The backup producer (format v2) over a large synthetic pool, in the emulation (issue 11's must-show).

The stack is deployed into moto (RestoreStack, IAM enforced, strict Cognito) in the primary Region with
the producer on; a pool of ``--users`` users (each with ``sub``, ``email``, ``email_verified``; a few
groups with ``--members`` memberships in all) is put straight into moto's backend (creating a million
users through AdminCreateUser would take hours and measure moto), then the real backup state machine
runs: pool configuration, 16 or 256 ``sub``-prefix shards through the Distributed Map, memberships,
manifest. The manifest is then verified (every sha256 and count).

Printed: the process's RSS after the pool is built and its peak during the backup (sampled every
50 ms: the growth is what the backup added, which includes the backup's objects held by moto's S3),
wall and CPU time of the backup (CPU includes moto serving every call in this process), files and
bytes written, ListUsers pages, and the Lambda time the same backup takes at the UserList quota
(ListUsers and ListUsersInGroup share it, 60 users a page), which bounds it on AWS.

    .venv/bin/python -m bench.producer                  # 1,000,000 users
    .venv/bin/python -m bench.producer --users 100000   # the same, smaller: compare the RSS growth
"""

from __future__ import annotations

import argparse
import math
import os
import resource
import threading
import time
from typing import Any

USER_LIST_QUOTA = 30.0  # requests/s, default (docs/quotas.md)
USER_READ_QUOTA = 120.0  # AdminGetUser, with BackupUserMfaSettings
PAGE = 60
MAP_CONCURRENCY = 8  # BackupMapConcurrency's default


def _rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


class PeakRss:
    def __init__(self) -> None:
        self.peak = _rss_mb()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            self.peak = max(self.peak, _rss_mb())

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss_mb())


def build_pool(stack: Any, users: int, members: int) -> str:
    """A pool with ``users`` users put into moto's backend directly, and 3 groups sharing ``members``."""
    from moto.cognitoidp.models import CognitoIdpGroup, CognitoIdpUser, cognitoidp_backends

    cognito = stack.client("cognito-idp")
    pool_id = cognito.create_user_pool(PoolName="bench-million")["UserPool"]["Id"]
    cognito.create_user_pool_client(UserPoolId=pool_id, ClientName="web")
    backend = cognitoidp_backends[stack.account_id][stack.region]
    pool = backend.user_pools[pool_id]
    groups = []
    for name in ("admins", "editors", "viewers"):
        cognito.create_group(UserPoolId=pool_id, GroupName=name)
        groups.append(pool.groups[name])
    for n in range(users):
        username = f"user{n:08d}"
        user = CognitoIdpUser(
            pool_id,
            username,
            None,
            "CONFIRMED",
            [{"Name": "email", "Value": f"{username}@example.com"}, {"Name": "email_verified", "Value": "true"}],
        )
        pool.users[username] = user
        if n < members:
            group: CognitoIdpGroup = groups[n % 3]
            group.users.add(user)
            user.groups.add(group)
    return pool_id


def main() -> None:
    parser = argparse.ArgumentParser(description="The v2 backup producer over a synthetic pool, in the emulation")
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--members", type=int, default=3_000, help="memberships over 3 groups")
    args = parser.parse_args()

    from tools.emulation import RestoreStack

    parameters = {"Environment": "bench", "BackupPoolIds": "us-east-1_Bench", "QuotaUserList": "1000000"}
    with RestoreStack(region="us-east-1", parameters=parameters) as stack:
        started = time.perf_counter()
        pool_id = build_pool(stack, args.users, args.members)
        built = time.perf_counter() - started
        from cognito_restore.producer import verify_manifest

        pages = {"ListUsers": 0, "ListUsersInGroup": 0}

        def count(model: Any, **_: Any) -> None:
            if model.name in pages:
                pages[model.name] += 1

        import cognito_restore.aws as aws

        original_new_client = aws.new_client

        def counted_client(service: str) -> Any:
            client = original_new_client(service)
            client.meta.events.register("before-call.cognito-idp", count)
            return client

        aws.new_client = counted_client  # type: ignore[assignment]
        # The emulation's ListUsers index (tools/emulation/cognito/listing.py) is built at the first
        # sub-filtered call: built here, so that the growth measured below is the backup's.
        stack.client("cognito-idp").list_users(UserPoolId=pool_id, Filter='sub ^= "0"', Limit=1)
        rss_before = _rss_mb()
        cpu_before = resource.getrusage(resource.RUSAGE_SELF)
        wall = time.perf_counter()
        with PeakRss() as peak:
            result = stack.run({"user_pool_id": pool_id}, state_machine="BackupStateMachine", timeout=7200)
        wall = time.perf_counter() - wall
        cpu_after = resource.getrusage(resource.RUSAGE_SELF)
        aws.new_client = original_new_client  # type: ignore[assignment]
        assert result.status == "SUCCEEDED", (result.error, result.cause)
        manifest = verify_manifest(
            stack.client("s3"), stack.outputs["BackupBucketName"], result.output["manifest"]["manifest_key"]
        )
        cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)

    users, memberships = manifest["users"]["count"], manifest["group_memberships"]["count"]
    assert users == args.users and memberships == args.members, (users, memberships)
    files = 2 + len(manifest["users"]["files"]) + len(manifest["group_memberships"]["files"])
    stored = (
        manifest["pool"]["bytes"]
        + sum(f["bytes"] for f in manifest["users"]["files"])
        + sum(f["bytes"] for f in manifest["group_memberships"]["files"])
    )
    shards = len({f["key"].split("/")[1].split("-")[0] for f in manifest["users"]["files"]})
    invocations = {}
    for name, _ in stack.invocations:
        invocations[name] = invocations.get(name, 0) + 1
    list_calls = math.ceil(users / PAGE) + shards  # each shard ends on a short (or empty) page
    member_calls = math.ceil(memberships / PAGE) + 3
    at_quota = (list_calls + member_calls) / USER_LIST_QUOTA
    print(f"users {users:,}  memberships {memberships:,}  shards {shards}  (pool built in {built:.0f} s)")
    print(f"backup: SUCCEEDED, manifest verified; wall {wall:.1f} s, CPU {cpu:.1f} s (moto included)")
    print(
        f"RSS: {rss_before:.0f} MB before the backup (the pool and its ListUsers index in moto), peak "
        f"{peak.peak:.0f} MB during it: +{peak.peak - rss_before:.0f} MB, of which {stored / 2**20:.0f} MiB are "
        "the backup's objects held by moto's S3"
    )
    print(f"written: {files} objects, {stored / 2**20:.1f} MiB ({stored / users:.0f} bytes per user, gzip JSONL)")
    print(f"calls: ListUsers {pages['ListUsers']:,} pages, ListUsersInGroup {pages['ListUsersInGroup']:,}")
    print(f"Lambda invocations: {dict(sorted(invocations.items()))}")
    concurrency = min(MAP_CONCURRENCY, shards)
    print(
        f"at the UserList quota ({USER_LIST_QUOTA:.0f}/s, {PAGE} users a page): {list_calls + member_calls:,} calls = "
        f"{at_quota / 60:.1f} min of wall time; the shard tasks ({concurrency} at once, each paced at 1/{concurrency} "
        f"of the quota) bill about {concurrency} x that: {at_quota * concurrency / 3600:.1f} h of Lambda time "
        f"({at_quota * concurrency * 0.5:,.0f} GB-s at 512 MB)"
    )
    print(
        f"with BackupUserMfaSettings: + {users:,} AdminGetUser at {USER_READ_QUOTA:.0f}/s (UserRead) = "
        f"{users / USER_READ_QUOTA / 3600:.1f} h more"
    )


if __name__ == "__main__":
    main()
