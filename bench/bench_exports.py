"""Times the OPCC return and the evaluator extract on 1,000 / 10,000 (/ 100,000) case files, against plain xlsxwriter.

    .venv/bin/python bench/bench_exports.py                 # 1,000 and 10,000 case files
    .venv/bin/python bench/bench_exports.py 1000 100000     # any sizes

The case files live in mongomock (in-process, as in the tests) and each build streams them from there,
through a cursor made linear (bench/linear_cursor.py: mongomock's own copies the rest of the results for
every document it hands out). Times are CPU seconds of the process. "Reading alone" sends the same queries
(the case files with the same projection and sort, staff, employers, and for the OPCC return the grant
pots' figures, read from the case files with a bid) with
nothing done with the results: that part is mongomock's (it gathers and copies every matching document on
the first read), not the exports'. The baseline writes the same sheets with the same number of cells (each
sheet's used range) through xlsxwriter in constant_memory mode, with no data and no logic; the ratio is
build time over baseline time, reading included, and then without the reading (build time less reading
alone, over baseline time). A second reference, "same values", has xlsxwriter write the workbook's own values
(read back from the built file, untimed) with no formats and no logic: the baseline's cells are short, while a
report's text (the worker's account, recommendations) costs xlsxwriter more to escape and write, whoever
writes it. After the sizes it prints how each report's time grew from one size to the
next against the growth in case files (1.00 is linear). Each run happens in a forked child (Linux); "peak"
is how far the child's resident memory rose above where it started, so the database already loaded is not
counted (mongomock's copies of the documents it hands out are).
"""
from __future__ import annotations

import gc
import json
import os
import random
import re
import resource
import sys
import tempfile
import time
import zipfile
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Callable, Iterator

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import xlsxwriter  # noqa: E402
from bson import ObjectId  # noqa: E402

from admin_app.metrics.periods import financial_year  # noqa: E402
from exports import REPORTS, ExportContext  # noqa: E402
from admin_app.metrics.records import read_general_employer_contacts, read_staff, referred_by  # noqa: E402
from exports import casefiles, evaluator_extract, opcc_return  # noqa: E402

PERIOD = financial_year(2024)
FIRST_DAY = date(2023, 4, 1)
WORKERS = 40
MODES = ("face_to_face", "face_to_face", "phone", "message", "admin")
PLACES = ("community", "office", "online")
DIMENSION = re.compile(rb'<dimension ref="([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?"')


def dt(day: date) -> datetime:
    return datetime(day.year, day.month, day.day)


def seed_staff(db) -> list[ObjectId]:
    role = db.roles.insert_one({"name": "worker"}).inserted_id
    users = [ObjectId() for _ in range(WORKERS)]
    db.users.insert_many([{"_id": u, "email": f"worker{i}@bench.e4e", "name": f"Worker {i}", "roles": [role]}
                          for i, u in enumerate(users)])
    db.staff_profiles.insert_many([{"user": u, "fte": 1.0 if i % 4 else 0.6, "start_date": datetime(2022, 4, 1)}
                                   for i, u in enumerate(users)])
    employers = [{"_id": ObjectId(), "name": f"Employer {i}",
                  "employer_contacts": [{"date": dt(FIRST_DAY + timedelta(days=7 * w + i % 5)), "staff": users[i % WORKERS],
                                         "face_to_face": True, "purpose": "job_development", "note": "Site visit."}
                                        for w in range(100)]} for i in range(60)]
    db.employers.insert_many(employers)
    return users


def case_file(n: int, rng: random.Random, workers: list[ObjectId]) -> dict:
    """One `clients` document as MongoDB stores it, with the free text a real case file carries."""
    referred = FIRST_DAY + timedelta(days=rng.randrange(700))
    assessed = referred + timedelta(days=rng.randrange(5, 40))
    worker = workers[n % len(workers)]
    contact_days = sorted(assessed + timedelta(days=rng.randrange(400)) for _ in range(rng.randrange(5, 25)))
    jobs = [assessed + timedelta(days=rng.randrange(30, 420)) for _ in range(rng.choice((0, 0, 1, 1, 2)))]
    closed = assessed + timedelta(days=rng.randrange(200, 600)) if rng.random() < 0.4 else None
    history = [{"date": dt(referred), "status": "referred", "reason": "Referral received", "by": "manager@bench.e4e"},
               {"date": dt(assessed), "status": "active", "reason": "Plan agreed", "by": "manager@bench.e4e"}]
    if closed:
        history.append({"date": dt(closed), "status": "closed", "reason": "Support complete", "by": "manager@bench.e4e"})
    return {
        "_id": ObjectId(), "reference": f"E4E-{n:06d}", "first_name": "Sam", "last_name": f"Person{n}",
        "date_of_birth": dt(referred - timedelta(days=rng.randrange(18 * 366, 35 * 365))), "postcode": "B1 1AA",
        "worker": worker, "status": history[-1]["status"],
        "referral": {"date": dt(referred), "decision": rng.choice(("accepted",) * 8 + ("rejected", "withdrawn")),
                     "decision_date": dt(referred + timedelta(days=3)), "cohort": rng.choice(("at_risk", "convicted")),
                     "source": rng.choice(("probation", "yos", "self")), "rationale": "Meets the criteria."},
        "consent": {"recorded": True, "date": dt(assessed), "preferred_language": "English", "isa_version": "MAISA 3.0"},
        "assessment": {"date": dt(assessed), "agreed_to_take_part": rng.random() < 0.9, "readiness": "medium",
                       "goal": "employment", "previous_support": rng.random() < 0.3,
                       "employment_status": rng.choice(("unemployed", "inactive", "employed_needing_support"))},
        "status_history": history,
        "plan_goals": [{"goal": "Get a CV ready", "steps": "Weekly sessions.", "status": rng.choice(("open", "achieved")),
                        "due_date": dt(assessed + timedelta(days=180))}],
        "contacts": [{"date": dt(d), "minutes": rng.randrange(15, 120), "mode": rng.choice(MODES),
                      "place": rng.choice(PLACES), "out_of_hours": rng.random() < 0.1, "staff": worker,
                      "note": "Met in town; worked on applications and travel to the interview."} for d in contact_days],
        "employer_contacts": [{"date": dt(assessed + timedelta(days=rng.randrange(90))), "face_to_face": rng.random() < 0.7,
                               "employer": ObjectId(), "purpose": "job_development", "with_client": False,
                               "staff": worker, "note": "Job development."} for _ in range(rng.randrange(3))],
        "outcomes": [{"kind": rng.choice(("paid_employment", "self_employment")), "start_date": dt(j),
                      "end_date": dt(j + timedelta(days=rng.randrange(20, 300))) if rng.random() < 0.4 else None,
                      "employer": ObjectId(), "job_type": rng.choice(("chef", "retail", "warehouse", "care")),
                      "hours_per_week": 30.0, "competitive": rng.random() < 0.95} for j in jobs],
    }


def read_for_opcc(db) -> int:
    """The queries the OPCC return sends, with nothing done with the results: the database's share of the build.

    The case files (once, projected and sorted), staff, general employer contacts and the grant pots' figures."""
    from admin_app.grants import pot_figures

    fields = casefiles.projection(*opcc_return.CASE_PROJECTION_EXTRA)
    found = sum(1 for _ in db.clients.find(referred_by({}, PERIOD.end), projection=fields).sort("reference", 1))
    found += sum(1 for _ in read_staff(db)) + len(pot_figures(db, PERIOD.end))
    return found + sum(1 for _ in read_general_employer_contacts(db, start=PERIOD.start, end=PERIOD.end))


def read_for_extract(db) -> int:
    fields = evaluator_extract.projection()
    found = sum(1 for _ in db.clients.find(referred_by({}, PERIOD.end), projection=fields).sort("reference", 1))
    return found + sum(1 for _ in read_general_employer_contacts(db, start=PERIOD.start, end=PERIOD.end))


READS = {"opcc_return": read_for_opcc, "evaluator_extract": read_for_extract}


def seed(db, count: int) -> None:
    rng = random.Random(count)
    workers = seed_staff(db)
    for first in range(0, count, 5_000):
        db.clients.insert_many([case_file(n, rng, workers) for n in range(first, min(count, first + 5_000))])


def timed(run: Callable[[], object]) -> float:
    """CPU seconds of the process: the machine's other work does not count (a shared machine's wall clock varies)."""
    started = time.process_time()
    run()
    return time.process_time() - started


def in_child(run: Callable[[], object]) -> tuple[float, float, str]:
    """CPU seconds, peak resident memory growth (MiB) and the repr of the result, of `run` in a forked child."""
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(reader)
        start = _resident()
        result: list[object] = []
        seconds = timed(lambda: result.append(run()))
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
        os.write(writer, json.dumps([seconds, (peak - start) / 2**20, result[0]]).encode())
        os._exit(0)
    os.close(writer)
    with os.fdopen(reader) as pipe:
        seconds, peak, result = json.loads(pipe.read())
    os.waitpid(pid, 0)
    return seconds, peak, result


def _resident() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def used_ranges(path: str) -> list[tuple[int, int]]:
    """(rows, columns) of each sheet's used range, from the sheet XML's <dimension>."""
    shapes = []
    with zipfile.ZipFile(path) as archive:
        for name in sorted(n for n in archive.namelist() if n.startswith("xl/worksheets/sheet")):
            with archive.open(name) as sheet:
                found = DIMENSION.search(sheet.read(4096))
            if found and found[3]:
                shapes.append((int(found[4]) - int(found[2]) + 1, _column(found[3]) - _column(found[1]) + 1))
            else:
                shapes.append((1, 1))
    return shapes


def _column(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + letter - 64
    return number


def baseline(path: str, shapes: list[tuple[int, int]]) -> None:
    """The same sheets and cells, written by xlsxwriter with no data and no logic."""
    workbook = xlsxwriter.Workbook(path, {"constant_memory": True})
    for index, (rows, cols) in enumerate(shapes):
        sheet = workbook.add_worksheet(f"S{index}")
        for row in range(rows):
            for col in range(cols):
                if col % 2:
                    sheet.write_number(row, col, row + col)
                else:
                    sheet.write_string(row, col, "value")
    workbook.close()


def sheet_values(path: str) -> list[list[tuple]]:
    """Every sheet's rows of values, as a reader sees them."""
    import openpyxl

    workbook = openpyxl.load_workbook(path, read_only=True)
    try:
        return [list(sheet.iter_rows(values_only=True)) for sheet in workbook.worksheets]
    finally:
        workbook.close()


def same_values(path: str, sheets: list[list[tuple]]) -> None:
    """The workbook's own values written by xlsxwriter by type, with no formats, heights, widths or logic."""
    workbook = xlsxwriter.Workbook(path, {"constant_memory": True, "strings_to_formulas": False,
                                          "strings_to_urls": False, "strings_to_numbers": False})
    for index, rows in enumerate(sheets):
        sheet = workbook.add_worksheet(f"S{index}")
        for row, values in enumerate(rows):
            for col, value in enumerate(values):
                if isinstance(value, str):
                    sheet.write_string(row, col, value)
                elif isinstance(value, (int, float)):
                    sheet.write_number(row, col, value)
                elif isinstance(value, datetime):
                    sheet.write_datetime(row, col, value)
    workbook.close()


def measure(count: int, results: dict[str, list[tuple[int, float, float]]]) -> Iterator[str]:
    """Lines of figures for one size; (case files, build seconds, ratio) of each report go to `results`."""
    import mongoengine
    import mongomock

    import linear_cursor

    linear_cursor.install()

    mongoengine.disconnect_all()
    mongoengine.connect(db="bench_exports", host="mongodb://localhost", mongo_client_class=mongomock.MongoClient)
    db = mongoengine.get_db()
    db.client.drop_database("bench_exports")
    seeding = timed(lambda: seed(db, count))
    ctx = ExportContext(period=PERIOD, match={}, generated_at=datetime.utcnow(), generated_by="bench", schedule=None,
                        pseudonym_key="bench-key")
    yield f"{count:>8,} case files seeded into mongomock in {seeding:.1f}s"
    gc.collect()
    gc.freeze()  # the stored case files stand for a database server: keep them out of the collector's way
    with tempfile.TemporaryDirectory() as folder:
        for key in ("opcc_return", "evaluator_extract"):
            path, plain = f"{folder}/{key}.xlsx", f"{folder}/{key}-baseline.xlsx"
            read, read_peak, _ = in_child(lambda: READS[key](db))
            seconds, peak, rows = in_child(lambda: REPORTS[key].build(db, path, ctx))
            shapes = used_ranges(path)
            cells = sum(r * c for r, c in shapes)
            base, base_peak, _ = in_child(lambda: baseline(plain, shapes))
            values = sheet_values(path)
            same, _, _ = in_child(lambda: same_values(plain, values))
            del values
            results.setdefault(key, []).append((count, seconds, seconds / base))
            yield (f"{'':>8}  {key:<18} rows {sum(rows.values()):>9,}  cells {cells:>10,}  "
                   f"build {seconds:6.2f}s peak {peak:5.1f} MiB  (reading alone {read:6.2f}s {read_peak:5.1f} MiB)  "
                   f"| xlsxwriter alone {base:5.2f}s {base_peak:4.1f} MiB  "
                   f"| ratio {seconds / base:4.1f}x, without the reading {(seconds - read) / base:4.1f}x  "
                   f"| same values {same:5.2f}s: ratio {seconds / same:4.1f}x, without the reading "
                   f"{(seconds - read) / same:4.1f}x")
    gc.unfreeze()
    db.client.drop_database("bench_exports")
    mongoengine.disconnect_all()


def growth(results: dict[str, list[tuple[int, float, float]]]) -> Iterator[str]:
    """How each report's time grows with the case files: 1.0 per step is linear."""
    for key, runs in results.items():
        steps = [f"{a:,} -> {b:,}: x{tb / ta:.1f} time for x{b / a:.0f} case files ({(tb / ta) / (b / a):.2f} of linear)"
                 for (a, ta, _), (b, tb, _) in zip(runs, runs[1:])]
        ratios = ", ".join(f"{ratio:.1f}x at {count:,}" for count, _, ratio in runs)
        yield f"{key:<18} ratio to xlsxwriter {ratios}" + (f"; {'; '.join(steps)}" if steps else "")


def main(argv: list[str]) -> None:
    sizes = [int(a.replace(",", "").replace("_", "")) for a in argv] or [1_000, 10_000]
    print(f"Exports for {PERIOD.start}..{PERIOD.end}, {WORKERS} workers; "
          "peak = rise in resident memory during the run")
    results: dict[str, list[tuple[int, float, float]]] = {}
    for count in sizes:
        for line in measure(count, results):
            print(line, flush=True)
    print("Growth with size")
    for line in growth(results):
        print(line, flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
