"""The layer's execution input schema, for the operator tools (they run outside Lambda, where the
layer is not on the path): the CLI and the drill build every input with it, as the trigger does."""

from __future__ import annotations

import sys
from pathlib import Path

_LAYER = str(Path(__file__).resolve().parents[1] / "layers" / "restore_common")
if _LAYER not in sys.path:
    sys.path.append(_LAYER)

from cognito_restore.discovery import find_newest_backup  # noqa: E402 (the warm standby's final sync)
from cognito_restore.errors import InvalidInput  # noqa: E402 (the layer is put on the path first)
from cognito_restore.execution_input import RestoreRequest  # noqa: E402
from cognito_restore.failback import changed_during_outage  # noqa: E402 (failback-check)
from cognito_restore.producer import read_jsonl_gz, verify_manifest  # noqa: E402
from cognito_restore.standby import StandbyConfig  # noqa: E402

__all__ = [
    "InvalidInput",
    "RestoreRequest",
    "StandbyConfig",
    "changed_during_outage",
    "find_newest_backup",
    "read_jsonl_gz",
    "verify_manifest",
]
