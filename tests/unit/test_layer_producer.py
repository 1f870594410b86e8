"""cognito_restore.producer: the v2 backup's pieces (docs/backup-format.md "Format v2", docs/producer.md)."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from cognito_restore.producer import (
    GzipLines,
    Pace,
    ProducerError,
    backup_folder,
    build_manifest,
    capture_pool,
    parse_start,
    read_jsonl_gz,
    section_counts,
    shard_prefixes,
    to_json_bytes,
    verify_manifest,
)
from tools.emulation.cognito import strict_cognito

REGION = "us-east-1"


def test_the_folder_is_the_utc_start_to_the_second():
    started = parse_start("2026-12-01T10:00:07.123Z")
    assert started == datetime(2026, 12, 1, 10, 0, 7, tzinfo=UTC)
    assert backup_folder("us-east-1_Abc", started) == "cognito-backup/v2/us-east-1_Abc/2026/12/01/100007/"
    assert parse_start("2026-12-01T11:00:07+01:00") == started.replace(microsecond=0)


def test_shards_partition_every_lowercase_hex_sub():
    for estimated, size in ((0, 16), (199_999, 16), (200_000, 256), (40_000_000, 256)):
        shards = shard_prefixes(estimated)
        assert len(shards) == len(set(shards)) == size
        for sub in ("0f9a1b2c-0000-4000-8000-000000000000", "ffffffff-ffff-4fff-bfff-ffffffffffff"):
            assert sum(sub.startswith(s) for s in shards) == 1  # exactly one shard per user


def test_gzip_lines_round_trip_deterministically_with_dates_and_bytes():
    def write() -> bytes:
        lines = GzipLines()
        lines.write({"Username": "a", "UserCreateDate": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)})
        lines.write({"Bytes": b"\x89PNG"})
        assert lines.count == 2
        return lines.close()

    body = write()
    assert body == write()  # same lines, same bytes: a re-run rewrites identical objects
    assert gzip.decompress(body).count(b"\n") == 2
    assert list(read_jsonl_gz(body)) == [
        {"Username": "a", "UserCreateDate": "2026-01-02T03:04:05+00:00"},
        {"Bytes": "iVBORw=="},
    ]
    assert GzipLines().close() == GzipLines().close()


def test_pace_spaces_calls_by_the_share_of_the_quota():
    slept: list[float] = []
    pace = Pace(rate=4.0, sleep=slept.append)
    for _ in range(5):
        pace.wait()
    assert pace.interval == 0.25
    assert sum(slept) >= 0.25 * 4 - 0.01  # 5 calls take at least 4 intervals
    unpaced: list[float] = []
    no_quota = Pace(rate=0, sleep=unpaced.append)
    no_quota.wait()
    assert unpaced == []


def _shard(name: str, files: list[int]) -> dict[str, Any]:
    entries = [
        {"key": f"users/{name}-{n:05d}.jsonl.gz", "count": c, "sha256": "x", "bytes": 1} for n, c in enumerate(files)
    ]
    return {"shard": name, "files": entries, "count": sum(files)}


def test_the_manifest_adds_up_its_files_and_refuses_summaries_that_do_not():
    memberships = {"count": 3, "files": [{"key": "memberships/00000.jsonl.gz", "count": 3, "sha256": "y", "bytes": 2}]}
    manifest = build_manifest(
        "us-east-1_Abc",
        "2026-12-01T10:00:00Z",
        REGION,
        {"key": "pool.json", "sha256": "z", "bytes": 3},
        {"groups": 2, "terms": None},
        [_shard("b", [2]), _shard("a", [10, 4])],
        memberships,
        False,
        [],
    )
    assert manifest["users"]["count"] == manifest["counts"]["users"] == 16
    assert [f["key"] for f in manifest["users"]["files"]] == [
        "users/a-00000.jsonl.gz",
        "users/a-00001.jsonl.gz",
        "users/b-00000.jsonl.gz",
    ]
    assert manifest["counts"]["group_memberships"] == 3 and manifest["counts"]["terms"] is None
    assert "notes" not in manifest
    bad = _shard("c", [5])
    bad["count"] = 6
    with pytest.raises(ProducerError):
        build_manifest("p_1", "t", REGION, {}, {}, [bad], memberships, False, [])


def test_section_counts_are_null_for_sections_not_backed_up():
    counts = section_counts({"groups": [1, 2], "app_clients": None, "terms": []})
    assert counts["groups"] == 2 and counts["app_clients"] is None and counts["terms"] == 0


@pytest.fixture
def cognito():
    with mock_aws(), strict_cognito():
        client = boto3.client("cognito-idp", region_name=REGION)
        yield client


def _refuse(client: Any, operation: str, code: str) -> None:
    def raise_error(**_: Any) -> None:
        raise ClientError({"Error": {"Code": code, "Message": "secret detail"}}, operation)

    client.meta.events.register(f"before-call.cognito-idp.{operation}", raise_error)


def test_a_failed_section_is_null_with_a_note_naming_the_code_not_the_message(cognito):
    pool_id = cognito.create_user_pool(PoolName="p")["UserPool"]["Id"]
    cognito.create_user_pool_client(UserPoolId=pool_id, ClientName="web")
    _refuse(cognito, "ListTerms", "AccessDeniedException")
    capture = capture_pool(cognito, boto3.client("wafv2", region_name=REGION), pool_id)
    assert capture.sections["terms"] is None
    assert capture.notes == ["terms: not backed up (AccessDeniedException)"]
    assert "secret detail" not in json.dumps(capture.notes)
    assert len(capture.sections["app_clients"]) == 1 and capture.sections["managed_login_branding"] == []
    assert capture.sections["user_pool_domain"] is None  # no domain: null, not {}


def test_without_the_client_list_the_per_client_sections_are_null_too(cognito):
    pool_id = cognito.create_user_pool(PoolName="p")["UserPool"]["Id"]
    _refuse(cognito, "ListUserPoolClients", "AccessDeniedException")
    capture = capture_pool(cognito, boto3.client("wafv2", region_name=REGION), pool_id)
    for section in ("app_clients", "ui_customizations", "risk_configurations", "managed_login_branding"):
        assert capture.sections[section] is None
    assert len(capture.notes) == 4


def test_throttling_is_raised_for_the_state_machine_to_retry_not_stored_as_null(cognito):
    pool_id = cognito.create_user_pool(PoolName="p")["UserPool"]["Id"]
    _refuse(cognito, "ListGroups", "TooManyRequestsException")
    with pytest.raises(ClientError):
        capture_pool(cognito, boto3.client("wafv2", region_name=REGION), pool_id)


def test_verify_manifest_names_the_file_that_does_not_match():
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket="bkt")
        folder = "cognito-backup/v2/us-east-1_Abc/2026/12/01/100000/"
        lines = GzipLines()
        lines.write({"Username": "a"})
        body = lines.close()
        pool = to_json_bytes({"user_pool_id": "us-east-1_Abc"})
        s3.put_object(Bucket="bkt", Key=folder + "pool.json", Body=pool)
        s3.put_object(Bucket="bkt", Key=folder + "users/0-00000.jsonl.gz", Body=body)
        import hashlib

        def entry(key: str, data: bytes, count: int | None = None) -> dict[str, Any]:
            found = {"key": key, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
            return {**found, "count": count} if count is not None else found

        manifest = {
            "pool": entry("pool.json", pool),
            "users": {"count": 1, "files": [entry("users/0-00000.jsonl.gz", body, 1)]},
            "group_memberships": {"count": 0, "files": []},
        }
        s3.put_object(Bucket="bkt", Key=folder + "manifest.json", Body=json.dumps(manifest))
        assert verify_manifest(s3, "bkt", folder + "manifest.json")["users"]["count"] == 1
        s3.put_object(Bucket="bkt", Key=folder + "users/0-00000.jsonl.gz", Body=body + b"x")
        with pytest.raises(ProducerError, match=r"users/0-00000\.jsonl\.gz"):
            verify_manifest(s3, "bkt", folder + "manifest.json")
