"""Times the case-file page and its task forms for a client with 20 / 200 / 2,000 contacts; prints figures.

    .venv/bin/python bench/bench_casefile.py                # 20, 200 and 2,000 contacts
    .venv/bin/python bench/bench_casefile.py 20 20000       # any sizes
    .venv/bin/python bench/bench_casefile.py --runs 15      # runs per figure (default 9)

Each figure is one request made through the Flask test client, in-process, on mongomock (as in the
tests and the embedded demo), signed in as the client's worker: the server time is the median of the
runs (after one warm-up request that is not counted), the bytes are the response body's.

"db calls" are counted by this benchmark only, at the mongomock Collection level: pymongo's command
monitoring sees nothing on mongomock, so every call of a Collection method that would be a round trip
to MongoDB (find, find_one, update_one, insert_one, count_documents, aggregate, …) is counted once; a
call made from inside another one (mongomock's find_one calls its own find) is not counted again, and
reading a cursor's later batches (getMore on a server) is not counted. The breakdown names the
collections.

mongomock copies the whole document on every update, however small the update, so on mongomock the
time of a POST that adds or changes one item still grows with the size of the case file; a MongoDB
server applies a $push or an item's $set in place. The case-file page and the whole-file edit form
grow for a reason a server shares: they load the whole case file into mongoengine documents.

Besides the contacts, each case file holds a proportionate number of the other parts: per 20 contacts
4 employer contacts, 2 plan goals (only the last three open), 1 outcome (ended), 1 risk assessment,
1 risk note, 1 benefits session, 1 onward referral and 1 quarterly update; per 200 contacts
1 safeguarding concern and 1 disclosure.
"""
from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

PASSWORD = "bench-password-2026"
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')
#: The mongomock Collection methods that would each be a round trip to a MongoDB server.
COUNTED = ("find", "find_one", "find_one_and_update", "find_one_and_replace", "find_one_and_delete",
           "insert_one", "insert_many", "update_one", "update_many", "replace_one", "delete_one", "delete_many",
           "count_documents", "estimated_document_count", "aggregate", "distinct", "bulk_write",
           "create_index", "create_indexes", "index_information", "list_indexes")


# --- counting database calls (this benchmark only) ------------------------------------------------

class CallCounter:
    """Counts the outermost calls of COUNTED mongomock Collection methods, per collection and method."""

    def __init__(self):
        self.calls: Counter = Counter()
        self._depth = threading.local()

    def install(self) -> None:
        from mongomock.collection import Collection

        for name in COUNTED:
            original = getattr(Collection, name, None)
            if original is not None:
                setattr(Collection, name, self._wrap(name, original))

    def _wrap(self, method, original):
        counter = self

        def counted(collection, *args, **kwargs):
            depth = getattr(counter._depth, "value", 0)
            if depth == 0:
                counter.calls[(collection.name, method)] += 1
            counter._depth.value = depth + 1
            try:
                return original(collection, *args, **kwargs)
            finally:
                counter._depth.value = depth

        counted.__wrapped__ = original
        return counted

    @contextmanager
    def counting(self):
        self.calls.clear()
        yield self

    def summary(self) -> tuple[int, str]:
        per_collection = Counter()
        for (collection, _), n in self.calls.items():
            per_collection[collection] += n
        total = sum(per_collection.values())
        return total, " ".join(f"{c} {n}" for c, n in sorted(per_collection.items(), key=lambda kv: (-kv[1], kv[0])))


# --- the data ---------------------------------------------------------------------------------------

def build_app(folder: Path):
    from admin_app import create_app
    from config import load_settings

    settings = load_settings({"SEED_DEMO": "false", "LOGIN_RATE_LIMITS": "100000 per minute",
                              "MAIL_FOLDER": str(folder / "mail")})
    return create_app(settings, TESTING=True,
                      SECURITY_PASSWORD_HASH_PASSLIB_OPTIONS={"argon2__rounds": 1, "argon2__memory_cost": 64})


def make_worker(app):
    from flask_security import hash_password

    from admin_app.security import datastore

    with app.app_context():
        return datastore.create_user(email="bench.worker@bench.e4e", name="Bench Worker",
                                     password=hash_password(PASSWORD), roles=["worker"])


def make_partners(app):
    """The employers and the partner organisation every case file refers to (made once, so that the forms'
    drop-downs list the same records at every size)."""
    from admin_app.models.partners import Employer, Organisation

    with app.app_context():
        employers = [Employer(name=f"Employer {i}").save() for i in range(5)]
        return employers, Organisation(name="Start-up partner", kind="signposting_partner").save()


def make_case_file(app, worker, partners, contacts: int, reference: str):
    """A case file with `contacts` contacts and the other parts in proportion; returns (id, a contact's id).
    Everything but the lists is the same at every size, so the sizes of the pages compare."""
    from admin_app.models.case_file import (
        BenefitsSession, Client, Contact, Disclosure, EmployerContact, OnwardReferral, Outcome, PlanGoal, Referral,
        RiskAssessment, RiskNote, SafeguardingConcern, StatusChange,
    )
    today = date.today()
    employers, partner = partners
    start = today - timedelta(days=3 * 365)
    per20, per200 = max(contacts // 20, 1), max(contacts // 200, 1)

    def day(i: int, count: int) -> date:
        return start + timedelta(days=(i * 3 * 365) // max(count, 1))

    with app.app_context():
        modes = ("face_to_face", "face_to_face", "phone", "message", "admin")
        client = Client(
            reference=reference, first_name="Bench", last_name="Client",
            date_of_birth=today - timedelta(days=365 * 25), worker=worker, status="active",
            referral=Referral(date=start - timedelta(days=10), source="probation", cohort="convicted",
                              decision="accepted", decision_date=start - timedelta(days=5)),
            status_history=[StatusChange(date=start - timedelta(days=5), status="assessed", by="manager@bench.e4e"),
                            StatusChange(date=start, status="active", by="bench.worker@bench.e4e")],
            contacts=[Contact(date=day(i, contacts), minutes=15 + (i * 7) % 100, mode=modes[i % 5],
                              place=("community", "office", None)[i % 3], out_of_hours=i % 10 == 0, staff=worker,
                              note=f"Contact {i}: talked through the week's applications and the next steps.")
                      for i in range(contacts)],
            employer_contacts=[EmployerContact(date=day(i, 4 * per20), employer=employers[i % 5], staff=worker,
                                               face_to_face=i % 3 != 0, note="Job development visit.")
                               for i in range(4 * per20)],
            plan_goals=[PlanGoal(goal=f"Goal {i}", steps="Update the CV; apply for two jobs a week.",
                                 due_date=day(i, 2 * per20) + timedelta(days=60),
                                 status="open" if i >= 2 * per20 - 3 else "achieved") for i in range(2 * per20)],
            outcomes=[Outcome(kind=("paid_employment", "training", "self_employment")[i % 3], start_date=day(i, per20),
                              end_date=day(i, per20) + timedelta(days=120), employer=employers[i % 5],
                              job_type="Warehouse operative", hours_per_week=30, reason_for_leaving="Contract ended")
                      for i in range(per20)],
            risk_assessments=[RiskAssessment(date=day(i, per20), kind="individual", level="medium",
                                             mitigations="Meet in the office.", assessor=worker) for i in range(per20)],
            risk_notes=[RiskNote(date=day(i, per20), level="medium", text="Seen with a rival group's members.",
                                 author=worker) for i in range(per20)],
            benefits_sessions=[BenefitsSession(date=day(i, per20), minutes=45, topic="Better-off calculation")
                               for i in range(per20)],
            onward_referrals=[OnwardReferral(date=day(i, per20), organisation=partner, purpose="Start-up advice")
                              for i in range(per20)],
            safeguarding_concerns=[SafeguardingConcern(date=day(i, per200), concern="Housing at risk.",
                                                       referred_to="Housing team") for i in range(per200)],
            disclosures=[Disclosure(date=day(i, per200), basis="threat_to_life", decided_by="Manager",
                                    authorised_by="Service manager", shared_with="WMP", what_shared="The threat.",
                                    written_report_date=day(i, per200) + timedelta(days=2)) for i in range(per200)],
        )
        client.save()
        return client.pk, client.contacts[len(client.contacts) // 2].id


# --- the requests -----------------------------------------------------------------------------------

def signed_in(app, email: str):
    client = app.test_client()
    response = client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token(client, "/login")})
    if response.status_code != 302:
        raise SystemExit("the benchmark's worker could not sign in")
    return client


def token(http, url: str) -> str:
    page = http.get(url).get_data(as_text=True)
    return next(g for g in CSRF.search(page).groups() if g)


def requests_for(http, pk, contact_id, worker_id):
    """(label, prepare, send) per figure: prepare() runs untimed (a POST's form is fetched there, as a
    browser has it before the person presses Save); send(prepared) is the request measured."""
    from tests.forms import browser_submission

    page = f"/admin/casefile/{pk}/"
    add = f"/admin/casefile/{pk}/add/contacts"
    change = f"/admin/casefile/{pk}/edit/contacts/{contact_id}"
    today = date.today().isoformat()
    changes = iter(range(10**9))

    def new_contact():
        return {"csrf_token": token(http, add), "date": today, "minutes-hours": "0", "minutes-minutes": "45",
                "mode": "face_to_face", "place": "__None", "staff": str(worker_id), "note": ""}

    def changed_contact():
        fields = dict(browser_submission(http.get(change).get_data(as_text=True), "task-form"))
        return {**fields, "note": f"Changed note {next(changes)}"}

    def nothing():
        return None

    return [
        ("case-file page GET", nothing, lambda _: http.get(page)),
        ("contact form GET", nothing, lambda _: http.get(add)),
        ("contact form POST (adds one)", new_contact, lambda data: http.post(add, data=data)),
        ("contact change form GET", nothing, lambda _: http.get(change)),
        ("contact change POST (note)", changed_contact, lambda data: http.post(change, data=data)),
        ("outcome form GET", nothing, lambda _: http.get(f"/admin/casefile/{pk}/add/outcomes")),
        ("status form GET", nothing, lambda _: http.get(f"/admin/casefile/{pk}/add/status_history")),
        ("whole-file edit form GET", nothing, lambda _: http.get(f"/admin/client/edit/?id={pk}")),
    ]


def measure(counter: CallCounter, prepare, send, runs: int):
    """Median seconds and response bytes of one request, and its db calls, over `runs` runs after a warm-up."""
    send(prepare())
    seconds, sizes, calls = [], [], (0, "")
    for _ in range(runs):
        prepared = prepare()
        with counter.counting():
            started = time.perf_counter()
            response = send(prepared)
            seconds.append(time.perf_counter() - started)
            calls = counter.summary()
        expected = 302 if prepared else 200
        if response.status_code != expected:
            raise SystemExit(f"expected {expected}, the request answered {response.status_code}: "
                             f"{response.get_data(as_text=True)[:300]}")
        sizes.append(len(response.get_data()))
    return statistics.median(seconds), int(statistics.median(sizes)), calls


def document_bytes(app, pk) -> int:
    import bson

    from admin_app.models.case_file import Client

    with app.app_context():
        return len(bson.encode(Client._get_collection().find_one({"_id": pk})))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[20, 200, 2000])
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()

    import linear_cursor

    linear_cursor.install()
    counter = CallCounter()
    counter.install()
    app = build_app(Path(tempfile.mkdtemp(prefix="bench_casefile_")))
    worker = make_worker(app)
    partners = make_partners(app)
    http = signed_in(app, worker.email)

    print(f"Case-file page and task forms: Flask test client on mongomock, signed in as the worker; "
          f"server time is the median of {args.runs} runs after a warm-up.")
    print("db calls: counted by this benchmark at the mongomock Collection level (outermost calls), "
          "not by pymongo's command monitoring.\n")
    header = f"{'contacts':>8}  {'request':<29} {'server ms':>9} {'bytes':>8} {'db calls':>8}  by collection"
    print(header)
    print("-" * (len(header) + 30))
    edit_form = {}
    for n, size in enumerate(args.sizes):
        pk, contact_id = make_case_file(app, worker, partners, size, f"E4E-BENCH{n:02d}")
        for label, prepare, send in requests_for(http, pk, contact_id, worker.pk):
            seconds, nbytes, (calls, by) = measure(counter, prepare, send, args.runs)
            if label.startswith("whole-file"):
                edit_form[size] = nbytes
            print(f"{size:>8,}  {label:<29} {1000 * seconds:>9.1f} {nbytes:>8,} {calls:>8}  {by}")
        print(f"{'':>8}  (the case file's document: {document_bytes(app, pk):,} bytes as BSON)\n")
    print("Whole-file edit form, bytes by number of contacts: "
          + ", ".join(f"{s:,}: {edit_form[s]:,}" for s in sorted(edit_form))
          + f"; largest minus smallest: {max(edit_form.values()) - min(edit_form.values()):,} bytes.")


if __name__ == "__main__":
    main()
