"""The old -> new app client id map written by the app-clients phase."""

from __future__ import annotations

from typing import Any

from cognito_restore.store import WorkStore

CLIENT_MAP = "maps/app_clients.json"


def client_id_map(store: WorkStore) -> dict[str, str]:
    rows: list[dict[str, Any]] = store.get_json_or_none(store.key(CLIENT_MAP)) or []
    return {
        row["old_client_id"]: row["new_client_id"]
        for row in rows
        if row.get("old_client_id") and row.get("new_client_id")
    }
