"""The business start-up grant pot per funding period, and the parts of a grant bid kept on the case file.

Money is whole pence (int) in the database so MongoDB can move it with exact, atomic `$inc`s;
screens and exports show pounds.
"""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from bson import ObjectId
from mongoengine import (
    DictField,
    Document,
    EmbeddedDocument,
    EmbeddedDocumentField,
    ListField,
)

from admin_app.fields import DateField, DateTimeField, IntField, StringField

from admin_app.vocabulary import GRANT_BID_ACTIONS, GRANT_BID_STATUSES, GRANT_RECOMMENDATIONS

PENCE = Decimal(100)
#: No pot, bid, award or payment can be more than the whole £200,000 grant.
MAX_GRANT_PENCE = 200_000 * 100


def pounds(pence: int | None) -> Decimal | None:
    """Whole pence as pounds, exactly."""
    return None if pence is None else (Decimal(int(pence)) / PENCE).quantize(Decimal("0.01"))


def to_pence(amount) -> int:
    """Pounds (Decimal, str or number) as whole pence; more than two decimal places is refused."""
    value = Decimal(str(amount)) * PENCE
    if value != value.to_integral_value():
        raise ValueError(f"£{amount} is not a whole number of pence.")
    return int(value)


def new_bid_id() -> str:
    return str(ObjectId())


class PotTotalChange(EmbeddedDocument):
    """One setting of a pot's total: the history of how the pot was managed."""

    on = DateField(required=True, verbose_name="Effective date")
    at = DateTimeField(required=True, default=datetime.utcnow, verbose_name="Recorded")
    by = StringField(required=True, max_length=255, staff_email=True, verbose_name="By")
    total_pence = IntField(required=True, min_value=0, max_value=MAX_GRANT_PENCE, verbose_name="New total (pence)")
    reason = StringField(max_length=300, verbose_name="Reason")


class GrantPot(Document):
    """The business start-up pot for one funding period (usually a financial year).

    committed = awarded to approved bids and not released; remaining = total - committed;
    paid = paid out of what is committed. The counters only move through admin_app.grants.
    """

    name = StringField(required=True, unique=True, max_length=40, verbose_name="Name",
                       help_text="How bids and reports name the pot, e.g. 2026-27; cannot change later")
    period_start = DateField(required=True, verbose_name="Funding period from")
    period_end = DateField(required=True, verbose_name="Funding period to")
    total_pence = IntField(required=True, min_value=0, max_value=MAX_GRANT_PENCE, default=0, verbose_name="Total (pence)")
    committed_pence = IntField(required=True, min_value=0, max_value=MAX_GRANT_PENCE, default=0, verbose_name="Committed (pence)")
    paid_pence = IntField(required=True, min_value=0, max_value=MAX_GRANT_PENCE, default=0, verbose_name="Paid (pence)")
    remaining_pence = IntField(required=True, min_value=0, max_value=MAX_GRANT_PENCE, default=0, verbose_name="Remaining (pence)")
    total_history = ListField(EmbeddedDocumentField(PotTotalChange), verbose_name="Changes of total")
    created_by = StringField(max_length=255, staff_email=True, verbose_name="Created by")
    #: What the pot holds committed for each bid, by bid number: a release gives back at most this.
    held = DictField(verbose_name="Committed by bid (pence)")
    #: Counts every change of the figures, so a repair acts only on the pot exactly as it read it.
    moves = IntField(min_value=0, default=0, verbose_name="Changes of figures")
    #: Moves between writing the pot and writing their bid ({"bid", "at"}), when the server has no transactions.
    moving = ListField(DictField(), verbose_name="Moves in progress")

    meta = {"collection": "grant_pots", "ordering": ["-period_start"], "indexes": [("period_start", "period_end"), ("-period_start", "-_id")]}

    def __str__(self) -> str:
        return f"Grant pot {self.name}"

    total = property(lambda self: pounds(self.total_pence))
    committed = property(lambda self: pounds(self.committed_pence))
    paid = property(lambda self: pounds(self.paid_pence))
    remaining = property(lambda self: pounds(self.remaining_pence))


class GrantAttachment(EmbeddedDocument):
    """The business plan file; its bytes live in GridFS (collection grant_attachments)."""

    file_id = StringField(required=True, max_length=24, verbose_name="File id")
    filename = StringField(required=True, max_length=200, verbose_name="File name")
    content_type = StringField(max_length=120, verbose_name="Type")
    size = IntField(min_value=0, verbose_name="Size (bytes)")
    uploaded_at = DateTimeField(default=datetime.utcnow, verbose_name="Uploaded")
    uploaded_by = StringField(max_length=255, staff_email=True, verbose_name="Uploaded by")


class PanelRecommendation(EmbeddedDocument):
    recommendation = StringField(required=True, choices=GRANT_RECOMMENDATIONS, verbose_name="Recommendation")
    amount_pence = IntField(min_value=0, max_value=MAX_GRANT_PENCE, verbose_name="Recommended amount (pence)")
    note = StringField(verbose_name="Panel's reasons")
    by = StringField(max_length=255, staff_email=True, verbose_name="By")
    on = DateField(verbose_name="Date")

    amount = property(lambda self: pounds(self.amount_pence))


class GrantPayment(EmbeddedDocument):
    """One instalment paid to the client against the award."""

    paid_on = DateField(required=True, verbose_name="Paid on")
    amount_pence = IntField(required=True, min_value=1, max_value=MAX_GRANT_PENCE, verbose_name="Amount (pence)")
    reference = StringField(max_length=80, verbose_name="Payment reference")
    note = StringField(max_length=300, verbose_name="Note")
    recorded_by = StringField(max_length=255, staff_email=True, verbose_name="Recorded by")
    recorded_at = DateTimeField(default=datetime.utcnow, verbose_name="Recorded")

    amount = property(lambda self: pounds(self.amount_pence))


class BidTransition(EmbeddedDocument):
    """Who moved the bid, when, why, and what money it moved in its pot."""

    action = StringField(required=True, choices=GRANT_BID_ACTIONS, verbose_name="Action")
    from_status = StringField(choices=GRANT_BID_STATUSES, verbose_name="From")
    to_status = StringField(required=True, choices=GRANT_BID_STATUSES, verbose_name="To")
    on = DateField(required=True, verbose_name="Effective date")
    at = DateTimeField(required=True, default=datetime.utcnow, verbose_name="Recorded")
    by = StringField(required=True, max_length=255, staff_email=True, verbose_name="By")
    reason = StringField(verbose_name="Why")
    amount_pence = IntField(min_value=0, max_value=MAX_GRANT_PENCE, verbose_name="Amount (pence)")
    committed_change_pence = IntField(default=0, verbose_name="Change to the pot's committed (pence)")
    paid_change_pence = IntField(default=0, verbose_name="Change to the pot's paid (pence)")

    amount = property(lambda self: pounds(self.amount_pence))
