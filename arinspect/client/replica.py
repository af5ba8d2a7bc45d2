"""A local copy of one section, built by applying the server's events in order."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Replica:
    """Annotations, comments, attachments, conflicts and runs of a section.

    Events carry the full state of their entity after the change, so applying them in
    sequence order (skipping those already applied) reproduces the server's state.
    """

    section_id: str
    last_seq: int = 0
    annotations: dict[str, dict[str, Any]] = field(default_factory=dict)
    comments: dict[str, dict[str, Any]] = field(default_factory=dict)
    attachments: dict[str, dict[str, Any]] = field(default_factory=dict)
    conflicts: dict[str, dict[str, Any]] = field(default_factory=dict)
    runs: dict[str, dict[str, Any]] = field(default_factory=dict)

    def apply(self, event: dict[str, Any]) -> bool:
        """Apply one event; returns False for one already applied.

        Raises:
            ValueError: the event skips sequence numbers (a gap) or names another section.
        """
        seq = int(event["seq"])
        if event.get("section_id") != self.section_id:
            raise ValueError(f"event of section {event.get('section_id')!r} in {self.section_id!r}")
        if seq <= self.last_seq:
            return False
        if seq != self.last_seq + 1:
            raise ValueError(f"gap in section {self.section_id}: have {self.last_seq}, got {seq}")
        table = {
            "annotation": self.annotations,
            "comment": self.comments,
            "attachment": self.attachments,
            "conflict": self.conflicts,
            "run": self.runs,
        }.get(event["entity"])
        if table is not None:
            table[event["id"]] = event["data"]
        self.last_seq = seq
        return True

    def apply_all(self, events: list[dict[str, Any]]) -> int:
        """Apply events in order; returns how many were new."""
        return sum(self.apply(e) for e in events)
