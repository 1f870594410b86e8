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
from cognito_restore.standby import StandbyConfig  # noqa: E402

__all__ = ["InvalidInput", "RestoreRequest", "StandbyConfig", "find_newest_backup"]
