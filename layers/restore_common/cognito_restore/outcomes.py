"""What each phase did with each backed-up item: restored, skipped (by design) or failed (with why)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cognito_restore.state import PhaseCounts


@dataclass
class PhaseOutcome:
    category: str
    restored: list[str] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)
    failed: list[dict[str, str]] = field(default_factory=list)
    notes: list[dict[str, str]] = field(default_factory=list)
    manual_steps: list[str] = field(default_factory=list)
    # Sync mode: items by what the sync did (created / updated / unchanged / absent_from_backup).
    sync: dict[str, list[str]] = field(default_factory=dict)

    def restore(self, item: str, *notes: str) -> None:
        self.restored.append(item)
        for note in notes:
            self.notes.append({"item": item, "note": note})

    def skip(self, item: str, reason: str) -> None:
        self.skipped.append({"item": item, "reason": reason})

    def synced(self, kind: str, item: str) -> None:
        self.sync.setdefault(kind, []).append(item)

    def fail(self, item: str, reason: str) -> None:
        self.failed.append({"item": item, "reason": reason})

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    def counts(self) -> PhaseCounts:
        return {"restored": len(self.restored), "skipped": len(self.skipped), "failed": len(self.failed)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PhaseOutcome:
        return cls(**data)
