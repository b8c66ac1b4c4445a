"""Case status as a state machine, and referral decisions: pure rules over plain values (DOMAIN.md).

referred -> (referral accepted) assessed -> active -> in work / in business -> closed; closed -> active
(re-opened). A referral decision is the only way out of "referred"; a rejected or withdrawn referral
closes the case. A correction may set any status the referral allows, with a reason.
"""
from __future__ import annotations

from datetime import date

Error = tuple[tuple, str]

DECIDED = ("accepted", "rejected", "withdrawn")
#: Where each status may go by an ordinary change (not a correction, not a referral decision).
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "referred": (),
    "assessed": ("active", "closed"),
    "active": ("in_work", "in_business", "closed"),
    "in_work": ("active", "in_business", "closed"),
    "in_business": ("active", "in_work", "closed"),
    "closed": ("active",),
}
#: The status a referral decision sets.
DECISION_STATUS = {"accepted": "assessed", "rejected": "closed", "withdrawn": "closed"}
#: Decisions that may follow an earlier one: a client may withdraw after being accepted.
LATER_DECISIONS = {"pending": DECIDED, "accepted": ("withdrawn",)}
MAX_REASON = 300


def statuses_for(decision: str | None) -> tuple[str, ...]:
    """Every status a case with this referral decision may hold at all."""
    if decision in (None, "pending"):
        return ("referred",)
    if decision in ("rejected", "withdrawn"):
        return ("closed",)
    return ("assessed", "active", "in_work", "in_business", "closed")


def next_statuses(current: str, decision: str | None, correction: bool = False) -> tuple[str, ...]:
    """The statuses a change from `current` may choose."""
    allowed = statuses_for(decision)
    if correction:
        return tuple(s for s in allowed if s != current)
    return tuple(s for s in TRANSITIONS.get(current, ()) if s in allowed)


def status_change_errors(current: str, new: str | None, decision: str | None, reason: str | None,
                         correction: bool = False) -> list[Error]:
    """Why a change of status from `current` to `new` is refused, if it is."""
    reason = (reason or "").strip()
    if not new:
        return [(("status",), "Choose the new status.")]
    if new not in TRANSITIONS:
        return [(("status",), "Choose one of the statuses in the list.")]
    if new == current:
        return [(("status",), "The case already has this status.")]
    if new not in next_statuses(current, decision, correction):
        if decision in (None, "pending"):
            return [(("status",), "The referral has not been decided yet: a manager decides it first.")]
        if decision in ("rejected", "withdrawn"):
            return [(("status",), "The referral was not accepted, so the case stays closed.")]
        return [(("status",), f"A case cannot go straight from {current.replace('_', ' ')} to {new.replace('_', ' ')}. "
                              "If an earlier status was wrong, tick “correction” and say why.")]
    if correction and not reason:
        return [(("reason",), "Say what the correction puts right.")]
    if current == "closed" and not reason:
        return [(("reason",), "Say why the case is re-opened.")]
    if new == "closed" and not reason:
        return [(("reason",), "Say why the case is closed (for example moved away, or no longer taking part).")]
    if len(reason) > MAX_REASON:
        return [(("reason",), f"Keep the reason to {MAX_REASON} characters.")]
    return []


def decision_errors(previous: str | None, decision: str | None, decided_on: date | None, referred_on: date | None,
                    today: date, rejection_reason: str | None, rationale: str | None) -> list[Error]:
    """Why a referral decision is refused, if it is."""
    errors: list[Error] = []
    previous = previous or "pending"
    if decision not in DECIDED:
        return [(("decision",), "Choose the decision.")]
    if decision not in LATER_DECISIONS.get(previous, ()):
        return [(("decision",), f"This referral was already {previous}; it can only be "
                                + (" or ".join(LATER_DECISIONS.get(previous, ())) or "left as it is") + ".")]
    if decided_on is None:
        errors.append((("decision_date",), "Enter the date of the decision."))
    elif decided_on > today:
        errors.append((("decision_date",), "The decision date cannot be in the future."))
    elif referred_on is not None and decided_on < referred_on:
        errors.append((("decision_date",), "The decision cannot come before the referral date."))
    if decision == "rejected":
        if not rejection_reason:
            errors.append((("rejection_reason",), "Choose the reason the referral was rejected."))
        if not (rationale or "").strip():
            errors.append((("rationale",), "A rejected referral needs a rationale."))
    return errors


def status_after_decision(current: str, decision: str) -> str:
    """The case's status once a decision is recorded: accepted moves a referred case on; the others close it."""
    if decision == "accepted":
        return DECISION_STATUS["accepted"] if current == "referred" else current
    return DECISION_STATUS[decision]


def decision_values(decision: str, decided_on: date, rejection_reason: str | None, rationale: str | None,
                    decided_by: str) -> dict:
    """The referral fields a decision stores: the rejection reason and rationale only for a rejection."""
    values = {"decision": decision, "decision_date": decided_on, "decided_by": decided_by,
              "rejection_reason": None, "rationale": None}
    if decision == "rejected":
        values.update(rejection_reason=rejection_reason, rationale=(rationale or "").strip())
    return values
