"""The layer's execution input schema, for the operator tools (they run outside Lambda, where the
layer is not on the path): the CLI and the drill build every input with it, as the trigger does."""

from __future__ import annotations

import sys
from pathlib import Path

_LAYER = str(Path(__file__).resolve().parents[1] / "layers" / "restore_common")
if _LAYER not in sys.path:
    sys.path.append(_LAYER)

from cognito_restore.errors import InvalidInput
from cognito_restore.execution_input import RestoreRequest

__all__ = ["InvalidInput", "RestoreRequest"]
