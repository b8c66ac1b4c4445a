"""The one figure set (KPIs, targets, fidelity) that the dashboards and the CLI both present, as plain JSON data."""
from __future__ import annotations

from datetime import date
from typing import Any, Iterable, Mapping

from admin_app.metrics.attribution import holdings, overlaps, within
from admin_app.metrics.fidelity import DEFAULT_ANCHORS, FidelityTally, fidelity_review, resolve_anchors
from admin_app.metrics.kpis import DEFAULT_TARGETS, KpiTally, active_intervals, carried_over_day, target_rag, \
    worker_target
from admin_app.metrics.periods import Period
from admin_app.metrics.records import (
    CaseRecord,
    GeneralEmployerContactRecord,
    StaffRecord,
    StaffTimeRecord,
    read_anchor_overrides,
    read_cases,
    read_general_employer_contacts,
    read_staff,
    read_staff_time,
)

UNASSIGNED = "unassigned"
TARGET_FIGURES = {"accessing": "people_accessing", "paid_outcomes": "people_into_work"}


class _Tally:
    """KPI and fidelity totals for one worker key."""

    def __init__(self, period: Period, as_of: date, anchors: Mapping[str, Any]) -> None:
        self.kpi = KpiTally(period, as_of)
        self.fidelity = FidelityTally(period, as_of, anchors)

    def merge(self, other: "_Tally") -> None:
        self.kpi.merge(other.kpi)
        self.fidelity.merge(other.fidelity)

    def add_case(self, case: CaseRecord, held: list[tuple[date, date]] | None, intervals: list) -> None:
        """The case, its client contacts and its employer contacts on the days in `held` (None: every day)."""
        self.fidelity.add_case(case, self.kpi.add_case(case, held, intervals), held)
        period = self.kpi.period
        for contact in case.contacts:
            if contact.date in period and within(contact.date, held):  # only the period's contacts count
                self.kpi.add_contact(contact)
                self.fidelity.add_client_contact(contact)
        for contact in case.employer_contacts:
            if within(contact.date, held):
                self.fidelity.add_employer_contact(contact.date, contact.face_to_face)


def kpi_report(cases: Iterable[CaseRecord], staff: Iterable[StaffRecord],
               general_employer_contacts: Iterable[GeneralEmployerContactRecord], period: Period,
               anchors: Mapping[str, Mapping[str, Any]] = DEFAULT_ANCHORS, *,
               targets: Mapping[str, Any] = DEFAULT_TARGETS, as_of: date | None = None,
               manager_scores: Mapping[str, int] | None = None, staff_time: Iterable[StaffTimeRecord] = (),
               only_worker: str | None = None, compare: Mapping[str, Period] | None = None) -> dict[str, Any]:
    """Every KPI, target and data-scored fidelity item for the period, service-wide and per worker, in one pass.

    Each day, contact, outcome and place on the caseload counts for whoever held the case on that date (the
    assignment history), so a later reassignment never changes a past period's figures and the workers' figures
    add up to the service's. General employer contacts and staff time count for the member of staff who logged
    them. With `only_worker` (a user id) the report holds that worker's figures alone, as the service figures too.
    as_of (default: the period end) is the day the figures are judged on; see as_of_for.
    `compare` ({name: period}, each ending by the period's end) adds the service figures of those periods, from
    the same single pass over the cases (the previous quarter, the year to date), under report["compare"].
    """
    anchors = resolve_anchors(anchors)
    as_of = as_of or period.end
    staff_by_id = {s.user_id: s for s in staff}
    tallies: dict[str, _Tally] = {}

    def tally(user_id: str | None) -> _Tally:
        key = user_id or UNASSIGNED
        if key not in tallies:
            tallies[key] = _Tally(period, as_of, anchors)
        return tallies[key]

    earliest = carried_over_day(period)  # no figure of the period rests on an earlier day
    others = {name: _Tally(other, min(other.end, as_of), anchors) for name, other in (compare or {}).items()}
    for case in cases:
        held_by = holdings(case)
        intervals = active_intervals(case)
        for other in others.values():
            if only_worker is None:
                other.add_case(case, None, intervals)
        for worker_id, days in held_by:
            if only_worker is not None and worker_id != only_worker:
                continue
            if len(held_by) > 1 and not overlaps(days, earliest, period.end):
                continue
            tally(worker_id).add_case(case, days if len(held_by) > 1 else None, intervals)
    for contact in general_employer_contacts:
        if only_worker is None or contact.staff_id == only_worker:
            tally(contact.staff_id).fidelity.add_employer_contact(contact.date, contact.face_to_face)
            for other in others.values():
                other.fidelity.add_employer_contact(contact.date, contact.face_to_face)
    for record in staff_time:
        if only_worker is None or record.staff_id == only_worker:
            tally(record.staff_id).kpi.add_staff_time(record)
            for other in others.values():
                other.kpi.add_staff_time(record)

    for user_id, member in staff_by_id.items():
        if (member.is_worker and period.overlap_days(member.start_date, member.end_date)
                and only_worker in (None, user_id)):
            tally(user_id)
    service = _Tally(period, as_of, anchors)
    for part in tallies.values():
        service.merge(part)
    workers_in_post = [s for s in staff_by_id.values() if s.is_worker and only_worker in (None, s.user_id)]
    workers = {_key(user_id, staff_by_id): _worker_figures(part, staff_by_id.get(user_id), period, as_of, targets)
               for user_id, part in sorted(tallies.items())}
    service_figures = _figures(service, workers_in_post, period, as_of, targets)
    compared = {name: {"start": others[name].kpi.period.start.isoformat(), "end": others[name].kpi.period.end.isoformat(),
                       **_figures(part, workers_in_post, part.kpi.period, part.kpi.as_of, targets)}
                for name, part in others.items()}
    return {
        "period": {"start": period.start.isoformat(), "end": period.end.isoformat(), "days": period.days,
                   "running": as_of < period.end},
        "as_of": as_of.isoformat(),
        "service": service_figures,
        "workers": workers,
        "fidelity_review": _review(service_figures["fidelity"], manager_scores),
        "anchors": anchors,
        "targets_rule": _jsonable(dict(targets)),
        **({"compare": compared} if compare else {}),
    }


def as_of_for(period: Period, today: date) -> date:
    """The day a screen or command judges a period on: its end once over, today while it is running.

    A period that has not started yet is judged on its first day (nothing has happened in it).
    """
    return max(period.start, min(period.end, today))


def scoped_worker(match: Mapping[str, Any] | None) -> Any:
    """The worker a case-file match is limited to, where it is (`{"worker": id}`, alone or among `$and` parts)."""
    if not match:
        return None
    if "worker" in match and not isinstance(match["worker"], Mapping):
        return match["worker"]
    for part in match.get("$and") or ():
        found = scoped_worker(part)
        if found is not None:
            return found
    return None


def load_report(db: Any, match: Mapping[str, Any] | None, period: Period, *,
                cases: Iterable[CaseRecord] | None = None, staff: Iterable[StaffRecord] | None = None,
                **options: Any) -> dict[str, Any]:
    """Stream the case files in scope from MongoDB and build kpi_report.

    A worker scope (`{"worker": id}`) is a worker's own report: it reads every case file they held at some
    time (their current caseload and the cases since moved on) and holds their figures alone. The fidelity
    anchors are the ones stored in MongoDB (the defaults where none are stored), unless given.
    A caller that reads the case files itself for more than the report (an export writing a row per case in
    the same pass) gives their records as `cases`, read from `case_match(match)` up to the period end, and
    may give the `staff` it read with `read_scope_staff`.
    """
    match = dict(match or {})
    worker = scoped_worker(match)
    if "anchors" not in options:
        options["anchors"] = read_anchor_overrides(db)
    if worker is not None:
        options["only_worker"] = str(worker)
    if staff is None:
        staff = read_scope_staff(db, match)
    first = min([period.start, *(p.start for p in (options.get("compare") or {}).values())])
    general = read_general_employer_contacts(db, staff=worker, start=first, end=period.end)
    staff_time = read_staff_time(db, staff=worker, start=first, end=period.end)
    if cases is None:
        cases = read_cases(db, case_match(match), until=period.end)
    return kpi_report(cases, staff, general, period, staff_time=staff_time, **options)


def case_match(match: Mapping[str, Any] | None) -> dict[str, Any]:
    """The case files a report in this scope reads: a worker's scope widened to every case file they have held."""
    match = dict(match or {})
    worker = scoped_worker(match)
    return held_by(match, worker) if worker is not None else match


def read_scope_staff(db: Any, match: Mapping[str, Any] | None) -> list[StaffRecord]:
    """The staff a report in this scope lists: the worker alone in a worker's scope, everyone otherwise."""
    worker = scoped_worker(match)
    return list(read_staff(db, {"user": worker} if worker is not None else None))


def held_by(match: Mapping[str, Any], worker: Any) -> dict[str, Any]:
    """The match with its worker scope widened to every case file the worker has held (served by the indexes on
    worker and assignments.worker)."""
    if "worker" in match and not isinstance(match["worker"], Mapping):
        rest = {k: v for k, v in match.items() if k != "worker"}
        held = {"$or": [{"worker": worker}, {"assignments.worker": worker}]}
        return {"$and": [rest, held]} if rest else held
    if "$and" in match:
        return {**match, "$and": [held_by(part, worker) for part in match["$and"]]}
    return dict(match)


def _key(user_id: str, staff_by_id: Mapping[str, StaffRecord]) -> str:
    if user_id == UNASSIGNED:
        return UNASSIGNED
    member = staff_by_id.get(user_id)
    return member.email if member else f"user:{user_id}"


def _worker_figures(part: _Tally, member: StaffRecord | None, period: Period, as_of: date,
                    targets: Mapping[str, Any]) -> dict[str, Any]:
    about: dict[str, Any] = {"user_id": None, "name": None, "fte": None, "start_date": None, "end_date": None}
    if member:
        about = {"user_id": member.user_id, "name": member.name, "fte": member.fte_on(min(period.end, as_of)) or member.fte,
                 "start_date": _iso(member.start_date), "end_date": _iso(member.end_date)}
    return about | _figures(part, [member] if member and member.is_worker else [], period, as_of, targets)


def _figures(part: _Tally, workers: list[StaffRecord], period: Period, as_of: date,
             targets: Mapping[str, Any]) -> dict[str, Any]:
    """The KPI figures of a tally, with the targets of the given workers beside them and the fidelity items.

    While the period is running, FTE is taken on as_of and the rates and targets cover the days up to it.
    """
    figures = part.kpi.figures()
    so_far = Period(period.start, min(period.end, as_of))
    fte_at_end = sum(w.fte_on(so_far.end) for w in workers)
    fte_weeks = sum(w.fte_days(so_far.start, so_far.end) / 7 for w in workers)
    figures["targets"] = _targets(figures, workers, so_far, period, targets) if workers else None
    figures["fidelity"] = part.fidelity.items(figures["active_caseload"]["at_end"], fte_at_end, fte_weeks)
    return figures


def _targets(figures: Mapping[str, Any], workers: list[StaffRecord], so_far: Period, period: Period,
             targets: Mapping[str, Any]) -> dict[str, Any]:
    """Targets pro rata to the days judged (so_far), with the whole period's target beside them."""
    amber = float(targets.get("amber_share", 0.8))
    to_date, whole = _target_totals(workers, so_far, targets), _target_totals(workers, period, targets)
    out = {}
    for name, figure in TARGET_FIGURES.items():
        target = round(to_date[name], 1)
        out[name] = {"actual": figures[figure], "target": target, "rag": target_rag(figures[figure], target, amber),
                     "period_target": round(whole[name], 1)}
    return out


def _target_totals(workers: list[StaffRecord], period: Period, targets: Mapping[str, Any]) -> dict[str, float]:
    totals = dict.fromkeys(TARGET_FIGURES, 0.0)
    for worker in workers:
        for name, value in worker_target(worker, period, targets).items():
            totals[name] = totals.get(name, 0.0) + value
    return totals


def _review(items: Mapping[str, Mapping[str, Any]], manager_scores: Mapping[str, int] | None) -> dict[str, Any] | None:
    if manager_scores is None:
        return None
    return fidelity_review({item: value["score"] for item, value in items.items()}, manager_scores)


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def _jsonable(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value
