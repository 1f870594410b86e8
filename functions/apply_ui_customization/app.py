"""Phase: apply UI customization (hosted UI CSS; pool level or per client with the new client id)."""

from __future__ import annotations

from aws_lambda_powertools.utilities.typing import LambdaContext

from cognito_restore import aws
from cognito_restore.client_ids import client_id_map
from cognito_restore.handler import phase_handler
from cognito_restore.phase import pool_id, restore_single, work_store
from cognito_restore.security import ui_customization_request
from cognito_restore.state import PhaseEvent, TriggersAttached, UiCustomized


@phase_handler("apply_ui_customization")
def lambda_handler(event: PhaseEvent[TriggersAttached], context: LambdaContext) -> UiCustomized:
    state = event["state"]
    counts = restore_single(
        state,
        "ui_customization",
        "ui_customization",
        build=lambda ui: ui_customization_request(ui, pool_id(state), client_id_map(work_store(state))),
        apply=aws.client("cognito-idp").set_ui_customization,
        label=lambda ui: f"UI customization ({ui.get('ClientId') or 'ALL'})",
        per_client_section="ui_customizations",  # v2: each app client's own settings
    )
    return {**state, "ui_customization": counts}
