"""Phase: apply UI customization (hosted UI CSS; pool level or per client with the new client id)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from cognito_restore import aws
from cognito_restore.client_ids import client_id_map
from cognito_restore.execution_input import sync_target
from cognito_restore.handler import phase_handler
from cognito_restore.phase import pool_id, restore_single, work_store
from cognito_restore.security import ui_customization_request
from cognito_restore.state import PhaseEvent, TriggersAttached, UiCustomized


def _is_current(request: dict[str, Any]) -> bool:
    """Sync mode: the pool (or client) already has this CSS (the logo is not in the backup)."""
    current = aws.client("cognito-idp").get_ui_customization(
        UserPoolId=request["UserPoolId"], ClientId=request.get("ClientId", "ALL")
    )
    return bool(current.get("UICustomization", {}).get("CSS") == request.get("CSS"))


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
        is_current=_is_current if sync_target(state["restore"]) else None,
    )
    return {**state, "ui_customization": counts}
