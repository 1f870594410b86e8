"""Hosted UI domain: which one to create, and a fallback prefix when the original is taken. Pure."""

from __future__ import annotations

import re

MAX_PREFIX = 63
_INVALID = re.compile(r"[^a-z0-9-]")


def derived_prefixes(prefix: str, restore_id: str) -> list[str]:
    """Prefixes to try, in order: the original, then ones derived from it (prefixes are unique per Region)."""
    short_id = _INVALID.sub("", restore_id.lower())[-6:] or "restore"
    base = _INVALID.sub("-", prefix.lower()).strip("-")
    cleaned: list[str] = []
    for suffix in ("", "-dr", f"-dr-{short_id}"):
        candidate = (base[: MAX_PREFIX - len(suffix)].rstrip("-") + suffix).strip("-")
        if candidate and candidate not in cleaned:
            cleaned.append(candidate)
    return cleaned


def hosted_ui_url(prefix: str, region: str) -> str:
    return f"https://{prefix}.auth.{region}.amazoncognito.com"
