"""Phase: check domain status (one turn of the status-check loop)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from cognito_restore import aws
from cognito_restore.handler import phase_handler
from cognito_restore.observability import logger


@phase_handler("check_domain")
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    state = event["state"]
    domain = dict(state["domain"])
    description = aws.client("cognito-idp").describe_user_pool_domain(Domain=domain["name"])["DomainDescription"]
    # Empty until the new domain becomes visible: still creating.
    domain["status"] = description.get("Status") or "CREATING"
    domain["checks"] = int(domain.get("checks", 0)) + 1
    logger.info(
        "Domain status", extra={"domain": domain["name"], "status": domain["status"], "checks": domain["checks"]}
    )
    return {**state, "domain": domain}
