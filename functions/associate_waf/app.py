"""Phase: associate WAF web ACL (only a regional web ACL of this Region can protect the new pool)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError

from cognito_restore import aws
from cognito_restore.aws_errors import error_code
from cognito_restore.execution_input import sync_target
from cognito_restore.handler import phase_handler
from cognito_restore.phase import arn_mapper, restore_single
from cognito_restore.resources import Request
from cognito_restore.security import web_acl_arn
from cognito_restore.state import PhaseEvent, ThreatProtectionApplied, WafAssociated

# A web ACL created or changed moments ago is still propagating (WAFUnavailableEntityException,
# https://docs.aws.amazon.com/cognito/latest/developerguide/user-pool-waf.html); an internal error
# asks for a retry too (botocore model). Step Functions retries the phase with back-off.
RETRY_LATER = frozenset({"WAFUnavailableEntityException", "WAFInternalErrorException"})


def _is_current(request: dict[str, Any]) -> bool:
    """Sync mode: the pool is already protected by this web ACL."""
    try:
        current = aws.client("wafv2").get_web_acl_for_resource(ResourceArn=request["ResourceArn"])
    except ClientError as error:
        if error_code(error) == "WAFNonexistentItemException":  # the pool itself is unknown to WAF yet
            return False
        raise
    return bool((current.get("WebACL") or {}).get("ARN") == request["WebACLArn"])


@phase_handler("associate_waf")
def lambda_handler(event: PhaseEvent[ThreatProtectionApplied], context: LambdaContext) -> WafAssociated:
    state = event["state"]
    mapper = arn_mapper(state)
    counts = restore_single(
        state,
        "waf",
        "waf_configuration",
        build=lambda waf: Request(
            {
                "WebACLArn": web_acl_arn(waf, mapper),
                "ResourceArn": state["pool"]["arn"],
            }
        ),
        apply=aws.client("wafv2").associate_web_acl,
        label=lambda waf: f"web ACL {waf.get('WebACLName') or waf.get('WebACLArn')}",
        transient_codes=RETRY_LATER,
        is_current=_is_current if sync_target(state["restore"]) else None,
    )
    return {**state, "waf": counts}
