"""The restore report: every backed-up item is restored, skipped or failed, with the reason. Pure.

Counts must add up per category (restored + skipped + failed = backup); anything unaccounted for is
reported as failed rather than silently lost.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from cognito_restore.app_config import for_client
from cognito_restore.dry_run import PLANNED_FROM_BACKUP, render_plan_markdown
from cognito_restore.reconcile import ABSENT, SYNC_KINDS
from cognito_restore.state import CategoryCounts, Domain, PlannedCategoryCounts, Pool
from cognito_restore.v2_settings import V2_CATEGORIES

# What the user chunks restore (their result files); every other category is a phase's results/<phase>.json.
USER_CHUNK_CATEGORIES = (
    "users",
    "memberships",
    "identity_links",  # AdminLinkProviderForUser per identity of a planned user (federated or linked native)
    "mfa_preferences",  # SMS MFA preference per planned user that had one (legacy MFAOptions)
)
CATEGORIES = (
    *PLANNED_FROM_BACKUP,
    *USER_CHUNK_CATEGORIES,
    "lambda_triggers",
    "ui_customization",
    "threat_protection",
    "waf",
    *V2_CATEGORIES,  # v2 backups: "Restore MFA, branding, terms and logging"
)
PHASE_CATEGORIES = tuple(c for c in CATEGORIES if c not in USER_CHUNK_CATEGORIES)
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


INLINE_REINVITE = 1000  # usernames shown in report.md itself; all of them are in the CSV
INLINE_NOTES = 5000  # per-user notes shown in report.md; all of them are in report.json
UNREPORTED = "(unaccounted)"  # balance(): an item no phase reported


@dataclass
class CategoryReport:
    backup: int = 0
    restored: int = 0
    skipped: list[dict[str, str]] = field(default_factory=list)
    failed: list[dict[str, str]] = field(default_factory=list)
    notes: list[dict[str, str]] = field(default_factory=list)

    def counts(self) -> CategoryCounts:
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
    new_pool: Pool | None = None
    categories: dict[str, CategoryReport] = field(default_factory=lambda: {c: CategoryReport() for c in CATEGORIES})
    manual_steps: list[str] = field(default_factory=list)
    verification: dict[str, dict[str, Any]] = field(default_factory=dict)
    client_ids: list[dict[str, Any]] = field(default_factory=list)
    domain: Domain | None = None
    throttled_calls: int = 0
    unlinked_users: int = 0
    api_calls: dict[str, int] = field(default_factory=dict)
    maps: dict[str, Any] = field(default_factory=dict)
    outcome: dict[str, Any] = field(default_factory=dict)  # verification.Outcome: complete / incomplete ...
    plan: dict[str, Any] = field(default_factory=dict)  # dry run only: dry_run.build_plan
    app_context: dict[str, Any] = field(default_factory=dict)  # app_config.app_context of the backup
    reinvite: list[str] = field(default_factory=list)  # new usernames to re-send the invitation to
    reinvite_csv: str | None = None  # s3:// location of the same list as CSV
    times: dict[str, Any] = field(default_factory=dict)  # started, ended, duration, backup age
    # Sync mode: category -> what the sync did -> items (created / updated / unchanged / absent_from_backup).
    sync: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    sync_users: dict[str, Any] = field(default_factory=dict)  # sync mode: sync_users.new_sync_counts() summed

    def add_phase(self, category: str, outcome: dict[str, Any]) -> None:
        report = self.categories[category]
        report.restored += len(outcome.get("restored", []))
        report.skipped.extend(outcome.get("skipped", []))
        report.failed.extend(outcome.get("failed", []))
        report.notes.extend(outcome.get("notes", []))
        for kind, items in (outcome.get("sync") or {}).items():
            self.sync.setdefault(category, {}).setdefault(kind, []).extend(items)
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
        self.reinvite.extend(chunk.get("reinvite", []))
        for operation, count in (chunk.get("calls") or {}).items():
            self.api_calls[operation] = self.api_calls.get(operation, 0) + count
        for key, value in (chunk.get("sync") or {}).items():  # sync mode
            if isinstance(value, int):
                self.sync_users[key] = self.sync_users.get(key, 0) + value
            else:
                self.sync_users.setdefault(key, []).extend(value)

    def add_problem(self, problem: dict[str, str]) -> None:
        report = self.categories[problem["category"]]
        entry = {"item": problem["item"], "reason": problem["reason"]}
        (report.failed if problem["outcome"] == "failed" else report.skipped).append(entry)

    def counts(self) -> dict[str, CategoryCounts] | dict[str, PlannedCategoryCounts]:
        if self.dry_run:  # a plan: would create / would skip, never failed
            return self.planned_counts()
        return {name: c.counts() for name, c in self.categories.items()}

    def planned_counts(self) -> dict[str, PlannedCategoryCounts]:
        categories: dict[str, PlannedCategoryCounts] = dict(self.plan.get("categories") or {})
        return categories

    def summary(self) -> dict[str, str]:
        """Short, personal-data-free line per category for the alert."""
        if self.dry_run:
            summary = {
                name: f"would create {c['would_create']} of {c['backup']}, would skip {c['would_skip']}"
                for name, c in self.planned_counts().items()
                if c["backup"] or c["would_create"]
            }
            summary["estimate"] = (self.plan.get("estimate") or {}).get("text", "unknown")
            summary["readiness_findings"] = str(len(self.plan.get("readiness") or []))
            return summary
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
            **({"plan": self.plan} if self.dry_run else {}),
            "not_restorable": list(NOT_RESTORABLE),
            "manual_steps": self.manual_steps,
            "client_ids": self.client_ids,
            "domain": self.domain,
            "app_configuration": self.app_configuration(),
            "throttled_calls": self.throttled_calls,
            "times": self.times,
            "reinvite": {
                "count": len(self.reinvite),
                "csv": self.reinvite_csv,
                "usernames": self.reinvite[:INLINE_REINVITE],
            },
            "api_calls": self.api_calls,
            "maps": self.maps,
            **({"sync": self.sync_summary()} if self.sync else {}),
            **({"sync_users": self.sync_users_summary()} if self.sync_users else {}),
        }

    def sync_users_summary(self) -> dict[str, Any]:
        """Sync mode: backup users = created + updated + unchanged + skipped + failed; target-only users =
        deleted + kept, each by name (docs/sync.md)."""
        users = self.categories["users"]
        sync = self.sync_users
        return {
            **sync,
            "backup": users.backup,
            "skipped": len(users.skipped),
            "failed": len(users.failed),
            "target_only": len(sync.get("deleted", [])) + len(sync.get("kept", [])),
        }

    def sync_summary(self) -> dict[str, dict[str, Any]]:
        """Per category: how many items the sync created, updated, left unchanged, found absent from the
        backup, and their names (updated and absent ones, and created ones: the changes)."""
        return {
            category: {
                **{kind: len(kinds.get(kind, [])) for kind in SYNC_KINDS},
                "items": {kind: kinds[kind] for kind in SYNC_KINDS if kind != "unchanged" and kinds.get(kind)},
            }
            for category, kinds in self.sync.items()
        }

    def absent_from_backup(self, category: str) -> int:
        """Items of the target pool the backup does not have (a sync leaves them): verification expects them."""
        return len(self.sync.get(category, {}).get(ABSENT, []))

    def app_configuration(self) -> dict[str, Any]:
        """Ready-to-paste settings per app client, in the formats the SDKs read (app_config; no secrets)."""
        if not self.new_pool:
            return {}
        pool_id, region = self.new_pool["id"], self.new_pool["region"]
        domain = (self.domain.get("url", "") if self.domain else "").removeprefix("https://")
        return {
            client["name"]: for_client(
                pool_id, region, client["new_client_id"], client["name"], self.app_context, domain
            )
            for client in self.client_ids
            if client.get("new_client_id")
        }


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
    waiting = status_counts.get("FORCE_CHANGE_PASSWORD", 0)
    if waiting:
        steps.append(
            f"{waiting} users hold no usable temporary password (backed up as FORCE_CHANGE_PASSWORD): "
            "re-send their invitation (AdminCreateUser MessageAction=RESEND); the report lists them"
        )
    unconfirmed = status_counts.get("UNCONFIRMED", 0)
    if unconfirmed:
        steps.append(
            f"{unconfirmed} users are UNCONFIRMED, as backed up, with a password nobody knows and no message sent: "
            "codes sent before the disaster no longer work; when they sign up again (UsernameExistsException) "
            "or fail to sign in, your app offers a new code (ResendConfirmationCode), then ConfirmSignUp, then "
            "forgot-password to choose their password"
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


def reinvite_csv(usernames: list[str]) -> str:
    """username per line, with a header; a name holding a comma or quote is quoted (RFC 4180)."""
    rows = ["username"]
    for name in usernames:
        rows.append('"' + name.replace('"', '""') + '"' if any(c in name for c in ',"\n') else name)
    return "\n".join(rows) + "\n"


def reinvite_command(pool_id: str, region: str) -> str:
    """Re-sends each invitation (Cognito sends the message: run it when users should get it)."""
    return (
        "tail -n +2 reinvite.csv | while IFS= read -r username; do "
        f"aws cognito-idp admin-create-user --region {region} --user-pool-id {pool_id} "
        '--username "$username" --message-action RESEND; done'
    )


def render_markdown(report: dict[str, Any]) -> str:
    if report.get("dry_run"):
        return "\n".join(render_plan_markdown(report)) + "\n"
    pool = report.get("new_pool") or {}
    times = report.get("times") or {}
    outcome = report.get("outcome") or {}
    lines = [
        f"# Cognito DR restore report: {report['restore_id']}",
        "",
        f"- Outcome: **{outcome.get('status', 'unknown')}**",
        f"- Source pool: `{report['source_pool_id']}`",
        f"- Backup: `s3://{report['backup'].get('bucket')}/{report['backup'].get('key')}` (taken {report['backup'].get('timestamp')})",
        f"- Backup age at the end of the restore: {times.get('backup_age', 'unknown')}",
        f"- Started: {times.get('started', 'unknown')}; ended: {times.get('ended', 'unknown')}; "
        f"duration: {times.get('duration', 'unknown')}",
        f"- {'Synced pool' if report.get('sync') else 'New pool'}: `{pool.get('id', 'none')}` in {pool.get('region', '-')}",
        f"- Throttled Cognito calls absorbed by retries: {report['throttled_calls']}",
        "",
        "## What came back",
        "",
        "restored + skipped + failed = in backup, in every row.",
        "",
        "| category | in backup | restored | skipped | failed |",
        "|---|---|---|---|---|",
    ]
    for name, c in report["counts"].items():
        lines.append(f"| {name} | {c['backup']} | {c['restored']} | {c['skipped']} | {c['failed']} |")
    lines += _sync_section(report)
    lines += _sync_users_section(report.get("sync_users"))
    lines += ["", "## Verification against the new pool", ""]
    if outcome:
        lines.append(f"- Outcome: **{outcome['status']}**; users in the pool: {outcome['live_users']}")
        lines += [f"- MISSING {name}: {count}" for name, count in outcome["missing"].items()]
    for name, check in report["verification"].items():
        lines.append(
            f"- {name}: expected {check.get('expected')}, found {check.get('found')}: {'OK' if check.get('ok') else 'MISMATCH'}"
        )
    if not outcome and not report["verification"]:
        lines.append("none")
    lines += ["", "## Not restored, by name", ""]
    missing = [
        f"- {name} {outcome_kind.split('_')[0]}: `{item['item']}`: {item['reason']}"
        for name, c in report["categories"].items()
        for outcome_kind in ("failed_items", "skipped_items")
        for item in c[outcome_kind]
    ]
    lines += missing or ["none"]
    lines += ["", "## Notes per user (restored, with a change: dropped attributes and why, status changes)", ""]
    notes = [
        f"- `{note['item']}`: {note.get('note') or note.get('reason')}"
        for note in report["categories"].get("users", {}).get("notes", [])
    ]
    lines += notes[:INLINE_NOTES] or ["none"]
    if len(notes) > INLINE_NOTES:
        lines.append(f"- ... {len(notes) - INLINE_NOTES} more in report.json (categories.users.notes)")
    lines += _reinvite_section(report, pool)
    lines += ["", "## Never restorable", ""]
    lines += [f"- {entry['item']}: {entry['why']}" for entry in report["not_restorable"]]
    lines += ["", "## Manual steps", ""]
    lines += [f"- [ ] {step}" for step in report["manual_steps"]] or ["none"]
    lines += ["", "## App client ids", ""]
    if report["client_ids"]:
        lines += ["| client | old id | new id |", "|---|---|---|"]
        lines += [f"| {c['name']} | `{c['old_client_id']}` | `{c['new_client_id']}` |" for c in report["client_ids"]]
    else:
        lines.append("none")
    for name, files in report["app_configuration"].items():
        lines += ["", f"### App configuration: {name}"]
        for file_name, content in files.items():
            language = {"aws-exports.js": "js", ".env": "sh"}.get(file_name, "json")
            text = content if isinstance(content, str) else json.dumps(content, indent=2)
            lines += ["", f"`{file_name}`:", "", f"```{language}", text.rstrip("\n"), "```"]
    return "\n".join(lines) + "\n"


def _sync_section(report: dict[str, Any]) -> list[str]:
    """Sync mode: what was written, per category (a restore has no such section)."""
    sync = report.get("sync")
    if not sync:
        return []
    lines = [
        "",
        "## Sync: what was written",
        "",
        "Only differences were written; items absent from the backup were left as they are.",
        "",
        "| category | created | updated | unchanged | absent from backup |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| {name} | {c['created']} | {c['updated']} | {c['unchanged']} | {c[ABSENT]} |" for name, c in sync.items()
    ]
    lines += [""]
    lines += [
        f"- {name} {kind.replace('_', ' ')}: {', '.join(f'`{item}`' for item in items)}"
        for name, c in sync.items()
        for kind, items in c["items"].items()
    ]
    return lines


def _reinvite_section(report: dict[str, Any], pool: dict[str, Any]) -> list[str]:
    reinvite = report.get("reinvite") or {}
    lines = ["", "## Users to re-invite", ""]
    if not reinvite.get("count"):
        return [*lines, "none"]
    lines += [
        f"{reinvite['count']} users were backed up as FORCE_CHANGE_PASSWORD and hold no usable "
        f"temporary password. The list as CSV: `{reinvite.get('csv')}`. Download it as reinvite.csv, then "
        "re-send each invitation (Cognito sends the message; nothing was sent during the restore):",
        "",
        "```sh",
        f"aws s3 cp {reinvite.get('csv')} reinvite.csv",
        reinvite_command(pool.get("id", "<new pool id>"), pool.get("region", "<region>")),
        "```",
        "",
        "```csv",
        reinvite_csv(reinvite.get("usernames") or []).rstrip("\n"),
        "```",
    ]
    if reinvite["count"] > len(reinvite.get("usernames") or []):
        lines.append(f"({reinvite['count'] - len(reinvite['usernames'])} more in the CSV)")
    return lines


def _sync_users_section(sync: dict[str, Any] | None) -> list[str]:
    """Sync mode: what changed, user by user (names, never values)."""
    if not sync:
        return []
    lines = [
        "",
        "## Sync: users",
        "",
        "created + updated + unchanged + skipped + failed = users in backup; deleted + kept = target-only users.",
        "",
        "| in backup | created | updated | unchanged | skipped | failed | target-only | deleted | kept |",
        "|---|---|---|---|---|---|---|---|---|",
        f"| {sync['backup']} | {sync.get('created', 0)} | {sync.get('updated', 0)} | {sync.get('unchanged', 0)} "
        f"| {sync['skipped']} | {sync['failed']} | {sync['target_only']} | {len(sync.get('deleted', []))} "
        f"| {len(sync.get('kept', []))} |",
        "",
        f"Memberships added: {sync.get('memberships_added', 0)}; removed: {sync.get('memberships_removed', 0)}.",
    ]
    if sync.get("changes"):
        lines += ["", "| user | changes |", "|---|---|"]
        lines += [f"| {c['item']} | {'; '.join(c['changes'])} |" for c in sync["changes"]]
    for title, key in (
        ("Deleted (absent from the backup)", "deleted"),
        ("Kept (absent from the backup)", "kept"),
        ("Status kept", "status_kept"),
        ("Links kept", "extra_links"),
        ("Immutable attributes kept", "immutable"),
    ):
        if sync.get(key):
            lines += ["", f"### {title}", ""]
            lines += [f"- {e['item']}" + (f": {e['reason']}" if e.get("reason") else "") for e in sync[key]]
    return lines
