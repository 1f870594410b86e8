"""Phase: associate WAF web ACL (only a regional web ACL of this Region can protect the new pool)."""

from __future__ import annotations

from aws_lambda_powertools.utilities.typing import LambdaContext

from cognito_restore import aws
from cognito_restore.execution_input import sync_target
from cognito_restore.handler import phase_handler
from cognito_restore.phase import arn_mapper, restore_single
from cognito_restore.resources import Request
from cognito_restore.security import web_acl_arn
from cognito_restore.state import PhaseEvent, ThreatProtectionApplied, WafAssociated
from cognito_restore.sync_settings import current, waf_differences, waf_label

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
        label=waf_label,
        transient_codes=RETRY_LATER,
        # Sync mode: associated only when another web ACL (or none) protects the target.
        is_current=current(waf_differences) if sync_target(state["restore"]) else None,
    )
    return {**state, "waf": counts}
