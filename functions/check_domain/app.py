"""Phase: check domain status (one turn of the status-check loop)."""

from __future__ import annotations

from aws_lambda_powertools.utilities.typing import LambdaContext

from cognito_restore import aws
from cognito_restore.handler import phase_handler
from cognito_restore.observability import logger
from cognito_restore.state import PhaseEvent, SignInSettingsRestored


@phase_handler("check_domain")
def lambda_handler(event: PhaseEvent[SignInSettingsRestored], context: LambdaContext) -> SignInSettingsRestored:
    state = event["state"]
    domain = state["domain"]
    description = aws.client("cognito-idp").describe_user_pool_domain(Domain=domain["name"])["DomainDescription"]
    # Empty until the new domain becomes visible: still creating.
    domain = {**domain, "status": description.get("Status") or "CREATING", "checks": domain["checks"] + 1}
    logger.info(
        "Domain status", extra={"domain": domain["name"], "status": domain["status"], "checks": domain["checks"]}
    )
    return {**state, "domain": domain}
