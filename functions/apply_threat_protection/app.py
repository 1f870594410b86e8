"""Phase: apply threat protection (risk configuration), remapped to the new client ids."""

from __future__ import annotations

from aws_lambda_powertools.utilities.typing import LambdaContext

from cognito_restore import aws
from cognito_restore.client_ids import client_id_map
from cognito_restore.execution_input import sync_target
from cognito_restore.handler import phase_handler
from cognito_restore.phase import arn_mapper, pool_id, restore_single, work_store
from cognito_restore.security import risk_configuration_request
from cognito_restore.state import PhaseEvent, ThreatProtectionApplied, UiCustomized
from cognito_restore.sync_settings import current, risk_differences, risk_label


@phase_handler("apply_threat_protection")
def lambda_handler(event: PhaseEvent[UiCustomized], context: LambdaContext) -> ThreatProtectionApplied:
    state = event["state"]
    mapper = arn_mapper(state)
    counts = restore_single(
        state,
        "threat_protection",
        "risk_configuration",
        build=lambda risk: risk_configuration_request(risk, pool_id(state), client_id_map(work_store(state)), mapper),
        apply=aws.client("cognito-idp").set_risk_configuration,
        label=risk_label,
        per_client_section="risk_configurations",  # v2: each app client's own settings
        # Sync mode: written only when the target lacks a setting of the backed-up configuration.
        is_current=current(risk_differences) if sync_target(state["restore"]) else None,
    )
    return {**state, "threat_protection": counts}
