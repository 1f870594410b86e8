"""Phase: restore identity providers (SAML, OIDC, social), before the app clients that name them."""

from __future__ import annotations

from aws_lambda_powertools.utilities.typing import LambdaContext

from cognito_restore import aws
from cognito_restore.execution_input import sync_target
from cognito_restore.handler import phase_handler
from cognito_restore.outcomes import PhaseOutcome
from cognito_restore.phase import backup_parts, pool_id, record_phase, restore_each
from cognito_restore.resources import identity_provider_request
from cognito_restore.state import IdentityProvidersRestored, PhaseEvent, ResourceServersRestored
from cognito_restore.sync_plans import apply_plan, plan_identity_providers, update_identity_provider


@phase_handler("restore_identity_providers")
def lambda_handler(event: PhaseEvent[ResourceServersRestored], context: LambdaContext) -> IdentityProvidersRestored:
    state = event["state"]
    outcome = PhaseOutcome("identity_providers")
    providers = backup_parts(state).get("identity_providers") or []
    if sync_target(state["restore"]):  # create what is absent, update what differs (docs/sync.md)
        plan = plan_identity_providers(backup_parts(state), pool_id(state), outcome)
        apply_plan(outcome, plan, aws.client("cognito-idp").create_identity_provider, update_identity_provider)
    else:
        restore_each(
            outcome,
            providers,
            name_of=lambda provider: str(provider.get("ProviderName")),
            build=lambda provider: identity_provider_request(provider, pool_id(state)),
            create=aws.client("cognito-idp").create_identity_provider,
            exists_codes=frozenset({"DuplicateProviderException"}),
        )
    if any(p.get("ProviderType") == "SAML" for p in providers):
        outcome.manual_steps.append(
            f"Give each SAML IdP the new SP entity id urn:amazon:cognito:sp:{pool_id(state)} and the new ACS URL"
        )
    return {**state, "identity_providers": record_phase(state, "identity_providers", outcome)}
