"""Streaming writer of producer-shaped backups with any number of users (docs/backup-format.md).

The document is written piece by piece to a file: nothing but one user item (or one group's member
list) is held in memory at a time, so a 1M-user backup (~1 GB) costs a few MB of RAM to write.

Shape, as the producer writes it (``json.dumps(default=str)``: dates are strings):
``timestamp, user_pool_id, user_pool_config, app_clients, users, groups (first 60 only),
group_memberships {group: [Username, ...]} (every group), identity_providers, resource_servers,
user_pool_domain ({}), ui_customization (null)``.

Users are deterministic functions of their index (no random state to keep): user i gets a status
from the ``status_mix`` weights and is disabled for a ``disabled`` fraction, both spread evenly
over the file by low-discrepancy sequences; it belongs to ``groups_per_user`` consecutive groups
``(i + j) % groups``, so a group's members can be enumerated without a table. About 1 KB per user
(100k users ~ 100 MB, like the real producer).

    .venv/bin/python -m bench.synthetic --users 100000 --out bench/out/backup-100k.json
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

DEFAULT_POOL_ID = "us-east-1_SynthPool1"
DEFAULT_STATUS_MIX = {"CONFIRMED": 85.0, "FORCE_CHANGE_PASSWORD": 7.0, "UNCONFIRMED": 5.0, "RESET_REQUIRED": 3.0}
PRODUCER_GROUPS_LIMIT = 60
# Statuses whose restore sets a permanent password (cognito_restore.users.NEEDS_PERMANENT_PASSWORD).
PERMANENT_PASSWORD_STATUSES = frozenset({"CONFIRMED", "RESET_REQUIRED", "COMPROMISED", "UNKNOWN", "ARCHIVED"})

_PHI = (math.sqrt(5) - 1) / 2
_SQRT2 = math.sqrt(2) - 1
_FIRST = (
    "Ada",
    "Grace",
    "Alan",
    "Linus",
    "Margaret",
    "Ken",
    "Barbara",
    "Dennis",
    "Frances",
    "Edsger",
    "Radia",
    "Tim",
    "Hedy",
    "John",
    "Katherine",
    "Guido",
)
_LAST = (
    "Lovelace",
    "Hopper",
    "Turing",
    "Torvalds",
    "Hamilton",
    "Thompson",
    "Liskov",
    "Ritchie",
    "Allen",
    "Dijkstra",
    "Perlman",
    "Berners-Lee",
    "Lamarr",
    "Backus",
    "Johnson",
    "van Rossum",
)
_TENANTS = (
    "tenant-acme",
    "tenant-globex",
    "tenant-initech",
    "tenant-umbrella",
    "tenant-hooli",
    "tenant-stark",
    "tenant-wayne",
    "tenant-wonka",
)
_PLANS = ("free", "pro", "enterprise")
_LOCALES = ("en-US", "en-GB", "de-DE", "fr-FR", "es-ES", "ja-JP")
_ZONES = ("America/New_York", "Europe/London", "Europe/Berlin", "Europe/Paris", "Asia/Tokyo", "America/Los_Angeles")
_EPOCH = datetime(2024, 1, 1, 8, 0, 0, tzinfo=UTC)


def parse_status_mix(text: str) -> dict[str, float]:
    """``"CONFIRMED=85,FORCE_CHANGE_PASSWORD=10,UNCONFIRMED=5"`` -> weights (any scale)."""
    mix: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, weight = part.partition("=")
        mix[name.strip().upper()] = float(weight or 1)
    if not mix or sum(mix.values()) <= 0:
        raise ValueError(f"empty status mix: {text!r}")
    return mix


@dataclass
class SyntheticSpec:
    users: int
    groups: int = 10
    groups_per_user: int = 1
    status_mix: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_STATUS_MIX))
    disabled: float = 0.02  # fraction of users with Enabled=false
    email_username: bool = False  # UsernameAttributes=["email"]: Username = sub (a UUID)
    pool_id: str = DEFAULT_POOL_ID
    pool_name: str = "synthetic-pool"
    seed: int = 1
    timestamp: str = "2026-11-02T10:14:07.123000"
    domain: str | None = None  # user_pool_config.Domain (hosted UI prefix), None: no domain

    def __post_init__(self) -> None:
        if self.users < 0 or self.groups < 0:
            raise ValueError("users and groups must be >= 0")
        if self.groups_per_user > self.groups:
            raise ValueError("groups_per_user must be <= groups")


@dataclass
class SyntheticBackup:
    """What was written (counts measured while writing)."""

    path: str
    spec: SyntheticSpec
    bytes: int = 0
    status_counts: dict[str, int] = field(default_factory=dict)
    disabled: int = 0
    memberships: int = 0
    seconds: float = 0.0

    @property
    def pool_id(self) -> str:
        return self.spec.pool_id

    def minimum_calls(self) -> dict[str, int]:
        """The fewest Cognito calls that can restore these users and memberships."""
        unconfirmed = self.status_counts.get("UNCONFIRMED", 0)  # signed up (cognito_restore/sign_up.py)
        calls = {
            "AdminCreateUser": self.spec.users - unconfirmed,
            "SignUp": unconfirmed,
            "AdminSetUserPassword": sum(n for s, n in self.status_counts.items() if s in PERMANENT_PASSWORD_STATUSES),
            "AdminAddUserToGroup": self.memberships,
            "AdminDisableUser": self.disabled,
        }
        return {op: n for op, n in calls.items() if n}

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "minimum_calls": self.minimum_calls()}


# ------------------------------------------------------------------------------------------ items


def _date(seconds: float) -> str:
    return str(_EPOCH + timedelta(seconds=seconds))  # "2024-01-01 08:00:00.123000+00:00" like default=str


def username_of(spec: SyntheticSpec, i: int) -> str:
    return sub_of(spec, i) if spec.email_username else f"user{i:07d}"


def sub_of(spec: SyntheticSpec, i: int) -> str:
    return str(uuid.UUID(bytes=hashlib.md5(f"{spec.seed}:{i}".encode()).digest(), version=4))


def group_name(g: int) -> str:
    return f"group-{g + 1:04d}"


def groups_of(spec: SyntheticSpec, i: int) -> list[str]:
    return [group_name((i + j) % spec.groups) for j in range(spec.groups_per_user)] if spec.groups else []


def members_of(spec: SyntheticSpec, g: int) -> Iterator[int]:
    """Users i with g in {(i + j) % groups}: i = g - j (mod groups)."""
    for j in range(spec.groups_per_user):
        yield from range((g - j) % spec.groups, spec.users, spec.groups)


class _Mix:
    def __init__(self, mix: dict[str, float]) -> None:
        total = sum(mix.values())
        self.bounds: list[tuple[float, str]] = []
        acc = 0.0
        for status, weight in mix.items():
            acc += weight / total
            self.bounds.append((acc, status))

    def status(self, i: int) -> str:
        x = (i * _PHI + 0.5) % 1.0
        for bound, status in self.bounds:
            if x < bound:
                return status
        return self.bounds[-1][1]


def user_item(spec: SyntheticSpec, i: int, status: str, enabled: bool) -> dict[str, Any]:
    """One ``ListUsers`` item, as the producer serialises it (~1 KB)."""
    h = int.from_bytes(hashlib.md5(f"u{spec.seed}:{i}".encode()).digest()[:8])
    first, last = _FIRST[h % 16], _LAST[(h >> 4) % 16]
    email = f"user{i:07d}@example.com"
    attributes = [
        {"Name": "email", "Value": email},
        {"Name": "name", "Value": f"{first} {last}"},
        {"Name": "given_name", "Value": first},
        {"Name": "family_name", "Value": last},
        {"Name": "locale", "Value": _LOCALES[(h >> 8) % len(_LOCALES)]},
        {"Name": "zoneinfo", "Value": _ZONES[(h >> 12) % len(_ZONES)]},
        {"Name": "address", "Value": f"{100 + h % 9800} Example Street, Springfield"},
        {"Name": "picture", "Value": f"https://cdn.example.com/avatars/{i:07d}.png"},
        {"Name": "custom:tenant_id", "Value": _TENANTS[(h >> 16) % len(_TENANTS)]},
        {"Name": "custom:plan", "Value": _PLANS[(h >> 20) % len(_PLANS)]},
        {"Name": "custom:employee_number", "Value": str(1000 + (h >> 24) % 98000)},
    ]
    if status != "UNCONFIRMED":
        verified = status == "RESET_REQUIRED" or (h >> 32) % 10 < 8
        attributes.append({"Name": "email_verified", "Value": "true" if verified else "false"})
    if (h >> 36) % 2:
        attributes.append({"Name": "phone_number", "Value": f"+1555{i % 10**7:07d}"})
        if status != "UNCONFIRMED":
            attributes.append({"Name": "phone_number_verified", "Value": "false"})
    attributes.append({"Name": "sub", "Value": sub_of(spec, i)})
    created = i * 37.0 + (h % 1000) / 1000
    return {
        "Username": username_of(spec, i),
        "Attributes": attributes,
        "UserCreateDate": _date(created),
        "UserLastModifiedDate": _date(created + (h >> 40) % 86400),
        "Enabled": enabled,
        "UserStatus": status,
        "MFAOptions": [],
    }


def _schema() -> list[dict[str, Any]]:
    def string(
        name: str, required: bool = False, mutable: bool = True, lo: str = "0", hi: str = "2048"
    ) -> dict[str, Any]:
        return {
            "Name": name,
            "AttributeDataType": "String",
            "DeveloperOnlyAttribute": False,
            "Mutable": mutable,
            "Required": required,
            "StringAttributeConstraints": {"MinLength": lo, "MaxLength": hi},
        }

    def boolean(name: str) -> dict[str, Any]:
        return {
            "Name": name,
            "AttributeDataType": "Boolean",
            "DeveloperOnlyAttribute": False,
            "Mutable": True,
            "Required": False,
        }

    return [
        string("sub", required=True, mutable=False, lo="1"),
        *(
            string(n)
            for n in (
                "name",
                "given_name",
                "family_name",
                "middle_name",
                "nickname",
                "preferred_username",
                "profile",
                "picture",
                "website",
            )
        ),
        string("email", required=True),
        boolean("email_verified"),
        string("gender"),
        string("birthdate", lo="10", hi="10"),
        string("zoneinfo"),
        string("locale"),
        string("phone_number"),
        boolean("phone_number_verified"),
        string("address"),
        {
            "Name": "updated_at",
            "AttributeDataType": "Number",
            "DeveloperOnlyAttribute": False,
            "Mutable": True,
            "Required": False,
            "NumberAttributeConstraints": {"MinValue": "0"},
        },
        string("custom:tenant_id", lo="3", hi="36"),
        string("custom:plan", lo="1", hi="32"),
        {
            "Name": "custom:employee_number",
            "AttributeDataType": "Number",
            "DeveloperOnlyAttribute": False,
            "Mutable": True,
            "Required": False,
            "NumberAttributeConstraints": {"MinValue": "1", "MaxValue": "999999"},
        },
    ]


def pool_config(spec: SyntheticSpec) -> dict[str, Any]:
    """A small ``DescribeUserPool()['UserPool']``."""
    region = spec.pool_id.split("_", 1)[0]
    config: dict[str, Any] = {
        "Id": spec.pool_id,
        "Name": spec.pool_name,
        "Policies": {
            "PasswordPolicy": {
                "MinimumLength": 10,
                "RequireUppercase": True,
                "RequireLowercase": True,
                "RequireNumbers": True,
                "RequireSymbols": True,
                "TemporaryPasswordValidityDays": 7,
            }
        },
        "DeletionProtection": "INACTIVE",
        "LambdaConfig": {},
        "LastModifiedDate": _date(0),
        "CreationDate": _date(0),
        "SchemaAttributes": _schema(),
        "AutoVerifiedAttributes": ["email"],
        "VerificationMessageTemplate": {"DefaultEmailOption": "CONFIRM_WITH_CODE"},
        "UserAttributeUpdateSettings": {"AttributesRequireVerificationBeforeUpdate": ["email"]},
        "MfaConfiguration": "OFF",
        "EstimatedNumberOfUsers": spec.users,
        "EmailConfiguration": {"EmailSendingAccount": "COGNITO_DEFAULT"},
        "UserPoolTags": {"team": "identity", "env": "bench"},
        "AdminCreateUserConfig": {"AllowAdminCreateUserOnly": True},
        "UsernameConfiguration": {"CaseSensitive": False},
        "Arn": f"arn:aws:cognito-idp:{region}:123456789012:userpool/{spec.pool_id}",
        "AccountRecoverySetting": {"RecoveryMechanisms": [{"Priority": 1, "Name": "verified_email"}]},
        "UserPoolTier": "ESSENTIALS",
    }
    if spec.email_username:
        config["UsernameAttributes"] = ["email"]
    if spec.domain:
        config["Domain"] = spec.domain
    return config


def app_clients(spec: SyntheticSpec) -> list[dict[str, Any]]:
    units = {"AccessToken": "minutes", "IdToken": "minutes", "RefreshToken": "days"}
    base = {
        "UserPoolId": spec.pool_id,
        "RefreshTokenValidity": 30,
        "AccessTokenValidity": 60,
        "IdTokenValidity": 60,
        "TokenValidityUnits": units,
        "PreventUserExistenceErrors": "ENABLED",
        "EnableTokenRevocation": True,
        "EnablePropagateAdditionalUserContextData": False,
        "AuthSessionValidity": 3,
        "LastModifiedDate": _date(0),
        "CreationDate": _date(0),
    }
    return [
        {
            **base,
            "ClientName": "web-spa",
            "ClientId": "1example23456789web0client0",
            "ExplicitAuthFlows": ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
            "ReadAttributes": ["email", "email_verified", "name", "custom:tenant_id"],
            "WriteAttributes": ["email", "name"],
            "SupportedIdentityProviders": ["COGNITO"],
            "AllowedOAuthFlowsUserPoolClient": True,
            "AllowedOAuthFlows": ["code"],
            "AllowedOAuthScopes": ["openid", "email"],
            "CallbackURLs": ["https://app.example.com/callback"],
            "LogoutURLs": ["https://app.example.com/logout"],
        },
        {
            **base,
            "ClientName": "backend-service",
            "ClientId": "2example23456789backend00",
            "ClientSecret": "synthetic0secret0not0real0000000000000000000000000",
            "ExplicitAuthFlows": ["ALLOW_REFRESH_TOKEN_AUTH"],
            "SupportedIdentityProviders": ["COGNITO"],
        },
    ]


def groups_section(spec: SyntheticSpec) -> list[dict[str, Any]]:
    """The producer's ``groups``: the first ListGroups page only (at most 60)."""
    return [
        {
            "GroupName": group_name(g),
            "UserPoolId": spec.pool_id,
            "Description": f"Synthetic group {g + 1}",
            "Precedence": g,
            "LastModifiedDate": _date(g),
            "CreationDate": _date(g),
        }
        for g in range(min(spec.groups, PRODUCER_GROUPS_LIMIT))
    ]


# ------------------------------------------------------------------------------------------ writer


def write_backup(spec: SyntheticSpec, out: IO[str]) -> SyntheticBackup:
    """Write the document to a text stream, one piece at a time; returns what was written."""
    result = SyntheticBackup(path=getattr(out, "name", ""), spec=spec)
    started = time.perf_counter()
    dumps = json.dumps
    write = out.write

    def section(name: str, value: Any, first: bool = False) -> None:
        write(("" if first else ", ") + dumps(name) + ": " + dumps(value))

    write("{")
    section("timestamp", spec.timestamp, first=True)
    section("user_pool_id", spec.pool_id)
    section("user_pool_config", pool_config(spec))
    section("app_clients", app_clients(spec))
    write(', "users": [')
    mix = _Mix(spec.status_mix)
    counts: dict[str, int] = {}
    for i in range(spec.users):
        status = mix.status(i)
        enabled = ((i * _SQRT2 + 0.25) % 1.0) >= spec.disabled
        counts[status] = counts.get(status, 0) + 1
        result.disabled += not enabled
        write((", " if i else "") + dumps(user_item(spec, i, status, enabled)))
    write("]")
    section("groups", groups_section(spec))
    write(', "group_memberships": {')
    for g in range(spec.groups):
        members = [username_of(spec, i) for i in members_of(spec, g)]
        result.memberships += len(members)
        write((", " if g else "") + dumps(group_name(g)) + ": " + dumps(members))
    write("}")
    section("identity_providers", [])
    section(
        "resource_servers",
        [
            {
                "UserPoolId": spec.pool_id,
                "Identifier": "https://api.example.com",
                "Name": "orders-api",
                "Scopes": [{"ScopeName": "orders.read", "ScopeDescription": "Read orders"}],
            }
        ],
    )
    section("user_pool_domain", {})
    section("ui_customization", None)
    write("}")
    result.status_counts = counts
    result.seconds = time.perf_counter() - started
    return result


def write_backup_file(spec: SyntheticSpec, path: str | os.PathLike[str]) -> SyntheticBackup:
    """Write to ``path`` (via a temporary name, so an interrupted run leaves no half file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(path.suffix + ".partial")
    with open(partial, "w", encoding="utf-8", buffering=1 << 20) as out:
        result = write_backup(spec, out)
    os.replace(partial, path)
    result.path = str(path)
    result.bytes = path.stat().st_size
    return result


def cached_backup(spec: SyntheticSpec, directory: str | os.PathLike[str]) -> SyntheticBackup:
    """The backup for ``spec`` under ``directory``, written once (a JSON sidecar keeps its counts)."""
    fields = {k: v for k, v in asdict(spec).items() if v is not None}  # optional fields unset: same tag as before
    tag = hashlib.sha1(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:10]
    path = Path(directory) / f"backup-{spec.users}u-{tag}.json"
    meta = path.with_suffix(".meta.json")
    if path.exists() and meta.exists():
        data = json.loads(meta.read_text())
        return SyntheticBackup(
            path=str(path),
            spec=spec,
            bytes=path.stat().st_size,
            status_counts=data["status_counts"],
            disabled=data["disabled"],
            memberships=data["memberships"],
            seconds=data["seconds"],
        )
    result = write_backup_file(spec, path)
    meta.write_text(json.dumps({k: v for k, v in asdict(result).items() if k not in ("path", "spec")}))
    return result


def upload_backup(s3: Any, bucket: str, backup: SyntheticBackup, when: datetime | None = None) -> str:
    """Put the file at the producer's key for its pool (``tools.sample_pool.backup_key``); returns the key."""
    from tools.sample_pool import backup_key

    key = backup_key(backup.pool_id, when or datetime.now(UTC))
    with open(backup.path, "rb") as body:
        s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/json")
    return key


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--groups", type=int, default=10)
    parser.add_argument("--groups-per-user", type=int, default=1)
    parser.add_argument(
        "--status-mix",
        type=parse_status_mix,
        default=dict(DEFAULT_STATUS_MIX),
        help='weights, e.g. "CONFIRMED=85,FORCE_CHANGE_PASSWORD=7,UNCONFIRMED=5,RESET_REQUIRED=3"',
    )
    parser.add_argument("--disabled", type=float, default=0.02, help="fraction of disabled users")
    parser.add_argument("--email-username", action="store_true", help="UsernameAttributes=[email] (Username = sub)")
    parser.add_argument("--pool-id", default=DEFAULT_POOL_ID)
    parser.add_argument("--out", default=None, help="file to write (default bench/out/backup-<users>.json)")
    args = parser.parse_args(argv)
    spec = SyntheticSpec(
        users=args.users,
        groups=args.groups,
        groups_per_user=args.groups_per_user,
        status_mix=args.status_mix,
        disabled=args.disabled,
        email_username=args.email_username,
        pool_id=args.pool_id,
    )
    out = args.out or f"bench/out/backup-{args.users}.json"
    result = write_backup_file(spec, out)
    per_user = result.bytes / max(1, spec.users)
    print(
        f"wrote {result.path}: {result.bytes / 1e6:.1f} MB, {spec.users} users ({per_user:.0f} B/user), "
        f"{spec.groups} groups, {result.memberships} memberships, {result.seconds:.1f} s"
    )
    print(f"status counts: {result.status_counts}; disabled: {result.disabled}")
    print(f"minimum restore calls: {result.minimum_calls()}")


if __name__ == "__main__":
    main()
