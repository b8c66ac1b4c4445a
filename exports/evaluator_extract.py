"""The evaluator's extract: pseudonymised case progress, one sheet per part of the case file, and a data dictionary.

Only coded, date, number and true/false fields leave: no names, dates of birth, addresses or free text, and no
field of a restricted class (admin_app/privacy/classes.py). Clients without recorded consent and an Information
Sharing Agreement version are left out (the cover says how many). Clients and employers appear as keyed
pseudonyms (exports/pseudonym.py); staff do not appear at all, so no per-worker figure can be matched to the
named rows of the OPCC return or the KPI workbook. Disclosure control: dates are generalised (to the month by
default), ages are given only in bands, and a coded value held by fewer than `min_group` people shows as
"other". Every column is declared once below, from the mongoengine field it reads, and the data dictionary is
built from those declarations, with a line for each rule.
"""
from __future__ import annotations

import pickle
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Callable, Iterable, NamedTuple

from bson import Decimal128
from mongoengine import fields as mf
from mongoengine.base import BaseDocument

from admin_app.metrics.kpis import SUSTAINED_13_WEEKS_DAYS, SUSTAINED_26_WEEKS_DAYS, sustainment
from admin_app.metrics.periods import Period
from admin_app.metrics.records import CaseRecord, OutcomeRecord, read_general_employer_contacts
from admin_app.metrics.report import scoped_worker
from admin_app.evaluator.disclosure import AGE_BANDS, OTHER, consented, generalise, small_groups
from admin_app.evaluator.disclosure import age_band as band_of
from admin_app.models.case_file import Client
from admin_app.privacy.classes import class_of
from admin_app.vocabulary import PAID_OUTCOME_KINDS
from exports import casefiles
from exports.base import ExportContext
from exports.pseudonym import Pseudonyms
from exports.styling import Book, Column, Table

TITLE = "Evaluator extract"
AUDIENCE = "University evaluator (pseudonymised)"
NOUNS = {"employer": "employer"}


class Row(NamedTuple):
    """What a column can read: the case file, the list element of this row, the case's record, pseudonyms, period."""

    doc: Mapping[str, Any]
    element: Any
    case: CaseRecord | None
    names: Pseudonyms
    period: Period


@dataclass(frozen=True)
class Item:
    heading: str
    kind: str                      # date, int, number, bool, text (a code), pseudonym
    source: str                    # where the value comes from, for the data dictionary
    description: str
    values: str                    # the values it can take, for the data dictionary
    read: Callable[[Row], Any]
    reads: tuple[str, ...] = ()    # stored fields it needs (the projection)
    codes: tuple[str, ...] = ()    # a code's possible values (besides "other"), for the API's schema

    @property
    def key(self) -> str:
        """Its name in the evaluator API (docs/evaluator-api.md): the heading in snake case."""
        words = re.sub(r"[^a-z0-9]+", "_", self.heading.lower()).strip("_")
        return f"sustained_{words}" if words[:1].isdigit() else words


# --- columns from field declarations --------------------------------------------------------------

def field_of(model: type[BaseDocument], path: str) -> mf.BaseField:
    """The mongoengine field declared at a dotted path, through embedded documents and lists."""
    parts = path.split(".")
    for index, part in enumerate(parts):
        field = model._fields[part]
        while isinstance(field, mf.ListField):
            field = field.field
        if index == len(parts) - 1:
            return field
        model = field.document_type


def kind_of(field: mf.BaseField) -> str:
    if isinstance(field, mf.DateField):
        return "date"
    if isinstance(field, mf.IntField):
        return "int"
    if isinstance(field, (mf.DecimalField, mf.FloatField)):
        return "number"
    if isinstance(field, mf.BooleanField):
        return "bool"
    if isinstance(field, mf.StringField) and field.choices:
        return "text"
    raise ValueError(f"{field.name} is free text or a reference; only coded, date, number and true/false fields "
                     "go to the evaluator (a reference goes as a pseudonym)")


def choices_text(field: mf.BaseField) -> str:
    if not getattr(field, "choices", None):
        return ""
    return "; ".join(f"{c[0]} = {c[1]}" if isinstance(c, (tuple, list)) else str(c) for c in field.choices)


def codes_of(field: mf.BaseField) -> tuple[str, ...]:
    return tuple(str(c[0] if isinstance(c, (tuple, list)) else c) for c in getattr(field, "choices", None) or ())


def _describe(field: mf.BaseField) -> str:
    return getattr(field, "help_text", None) or ""


def stored(path: str, heading: str | None = None) -> Item:
    """A column of the case file holding a stored value as it is (codes, dates, numbers, true/false)."""
    field = field_of(Client, path)
    kind = kind_of(field)
    if class_of(field) is not None:
        raise ValueError(f"{path} is {class_of(field).label.lower()} data; it never goes to the evaluator")
    head, *rest = path.split(".")
    in_list = isinstance(Client._fields[head], mf.ListField)
    keys = rest if in_list else path.split(".")

    def read(row: Row) -> Any:
        value: Any = row.element if in_list else row.doc
        for key in keys:
            value = value.get(key) if value.__class__ is dict or isinstance(value, Mapping) else None
        return plain(value)

    return Item(heading or field.verbose_name or path, kind, f"clients.{path}", _describe(field),
                choices_text(field), read, (path,), codes_of(field))


def pseudonymised(path: str, kind: str) -> Item:
    """A reference in the case file (an employer) as its keyed pseudonym."""
    field = field_of(Client, path)
    head, *rest = path.split(".")
    in_list = isinstance(Client._fields[head], mf.ListField)
    key = rest[-1] if in_list else head
    read_value = (lambda row: row.element.get(key)) if in_list else (lambda row: row.doc.get(key))
    who = NOUNS[kind]
    return Item(f"{field.verbose_name} (pseudonym)", "pseudonym", f"clients.{path}",
                f"Keyed pseudonym of the {who}: the same {who} has the same pseudonym in every extract",
                "", lambda row: getattr(row.names, kind)(read_value(row)), (path,))


def derived(heading: str, kind: str, source: str, description: str, read: Callable[[Row], Any],
            reads: Iterable[str] = (), values: str = "", codes: Iterable[str] = ()) -> Item:
    return Item(heading, kind, source, description, values, read, tuple(reads), tuple(codes))


#: Stored values that go to a cell as they are (most of them): no test by type needed.
AS_STORED = frozenset((str, bool, int, float, type(None)))


def plain(value: Any) -> Any:
    """A stored value as a cell: dates as dates, Decimal128 as a number."""
    if value.__class__ in AS_STORED:
        return value
    if isinstance(value, Decimal128):
        return float(value.to_decimal())
    return casefiles.day(value) or value


# --- derived columns ------------------------------------------------------------------------------

def age_band(row: Row) -> str | None:
    return band_of(casefiles.day(row.doc.get("date_of_birth")), row.case.referral_date if row.case else None)


def status_at_end(row: Row) -> str | None:
    return casefiles.status_on(row.case, row.period.end) if row.case else None


def goals(status: str | None) -> Callable[[Row], int]:
    return lambda row: sum(1 for g in casefiles.items(row.doc, "plan_goals")
                           if status is None or (g.get("status") or "open") == status)


def sustained(days: int) -> Callable[[Row], str | None]:
    def read(row: Row) -> str | None:
        o = row.element
        start = casefiles.day(o.get("start_date"))
        if o.get("kind") not in PAID_OUTCOME_KINDS or start is None:
            return None
        return sustainment(OutcomeRecord(o["kind"], start, casefiles.day(o.get("end_date"))), row.period.end, days)
    return read


CLIENT = derived("Client pseudonym", "pseudonym", "clients.reference",
                 "Keyed pseudonym of the case reference: the same person has the same pseudonym in every extract",
                 lambda row: row.names.client(row.doc["reference"]), ("reference",))
SUSTAINMENT_VALUES = "sustained; ended_before; too_early (blank for unpaid outcomes)"
SUSTAINMENT_CODES = ("sustained", "ended_before", "too_early")


@dataclass(frozen=True)
class Sheet:
    name: str
    description: str
    items: tuple[Item, ...]
    within: str | None = None                      # a list in the case file: one row per element
    keep: Callable[[Row], bool] = lambda row: True
    #: Where its rows are in the evaluator API (docs/evaluator-api.md): "cases", "cases.assessment" or an event type.
    api: str | None = None


def _dated_in_period(field: str = "date") -> Callable[[Row], bool]:
    return lambda row: casefiles.day(row.element.get(field)) in row.period


def _running_in_period(row: Row) -> bool:
    start, end = casefiles.day(row.element.get("start_date")), casefiles.day(row.element.get("end_date"))
    return start is not None and start <= row.period.end and (end is None or end >= row.period.start)


CASE_SHEETS: tuple[Sheet, ...] = (
    Sheet("Referrals", "One row per case file in the extract: referral, age, consent and status at the period end", (
        CLIENT, stored("referral.date"), stored("referral.source"),
        stored("referral.cohort"), stored("referral.decision"), stored("referral.decision_date"),
        stored("referral.rejection_reason"),
        derived("Age band", "text", "clients.date_of_birth, clients.referral.date",
                "The age at referral in bands (neither the date of birth nor the age itself is exported)",
                age_band, ("date_of_birth",), "; ".join(f"{lo}-{hi}" for lo, hi in AGE_BANDS),
                (*(f"{lo}-{hi}" for lo, hi in AGE_BANDS), "under 18", "over 35")),
        stored("consent.recorded"), stored("consent.date"), stored("consent.preferred_language"),
        stored("consent.interpreter_needed"),
        derived("Status at period end", "text", "clients.status_history",
                "The case status on the period's last day, from the status history", status_at_end,
                values=choices_text(field_of(Client, "status")), codes=codes_of(field_of(Client, "status"))),
    ), api="cases"),
    Sheet("Assessments", "The initial assessment, with previous support, and the Vocational Action Plan's goals", (
        CLIENT, stored("assessment.date"), stored("assessment.readiness"), stored("assessment.goal"),
        stored("assessment.employment_status"), stored("assessment.agreed_to_take_part"),
        stored("assessment.previous_support"),
        derived("Plan goals", "int", "clients.plan_goals", "Goals in the Vocational Action Plan", goals(None),
                ("plan_goals.status",)),
        *(derived(f"Plan goals {s}", "int", "clients.plan_goals.status", f"Goals now {s}", goals(s),
                  ("plan_goals.status",)) for s in ("open", "achieved", "dropped")),
    ), keep=lambda row: casefiles.day((row.doc.get("assessment") or {}).get("date")) is not None,
        api="cases.assessment"),
    Sheet("Contacts", "Every contact in the period: date, minutes, mode, place, out of hours, who", (
        CLIENT, stored("contacts.date"), stored("contacts.minutes"), stored("contacts.mode"), stored("contacts.place"),
        stored("contacts.out_of_hours"),
    ), within="contacts", keep=_dated_in_period(), api="contact"),
    Sheet("Employer contacts", "Employer contacts for a client in the period", (
        CLIENT, stored("employer_contacts.date"), pseudonymised("employer_contacts.employer", "employer"),
        stored("employer_contacts.face_to_face"), stored("employer_contacts.purpose"),
        stored("employer_contacts.with_client"),
    ), within="employer_contacts", keep=_dated_in_period(), api="employer_contact"),
    Sheet("Outcomes", "Outcomes running at some time in the period (paid work, business, education, training, "
                      "volunteering)", (
        CLIENT, stored("outcomes.kind"), stored("outcomes.start_date"), stored("outcomes.end_date"),
        pseudonymised("outcomes.employer", "employer"),
        derived("Job type (pseudonym)", "pseudonym", "clients.outcomes.job_type",
                "Keyed pseudonym of the job type (case and spacing ignored): equal types share a pseudonym",
                lambda row: row.names.job_type(row.element.get("job_type")), ("outcomes.job_type",)),
        stored("outcomes.hours_per_week"), stored("outcomes.competitive"),
        derived("13 weeks", "text", "clients.outcomes", "Paid outcomes judged on the period's last day, "
                "as the sustained-outcome KPI does", sustained(SUSTAINED_13_WEEKS_DAYS), values=SUSTAINMENT_VALUES,
                codes=SUSTAINMENT_CODES),
        derived("26 weeks", "text", "clients.outcomes", "As above, at 26 weeks", sustained(SUSTAINED_26_WEEKS_DAYS),
                values=SUSTAINMENT_VALUES, codes=SUSTAINMENT_CODES),
    ), within="outcomes", keep=_running_in_period, api="outcome"),
    Sheet("Status history", "Status changes in the period", (
        CLIENT, stored("status_history.date"), stored("status_history.status"),
    ), within="status_history", keep=_dated_in_period(), api="status_change"),
)

GENERAL = Sheet("General employer contacts", "Job development for the whole caseload in the period (on employers' "
                                             "records; counts for the worker's fidelity)", (
    derived("Date", "date", "employers.employer_contacts.date", "The day of the employer contact",
            lambda row: row.element.date),
    derived("Employer (pseudonym)", "pseudonym", "employers._id", "Keyed pseudonym of the employer, as on the other sheets",
            lambda row: row.names.employer(row.element.employer_id)),
    derived("Face-to-face", "bool", "employers.employer_contacts.face_to_face", "Met the employer in person",
            lambda row: row.element.face_to_face),
))

DICTIONARY_COLUMNS = (Column("Sheet", "text"), Column("Column", "text"), Column("API field", "text"), Column("Type", "text", 14),
                      Column("Values", "wrap", 50), Column("Source", "text"), Column("Description", "wrap", 60))
TYPES = {"date": "date", "int": "whole number", "number": "number", "bool": "Yes / No", "text": "code",
         "pseudonym": "pseudonym"}
DATE_TYPES = {"month": "month (YYYY-MM)", "quarter": "quarter (YYYY-Qn)", "year": "year (YYYY)"}
LEFT_OUT = "Left out: no recorded consent or ISA version"





def disclosure_rules(ctx: ExportContext, left_out: int | None = None) -> list[tuple[str, str]]:
    """The disclosure-control rules of this extract, for the data dictionary and the cover."""
    said = [
        ("Consent", "Only clients with recorded consent and a signed Multi-Agency Information Sharing Agreement "
                    "version are in the extract" + (f"; {left_out} case files were left out" if left_out is not None
                                                    else "")),
        ("Dates", f"Every date is generalised to its {ctx.date_precision} ({DATE_TYPES[ctx.date_precision]})"),
        ("Ages", "Ages are given only in bands; neither the date of birth nor the age itself leaves"),
        ("Small groups", f"A coded value held by fewer than {ctx.min_group} people in its column shows as "
                         f"\"{OTHER}\" (with the next smallest values, until \"{OTHER}\" holds at least "
                         f"{ctx.min_group})"),
        ("Staff", "No member of staff appears, by name or pseudonym, so no per-worker figure can be matched to a "
                  "named row of the OPCC return or the KPI workbook"),
        ("Free text", "No names, addresses, contact details, free text or restricted classes (criminal offence, "
                      "special category, safeguarding) leave"),
    ]
    return said


def projection() -> dict[str, int]:
    needed = {"reference", "consent.recorded", "consent.isa_version"} | {
        path for sheet in CASE_SHEETS for item in sheet.items for path in item.reads}
    return casefiles.projection(*needed)


def _rows(db: Any, ctx: ExportContext, names: Pseudonyms, left_out: set | None = None) -> Iterable[tuple[Sheet, str, list]]:
    """(sheet, client reference, raw cells) of every case-file row of the consented clients; the references of
    the others go to `left_out`."""
    for doc, case in casefiles.stream(db, ctx.match, ctx.period, projection(), sort="reference"):
        if not consented(doc):
            if left_out is not None:
                left_out.add(doc["reference"])
            continue
        for sheet in CASE_SHEETS:
            elements = casefiles.items(doc, sheet.within) if sheet.within else (None,)
            for element in elements:
                row = Row(doc, element, case, names, ctx.period)
                if sheet.keep(row):
                    yield sheet, doc["reference"], [item.read(row) for item in sheet.items]


def build(db: Any, path: str, ctx: ExportContext) -> dict[str, int]:
    """One pass over the case files: each row is made once, its dates generalised, and put aside in a temporary
    file while the people holding each coded value are counted; then the rows are written, with the values held
    by too few people merged into "other"."""
    names = Pseudonyms(ctx.pseudonym_key)
    people: dict[tuple[str, int], dict[Any, set]] = {}
    without_consent: set[str] = set()
    with tempfile.TemporaryFile() as spill:
        batch: list[tuple[str, list]] = []
        for sheet, reference, cells in _rows(db, ctx, names, without_consent):
            for index in _dated[sheet.name]:
                if cells[index] is not None:
                    cells[index] = generalise(cells[index], ctx.date_precision)
            for index in _coded[sheet.name]:
                value = cells[index]
                if value is not None:
                    people.setdefault((sheet.name, index), {}).setdefault(value, set()).add(reference)
            batch.append((sheet.name, cells))
            if len(batch) == SPILL_BATCH:
                pickle.dump(batch, spill, pickle.HIGHEST_PROTOCOL)
                batch = []
        pickle.dump(batch, spill, pickle.HIGHEST_PROTOCOL)
        merged = {key: small_groups(values, ctx.min_group) for key, values in people.items()}
        del people
        left_out = len(without_consent)
        book = Book(path, ctx, TITLE, AUDIENCE, notes=(
            "Clients and employers appear only as keyed pseudonyms, stable from one extract to the next; staff do not appear.",
            "Case-file rows cover every case file referred in, open in, or with activity in the period; "
            "event rows are those of the period. See the Data dictionary sheet.",
            f"{left_out} case files without recorded consent and an Information Sharing Agreement version are left out.",
            *(f"{name}: {text}." for name, text in disclosure_rules(ctx)[1:]),
        ))
        tables = {sheet.name: _table(book, sheet) for sheet in (*CASE_SHEETS, GENERAL)}
        spill.seek(0)
        while True:
            try:
                batch = pickle.load(spill)
            except EOFError:
                break
            for name, cells in batch:
                for index in _coded[name]:
                    if cells[index] in merged.get((name, index), ()):
                        cells[index] = OTHER
                tables[name].add(cells)
    general = read_general_employer_contacts(db, staff=scoped_worker(ctx.match),
                                             start=ctx.period.start, end=ctx.period.end)
    for contact in general:
        row = Row({}, contact, None, names, ctx.period)
        tables[GENERAL.name].add([generalise(item.read(row), ctx.date_precision) if item.kind == "date"
                                  else item.read(row) for item in GENERAL.items])
    for table in tables.values():
        table.close()
    dictionary = book.table("Data dictionary", DICTIONARY_COLUMNS, "What each column of each sheet holds, and the "
                                                                   "disclosure-control rules")
    for sheet_name, item in dictionary_rows():
        kind = DATE_TYPES[ctx.date_precision] if item.kind == "date" else TYPES[item.kind]
        values = item.values + (f"; {OTHER} (values held by fewer than {ctx.min_group} people)"
                                if item.kind == "text" else "")
        dictionary.add([sheet_name, item.heading, api_field(sheet_name, item), kind, values.lstrip("; "), item.source,
                        item.description])
    for name, text in disclosure_rules(ctx, left_out):
        dictionary.add(["All sheets", name, "", "rule", "", "disclosure control", text])
    dictionary.close()
    counts = book.close()
    counts[LEFT_OUT] = left_out
    return counts


#: Rows put aside at a time while the first pass counts who holds each coded value.
SPILL_BATCH = 2_000
#: The coded (text) columns of each case-file sheet, where a value held by too few people becomes "other".
_coded = {sheet.name: [i for i, item in enumerate(sheet.items) if item.kind == "text"] for sheet in CASE_SHEETS}
#: The date columns of each case-file sheet, generalised as the rows are made.
_dated = {sheet.name: [i for i, item in enumerate(sheet.items) if item.kind == "date"] for sheet in CASE_SHEETS}


def _table(book: Book, sheet: Sheet) -> Table:
    columns = [Column(item.heading, "text" if item.kind in ("pseudonym", "date") else item.kind)
               for item in sheet.items]
    return book.table(sheet.name, columns, sheet.description)


def api_field(sheet_name: str, item: Item) -> str:
    """Where a column is in the evaluator API: "cases: cohort", "cases.assessment: goal", "events (contact): mode"."""
    where = next((s.api for s in CASE_SHEETS if s.name == sheet_name), None)
    if where is None:
        return "not in the API"
    return f"{where}: {item.key}" if where.startswith("cases") else f"events ({where}): {item.key}"


def dictionary_rows() -> Iterable[tuple[str, Item]]:
    """Every column of the extract, by sheet (the data dictionary's rows)."""
    for sheet in (*CASE_SHEETS, GENERAL):
        for item in sheet.items:
            yield sheet.name, item
