"""Phase: apply UI customization (hosted UI CSS; pool level or per client with the new client id)."""

from __future__ import annotations

from aws_lambda_powertools.utilities.typing import LambdaContext

from cognito_restore import aws
from cognito_restore.client_ids import client_id_map
from cognito_restore.execution_input import sync_target
from cognito_restore.handler import phase_handler
from cognito_restore.phase import pool_id, restore_single, work_store
from cognito_restore.security import ui_customization_request
from cognito_restore.state import PhaseEvent, TriggersAttached, UiCustomized
from cognito_restore.sync_settings import current, ui_differences, ui_label


@phase_handler("apply_ui_customization")
def lambda_handler(event: PhaseEvent[TriggersAttached], context: LambdaContext) -> UiCustomized:
    state = event["state"]
    counts = restore_single(
        state,
        "ui_customization",
        "ui_customization",
        build=lambda ui: ui_customization_request(ui, pool_id(state), client_id_map(work_store(state))),
        apply=aws.client("cognito-idp").set_ui_customization,
        label=ui_label,
        per_client_section="ui_customizations",  # v2: each app client's own settings
        # Sync mode: written only when the target's CSS differs (the logo is not in the backup).
        is_current=current(ui_differences) if sync_target(state["restore"]) else None,
    )
    return {**state, "ui_customization": counts}
