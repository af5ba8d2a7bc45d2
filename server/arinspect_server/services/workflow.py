"""The status workflow and the role-aware rule for concurrent edits (pure functions).

Workflow (BCF TopicStatus): ``open → in_progress → resolved → verified | rejected →
closed``. Anyone may move work along (open, in_progress, resolved, and back to
in_progress after a rejection); only QA verifies, rejects, closes and reopens.

Concurrent edits: an update names the ``base_version`` it was made on. A field that
nobody changed since then is applied. A field that someone changed since then is a
*conflict*, decided by rank (QA = 2, worker and engineer = 1): an edit whose author
ranks at least as high as the stored value's author wins (later write wins), one of
lower rank loses, so a QA ``verified`` or ``closed`` is never overwritten by a stale
worker edit. Either way a conflict record keeps both values and both authors, and goes
to every stream client.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from arinspect_server.errors import ForbiddenError, InvalidTransitionError

ANY_ROLE = frozenset({"worker", "qa", "engineer"})
QA_ONLY = frozenset({"qa"})

TRANSITIONS: dict[str, dict[str, frozenset[str]]] = {
    "open": {"in_progress": ANY_ROLE, "resolved": ANY_ROLE, "closed": QA_ONLY},
    "in_progress": {"open": ANY_ROLE, "resolved": ANY_ROLE},
    "resolved": {"in_progress": ANY_ROLE, "verified": QA_ONLY, "rejected": QA_ONLY},
    "verified": {"closed": QA_ONLY, "rejected": QA_ONLY},
    "rejected": {"in_progress": ANY_ROLE, "closed": QA_ONLY},
    "closed": {"open": QA_ONLY},
}
RANK = {"worker": 1, "engineer": 1, "qa": 2}


def check_transition(current: str, new: str, role: str) -> None:
    """Raise unless ``role`` may move an annotation from ``current`` to ``new``.

    Raises:
        InvalidTransitionError: the workflow has no such step.
        ForbiddenError: the step exists but needs another role.
    """
    allowed = TRANSITIONS[current].get(new)
    if allowed is None:
        steps = ", ".join(sorted(TRANSITIONS[current])) or "none"
        raise InvalidTransitionError(
            f"status cannot go from {current} to {new} (allowed from {current}: {steps})"
        )
    if role not in allowed:
        raise ForbiddenError(
            f"role {role} may not set status {new} (from {current}); "
            f"needs {' or '.join(sorted(allowed))}"
        )


@dataclass(frozen=True, slots=True)
class FieldDecision:
    """What to do with one incoming field value."""

    field: str
    apply: bool
    conflict: bool
    reason: str = ""


def decide(
    field: str,
    incoming: Any,
    stored: Any,
    meta: dict[str, Any],
    base_version: int,
    role: str,
    current_status: str,
) -> FieldDecision:
    """Decide one field of an update against the stored state.

    Args:
        field: Field name.
        incoming: The client's new value.
        stored: The stored value.
        meta: ``{"version", "by", "role"}`` of the stored value's last change.
        base_version: Version the client edited.
        role: The client's role.
        current_status: The annotation's stored status.

    Returns:
        The decision; a fresh (non-concurrent) status change that the workflow refuses
        raises instead, because that is a client error rather than a race.

    Raises:
        InvalidTransitionError: fresh status change not in the workflow.
        ForbiddenError: fresh status change that needs another role.
    """
    if incoming == stored:
        return FieldDecision(field, apply=False, conflict=False)
    concurrent = int(meta.get("version", 1)) > base_version
    if not concurrent:
        if field == "status":
            check_transition(current_status, incoming, role)
        return FieldDecision(field, apply=True, conflict=False)
    stored_role = str(meta.get("role", "worker"))
    if RANK[role] < RANK[stored_role]:
        reason = (
            f"stale edit by {role} (based on version {base_version}) loses to the "
            f"{stored_role}'s change at version {meta.get('version')}"
        )
        return FieldDecision(field, apply=False, conflict=True, reason=reason)
    if field == "status":
        try:
            check_transition(current_status, incoming, role)
        except (InvalidTransitionError, ForbiddenError) as exc:
            return FieldDecision(field, apply=False, conflict=True, reason=str(exc))
    reason = (
        f"concurrent edit: the later write by {role} replaces the {stored_role}'s change "
        f"at version {meta.get('version')}"
    )
    return FieldDecision(field, apply=True, conflict=True, reason=reason)
