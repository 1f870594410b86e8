"""Phase: associate WAF web ACL (only a regional web ACL of this Region can protect the new pool)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer

from cognito_restore import aws
from cognito_restore.arn_map import ArnMapper
from cognito_restore.handler import phase_handler
from cognito_restore.phase import restore_single
from cognito_restore.resources import Request
from cognito_restore.security import web_acl_arn

logger, metrics, tracer = Logger(), Metrics(), Tracer()

# A web ACL created or changed moments ago is still propagating (WAFUnavailableEntityException,
# https://docs.aws.amazon.com/cognito/latest/developerguide/user-pool-waf.html); an internal error
# asks for a retry too (botocore model). Step Functions retries the phase with back-off.
RETRY_LATER = frozenset({"WAFUnavailableEntityException", "WAFInternalErrorException"})


@phase_handler(logger, metrics, tracer)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    state = event["state"]
    counts = restore_single(
        state,
        "waf",
        "waf_configuration",
        build=lambda waf: Request(
            {
                "WebACLArn": web_acl_arn(waf, ArnMapper.for_restore(state["restore"], state["pool"]["region"])),
                "ResourceArn": state["pool"]["arn"],
            }
        ),
        apply=aws.client("wafv2").associate_web_acl,
        label=lambda waf: f"web ACL {waf.get('WebACLName') or waf.get('WebACLArn')}",
        transient_codes=RETRY_LATER,
    )
    return {**state, "waf": counts}
