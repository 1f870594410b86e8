"""Random passwords that satisfy any Cognito password policy. Nobody ever sees them."""

from __future__ import annotations

import secrets
import string
from typing import Any

# Cognito's accepted special characters.
SYMBOLS = "^$*.[]{}()?\"!@#%&/\\,><':;|_~`=+-"
_ALPHABET = string.ascii_letters + string.digits + SYMBOLS


def random_password(policy: dict[str, Any] | None = None) -> str:
    minimum = int((policy or {}).get("MinimumLength") or 8)
    length = max(minimum, 32)
    chars = [
        secrets.choice(string.ascii_uppercase),
        secrets.choice(string.ascii_lowercase),
        secrets.choice(string.digits),
        secrets.choice(SYMBOLS),
    ]
    chars += [secrets.choice(_ALPHABET) for _ in range(length - len(chars))]
    secrets.SystemRandom().shuffle(chars)
    return "".join(chars)
