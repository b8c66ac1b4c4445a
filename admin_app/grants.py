"""The business start-up grant: the bid workflow's rules, the atomic pot operations, and the ledger.

Rules are pure functions. Operations change MongoDB only through conditional single-document
updates, so two people acting at once can never over-commit a pot, approve a bid twice, or pay
more than was awarded (docs/grants.md).
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Iterator, Mapping

from bson import ObjectId

from admin_app import audit
from admin_app.db import transactions_supported
from admin_app.fields import TEXT_MAX, control_character_error
from admin_app.metrics.records import both
from admin_app.models.case_file import Client, GrantBid
from admin_app.models.grants import (
    MAX_GRANT_PENCE,
    BidTransition,
    GrantAttachment,
    GrantPayment,
    GrantPot,
    PanelRecommendation,
    PotTotalChange,
    new_bid_id,
    pounds,
    to_pence,
)
from admin_app.vocabulary import GRANT_BID_STATUSES, label

CLIENTS = Client._get_collection_name()
POTS = GrantPot._get_collection_name()

#: Statuses in which a bid waits for the panel (the panel queue).
AWAITING_PANEL = ("submitted", "panel_review")
#: Statuses after which nothing more can happen to a bid.
FINISHED = ("rejected", "closed", "withdrawn")
PURPOSE_MAX = GrantBid.purpose.max_length
CHANGED_MEANWHILE = "Someone else changed this bid a moment ago; nothing was saved. Reload the page and try again."


class GrantRefused(Exception):
    """An action the rules refuse; the message is for the user."""


def money(pence: int | None) -> str:
    return "—" if pence is None else f"£{pounds(pence):,.2f}"


def parse_money(text: str | None) -> int | None:
    """What a person typed as an amount ("1,250", "£1250.50") as whole pence; None when left blank."""
    cleaned = (text or "").strip().replace(",", "").replace("£", "").strip()
    if not cleaned:
        return None
    try:
        pence = to_pence(cleaned)
    except (ArithmeticError, ValueError):
        raise GrantRefused(f"“{text.strip()[:40]}” is not an amount in pounds and pence, e.g. 1250 or 1250.50.") from None
    if abs(pence) > MAX_GRANT_PENCE:
        raise GrantRefused(f"No amount can be more than {money(MAX_GRANT_PENCE)}, the whole grant.")
    return pence


# --- the workflow -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Transition:
    action: str
    sources: tuple[str, ...]
    target: str | None  # None: the bid keeps its status
    label: str
    reason_required: bool = False

    @property
    def permission(self) -> str:
        return f"grantbid.{self.action}"


TRANSITIONS: dict[str, Transition] = {t.action: t for t in (
    Transition("submit", ("draft",), "submitted", "Submit to the panel"),
    Transition("review", ("submitted",), "panel_review", "Take into panel review"),
    Transition("recommend", ("panel_review",), None, "Record the panel's recommendation"),
    Transition("approve", ("panel_review",), "approved", "Approve"),
    Transition("reject", ("panel_review",), "rejected", "Reject", reason_required=True),
    Transition("pay", ("approved", "paid"), "paid", "Record a payment"),
    Transition("withdraw", ("draft", "submitted", "panel_review", "approved"), "withdrawn", "Withdraw",
               reason_required=True),
    Transition("close", ("paid",), "closed", "Close", reason_required=True),
)}


def status_refusal(action: str, status: str, paid_pence: int = 0, recommended: bool = False) -> str | None:
    """Why the bid's state does not allow the action, or None when it does."""
    transition = TRANSITIONS[action]
    if action == "withdraw" and (paid_pence or status == "paid"):
        return "A bid cannot be withdrawn once a payment has been made; close it instead."
    if status not in transition.sources:
        return f"“{transition.label}” is not possible for a bid that is {label(GRANT_BID_STATUSES, status).lower()}."
    if action in ("approve", "reject") and not recommended:
        return "The panel has not made its recommendation yet."
    return None


def possible_actions(status: str, paid_pence: int = 0, recommended: bool = False) -> list[str]:
    """The actions the bid's state allows, whoever asks."""
    return [a for a in TRANSITIONS if status_refusal(a, status, paid_pence, recommended) is None]


def draft_errors(amount_asked_pence: int | None, purpose: str | None, plan_summary: str | None) -> list[str]:
    """What a bid needs before the panel can see it."""
    errors = []
    if not amount_asked_pence or amount_asked_pence <= 0:
        errors.append("Enter the amount asked, more than £0.")
    if not (purpose or "").strip():
        errors.append("Say what the grant is for.")
    if not (plan_summary or "").strip():
        errors.append("Summarise the business plan.")
    return errors


def draft_field_errors(amount_asked_pence: int | None, purpose: str | None, plan_summary: str | None = None,
                       pot_total_pence: int | None = None) -> list[str]:
    """What even a draft may not hold; a draft may be incomplete until it is submitted."""
    errors = []
    if amount_asked_pence is not None and amount_asked_pence <= 0:
        errors.append("The amount asked must be more than £0.")
    if amount_asked_pence is not None and pot_total_pence is not None and amount_asked_pence > pot_total_pence:
        errors.append(f"The amount asked cannot be more than the whole pot, {money(pot_total_pence)}.")
    if len((purpose or "").strip()) > PURPOSE_MAX:
        errors.append(f"Keep the purpose to {PURPOSE_MAX} characters; put the detail in the plan summary.")
    if len(plan_summary or "") > TEXT_MAX:
        errors.append(f"Keep the plan summary to {TEXT_MAX:,} characters; attach the full plan as a file.")
    if control_character_error(purpose) or control_character_error(plan_summary):
        errors.append(control_character_error(purpose) or control_character_error(plan_summary))
    return errors


def _pot_total(db, on: date) -> int | None:
    pot = pot_for(db, on)
    return pot.get("total_pence") if pot else None


def recommendation_errors(recommendation: str, amount_pence: int | None, asked_pence: int, note: str) -> list[str]:
    errors = []
    if recommendation == "approve_reduced" and not (amount_pence and 0 < amount_pence < asked_pence):
        errors.append(f"A smaller amount must be more than £0 and less than the {money(asked_pence)} asked.")
    if recommendation == "reject" and not note.strip():
        errors.append("Give the panel's reasons for recommending rejection.")
    return errors


def award_errors(amount_pence: int | None, asked_pence: int) -> list[str]:
    if not amount_pence or amount_pence <= 0:
        return ["Enter the amount awarded, more than £0."]
    if amount_pence > asked_pence:
        return [f"The award ({money(amount_pence)}) cannot be more than the {money(asked_pence)} asked."]
    return []


def payment_errors(amount_pence: int | None, awarded_pence: int, paid_pence: int, paid_on: date | None,
                   decided: date | None, today: date) -> list[str]:
    errors = []
    if not amount_pence or amount_pence <= 0:
        errors.append("Enter the amount paid, more than £0.")
    elif paid_pence + amount_pence > awarded_pence:
        errors.append(f"This payment of {money(amount_pence)} would take the total paid past the award: "
                      f"{money(awarded_pence)} was awarded and {money(paid_pence)} is already paid, "
                      f"so at most {money(awarded_pence - paid_pence)} can be paid.")
    if paid_on is None:
        errors.append("Enter the date the payment was made.")
    elif paid_on > today:
        errors.append(f"The payment date ({paid_on:%d/%m/%Y}) is in the future.")
    elif decided and paid_on < decided:
        errors.append(f"The payment date ({paid_on:%d/%m/%Y}) is before the award was approved ({decided:%d/%m/%Y}).")
    return errors


def pot_total_errors(total_pence: int | None, committed_pence: int = 0) -> list[str]:
    if total_pence is None or total_pence <= 0:
        return ["Enter the pot's total, more than £0."]
    if total_pence < committed_pence:
        return [f"The total cannot be {money(total_pence)}: {money(committed_pence)} is already committed to "
                "approved bids, and the total can never be below that."]
    return []


def pot_period_errors(start: date | None, end: date | None) -> list[str]:
    if start and end and end < start:
        return ["The funding period ends before it starts."]
    return []


# --- reading bids -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class BidRef:
    """A bid as read, with where it lives: the operations act only if it is still in this state."""

    client_id: Any
    index: int
    bid: Mapping[str, Any]
    reference: str
    first_name: str
    worker: Any

    @property
    def bid_id(self) -> str:
        return self.bid["bid_id"]

    @property
    def status(self) -> str:
        return self.bid.get("status") or "draft"

    def pence(self, name: str) -> int:
        return int(self.bid.get(name) or 0)

    @property
    def recommended(self) -> bool:
        return bool(self.bid.get("recommendation"))


def find_bid(db, bid_id: str, match: Mapping[str, Any] | None = None) -> BidRef | None:
    """The bid with this number on a case file matching `match` (the caller's scope), or None."""
    if not isinstance(bid_id, str) or not bid_id:
        return None
    doc = db[CLIENTS].find_one({"grant_bids.bid_id": bid_id, **(match or {})},
                               {"reference": 1, "first_name": 1, "worker": 1, "grant_bids": 1})
    if doc is None:
        return None
    for index, bid in enumerate(doc.get("grant_bids") or []):
        if bid.get("bid_id") == bid_id:
            return BidRef(doc["_id"], index, bid, doc.get("reference", ""), doc.get("first_name", ""), doc.get("worker"))
    return None


def list_bids(db, doc_match: Mapping[str, Any], bid_match: Mapping[str, Any], *, oldest_first: bool = False,
              skip: int = 0, limit: int = 50, status_match: Mapping[str, Any] | None = None) -> Iterator[dict]:
    """Bids with their client's reference and first name only, newest submission first.

    The case files are found by index: a status asked for (`status_match`, on grant_bids.status),
    else any bid number (grant_bids.bid_id); `bid_match` then picks the bids themselves."""
    direction = 1 if oldest_first else -1
    start = dict(status_match) if status_match else {"grant_bids.bid_id": {"$gt": ""}}
    pipeline = [
        {"$match": {"$and": [start, dict(doc_match)]} if doc_match else start},
        {"$project": {"reference": 1, "first_name": 1, "worker": 1, **{f"grant_bids.{name}": 1 for name in (
            "bid_id", "status", "purpose", "submitted_date", "pot", "amount_asked_pence", "amount_awarded_pence",
            "paid_pence", "supporting_worker")}}},
        {"$unwind": "$grant_bids"},
        {"$match": dict(bid_match)},
        {"$sort": {"grant_bids.submitted_date": direction, "reference": 1, "grant_bids.bid_id": 1}},
        {"$skip": skip},
        {"$limit": limit},
    ]
    for doc in db[CLIENTS].aggregate(pipeline):
        yield {"reference": doc.get("reference"), "first_name": doc.get("first_name"), **doc["grant_bids"]}


# --- changing a bid ---------------------------------------------------------------------------------

def _day(value: date | None) -> datetime | None:
    """A date as MongoDB stores a DateField."""
    return None if value is None else datetime(value.year, value.month, value.day)


def _move(db, ref: BidRef, action: str, *, by: str, on: date, reason: str = "", amount_pence: int | None = None,
          committed_change: int = 0, paid_change: int = 0, sets: Mapping[str, Any] | None = None,
          condition: Mapping[str, Any] | None = None, pushes: Mapping[str, Any] | None = None,
          session=None) -> dict | None:
    """Apply one transition to the bid if it is still as read; the audit entry to record when it was applied.

    The bid is addressed by its index in the list and must still carry its number and status there,
    so a concurrent change (or a moved index) makes the update match nothing. Without a session the
    entry is recorded at once; within a transaction the caller records it once the transaction commits.
    """
    transition = TRANSITIONS.get(action)
    target = (transition.target if transition else None) or ref.status
    at = f"grant_bids.{ref.index}."
    entry = BidTransition(action=action, from_status=ref.status, to_status=target, on=on, by=by,
                          reason=reason.strip() or None, amount_pence=amount_pence,
                          committed_change_pence=committed_change, paid_change_pence=paid_change)
    entry.validate()
    update: dict[str, Any] = {
        "$set": {"updated_at": datetime.utcnow(), at + "status": target,
                 **{at + k: v for k, v in (sets or {}).items()}},
        "$push": {at + "transitions": entry.to_mongo(), **{at + k: v for k, v in (pushes or {}).items()}},
    }
    if paid_change:
        update["$inc"] = {at + "paid_pence": paid_change}
    query = {"_id": ref.client_id, at + "bid_id": ref.bid_id, at + "status": ref.status,
             **{at + k: v for k, v in (condition or {}).items()}}
    if not db[CLIENTS].update_one(query, update, session=session).modified_count:
        return None
    record = dict(collection=CLIENTS, record_id=ref.client_id, actor=by,
                  summary=f"{ref.reference}: grant bid {ref.bid_id} {action}"
                          + (f" {money(amount_pence)}" if amount_pence else "") + (f" ({reason.strip()})" if reason.strip() else ""),
                  changes=[{"field": at + "status", "old": ref.status, "new": target}])
    if session is None:
        audit.record("update", **record)
    return record


# --- moves of money: the pot and the bid together ---------------------------------------------------------

#: A move still marked in progress after this long was stopped half-way (a crashed process): check-pots repairs it.
MOVE_GRACE_SECONDS = 120


def held_key(bid_id: str) -> str:
    """The bid's key in its pot's `held` figures (a key may hold no dot and start with no dollar)."""
    return "held." + str(bid_id).replace(".", "_").replace("$", "_")


class _PotRefused(Exception):
    """The pot's own condition was not met: nothing was written."""


class _BidMoved(Exception):
    """The bid changed meanwhile: the pot's change is undone."""


def _pot_and_bid(db, pot_name: str, ref: BidRef, pot_condition: Mapping[str, Any], pot_inc: Mapping[str, int],
                 bid_write) -> None:
    """Change the pot (conditionally) and the bid together, or neither.

    `bid_write(session)` writes the bid and returns its audit entry, or None when the bid changed meanwhile.
    On a replica set both writes are one transaction. Without transactions the pot is written first with a
    marker naming the bid, then the bid, then the marker is removed (and the pot's change undone if the bid
    had moved on): check-pots leaves a marked pot alone, so a repair never reads one write without the other.
    Raises _PotRefused or _BidMoved; nothing is left changed when it does.
    """
    pots = db[POTS]
    match = {"name": pot_name, **pot_condition}
    if transactions_supported(db):
        def both_writes(session):
            if not pots.update_one(match, {"$inc": {**pot_inc, "moves": 1}}, session=session).modified_count:
                raise _PotRefused()
            written = bid_write(session)
            if written is None:
                raise _BidMoved()  # aborts the transaction: the pot's change goes with it
            return written

        with db.client.start_session() as session:
            record = session.with_transaction(both_writes)
        audit.record("update", **record)
        return
    marker = {"bid": ref.bid_id, "at": datetime.utcnow()}
    if not pots.update_one(match, {"$inc": {**pot_inc, "moves": 1}, "$push": {"moving": marker}}).modified_count:
        raise _PotRefused()
    written = None
    try:
        written = bid_write(None)
    finally:
        undo = {k: -v for k, v in pot_inc.items()} if written is None else {}
        pots.update_one({"name": pot_name}, {"$pull": {"moving": marker}, "$inc": {**undo, "moves": 1}})
    if written is None:
        raise _BidMoved()


def refuse_if(errors: list[str]) -> None:
    if errors:
        raise GrantRefused(" ".join(errors))


def _check_state(ref: BidRef, action: str, reason: str = "") -> None:
    refuse_if([m for m in [status_refusal(action, ref.status, ref.pence("paid_pence"), ref.recommended)] if m])
    if TRANSITIONS[action].reason_required and not reason.strip():
        raise GrantRefused(f"Say why: a reason is required to {TRANSITIONS[action].label.lower()}.")


def _applied(done) -> None:
    if done is None or done is False:
        raise GrantRefused(CHANGED_MEANWHILE)


def create_draft(db, client_id, *, by: str, on: date, amount_asked_pence: int | None, purpose: str, plan_summary: str,
                 supporting_worker=None, attachment: GrantAttachment | None = None, match: Mapping | None = None) -> str:
    """Add a draft bid to a case file (in `match`, the caller's scope); returns the bid number."""
    refuse_if(draft_field_errors(amount_asked_pence, purpose, plan_summary, _pot_total(db, on)))
    bid = GrantBid(bid_id=new_bid_id(), amount_asked_pence=amount_asked_pence, purpose=purpose.strip() or None,
                   plan_summary=plan_summary.strip() or None, supporting_worker=supporting_worker,
                   attachment=attachment, status="draft",
                   transitions=[BidTransition(action="create", to_status="draft", on=on, by=by,
                                              amount_pence=amount_asked_pence)])
    bid.validate()
    done = db[CLIENTS].update_one({"_id": client_id, **(match or {})},
                                  {"$push": {"grant_bids": bid.to_mongo()}, "$set": {"updated_at": datetime.utcnow()}})
    if not done.modified_count:
        raise GrantRefused("There is no such case file, or it is outside your caseload.")
    audit.record("update", collection=CLIENTS, record_id=client_id, actor=by,
                 summary=f"grant bid {bid.bid_id} drafted: {money(amount_asked_pence)}")
    return bid.bid_id


def edit_draft(db, ref: BidRef, *, by: str, on: date, amount_asked_pence: int | None, purpose: str, plan_summary: str,
               supporting_worker=None, attachment: GrantAttachment | None = None) -> None:
    if ref.status != "draft":
        raise GrantRefused("Only a draft can be changed; this bid has gone to the panel.")
    refuse_if(draft_field_errors(amount_asked_pence, purpose, plan_summary, _pot_total(db, on)))
    sets = {"amount_asked_pence": amount_asked_pence, "purpose": purpose.strip() or None,
            "plan_summary": plan_summary.strip() or None,
            "supporting_worker": ObjectId(str(supporting_worker.pk)) if supporting_worker else None}
    if attachment is not None:
        attachment.validate()
        sets["attachment"] = attachment.to_mongo()
    _applied(_move(db, ref, "edit", by=by, on=on, amount_pence=amount_asked_pence, sets=sets))


def pot_for(db, on: date) -> dict | None:
    """The pot whose funding period holds the date."""
    day = _day(on)
    return db[POTS].find_one({"period_start": {"$lte": day}, "period_end": {"$gte": day}})


def submit(db, ref: BidRef, *, by: str, on: date, reason: str = "") -> str:
    """Send a draft to the panel; the bid joins the pot of today's funding period. Returns the pot's name."""
    _check_state(ref, "submit")
    refuse_if(draft_errors(ref.pence("amount_asked_pence"), ref.bid.get("purpose"), ref.bid.get("plan_summary")))
    pot = pot_for(db, on)
    if pot is None:
        raise GrantRefused(f"No grant pot covers {on:%d/%m/%Y}: a manager must set up the pot for this funding "
                           "period before bids can be submitted.")
    sets = {"submitted_date": _day(on), "pot": pot["name"]}
    if not ref.bid.get("supporting_worker") and ref.worker:
        sets["supporting_worker"] = ref.worker
    _applied(_move(db, ref, "submit", by=by, on=on, reason=reason, amount_pence=ref.pence("amount_asked_pence"), sets=sets))
    return pot["name"]


def review(db, ref: BidRef, *, by: str, on: date, reason: str = "") -> None:
    _check_state(ref, "review")
    _applied(_move(db, ref, "review", by=by, on=on, reason=reason))


def recommend(db, ref: BidRef, *, by: str, on: date, recommendation: str, amount_pence: int | None = None,
              note: str = "") -> None:
    _check_state(ref, "recommend")
    asked = ref.pence("amount_asked_pence")
    refuse_if(recommendation_errors(recommendation, amount_pence, asked, note))
    amount = {"approve": asked, "approve_reduced": amount_pence, "reject": None}.get(recommendation)
    made = PanelRecommendation(recommendation=recommendation, amount_pence=amount, note=note.strip() or None, by=by, on=on)
    made.validate()
    _applied(_move(db, ref, "recommend", by=by, on=on, reason=note or recommendation.replace("_", " "),
                   amount_pence=amount, sets={"recommendation": made.to_mongo()}))


def _pot_name(db, ref: BidRef) -> str:
    name = ref.bid.get("pot")
    if name:
        return name
    submitted = ref.bid.get("submitted_date")
    pot = pot_for(db, submitted.date()) if submitted else None
    if pot is None:
        raise GrantRefused("This bid belongs to no grant pot: no pot covers the date it was submitted.")
    return pot["name"]


def approve(db, ref: BidRef, *, by: str, on: date, amount_pence: int | None, conditions: str = "") -> None:
    """Award the amount, committing it in the bid's pot with the bid's change: the pot is never taken past its total."""
    _check_state(ref, "approve")
    refuse_if(award_errors(amount_pence, ref.pence("amount_asked_pence")))
    pot_name = _pot_name(db, ref)

    def bid_write(session):
        return _move(db, ref, "approve", by=by, on=on, reason=conditions, amount_pence=amount_pence,
                     committed_change=amount_pence, session=session,
                     sets={"amount_awarded_pence": amount_pence, "conditions": conditions.strip() or None,
                           "decided_date": _day(on), "pot": pot_name})

    try:
        _pot_and_bid(db, pot_name, ref, {"remaining_pence": {"$gte": amount_pence}},
                     {"committed_pence": amount_pence, "remaining_pence": -amount_pence, held_key(ref.bid_id): amount_pence},
                     bid_write)
    except _BidMoved:
        # The bid moved on meanwhile (another approval, a withdrawal): the pot keeps its money.
        raise GrantRefused(CHANGED_MEANWHILE) from None
    except _PotRefused:
        pot = db[POTS].find_one({"name": pot_name}, {"total_pence": 1, "remaining_pence": 1})
        if pot is None:
            raise GrantRefused(f"The grant pot {pot_name} no longer exists.") from None
        raise GrantRefused(f"Not approved: the {pot_name} pot has {money(pot['remaining_pence'])} left of its "
                           f"{money(pot['total_pence'])} total, less than the {money(amount_pence)} award. "
                           "Award less, or a manager can raise the pot's total.") from None


def reject(db, ref: BidRef, *, by: str, on: date, reason: str) -> None:
    _check_state(ref, "reject", reason)
    _applied(_move(db, ref, "reject", by=by, on=on, reason=reason,
                   sets={"rejection_reason": reason.strip(), "decided_date": _day(on)}))


def _release(db, ref: BidRef, action: str, pence: int, **move) -> None:
    """Write the bid's release of `pence` together with the pot giving back what it holds for the bid.

    The pot gives back at most what it committed to this bid (its `held` figure): a bid brought in by an
    import, whose history says money was committed elsewhere, releases nothing this pot never committed.
    """
    pot_name = ref.bid.get("pot")
    for _ in range(5):
        pot = db[POTS].find_one({"name": pot_name}, {"held": 1}) if pot_name and pence else None
        key = held_key(ref.bid_id)
        holds = int(((pot or {}).get("held") or {}).get(key[len("held."):]) or 0)
        back = min(pence, holds)

        def bid_write(session):
            return _move(db, ref, action, committed_change=-pence, session=session, **move)

        if pot is None:
            _applied(bid_write(None))
            return
        try:
            _pot_and_bid(db, pot_name, ref, {key: holds} if holds else {key: {"$in": [0, None]}},
                         {"committed_pence": -back, "remaining_pence": back, key: -back}, bid_write)
            return
        except _BidMoved:
            raise GrantRefused(CHANGED_MEANWHILE) from None
        except _PotRefused:
            continue  # the pot's figure for this bid changed as it was read (a repair): read it again
    raise GrantRefused(CHANGED_MEANWHILE)


def pay(db, ref: BidRef, *, by: str, on: date, amount_pence: int | None, paid_on: date | None,
        reference: str = "", note: str = "") -> None:
    """Record one instalment; the total paid can never pass the award, however many are recorded at once."""
    _check_state(ref, "pay")
    awarded = ref.pence("amount_awarded_pence")
    decided = ref.bid.get("decided_date")
    refuse_if(payment_errors(amount_pence, awarded, ref.pence("paid_pence"), paid_on,
                              decided.date() if decided else None, on))
    payment = GrantPayment(paid_on=paid_on, amount_pence=amount_pence, reference=reference.strip() or None,
                           note=note.strip() or None, recorded_by=by)
    payment.validate()

    def bid_write(session):
        return _move(db, ref, "pay", by=by, on=paid_on, reason=note or reference, amount_pence=amount_pence,
                     paid_change=amount_pence, pushes={"payments": payment.to_mongo()}, session=session,
                     condition={"amount_awarded_pence": awarded, "paid_pence": {"$lte": awarded - amount_pence}})

    try:
        _pot_and_bid(db, ref.bid.get("pot"), ref, {}, {"paid_pence": amount_pence}, bid_write)
    except (_BidMoved, _PotRefused):
        raise GrantRefused(CHANGED_MEANWHILE) from None


def _committed_by(ref: BidRef) -> int:
    """What this bid holds committed, from its own history."""
    return sum(int(t.get("committed_change_pence") or 0) for t in ref.bid.get("transitions") or [])


def withdraw(db, ref: BidRef, *, by: str, on: date, reason: str) -> None:
    """Withdraw before any payment; an approved award goes back to the pot."""
    _check_state(ref, "withdraw", reason)
    _release(db, ref, "withdraw", _committed_by(ref), by=by, on=on, reason=reason,
             condition={"paid_pence": {"$in": [0, None]}})


def close(db, ref: BidRef, *, by: str, on: date, reason: str) -> None:
    """Close a paid bid; what was awarded but not paid goes back to the pot."""
    _check_state(ref, "close", reason)
    paid = ref.pence("paid_pence")
    _release(db, ref, "close", max(_committed_by(ref) - paid, 0), by=by, on=on, reason=reason,
             condition={"paid_pence": paid})


OPERATIONS = {"submit": submit, "review": review, "recommend": recommend, "approve": approve, "reject": reject,
              "pay": pay, "withdraw": withdraw, "close": close}


# --- the pot --------------------------------------------------------------------------------------------

def overlapping_pot(db, start: date, end: date, excluding=None) -> dict | None:
    query = {"period_start": {"$lte": _day(end)}, "period_end": {"$gte": _day(start)}}
    if excluding is not None:
        query["_id"] = {"$ne": excluding}
    return db[POTS].find_one(query, {"name": 1})


def pot_errors(db, pot: GrantPot, total_pence: int | None) -> list[str]:
    """What stops a new pot being opened."""
    errors = pot_period_errors(pot.period_start, pot.period_end) + pot_total_errors(total_pence)
    if not errors and pot.period_start and pot.period_end:
        other = overlapping_pot(db, pot.period_start, pot.period_end, excluding=pot.pk)
        if other:
            errors.append(f"The funding period overlaps the {other['name']} pot; each date belongs to one pot.")
    return errors


def open_pot(pot: GrantPot, total_pence: int, *, by: str, on: date) -> GrantPot:
    """Set a new pot's counters and the first entry of its history (the caller saves it)."""
    pot.total_pence = pot.remaining_pence = total_pence
    pot.committed_pence = pot.paid_pence = 0
    pot.total_history = [PotTotalChange(on=on, by=by, total_pence=total_pence, reason="Pot opened")]
    pot.created_by = by
    return pot


def create_pot(db, name: str, start: date, end: date, total_pence: int, *, by: str, on: date) -> GrantPot:
    pot = GrantPot(name=name, period_start=start, period_end=end)
    refuse_if(pot_errors(db, pot, total_pence))
    return open_pot(pot, total_pence, by=by, on=on).save()


def set_pot_total(db, pot_id, total_pence: int | None, *, by: str, on: date, reason: str = "") -> None:
    """Change the total by a conditional increment: never below what is committed, never from a stale total."""
    pots = db[POTS]
    pot = pots.find_one({"_id": pot_id}, {"name": 1, "total_pence": 1, "committed_pence": 1})
    if pot is None:
        raise GrantRefused("There is no such grant pot.")
    refuse_if(pot_total_errors(total_pence, pot["committed_pence"]))
    delta = total_pence - pot["total_pence"]
    change = PotTotalChange(on=on, by=by, total_pence=total_pence, reason=reason.strip() or None)
    change.validate()
    done = pots.update_one(
        {"_id": pot_id, "total_pence": pot["total_pence"], "remaining_pence": {"$gte": -delta}},
        {"$push": {"total_history": change.to_mongo()}, "$inc": {"total_pence": delta, "remaining_pence": delta}})
    if not done.modified_count:
        now = pots.find_one({"_id": pot_id}, {"total_pence": 1, "committed_pence": 1})
        if now["total_pence"] != pot["total_pence"]:
            raise GrantRefused("Someone else changed the pot's total a moment ago; nothing was saved. Reload and try again.")
        refuse_if(pot_total_errors(total_pence, now["committed_pence"]))
        raise GrantRefused(CHANGED_MEANWHILE)
    audit.record("update", collection=POTS, record_id=pot_id, actor=by,
                 summary=f"grant pot {pot['name']}: total {money(pot['total_pence'])} → {money(total_pence)}"
                         + (f" ({reason.strip()})" if reason.strip() else ""),
                 changes=[{"field": "total_pence", "old": pot["total_pence"], "new": total_pence}])


# --- for the exports ------------------------------------------------------------------------------------

#: The grant ledger's columns, in order: (key in each row, heading). One row per bid, as it stood at the period's
#: end: each money column adds up on its own (awarded, paid in the period, paid to date).
LEDGER_COLUMNS = (
    ("pot", "Pot"),
    ("bid_number", "Bid number"),
    ("client_reference", "Client reference"),
    ("submitted_date", "Submitted"),
    ("status", "Status at the period end"),
    ("purpose", "Purpose"),
    ("supporting_worker", "Supporting worker"),
    ("amount_asked", "Asked (£)"),
    ("decided_date", "Decision date"),
    ("amount_awarded", "Awarded (£)"),
    ("paid_in_period", "Paid in the period (£)"),
    ("paid_to_date", "Paid to date (£)"),
)
#: The payments sheet: one row per instalment paid in the period (they add up to "Paid in the period").
PAYMENT_COLUMNS = (
    ("date", "Paid on"),
    ("pot", "Pot"),
    ("bid_number", "Bid number"),
    ("client_reference", "Client reference"),
    ("amount", "Amount (£)"),
    ("payment_reference", "Payment reference"),
    ("recorded_by", "Recorded by"),
)
#: Statuses under which a bid's award stands (it was approved and not since withdrawn or released).
AWARD_STANDS = ("approved", "paid", "closed")


def _date(value) -> date | None:
    return value.date() if isinstance(value, datetime) else value


def _bids_touching(db, start: date, end: date, match: Mapping[str, Any] | None):
    """(case document, bid) for each bid submitted, decided, moved or paid in the period, in order of submission."""
    window = {"$gte": _day(start), "$lte": _day(end)}
    touches = {"$or": [{"grant_bids.submitted_date": window}, {"grant_bids.payments.paid_on": window},
                       {"grant_bids.transitions.on": window}]}
    pipeline = [
        {"$match": both(match, touches)},
        {"$project": {"reference": 1, **{f"grant_bids.{name}": 1 for name in (
            "bid_id", "pot", "status", "purpose", "supporting_worker", "submitted_date", "decided_date",
            "amount_asked_pence", "amount_awarded_pence", "payments", "transitions.on", "transitions.at",
            "transitions.to_status")}}},
        {"$unwind": "$grant_bids"},
        {"$match": touches},
        {"$lookup": {"from": "users", "localField": "grant_bids.supporting_worker", "foreignField": "_id",
                     "as": "supporter"}},
        {"$project": {"reference": 1, "grant_bids": 1, "supporter.name": 1, "supporter.email": 1}},
        {"$sort": {"grant_bids.submitted_date": 1, "reference": 1, "grant_bids.bid_id": 1}},
    ]
    for doc in db[CLIENTS].aggregate(pipeline):
        submitted = _date(doc["grant_bids"].get("submitted_date"))
        if submitted is not None and submitted <= end:  # a draft is not in the ledger
            yield doc, doc["grant_bids"]


def _status_on(bid: Mapping[str, Any], day: date) -> str | None:
    """The bid's status at the end of a day, replayed from its history (None before it had one)."""
    moves = sorted((t for t in bid.get("transitions") or [] if t.get("on") and _date(t["on"]) <= day),
                   key=lambda t: (_date(t["on"]), t.get("at") or datetime.min))
    return moves[-1].get("to_status") if moves else None


def ledger_rows(db, start: date, end: date, match: Mapping[str, Any] | None = None) -> Iterator[dict]:
    """One row per bid submitted, decided, moved or paid in the period, as it stood at the period's end, money in
    pounds (Decimal): the award where it stood then, what was paid in the period and what had been paid by its end.

    Nothing that happened after the period end shows, so a past period's ledger stays the same.
    """
    for doc, bid in _bids_touching(db, start, end, match):
        supporter = (doc.get("supporter") or [{}])[0]
        status = _status_on(bid, end) or bid.get("status")
        decided = _date(bid.get("decided_date"))
        decided = decided if decided and decided <= end else None
        paid = [(_date(p.get("paid_on")), int(p.get("amount_pence") or 0)) for p in bid.get("payments") or []]
        yield {"pot": bid.get("pot"), "bid_number": bid.get("bid_id"), "client_reference": doc.get("reference"),
               "submitted_date": _date(bid.get("submitted_date")), "status": label(GRANT_BID_STATUSES, status),
               "purpose": bid.get("purpose"), "supporting_worker": supporter.get("name") or supporter.get("email"),
               "amount_asked": pounds(bid.get("amount_asked_pence")), "decided_date": decided,
               "amount_awarded": pounds(bid.get("amount_awarded_pence")) if decided and status in AWARD_STANDS else None,
               "paid_in_period": pounds(sum(a for on, a in paid if on and start <= on <= end)),
               "paid_to_date": pounds(sum(a for on, a in paid if on and on <= end))}


def payment_rows(db, start: date, end: date, match: Mapping[str, Any] | None = None) -> Iterator[dict]:
    """One row per instalment paid in the period, in order of the bids' submission and then of payment."""
    for doc, bid in _bids_touching(db, start, end, match):
        for payment in sorted(bid.get("payments") or [], key=lambda p: _date(p.get("paid_on")) or date.min):
            paid_on = _date(payment.get("paid_on"))
            if paid_on and start <= paid_on <= end:
                yield {"date": paid_on, "pot": bid.get("pot"), "bid_number": bid.get("bid_id"),
                       "client_reference": doc.get("reference"), "amount": pounds(payment.get("amount_pence")),
                       "payment_reference": payment.get("reference"), "recorded_by": payment.get("recorded_by")}


def pot_figures(db, as_of: date) -> list[dict]:
    """Each pot whose funding period has started by `as_of`, as it stood at the end of that day.

    Money in pounds as Decimal: total, committed (awarded to approved bids and not released),
    paid, remaining (total - committed). Rebuilt from each bid's history, so a past date gives past figures.
    """
    day = _day(as_of)
    moved = _moved_by_pot(db, day)
    figures = []
    for pot in db[POTS].find({"period_start": {"$lte": day}},
                             {"name": 1, "period_start": 1, "period_end": 1, "total_history": 1}).sort("period_start", 1):
        history = sorted(pot.get("total_history") or [], key=lambda h: (h["on"], h["at"]))
        standing = [h for h in history if h["on"] <= day] or history[:1]
        total = standing[-1]["total_pence"] if standing else 0
        committed = moved.get(pot["name"], {}).get("committed", 0)
        paid = moved.get(pot["name"], {}).get("paid", 0)
        figures.append({"pot": pot["name"], "period_start": _date(pot["period_start"]), "period_end": _date(pot["period_end"]),
                        "total": pounds(total), "committed": pounds(committed), "paid": pounds(paid),
                        "remaining": pounds(total - committed)})
    return figures


def _moved_by_pot(db, day: datetime | None = None) -> dict[str, dict]:
    """{pot name: {"committed": pence, "paid": pence}} summed from the bids' transitions (up to `day`).

    A find on the indexed transition date, never a scan of every case file, summed here: it hands out only the
    case files with a bid, where an aggregation run by the in-process database of the demo and the tests would
    first copy every case file."""
    moved: dict[str, dict] = {}
    for doc in db[CLIENTS].find({"grant_bids.transitions.on": {"$lte": day or datetime(9999, 12, 31)}},
                                {"grant_bids.pot": 1, "grant_bids.transitions.on": 1,
                                 "grant_bids.transitions.committed_change_pence": 1,
                                 "grant_bids.transitions.paid_change_pence": 1}):
        for bid in doc.get("grant_bids") or ():
            for move in bid.get("transitions") or ():
                if day is not None and not (isinstance(move.get("on"), datetime) and move["on"] <= day):
                    continue
                row = moved.setdefault(bid.get("pot"), {"_id": bid.get("pot"), "committed": 0, "paid": 0})
                row["committed"] += _pence(move.get("committed_change_pence"))
                row["paid"] += _pence(move.get("paid_change_pence"))
    return moved


def _pence(value: Any) -> int:
    """A stored change in pence; anything else adds nothing (as $sum leaves out what is not a number)."""
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else 0


@dataclass(frozen=True)
class PotDrift:
    """A pot whose stored running figures differ from what its bids' histories add up to."""
    pot: str
    total_pence: int
    stored_committed_pence: int
    stored_paid_pence: int
    committed_pence: int      # from the bids
    paid_pence: int           # from the bids
    moves: int | None = None  # the pot's change counter as read: a repair acts only if it is unchanged
    held: tuple = ()          # (bid key, pence) committed to each bid, from the bids

    def describe(self) -> str:
        return (f"{self.pot}: stored committed {money(self.stored_committed_pence)}, paid {money(self.stored_paid_pence)}; "
                f"the bids add up to committed {money(self.committed_pence)}, paid {money(self.paid_pence)}")


def _by_bid(db) -> dict[str, dict[str, dict]]:
    """{pot name: {bid key: {"committed": pence, "paid": pence}}} summed from the bids' transitions."""
    found: dict[str, dict[str, dict]] = {}
    for row in db[CLIENTS].aggregate([
        {"$match": {"grant_bids.transitions.on": {"$lte": datetime(9999, 12, 31)}}},  # on the index, never a scan
        {"$project": {"grant_bids.pot": 1, "grant_bids.bid_id": 1, "grant_bids.transitions.committed_change_pence": 1,
                      "grant_bids.transitions.paid_change_pence": 1}},
        {"$unwind": "$grant_bids"},
        {"$unwind": "$grant_bids.transitions"},
        {"$group": {"_id": {"pot": "$grant_bids.pot", "bid": "$grant_bids.bid_id"},
                    "committed": {"$sum": "$grant_bids.transitions.committed_change_pence"},
                    "paid": {"$sum": "$grant_bids.transitions.paid_change_pence"}}},
    ]):
        key = held_key(row["_id"]["bid"])[len("held."):]
        found.setdefault(row["_id"].get("pot"), {})[key] = {"committed": int(row["committed"] or 0),
                                                          "paid": int(row["paid"] or 0)}
    return found


def pot_drift(db, now: datetime | None = None) -> list[PotDrift]:
    """Pots whose committed, paid or per-bid figures no longer match their bids.

    The pots are read before the bids: a move that starts after the read changes the pot's counter, so the
    repair of what was read refuses; a move in progress (marked on the pot) is left alone unless its mark is
    older than MOVE_GRACE_SECONDS, when the process making it must have stopped half-way.
    """
    now = now or datetime.utcnow()
    pots = list(db[POTS].find({}, {"name": 1, "total_pence": 1, "committed_pence": 1, "paid_pence": 1,
                                   "held": 1, "moves": 1, "moving": 1}).sort("name", 1))
    bids = _by_bid(db)
    drift = []
    for pot in pots:
        moving = pot.get("moving") or []
        if any((now - m["at"]).total_seconds() < MOVE_GRACE_SECONDS for m in moving):
            continue  # being changed right now
        per_bid = bids.get(pot["name"], {})
        held = tuple(sorted((k, v["committed"]) for k, v in per_bid.items() if v["committed"]))
        stored_held = tuple(sorted((k, int(v)) for k, v in (pot.get("held") or {}).items() if v))
        found = PotDrift(pot["name"], int(pot.get("total_pence") or 0), int(pot.get("committed_pence") or 0),
                         int(pot.get("paid_pence") or 0), sum(v["committed"] for v in per_bid.values()),
                         sum(v["paid"] for v in per_bid.values()), pot.get("moves"), held)
        if (found.stored_committed_pence, found.stored_paid_pence, stored_held) != (
                found.committed_pence, found.paid_pence, held) or moving:
            drift.append(found)
    return drift


def repair_pot(db, drift: PotDrift) -> bool:
    """Set the pot's figures to what its bids add up to, if the pot has not changed since `drift` was read."""
    done = db[POTS].update_one(
        {"name": drift.pot, "moves": drift.moves, "total_pence": drift.total_pence,
         "committed_pence": drift.stored_committed_pence, "paid_pence": drift.stored_paid_pence},
        {"$set": {"committed_pence": drift.committed_pence, "paid_pence": drift.paid_pence,
                  "remaining_pence": drift.total_pence - drift.committed_pence, "held": dict(drift.held),
                  "moving": []},
         "$inc": {"moves": 1}})
    return bool(done.matched_count)


def notify_pot_drift(db, pause_seconds: float = 5.0) -> list[PotDrift]:
    """Tell managers, by a notice on their home page, of each pot out of step with its bids (the nightly check).

    A move caught half-way is finished within moments, so a pot is reported only if it is still out of
    step when checked again after a pause; a notice nobody has dismissed yet is not repeated.
    """
    from admin_app.models.exports import Notice

    first = {d.pot for d in pot_drift(db)}
    if not first:
        return []
    time.sleep(pause_seconds)
    drift = [d for d in pot_drift(db) if d.pot in first]
    for found in drift:
        text = (f"Grant pot out of step with its bids: {found.describe()}. Ask an administrator to repair the pot's "
                "figures from its bids.")
        if Notice.objects(role="manager", text=text, dismissed_by__size=0).first() is None:
            Notice(role="manager", text=text, link="/admin/grantpot/").save()
    return drift
