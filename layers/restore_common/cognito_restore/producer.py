"""The backup producer (format v2, docs/backup-format.md "Format v2", docs/producer.md).

One backup is a folder ``cognito-backup/v2/<pool>/<YYYY>/<MM>/<DD>/<HHMMSS>/`` (UTC start time):
``pool.json`` (every small section), ``users/<shard>-<NNNNN>.jsonl.gz`` (ListUsers filtered on a
``sub`` prefix, written as the pages arrive), ``memberships/<NNNNN>.jsonl.gz`` and, last,
``manifest.json`` (counts and sha256 of every file). The state machine
(statemachine/backup.asl.json) runs the steps; each step here is safe to run twice: the keys are
derived from the backup's start time and the position in the listing, so a retry rewrites the
same objects and a second manifest is never a second backup.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import os
import random
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from botocore.exceptions import ClientError

from cognito_restore.aws_errors import error_code, is_throttling
from cognito_restore.discovery import MANIFEST, V2_PREFIX
from cognito_restore.observability import logger

FORMAT = "cognito-dr-backup"
FORMAT_VERSION = 2
POOL_FILE = "pool.json"
HEX = "0123456789abcdef"
# ``sub`` is a UUID (lowercase hex): one hex digit gives 16 disjoint shards covering every user, two
# give 256. Large pools get 256 so that each shard task finishes in few invocations.
LARGE_POOL_USERS = 200_000
USERS_PER_FILE = 10_000  # ~0.5-1 MB of gzip per file: a few files per shard, one PutObject each
MEMBERSHIPS_PER_FILE = 50_000
PAGE = 60  # ListUsers / ListUsersInGroup maximum Limit
TIME_RESERVE_MS = 60_000  # hand back a continuation while a page and an upload still fit
DEFAULT_USER_LIST_QUOTA = 30.0  # UserList: ListUsers, ListUsersInGroup (docs/quotas.md)
DEFAULT_USER_READ_QUOTA = 120.0  # UserRead: AdminGetUser (docs/quotas.md)


class ProducerError(Exception):
    """A backup that cannot be completed as asked (the state machine fails it and alerts)."""


# ------------------------------------------------------------------------------ keys and JSON


def backup_folder(pool_id: str, started: datetime) -> str:
    started = started.astimezone(UTC)
    return f"{V2_PREFIX}{pool_id}/{started:%Y/%m/%d/%H%M%S}/"


def parse_start(value: str) -> datetime:
    """An ISO-8601 UTC time ($$.Execution.StartTime, the Scheduler's scheduled time), to the second."""
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).replace(microsecond=0)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode("ascii")  # managed login branding assets
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def to_json_bytes(value: Any) -> bytes:
    return json.dumps(value, default=_json_default, separators=(",", ":"), sort_keys=True).encode()


def without_metadata(response: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in response.items() if k != "ResponseMetadata"}


@dataclass
class BackupTarget:
    """Where one backup goes: the backup bucket (its objects) and the work bucket (step summaries)."""

    bucket: str
    folder: str
    work_bucket: str
    kms_key_arn: str = ""

    @property
    def work_prefix(self) -> str:
        return f"backups/{self.folder.removeprefix(V2_PREFIX)}"

    def put(self, s3: Any, relative_key: str, body: bytes, content_type: str) -> dict[str, Any]:
        """One object of the backup, encrypted with SSE-KMS (the stack's key, else aws/s3); returns
        its manifest entry (key relative to the folder, sha256 and size of the stored bytes)."""
        extra: dict[str, Any] = {"ServerSideEncryption": "aws:kms", "BucketKeyEnabled": True}
        if self.kms_key_arn:
            extra["SSEKMSKeyId"] = self.kms_key_arn
        s3.put_object(Bucket=self.bucket, Key=self.folder + relative_key, Body=body, ContentType=content_type, **extra)
        return {"key": relative_key, "sha256": hashlib.sha256(body).hexdigest(), "bytes": len(body)}

    def put_summary(self, s3: Any, name: str, value: Any) -> None:
        s3.put_object(Bucket=self.work_bucket, Key=self.work_prefix + name, Body=to_json_bytes(value))

    def get_summary(self, s3: Any, name: str) -> Any | None:
        try:
            body = s3.get_object(Bucket=self.work_bucket, Key=self.work_prefix + name)["Body"].read()
        except ClientError as error:
            if error_code(error) in ("NoSuchKey", "404"):
                return None
            raise
        return json.loads(body)

    def to_dict(self) -> dict[str, str]:
        return {
            "bucket": self.bucket,
            "folder": self.folder,
            "work_bucket": self.work_bucket,
            "kms_key_arn": self.kms_key_arn,
        }

    @classmethod
    def from_dict(cls, value: dict[str, Any]) -> BackupTarget:
        return cls(str(value["bucket"]), str(value["folder"]), str(value["work_bucket"]), str(value["kms_key_arn"]))


# ------------------------------------------------------------------------------ pacing


class Pace:
    """At most ``rate`` calls per second from this task (its share of the category quota), starting
    at a random offset so that shard tasks started together do not call in lockstep."""

    def __init__(self, rate: float, sleep: Callable[[float], None] = time.sleep):
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self._sleep = sleep
        self._next = time.monotonic() + random.uniform(0, self.interval)  # noqa: S311 - jitter, not security

    def wait(self) -> None:
        if not self.interval:
            return
        now = time.monotonic()
        if self._next > now:
            self._sleep(self._next - now)
        self._next = max(now, self._next) + self.interval


def share(quota: float, concurrency: int) -> float:
    return quota / max(1, concurrency)


def quota_from_env(name: str, default: float) -> float:
    return float(os.environ.get(name) or default)


# ------------------------------------------------------------------------------ pool.json


@dataclass
class PoolCapture:
    sections: dict[str, Any]
    notes: list[str] = field(default_factory=list)


def _pages(call: Callable[..., dict[str, Any]], items: str, token_in: str, token_out: str, **kwargs: Any) -> list[Any]:
    """Every page of a Cognito list call."""
    found: list[Any] = []
    while True:
        response = call(**kwargs)
        found.extend(response.get(items, []))
        token = response.get(token_out)
        if not token:
            return found
        kwargs[token_in] = token


def capture_pool(cognito: Any, wafv2: Any, pool_id: str) -> PoolCapture:
    """Every small section of pool.json. DescribeUserPool must succeed (nothing can be backed up
    without it); any other section whose API fails is null with a note naming the section and the
    error code (never its message, which may quote configuration). Throttling is raised: the state
    machine retries the task with jitter rather than store a null."""
    config = cognito.describe_user_pool(UserPoolId=pool_id)["UserPool"]
    capture = PoolCapture(sections={"user_pool_id": pool_id, "user_pool_config": config})
    sections = capture.sections

    def section(name: str, read: Callable[[], Any]) -> Any:
        try:
            sections[name] = read()
        except ClientError as error:
            if is_throttling(error):
                raise
            sections[name] = None
            capture.notes.append(f"{name}: not backed up ({error_code(error)})")
            logger.warning("Section not backed up", extra={"section": name, "error_code": error_code(error)})
        return sections[name]

    def describe_client(client_id: str) -> dict[str, Any]:
        return dict(cognito.describe_user_pool_client(UserPoolId=pool_id, ClientId=client_id)["UserPoolClient"])

    listed_clients = section(
        "app_clients",
        lambda: [
            describe_client(c["ClientId"])
            for c in _pages(
                cognito.list_user_pool_clients,
                "UserPoolClients",
                "NextToken",
                "NextToken",
                UserPoolId=pool_id,
                MaxResults=60,
            )
        ],
    )
    client_ids = [c["ClientId"] for c in listed_clients or []]
    section(
        "groups",
        lambda: _pages(cognito.list_groups, "Groups", "NextToken", "NextToken", UserPoolId=pool_id, Limit=60),
    )
    section(
        "identity_providers",
        lambda: [
            cognito.describe_identity_provider(UserPoolId=pool_id, ProviderName=p["ProviderName"])["IdentityProvider"]
            for p in _pages(
                cognito.list_identity_providers,
                "Providers",
                "NextToken",
                "NextToken",
                UserPoolId=pool_id,
                MaxResults=60,
            )
        ],
    )
    section(
        "resource_servers",
        lambda: _pages(
            cognito.list_resource_servers,
            "ResourceServers",
            "NextToken",
            "NextToken",
            UserPoolId=pool_id,
            MaxResults=50,
        ),
    )

    # The domain by its NAME (DescribeUserPoolDomain takes the domain, not the pool id).
    def domain_of(domain: str | None) -> Callable[[], Any]:
        return lambda: cognito.describe_user_pool_domain(Domain=domain)["DomainDescription"] if domain else None

    section("user_pool_domain", domain_of(config.get("Domain")))
    section("custom_domain", domain_of(config.get("CustomDomain")))
    section("ui_customization", lambda: cognito.get_ui_customization(UserPoolId=pool_id).get("UICustomization"))
    section(
        "risk_configuration",
        lambda: cognito.describe_risk_configuration(UserPoolId=pool_id).get("RiskConfiguration"),
    )
    section("waf_configuration", lambda: _web_acl(wafv2, config["Arn"]))
    section("mfa_config", lambda: without_metadata(cognito.get_user_pool_mfa_config(UserPoolId=pool_id)))

    def per_client(read: Callable[[str], dict[str, Any] | None]) -> Callable[[], list[dict[str, Any]] | None]:
        def run() -> list[dict[str, Any]] | None:
            if listed_clients is None:
                raise _Unavailable  # no client list: the per-client sections cannot be complete
            return [found for found in (read(cid) for cid in client_ids) if found]

        return run

    def own_ui(client_id: str) -> dict[str, Any] | None:
        ui = cognito.get_ui_customization(UserPoolId=pool_id, ClientId=client_id).get("UICustomization") or {}
        return dict(ui) if ui.get("ClientId") == client_id else None  # else the pool's, inherited

    def own_risk(client_id: str) -> dict[str, Any] | None:
        risk = cognito.describe_risk_configuration(UserPoolId=pool_id, ClientId=client_id).get("RiskConfiguration")
        return dict(risk) if risk and risk.get("ClientId") == client_id else None

    def branding(client_id: str) -> dict[str, Any] | None:
        try:
            found = cognito.describe_managed_login_branding_by_client(
                UserPoolId=pool_id, ClientId=client_id, ReturnMergedResources=False
            ).get("ManagedLoginBranding")
        except ClientError as error:
            if error_code(error) == "ResourceNotFoundException":
                return None  # this client has no branding of its own
            raise
        return {**found, "ClientId": client_id} if found else None

    def terms() -> list[dict[str, Any]]:
        listed = _pages(cognito.list_terms, "Terms", "NextToken", "NextToken", UserPoolId=pool_id, MaxResults=20)
        return [cognito.describe_terms(UserPoolId=pool_id, TermsId=t["TermsId"])["Terms"] for t in listed]

    for name, read in (
        ("ui_customizations", per_client(own_ui)),
        ("risk_configurations", per_client(own_risk)),
        ("managed_login_branding", per_client(branding)),
    ):
        try:
            section(name, read)
        except _Unavailable:
            sections[name] = None
            capture.notes.append(f"{name}: not backed up (the app clients could not be listed)")
    section("terms", terms)
    section(
        "log_delivery_configuration",
        lambda: cognito.get_log_delivery_configuration(UserPoolId=pool_id).get("LogDeliveryConfiguration"),
    )
    return capture


class _Unavailable(Exception):
    pass


def _web_acl(wafv2: Any, pool_arn: str) -> dict[str, str] | None:
    acl = wafv2.get_web_acl_for_resource(ResourceArn=pool_arn).get("WebACL")
    return {"WebACLArn": acl["ARN"], "WebACLName": acl["Name"]} if acl else None


def section_counts(sections: dict[str, Any]) -> dict[str, int | None]:
    """Items per list section (null when the section is not backed up)."""
    names = {
        "groups": "groups",
        "app_clients": "app_clients",
        "identity_providers": "identity_providers",
        "resource_servers": "resource_servers",
        "managed_login_branding": "managed_login_branding",
        "terms": "terms",
    }
    return {count: (len(sections[s]) if isinstance(sections.get(s), list) else None) for count, s in names.items()}


def shard_prefixes(estimated_users: int) -> list[str]:
    if estimated_users >= LARGE_POOL_USERS:
        return [a + b for a in HEX for b in HEX]
    return list(HEX)


# ------------------------------------------------------------------------------ JSONL.gz files


class GzipLines:
    """One gzip JSON-lines file built in memory (bounded by the lines per file), uploaded whole.
    A gzip stream (zlib with wbits 31): no file object, no header time, the same bytes for the same lines."""

    def __init__(self) -> None:
        self._zip = zlib.compressobj(6, zlib.DEFLATED, 31)
        self._parts: list[bytes] = []
        self.count = 0

    def write(self, item: Any) -> None:
        self._parts.append(self._zip.compress(to_json_bytes(item) + b"\n"))
        self.count += 1

    def close(self) -> bytes:
        self._parts.append(self._zip.flush())
        return b"".join(self._parts)


def _deadline_near(context: Any) -> bool:
    return bool(context.get_remaining_time_in_millis() < TIME_RESERVE_MS)


class FileSeries:
    """Numbered gzip JSON-lines files of at most ``per_file`` lines (``<prefix>NNNNN.jsonl.gz``), resumed
    from a task's progress (the files so far, the next number, the count): running the same progress
    twice rewrites the same files (same numbers, same pages)."""

    def __init__(self, s3: Any, target: BackupTarget, prefix: str, per_file: int, progress: dict[str, Any]) -> None:
        self.s3, self.target, self.prefix, self.per_file = s3, target, prefix, per_file
        self.files: list[dict[str, Any]] = list(progress.get("files") or [])
        self.next_file = int(progress.get("next_file") or 0)
        self.count = int(progress.get("count") or 0)
        self.current = GzipLines()

    def write(self, line: Any) -> None:
        self.current.write(line)
        if self.current.count >= self.per_file:
            self.flush()

    def flush(self) -> None:
        if self.current.count:
            name = f"{self.prefix}{self.next_file:05d}.jsonl.gz"
            entry = self.target.put(self.s3, name, self.current.close(), "application/gzip")
            self.files.append({**entry, "count": self.current.count})
            self.count += self.current.count
            self.next_file += 1
            self.current = GzipLines()

    def progress(self) -> dict[str, Any]:
        """What a continuation (or the finished task) hands back about its files."""
        return {"files": self.files, "count": self.count, "next_file": self.next_file}


# ------------------------------------------------------------------------------ users (one shard)


@dataclass
class UserMfaReader:
    """AdminGetUser per user (UserRead quota): the per-user MFA settings ListUsers does not return."""

    cognito: Any
    pool_id: str
    pace: Pace
    missed: int = 0

    def add(self, user: dict[str, Any]) -> None:
        self.pace.wait()
        try:
            got = self.cognito.admin_get_user(UserPoolId=self.pool_id, Username=user["Username"])
        except ClientError as error:
            if error_code(error) != "UserNotFoundException":
                raise
            self.missed += 1  # deleted since it was listed: its line carries no MFA keys (= not captured)
            return
        for key in ("UserMFASettingList", "PreferredMfaSetting"):
            if key in got:
                user[key] = got[key]


def backup_shard(
    cognito: Any,
    s3: Any,
    target: BackupTarget,
    pool_id: str,
    progress: dict[str, Any],
    context: Any,
    list_pace: Pace,
    mfa: UserMfaReader | None = None,
) -> dict[str, Any]:
    """ListUsers with ``sub ^= "<shard>"``, page after page, into ``users/<shard>-<NNNNN>.jsonl.gz``
    files of USERS_PER_FILE users: memory holds one file at a time. When the invocation's time runs
    low, the file in hand is uploaded and the progress (the next page's PaginationToken, the next file
    number, the files so far) is handed back; the next invocation continues from it. Running the same
    progress twice rewrites the same files (same numbers, same pages)."""
    shard = str(progress["shard"])
    token: str | None = progress.get("token")
    series = FileSeries(s3, target, f"users/{shard}-", USERS_PER_FILE, progress)
    while True:
        list_pace.wait()
        kwargs: dict[str, Any] = {"UserPoolId": pool_id, "Limit": PAGE, "Filter": f'sub ^= "{shard}"'}
        if token:
            kwargs["PaginationToken"] = token
        page = cognito.list_users(**kwargs)
        for user in page.get("Users", []):
            if mfa is not None:
                mfa.add(user)
            series.write(user)
        token = page.get("PaginationToken")
        if not token:
            series.flush()
            return {"shard": shard, "done": True, **series.progress()}
        if _deadline_near(context):
            series.flush()
            logger.info("Shard continues", extra={"shard": shard, "users": series.count})
            return {"shard": shard, "done": False, "token": token, **series.progress()}


# ------------------------------------------------------------------------------ memberships


def group_names(s3: Any, target: BackupTarget) -> list[str]:
    pool = json.loads(s3.get_object(Bucket=target.bucket, Key=target.folder + POOL_FILE)["Body"].read())
    groups = pool.get("groups")
    if not isinstance(groups, list):
        raise ProducerError("The groups of the pool could not be listed, so their memberships cannot be backed up.")
    return [str(g["GroupName"]) for g in groups]


def backup_memberships(
    cognito: Any, s3: Any, target: BackupTarget, pool_id: str, progress: dict[str, Any], context: Any, pace: Pace
) -> dict[str, Any]:
    """ListUsersInGroup, every page of every group, into memberships/<NNNNN>.jsonl.gz; continues like
    a shard (group index + NextToken). A group deleted since it was listed has no members to back up."""
    names = group_names(s3, target)
    index = int(progress.get("group_index") or 0)
    token: str | None = progress.get("token")
    series = FileSeries(s3, target, "memberships/", MEMBERSHIPS_PER_FILE, progress)
    while index < len(names):
        pace.wait()
        kwargs: dict[str, Any] = {"UserPoolId": pool_id, "GroupName": names[index], "Limit": PAGE}
        if token:
            kwargs["NextToken"] = token
        try:
            page = cognito.list_users_in_group(**kwargs)
        except ClientError as error:
            if error_code(error) != "ResourceNotFoundException":
                raise
            page = {}
        for user in page.get("Users", []):
            series.write({"group": names[index], "username": user["Username"]})
        token = page.get("NextToken")
        if not token:
            index += 1
        if index < len(names) and _deadline_near(context):
            series.flush()
            return {"done": False, "group_index": index, "token": token, **series.progress()}
    series.flush()
    return {"done": True, "group_index": index, **series.progress()}


# ------------------------------------------------------------------------------ manifest


def build_manifest(
    pool_id: str,
    timestamp: str,
    region: str,
    pool_entry: dict[str, Any],
    counts: dict[str, Any],
    shards: list[dict[str, Any]],
    memberships: dict[str, Any],
    user_mfa_settings: bool,
    notes: list[str],
) -> dict[str, Any]:
    user_files = [f for shard in sorted(shards, key=lambda s: str(s["shard"])) for f in shard["files"]]
    users = sum(int(f["count"]) for f in user_files)
    if users != sum(int(s["count"]) for s in shards):
        raise ProducerError("The shard summaries do not add up to their files' counts.")
    manifest = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "user_pool_id": pool_id,
        "timestamp": timestamp,
        "region": region,
        "pool": pool_entry,
        "users": {"count": users, "files": user_files},
        "group_memberships": {"count": int(memberships["count"]), "files": list(memberships["files"])},
        "counts": {**counts, "users": users, "group_memberships": int(memberships["count"])},
        "user_mfa_settings": user_mfa_settings,
    }
    if notes:
        manifest["notes"] = notes  # sections stored as null, and why (an addition to the contract's keys)
    return manifest


def read_jsonl_gz(body: bytes) -> Iterator[dict[str, Any]]:
    """The lines of a users or memberships file (tests, bench and the v2 reader)."""
    for line in gzip.decompress(body).splitlines():
        if line:
            yield json.loads(line)


def verify_manifest(s3: Any, bucket: str, manifest_key: str) -> dict[str, Any]:
    """Every file the manifest names: sha256, size and line count as written (tests and bench)."""
    manifest = json.loads(s3.get_object(Bucket=bucket, Key=manifest_key)["Body"].read())
    folder = manifest_key.removesuffix(MANIFEST)

    def body(entry: dict[str, Any]) -> bytes:
        data: bytes = s3.get_object(Bucket=bucket, Key=folder + entry["key"])["Body"].read()
        if hashlib.sha256(data).hexdigest() != entry["sha256"] or len(data) != entry["bytes"]:
            raise ProducerError(f"{entry['key']} does not match its manifest entry")
        return data

    body(manifest["pool"])
    for part in ("users", "group_memberships"):
        total = 0
        for entry in manifest[part]["files"]:
            lines = sum(1 for _ in read_jsonl_gz(body(entry)))
            if lines != entry["count"]:
                raise ProducerError(f"{entry['key']} holds {lines} lines, its manifest entry says {entry['count']}")
            total += lines
        if total != manifest[part]["count"]:
            raise ProducerError(f"{part}: the files hold {total}, the manifest says {manifest[part]['count']}")
    return dict(manifest)
