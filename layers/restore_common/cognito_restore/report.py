"""The restore report: every backed-up item is restored, skipped or failed, with the reason. Pure.

Counts must add up per category (restored + skipped + failed = backup); anything unaccounted for is
reported as failed rather than silently lost.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

CATEGORIES = (
    "pool_configuration",
    "resource_servers",
    "identity_providers",
    "app_clients",
    "groups",
    "domain",
    "users",
    "memberships",
    "identity_links",  # AdminLinkProviderForUser per identity of a planned user (federated or linked native)
    "mfa_preferences",  # SMS MFA preference per planned user that had one (legacy MFAOptions)
    "lambda_triggers",
    "ui_customization",
    "threat_protection",
    "waf",
)
NOT_RESTORABLE = (
    {
        "item": "passwords",
        "why": "Cognito never exports password hashes; restored users get a random password and sign in after forgot-password (their verified e-mail/phone is kept)",
    },
    {
        "item": "TOTP authenticators, passkeys, remembered devices",
        "why": "secrets that no API exports; users enrol again",
    },
    {
        "item": "sub (user id)",
        "why": "Cognito assigns a new sub to every user; the old -> new map is in the report's maps",
    },
    {
        "item": "user pool id, app client ids",
        "why": "Cognito assigns new ids; see the client id map and the app configuration below",
    },
    {"item": "tokens and sessions", "why": "every user signs in again"},
    {"item": "user creation dates, last-modified dates", "why": "set by Cognito at restore time"},
)


UNREPORTED = "(unaccounted)"  # balance(): an item no phase reported


@dataclass
class CategoryReport:
    backup: int = 0
    restored: int = 0
    skipped: list[dict[str, str]] = field(default_factory=list)
    failed: list[dict[str, str]] = field(default_factory=list)
    notes: list[dict[str, str]] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {
            "backup": self.backup,
            "restored": self.restored,
            "skipped": len(self.skipped),
            "failed": len(self.failed),
        }

    def balance(self) -> None:
        """Anything neither restored, skipped nor failed is reported, never silently dropped."""
        missing = self.backup - self.restored - len(self.skipped) - len(self.failed)
        if missing > 0:
            self.failed.extend(
                {"item": UNREPORTED, "reason": "not restored and not reported by any phase"} for _ in range(missing)
            )


@dataclass
class Report:
    restore_id: str
    source_pool_id: str
    backup: dict[str, Any]
    dry_run: bool
    new_pool: dict[str, Any] | None = None
    categories: dict[str, CategoryReport] = field(default_factory=lambda: {c: CategoryReport() for c in CATEGORIES})
    manual_steps: list[str] = field(default_factory=list)
    verification: dict[str, dict[str, Any]] = field(default_factory=dict)
    client_ids: list[dict[str, Any]] = field(default_factory=list)
    domain: dict[str, Any] | None = None
    throttled_calls: int = 0
    unlinked_users: int = 0
    api_calls: dict[str, int] = field(default_factory=dict)
    maps: dict[str, Any] = field(default_factory=dict)
    outcome: dict[str, Any] = field(default_factory=dict)  # verification.Outcome: complete / incomplete ...

    def add_phase(self, category: str, outcome: dict[str, Any]) -> None:
        report = self.categories[category]
        report.restored += len(outcome.get("restored", []))
        report.skipped.extend(outcome.get("skipped", []))
        report.failed.extend(outcome.get("failed", []))
        report.notes.extend(outcome.get("notes", []))
        for step in outcome.get("manual_steps", []):
            if step not in self.manual_steps:
                self.manual_steps.append(step)

    def add_chunk(self, chunk: dict[str, Any]) -> None:
        """One user chunk's result: its users, and the memberships added with them."""
        report = self.categories["users"]
        report.restored += chunk.get("restored", 0)
        report.failed.extend(chunk.get("failed", []))
        self.categories["memberships"].restored += chunk.get("memberships_restored", 0)
        self.categories["memberships"].failed.extend(chunk.get("memberships_failed", []))
        report.notes.extend(chunk.get("notes", []))
        # A restored user without one of its links or its MFA preference is an item not restored: counted.
        self.categories["identity_links"].restored += chunk.get("links_restored", 0)
        self.categories["identity_links"].failed.extend(chunk.get("unlinked", []))
        self.categories["mfa_preferences"].restored += chunk.get("mfa_restored", 0)
        self.categories["mfa_preferences"].failed.extend(chunk.get("mfa_failed", []))
        for skipped in chunk.get("dependents_skipped", []):
            self.categories[skipped["category"]].skipped.append({"item": skipped["item"], "reason": skipped["reason"]})
        self.unlinked_users += len(chunk.get("unlinked", []))
        self.throttled_calls += chunk.get("throttled", 0)
        for operation, count in (chunk.get("calls") or {}).items():
            self.api_calls[operation] = self.api_calls.get(operation, 0) + count

    def add_problem(self, problem: dict[str, str]) -> None:
        report = self.categories[problem["category"]]
        entry = {"item": problem["item"], "reason": problem["reason"]}
        (report.failed if problem["outcome"] == "failed" else report.skipped).append(entry)

    def counts(self) -> dict[str, dict[str, int]]:
        return {name: c.counts() for name, c in self.categories.items()}

    def summary(self) -> dict[str, str]:
        """Short, personal-data-free line per category for the alert."""
        summary = {}
        for name, c in self.categories.items():
            if c.backup or c.restored or c.skipped or c.failed:
                summary[name] = f"{c.restored}/{c.backup} restored, {len(c.skipped)} skipped, {len(c.failed)} failed"
        mismatches = [name for name, check in self.verification.items() if not check.get("ok")]
        summary["verification"] = "OK" if not mismatches else "MISMATCH in " + ", ".join(mismatches)
        if self.outcome:
            summary["outcome"] = self.outcome["status"]
        return summary

    def to_dict(self) -> dict[str, Any]:
        return {
            "restore_id": self.restore_id,
            "source_pool_id": self.source_pool_id,
            "dry_run": self.dry_run,
            "backup": self.backup,
            "new_pool": self.new_pool,
            "counts": self.counts(),
            "categories": {
                name: {**c.counts(), "skipped_items": c.skipped, "failed_items": c.failed, "notes": c.notes}
                for name, c in self.categories.items()
            },
            "verification": self.verification,
            "outcome": self.outcome,
            "not_restorable": list(NOT_RESTORABLE),
            "manual_steps": self.manual_steps,
            "client_ids": self.client_ids,
            "domain": self.domain,
            "app_configuration": self.app_configuration(),
            "throttled_calls": self.throttled_calls,
            "api_calls": self.api_calls,
            "maps": self.maps,
        }

    def app_configuration(self) -> dict[str, Any]:
        """Ready-to-paste settings per app client (no secrets: kept secrets are unchanged)."""
        if not self.new_pool:
            return {}
        pool_id, region = self.new_pool["id"], self.new_pool["region"]
        domain = (self.domain or {}).get("url", "").removeprefix("https://")
        configs = {}
        for client in self.client_ids:
            if not client.get("new_client_id"):
                continue
            configs[client["name"]] = {
                "web_env": {
                    "COGNITO_USER_POOL_ID": pool_id,
                    "COGNITO_CLIENT_ID": client["new_client_id"],
                    "AWS_REGION": region,
                    "COGNITO_DOMAIN": domain,
                },
                "amplify": {
                    "aws_user_pools_id": pool_id,
                    "aws_user_pools_web_client_id": client["new_client_id"],
                    "aws_cognito_region": region,
                    "aws_user_pools_domain": domain,
                },
                "mobile": {
                    "auth": {
                        "plugins": {
                            "awsCognitoAuthPlugin": {
                                "UserPool": {
                                    "Default": {
                                        "PoolId": pool_id,
                                        "AppClientId": client["new_client_id"],
                                        "Region": region,
                                    }
                                }
                            }
                        }
                    }
                },
            }
        return configs


def identity_provider_steps(providers: list[dict[str, Any]], pool_id: str, domain_host: str | None) -> list[str]:
    """What each external IdP must be told about the new pool (docs/cognito-behaviours.md §6)."""
    steps: list[str] = []
    host = domain_host or "<the new pool's domain>"
    for provider in providers:
        name, kind = provider.get("ProviderName"), provider.get("ProviderType")
        if kind == "SAML":
            steps.append(
                f"SAML IdP {name}: set the SP entity id (audience) to urn:amazon:cognito:sp:{pool_id} "
                f"and the ACS URL to https://{host}/saml2/idpresponse"
            )
        elif kind:
            steps.append(f"{kind} IdP {name}: add the redirect URI https://{host}/oauth2/idpresponse at the provider")
    return steps


def user_steps(status_counts: dict[str, int], unlinked: int, mfa: str | None) -> list[str]:
    steps: list[str] = []
    waiting = status_counts.get("FORCE_CHANGE_PASSWORD", 0) + status_counts.get("UNCONFIRMED", 0)
    if waiting:
        steps.append(
            f"{waiting} users hold no usable temporary password (backed up as FORCE_CHANGE_PASSWORD or "
            "UNCONFIRMED): re-send their invitation (AdminCreateUser MessageAction=RESEND); the report lists them"
        )
    if unlinked:
        steps.append(
            f"{unlinked} identity links (federated placeholders or natively linked users) could not be made "
            "again: see identity_links, failed items"
        )
    if mfa in ("ON", "OPTIONAL"):
        steps.append(
            f"MFA is {mfa}: TOTP authenticators cannot be restored and the backup does not say who had one; "
            "users set up TOTP again at their next sign-in"
        )
    return steps


def render_markdown(report: dict[str, Any]) -> str:
    lines = [f"# Cognito DR restore report: {report['restore_id']}", ""]
    pool = report.get("new_pool") or {}
    lines += [
        f"- Source pool: `{report['source_pool_id']}`",
        f"- Backup: `s3://{report['backup'].get('bucket')}/{report['backup'].get('key')}` (taken {report['backup'].get('timestamp')})",
        f"- New pool: `{pool.get('id', '(dry run: none created)')}` in {pool.get('region', '-')}",
        f"- Throttled Cognito calls absorbed by retries: {report['throttled_calls']}",
        "",
        "## What came back",
        "",
        "| category | in backup | restored | skipped | failed |",
        "|---|---|---|---|---|",
    ]
    for name, c in report["counts"].items():
        lines.append(f"| {name} | {c['backup']} | {c['restored']} | {c['skipped']} | {c['failed']} |")
    lines += ["", "## Verification against the new pool", ""]
    outcome = report.get("outcome") or {}
    if outcome:
        lines.append(f"- Outcome: **{outcome['status']}**; users in the pool: {outcome['live_users']}")
        lines += [f"- MISSING {name}: {count}" for name, count in outcome["missing"].items()]
    for name, check in report["verification"].items():
        lines.append(
            f"- {name}: expected {check.get('expected')}, found {check.get('found')}: {'OK' if check.get('ok') else 'MISMATCH'}"
        )
    lines += ["", "## Not restored, by name", ""]
    for name, c in report["categories"].items():
        for outcome in ("failed_items", "skipped_items"):
            for item in c[outcome]:
                lines.append(f"- {name} {outcome.split('_')[0]}: `{item['item']}`: {item['reason']}")
    lines += ["", "## Never restorable", ""]
    lines += [f"- {entry['item']}: {entry['why']}" for entry in report["not_restorable"]]
    lines += ["", "## Manual steps", ""]
    lines += [f"- [ ] {step}" for step in report["manual_steps"]] or ["- none"]
    if report["client_ids"]:
        lines += ["", "## App client ids", "", "| client | old id | new id |", "|---|---|---|"]
        lines += [f"| {c['name']} | `{c['old_client_id']}` | `{c['new_client_id']}` |" for c in report["client_ids"]]
    for name, config in report["app_configuration"].items():
        lines += ["", f"### App configuration: {name}", "", "```json", json.dumps(config, indent=2), "```"]
    return "\n".join(lines) + "\n"
