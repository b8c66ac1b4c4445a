"""Times kpi_report on 1,000 / 10,000 / 100,000 synthetic case records (and via mongomock + records.py); prints figures."""
from __future__ import annotations

import random
import sys
import time
import tracemalloc
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Callable, Iterator

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bson import ObjectId  # noqa: E402

from admin_app.metrics.periods import financial_year  # noqa: E402
from admin_app.metrics.records import (  # noqa: E402
    CaseRecord,
    ContactRecord,
    EmployerContactRecord,
    OutcomeRecord,
    PlanGoalRecord,
    StaffRecord,
    StatusChangeRecord,
)
from admin_app.metrics.report import kpi_report, load_report  # noqa: E402

PERIOD = financial_year(2024)
FIRST_DAY = date(2023, 4, 1)
WORKERS = [str(ObjectId()) for _ in range(40)]
STAFF = [StaffRecord(w, f"worker{i}@e4e.test", f"Worker {i}", 1.0 if i % 4 else 0.6, date(2022, 4, 1))
         for i, w in enumerate(WORKERS)]
MODES = ("face_to_face", "face_to_face", "phone", "message", "admin")
PLACES = ("community", "office", "online")


def synthetic_document(n: int, rng: random.Random) -> dict:
    """One `clients` document as MongoDB stores it (dates as datetimes, references as ObjectIds)."""
    referred = FIRST_DAY + timedelta(days=rng.randrange(700))
    assessed = referred + timedelta(days=rng.randrange(5, 40))
    worker = ObjectId(WORKERS[n % len(WORKERS)])
    contact_days = sorted(assessed + timedelta(days=rng.randrange(400)) for _ in range(rng.randrange(5, 25)))
    jobs = [assessed + timedelta(days=rng.randrange(30, 420)) for _ in range(rng.choice((0, 0, 1, 1, 2)))]
    dt = lambda d: datetime(d.year, d.month, d.day)  # noqa: E731
    return {
        "_id": ObjectId(), "reference": f"E4E-{n}", "worker": worker, "status": rng.choice(("active", "in_work", "closed")),
        "referral": {"date": dt(referred), "decision": rng.choice(("accepted",) * 8 + ("rejected", "withdrawn")),
                     "cohort": rng.choice(("at_risk", "convicted")), "source": "probation"},
        "assessment": {"date": dt(assessed), "agreed_to_take_part": rng.random() < 0.9,
                       "employment_status": rng.choice(("unemployed", "inactive", "employed_needing_support"))},
        "status_history": [{"date": dt(referred), "status": "referred"}, {"date": dt(assessed), "status": "active"}],
        "plan_goals": [{"goal": "work", "status": rng.choice(("open", "achieved")), "due_date": dt(assessed + timedelta(days=180))}],
        "contacts": [{"date": dt(d), "minutes": rng.randrange(15, 120), "mode": rng.choice(MODES),
                      "place": rng.choice(PLACES), "out_of_hours": rng.random() < 0.1, "staff": worker,
                      "note": "x" * 80} for d in contact_days],
        "employer_contacts": [{"date": dt(assessed + timedelta(days=rng.randrange(90))), "face_to_face": rng.random() < 0.7,
                               "employer": ObjectId(), "staff": worker} for _ in range(rng.randrange(3))],
        "outcomes": [{"kind": rng.choice(("paid_employment", "self_employment")), "start_date": dt(j),
                      "end_date": dt(j + timedelta(days=rng.randrange(20, 300))) if rng.random() < 0.4 else None,
                      "employer": ObjectId(), "job_type": rng.choice(("chef", "retail", "warehouse", "care", "driver")),
                      "competitive": rng.random() < 0.95} for j in jobs],
    }


def synthetic_case(n: int, rng: random.Random) -> CaseRecord:
    """One plain CaseRecord, built directly (cheaper than a document) for the in-memory runs."""
    referred = FIRST_DAY + timedelta(days=rng.randrange(700))
    assessed = referred + timedelta(days=rng.randrange(5, 40))
    worker = WORKERS[n % len(WORKERS)]
    jobs = [assessed + timedelta(days=rng.randrange(30, 420)) for _ in range(rng.choice((0, 0, 1, 1, 2)))]
    return CaseRecord(
        id=str(n), referral_date=referred, worker_id=worker,
        referral_decision=rng.choice(("accepted",) * 8 + ("rejected", "withdrawn")),
        assessment_date=assessed, agreed_to_take_part=rng.random() < 0.9,
        employment_status=rng.choice(("unemployed", "inactive", "employed_needing_support")),
        status_history=(StatusChangeRecord(referred, "referred"), StatusChangeRecord(assessed, "active")),
        plan_goals=(PlanGoalRecord(rng.choice(("open", "achieved")), assessed + timedelta(days=180)),),
        contacts=tuple(ContactRecord(assessed + timedelta(days=rng.randrange(400)), rng.randrange(15, 120),
                                     rng.choice(MODES), rng.choice(PLACES), rng.random() < 0.1)
                       for _ in range(rng.randrange(5, 25))),
        employer_contacts=tuple(EmployerContactRecord(assessed + timedelta(days=rng.randrange(90)),
                                                      rng.random() < 0.7, f"e{rng.randrange(500)}")
                                for _ in range(rng.randrange(3))),
        outcomes=tuple(OutcomeRecord(rng.choice(("paid_employment", "self_employment")), j,
                                     j + timedelta(days=rng.randrange(20, 300)) if rng.random() < 0.4 else None,
                                     f"e{rng.randrange(500)}", rng.choice(("chef", "retail", "warehouse", "care")),
                                     rng.random() < 0.95) for j in jobs),
    )


def synthetic_cases(count: int, seed: int = 1) -> Iterator[CaseRecord]:
    rng = random.Random(seed)
    return (synthetic_case(n, rng) for n in range(count))


def timed(run: Callable[[], object]) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def traced(run: Callable[[], object]) -> tuple[float, float]:
    """Seconds and peak MiB with tracemalloc on (tracing itself slows the run 2-3 times)."""
    tracemalloc.start()
    seconds = timed(run)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return seconds, peak / 2**20


def in_memory(count: int, trace: bool) -> None:
    generate = timed(lambda: sum(1 for _ in synthetic_cases(count)))
    both = timed(lambda: kpi_report(synthetic_cases(count), STAFF, [], PERIOD))
    report = max(both - generate, 0.0)
    memory = f"peak {traced(lambda: kpi_report(synthetic_cases(count), STAFF, [], PERIOD))[1]:6.1f} MiB" if trace \
        else "peak not traced (time)"
    print(f"records   {count:>7,}  generate {generate:6.2f}s  generate+report {both:6.2f}s  report {report:6.2f}s "
          f" {1e6 * report / count:6.1f} us/case  {memory}")


def running_period(count: int) -> None:
    """A period still running is judged as of a day inside it: the caseload peak covers fewer days."""
    as_of = PERIOD.start + timedelta(days=180)
    seconds = timed(lambda: kpi_report(synthetic_cases(count), STAFF, [], PERIOD, as_of=as_of))
    print(f"running   {count:>7,}  generate+report as of {as_of} {seconds:6.2f}s")


def through_mongomock(count: int) -> None:
    import mongoengine
    import mongomock

    import linear_cursor

    linear_cursor.install()
    mongoengine.disconnect_all()
    mongoengine.connect(db="bench_kpis", host="mongodb://localhost", mongo_client_class=mongomock.MongoClient)
    db = mongoengine.get_db()
    rng = random.Random(2)
    db.clients.insert_many([synthetic_document(n, rng) for n in range(count)])
    seconds = timed(lambda: load_report(db, {}, PERIOD))
    peak = traced(lambda: load_report(db, {}, PERIOD))[1]
    scoped = timed(lambda: load_report(db, {"worker": ObjectId(WORKERS[0])}, PERIOD))
    print(f"mongomock {count:>7,}  load_report {seconds:7.2f}s  {1e6 * seconds / count:7.1f} us/case  "
          f"peak {peak:7.1f} MiB  (one worker's scope: {scoped:5.2f}s)")
    db.client.drop_database("bench_kpis")
    mongoengine.disconnect_all()


def main() -> None:
    print(f"kpi_report over {PERIOD.start}..{PERIOD.end}, {len(STAFF)} workers; peak memory under tracemalloc")
    for count in (1_000, 10_000, 100_000):
        in_memory(count, trace=True)
    running_period(10_000)
    for count in (1_000, 10_000):
        through_mongomock(count)


if __name__ == "__main__":
    main()
