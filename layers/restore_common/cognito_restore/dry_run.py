"""The dry run's output is a plan: what would be created, what would not and why, the manual steps
ahead, the Region-bound settings that will not apply in this Region, and how long it would take.

Nothing is attempted in a dry run, so nothing is reported as failed or verified. Pure.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cognito_restore.arn_map import ArnMapper

READ_ONLY = frozenset({"Arn", "Id"})  # DescribeUserPool fields that are never applied
# Categories a dry run plans from the backup's own counts (users and memberships come from the planner).
PLANNED_FROM_BACKUP = (
    "pool_configuration",
    "resource_servers",
    "identity_providers",
    "app_clients",
    "groups",
    "domain",
)


def _arns(value: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        if value.startswith("arn:"):
            yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _arns(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for position, item in enumerate(value):
            yield from _arns(item, f"{path}[{position}]")


def readiness(parts: dict[str, Any], mapper: ArnMapper) -> list[str]:
    """Settings of the backup that will not apply as they are in this Region (no personal data: ARNs and names)."""
    findings: list[str] = []
    config = parts.get("user_pool_config") or {}
    for section in ("user_pool_config", "waf_configuration", "risk_configuration", "ui_customization"):
        value = parts.get(section)
        if section == "user_pool_config" and isinstance(value, dict):
            value = {k: v for k, v in value.items() if k not in READ_ONLY}  # the old pool's own ARN
        for path, arn in _arns(value, section):
            if mapper.map(arn) is None:
                findings.append(
                    f"{path}: {arn} is bound to another Region and arn_map / ArnMapping does not map it: "
                    "left out, reported as a manual step"
                )
    role = (config.get("SmsConfiguration") or {}).get("SnsCallerArn")
    if role:
        findings.append(
            f"SMS role {role}: Cognito accepts it only if its trust policy allows this Region's new pool "
            "(aws:SourceArn arn:aws:cognito-idp:<this Region>:<account>:userpool/*); otherwise the pool is "
            "created without SMS (docs/messaging.md)"
        )
    if (config.get("EmailConfiguration") or {}).get("EmailSendingAccount") == "DEVELOPER":
        findings.append(
            "SES e-mail: the identity (and configuration set) must be verified in this Region, else Cognito's "
            "own e-mail is used"
        )
    if config.get("CustomDomain"):
        findings.append(f"custom domain {config['CustomDomain']}: needs its ACM certificate (us-east-1) and DNS")
    for provider in parts.get("identity_providers") or []:
        if provider.get("ProviderType") == "SAML":
            findings.append(
                f"SAML IdP {provider.get('ProviderName')}: the IdP must be told the new SP entity id "
                "urn:amazon:cognito:sp:<new pool id>"
            )
    return findings


def build_plan(
    counts: dict[str, int],
    planned: dict[str, int],
    not_created: dict[str, list[dict[str, str]]],
    readiness_findings: list[str],
    manual_steps: list[str],
    estimate: dict[str, Any] | None,
) -> dict[str, Any]:
    """counts: items per category in the backup; not_created: what the plan leaves out, by category."""
    categories: dict[str, dict[str, int]] = {}
    for name in (*PLANNED_FROM_BACKUP, "users", "memberships"):
        backup = counts.get(name, 0) if name != "pool_configuration" else 1
        left_out = len(not_created.get(name, []))
        create = planned.get(name, 0) if name in ("users", "memberships") else max(backup - left_out, 0)
        categories[name] = {"backup": backup, "would_create": create, "would_skip": left_out}
    return {
        "categories": categories,
        "would_skip": {name: items for name, items in not_created.items() if items},
        "manual_steps": manual_steps,
        "readiness": readiness_findings,
        "estimate": estimate or {},
    }


def _sync_changes(sync: dict[str, Any]) -> list[str]:
    """A sync's dry run: the differences it would write into the target (names and setting names only)."""
    if not sync:
        return []
    lines = ["", "## Sync: the changes it would write into the target pool", ""]
    for name, changes in sync.items():
        writes = [f"create `{item}`" for item in changes["create"]]
        writes += [f"update `{u['item']}` ({', '.join(u['settings'])})" for u in changes["update"]]
        lines.append(f"- {name}: {'; '.join(writes) or 'no change'} ({changes['unchanged']} unchanged)")
        if changes["absent_from_backup"]:
            absent = ", ".join(f"`{item}`" for item in changes["absent_from_backup"])
            lines.append(f"  - absent from the backup, left as they are: {absent}")
        lines += [f"  - cannot sync `{note['item']}`: {note['note']}" for note in changes["cannot_sync"]]
    return lines


def render_plan_markdown(report: dict[str, Any]) -> list[str]:
    plan = report.get("plan") or {}
    lines = [
        f"# Cognito DR restore plan (dry run): {report['restore_id']}",
        "",
        "Nothing was created: this is what a restore of this backup would do.",
        "",
        f"- Source pool: `{report['source_pool_id']}`",
        f"- Backup: `s3://{report['backup'].get('bucket')}/{report['backup'].get('key')}` "
        f"(taken {report['backup'].get('timestamp')})",
        f"- Estimated duration: {(plan.get('estimate') or {}).get('text', 'unknown')}",
        "",
        "## Would be created",
        "",
        "| category | in backup | would create | would skip |",
        "|---|---|---|---|",
    ]
    for name, c in plan.get("categories", {}).items():
        lines.append(f"| {name} | {c['backup']} | {c['would_create']} | {c['would_skip']} |")
    lines += _sync_changes(plan.get("sync") or {})
    lines += ["", "## Would be skipped, and why", ""]
    skipped = [
        f"- {name}: `{item['item']}`: {item['reason']}"
        for name, items in (plan.get("would_skip") or {}).items()
        for item in items
    ]
    lines += skipped or ["none"]
    lines += ["", "## Readiness: settings that will not apply as they are in this Region", ""]
    lines += [f"- {finding}" for finding in plan.get("readiness", [])] or ["none"]
    lines += ["", "## Manual steps a restore will need", ""]
    lines += [f"- [ ] {step}" for step in plan.get("manual_steps", [])] or ["none"]
    return lines
