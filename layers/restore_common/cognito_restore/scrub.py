"""Removes personal data and secrets from text bound for alerts, logs and Step Functions state."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

from cognito_restore.aws_errors import states_error

_EMAIL = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE = re.compile(r"\+\d[\d ()-]{6,}\d")
# key, separator, then a quoted value up to its closing quote or a bare value; quotes may be JSON-escaped.
_SECRET_ASSIGNMENT = re.compile(
    r"""(?i)(secret|password|token)((?:\\?["'])?\s*[:=]\s*)(?:(\\?["'])(?:(?!\3).)*\3|[^\s"',}\\]+)"""
)
MAX_LENGTH = 1500


def scrub(text: str) -> str:
    text = _EMAIL.sub("<email>", text)
    text = _PHONE.sub("<phone>", text)
    text = _SECRET_ASSIGNMENT.sub(lambda m: f"{m[1]}{m[2]}{m[3] or ''}<redacted>{m[3] or ''}", text)
    return text if len(text) <= MAX_LENGTH else text[:MAX_LENGTH] + " ..."


def cause_text(cause: str) -> str:
    """Lambda errors arrive as the runtime's JSON payload: keep its message only (no stack trace)."""
    try:
        payload = json.loads(cause)
    except (TypeError, ValueError):
        return cause or ""
    if isinstance(payload, dict) and "errorMessage" in payload:
        return str(payload["errorMessage"])
    return cause


def failure_summary(error: Mapping[str, object]) -> tuple[str, str]:
    """(error name, scrubbed cause) of a Step Functions error object {Error, Cause}."""
    name, cause = states_error(error)
    return name, scrub(cause_text(cause))
