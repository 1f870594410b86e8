"""Phase: associate WAF web ACL (only a regional web ACL of this Region can protect the new pool)."""

from __future__ import annotations

from aws_lambda_powertools.utilities.typing import LambdaContext

from cognito_restore import aws
from cognito_restore.handler import phase_handler
from cognito_restore.phase import arn_mapper, restore_single
from cognito_restore.resources import Request
from cognito_restore.security import web_acl_arn
from cognito_restore.state import PhaseEvent, ThreatProtectionApplied, WafAssociated

# A web ACL created or changed moments ago is still propagating (WAFUnavailableEntityException,
# https://docs.aws.amazon.com/cognito/latest/developerguide/user-pool-waf.html); an internal error
# asks for a retry too (botocore model). Step Functions retries the phase with back-off.
RETRY_LATER = frozenset({"WAFUnavailableEntityException", "WAFInternalErrorException"})


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
    )
    return {**state, "waf": counts}
