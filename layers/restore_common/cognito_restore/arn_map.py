"""Rewrites Region-bound ARNs (Lambda triggers, SES identity, KMS key, web ACL, ...) for the DR Region.

The mapping comes from the execution input (`arn_map`) merged over the template parameter
ArnMapping. A key is either an exact ARN (old -> new) or a Region name (every ARN of that Region
moves to the mapped Region, same account and name: for resources deployed under the same names).
ARNs already in the DR Region and global ones (IAM) stay; the rest cannot be used and are reported.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any

from cognito_restore.errors import InvalidInput
from cognito_restore.state import Restore

GLOBAL_SERVICES = frozenset({"iam", "sts", "cloudfront", "route53"})


def _arn_parts(arn: str) -> list[str] | None:
    parts = arn.split(":", 5)
    return parts if len(parts) == 6 and parts[0] == "arn" else None


def validate_mapping(mapping: Any) -> dict[str, str]:
    if mapping in (None, ""):
        return {}
    if isinstance(mapping, str):
        try:
            mapping = json.loads(mapping)
        except ValueError:
            raise InvalidInput("arn_map must be a JSON object of old ARN (or Region) -> new ARN (or Region).") from None
    if not isinstance(mapping, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in mapping.items()):
        raise InvalidInput("arn_map must map strings to strings: old ARN (or Region) -> new ARN (or Region).")
    return dict(mapping)


@dataclass
class ArnMapper:
    target_region: str
    mapping: dict[str, str] = field(default_factory=dict)

    @classmethod
    def for_restore(cls, restore: Restore, target_region: str) -> ArnMapper:
        merged = validate_mapping(os.environ.get("ARN_MAPPING"))
        merged.update(validate_mapping(restore.get("arn_map")))
        return cls(target_region, merged)

    def map(self, arn: str) -> str | None:
        """The ARN to use in the DR Region, or None when there is none."""
        if arn in self.mapping:
            return self.mapping[arn]
        parts = _arn_parts(arn)
        if parts is None:
            return None
        service, region = parts[2], parts[3]
        if service in GLOBAL_SERVICES or region in ("", self.target_region):
            return arn
        if region in self.mapping:
            return ":".join([*parts[:3], self.mapping[region], *parts[4:]])
        return None
