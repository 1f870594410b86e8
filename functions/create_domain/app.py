"""Phase: create domain. Restores the prefix domain (a derived prefix if taken); a custom domain is a manual step."""

from __future__ import annotations

import os

from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError

from cognito_restore import aws
from cognito_restore.aws_errors import describe_error, error_code, raise_if_throttled
from cognito_restore.domain import derived_prefixes, hosted_ui_url
from cognito_restore.execution_input import sync_target
from cognito_restore.handler import phase_handler
from cognito_restore.outcomes import PhaseOutcome
from cognito_restore.phase import backup_parts, pool_id, record_phase
from cognito_restore.state import Domain, DomainCreated, GroupsRestored, PhaseEvent
from cognito_restore.sync_settings import CUSTOM_DOMAIN_REASON, kept_domain_note


def _create_prefix(
    new_pool: str,
    prefix: str,
    restore_id: str,
    outcome: PhaseOutcome,
    version: dict[str, int] | None = None,
    sync: bool = False,
) -> str | None:
    cognito = aws.client("cognito-idp")
    current = cognito.describe_user_pool(UserPoolId=new_pool)["UserPool"].get("Domain")
    if current:  # created by an earlier run of this restore (sync mode: the target's, kept)
        if sync:
            outcome.synced("unchanged", current)
            if current != prefix:
                outcome.notes.append(kept_domain_note(current, prefix))
        return current
    last_error = ""
    for candidate in derived_prefixes(prefix, restore_id):
        try:
            cognito.create_user_pool_domain(UserPoolId=new_pool, Domain=candidate, **(version or {}))
            if sync:
                outcome.synced("created", candidate)
        except ClientError as error:
            raise_if_throttled(error)
            if error_code(error) != "InvalidParameterException":
                raise
            last_error = describe_error(error)
            continue
        if candidate != prefix:
            outcome.manual_steps.append(
                f"Prefix {prefix} was taken in this Region; the hosted UI is at {candidate}: update callback configuration"
            )
        return candidate
    outcome.fail(prefix, f"no prefix could be created ({last_error})")
    return None


@phase_handler("create_domain")
def lambda_handler(event: PhaseEvent[GroupsRestored], context: LambdaContext) -> DomainCreated:
    state = event["state"]
    new_pool = pool_id(state)
    region = state["pool"]["region"]
    parts = backup_parts(state)
    config = parts["user_pool_config"]
    # v2: the domain's ManagedLoginVersion (2 = managed login, where the branding styles show)
    backed_up_version = (parts.get("user_pool_domain") or {}).get("ManagedLoginVersion")
    version = {"ManagedLoginVersion": int(backed_up_version)} if backed_up_version in (1, 2) else None
    outcome = PhaseOutcome("domain")
    domain: Domain = {
        "name": "none",
        "status": "NONE",
        "checks": 0,
        "max_checks": int(os.environ.get("DOMAIN_STATUS_MAX_CHECKS", "40")),
    }
    if config.get("CustomDomain"):
        custom = config["CustomDomain"]
        outcome.skip(custom, CUSTOM_DOMAIN_REASON)
        outcome.manual_steps.append(
            f"Create custom domain {custom} for pool {new_pool} with its us-east-1 certificate, then point DNS at the new CloudFront target"
        )
    if config.get("Domain"):
        sync = sync_target(state["restore"]) is not None
        prefix = _create_prefix(new_pool, config["Domain"], state["restore"]["restore_id"], outcome, version, sync)
        if prefix:
            domain = {**domain, "name": prefix, "status": "CREATING", "url": hosted_ui_url(prefix, region)}
            outcome.restore(prefix, *([f"derived from {config['Domain']}"] if prefix != config["Domain"] else []))
    record_phase(state, "domain", outcome)
    return {**state, "domain": domain}
