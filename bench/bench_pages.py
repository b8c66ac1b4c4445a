"""Each main page's server time, database calls and bytes at 1,000 and 10,000 case files; JSON to
bench/out/pages.json (and stdout).

    .venv/bin/python bench/bench_pages.py                 # 1,000 and 10,000 case files
    .venv/bin/python bench/bench_pages.py 1000            # any sizes
    .venv/bin/python bench/bench_pages.py --runs 5        # runs per figure (default 5)
    .venv/bin/python bench/bench_pages.py --only "worker dashboard"   # these figures only, merged into the file

The case files are the demo generator's (admin_app/demo.py), in mongomock, in this process. Each
page is one request through the Flask test client, signed in as the demo manager: the time is the
median of the runs after one warm-up request, "db_calls" are counted at the mongomock Collection
level as in bench_casefile.py (each call that would be a round trip to MongoDB), "bytes" is the
response body.

"worker dashboard" is the first demo worker's own dashboard; "fidelity review scoring" is what saving
a review computes (its data-scored items), timed as a call. Both read figures kept ready
(admin_app/snapshots.py): the first request of a minute computes them, the others read them.

For the client list, "bare_ratio" compares it with a bare Flask-Admin ModelView over the same
collection, the same 20 rows and the same columns (without our scoping, computed columns or audit):
its time and db calls, and ours divided by its.

mongomock sorts and filters in Python over the whole collection on every query, with no indexes,
so times grow with the collection here where a MongoDB server reads an index range; the db calls
per page are the figure that carries over.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_casefile import PASSWORD, CallCounter, token  # noqa: E402

OUT = Path(__file__).resolve().parent / "out" / "pages.json"
PAGES = (
    ("home", "/admin/"),
    ("client list", "/admin/client/"),
    ("client list sorted by surname", "/admin/client/?sort=2"),
    ("client search", "/admin/client/?search=smi"),
    ("client whole-file edit form", None),
    ("case-file page", None),
    ("audit log", "/admin/auditevent/"),
    ("saved filters", "/admin/savedfilter/"),
    ("service dashboard", "/admin/dashboard/"),
    ("grant bids", "/admin/grantbid/"),
    ("export runs", "/admin/exportrun/"),
)


def build(folder: Path, clients: int):
    from flask_admin.contrib.mongoengine import ModelView
    from flask_security import hash_password

    from admin_app import create_app
    from admin_app.cli import DEMO_DOMAIN, demo_users
    from admin_app.demo import generate_demo
    from admin_app.metrics.periods import london_today
    from admin_app.models import Client, User
    from admin_app.security import datastore, sync_roles
    from config import load_settings

    settings = load_settings({"SEED_DEMO": "false", "LOGIN_RATE_LIMITS": "100000 per minute",
                              "ADDRESS_RATE_LIMITS": "100000 per minute", "MAIL_FOLDER": str(folder / "mail")})
    app = create_app(settings, TESTING=True,
                     SECURITY_PASSWORD_HASH_PASSLIB_OPTIONS={"argon2__rounds": 1, "argon2__memory_cost": 64})

    class BareClientView(ModelView):
        column_list = ("reference", "first_name", "last_name", "worker", "status")
        page_size = 20

    app.extensions["admin"][0].add_view(BareClientView(Client, name="Bare", endpoint="bareclient",
                                                       url="/admin/bareclient"))
    with app.app_context():
        sync_roles()
        for email, name, role in demo_users():
            datastore.create_user(email=email, name=name, password=hash_password(PASSWORD), roles=[role])
        workers = [u for u in User.objects() if u.has_role("worker")]
        managers = [u for u in User.objects() if u.has_role("manager")]
        generate_demo(workers, managers, today=london_today(), clients=clients)
        some = Client.objects.only("id").order_by("reference").first()
    return app, f"manager@{DEMO_DOMAIN}", some.pk


def measure(counter, http, url, runs):
    http.get(url)
    seconds, sizes, calls = [], [], 0
    for _ in range(runs):
        with counter.counting():
            started = time.perf_counter()
            response = http.get(url)
            seconds.append(time.perf_counter() - started)
            calls = counter.summary()[0]
        if response.status_code != 200:
            raise SystemExit(f"{url} answered {response.status_code}")
        sizes.append(len(response.get_data()))
    return {"median_ms": round(statistics.median(seconds) * 1000, 1), "db_calls": calls,
            "bytes": int(statistics.median(sizes))}


def measure_review(app, counter, runs):
    """Scoring a fidelity review for this financial year, as saving the review form does (no page)."""
    from admin_app.metrics.periods import financial_year_of, london_today
    from admin_app.models.fidelity import FidelityReview
    from admin_app.views.fidelity import score_review

    today = london_today()
    year = financial_year_of(today)
    with app.app_context():
        review = FidelityReview(review_date=today, period_start=year.start, period_end=year.end)
        score_review(review, today)
        seconds, calls = [], 0
        for _ in range(runs):
            with counter.counting():
                started = time.perf_counter()
                score_review(review, today)
                seconds.append(time.perf_counter() - started)
                calls = counter.summary()[0]
    return {"median_ms": round(statistics.median(seconds) * 1000, 1), "db_calls": calls}


def run(clients: int, runs: int, counter, only=()) -> dict:

    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        app, manager, some_client = build(Path(folder), clients)
        print(f"  {clients} case files made in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        http = app.test_client()
        login = http.post("/login", data={"email": manager, "password": PASSWORD,
                                          "csrf_token": token(http, "/login")})
        if login.status_code != 302:
            raise SystemExit("the benchmark's manager could not sign in")
        figures = {}
        wanted = lambda name: not only or name in only  # noqa: E731
        for name, url in PAGES:
            if not wanted(name):
                continue
            url = url or (f"/admin/client/edit/?id={some_client}" if "edit" in name
                          else f"/admin/casefile/{some_client}/")
            figures[name] = measure(counter, http, url, runs)
            print(f"  {name}: {figures[name]}", file=sys.stderr)
        # A worker's own dashboard, signed in as the first demo worker (a caseload among all the case files).
        worker = app.test_client()
        signed = worker.post("/login", data={"email": manager.replace("manager@", "worker1@"), "password": PASSWORD,
                                             "csrf_token": token(worker, "/login")})
        if signed.status_code != 302:
            raise SystemExit("the benchmark's worker could not sign in")
        if wanted("worker dashboard"):
            figures["worker dashboard"] = measure(counter, worker, "/admin/dashboard/", runs)
            print(f"  worker dashboard: {figures['worker dashboard']}", file=sys.stderr)
        if wanted("fidelity review scoring"):
            figures["fidelity review scoring"] = measure_review(app, counter, runs)
            print(f"  fidelity review scoring: {figures['fidelity review scoring']}", file=sys.stderr)
        if not wanted("client list"):
            return figures
        bare = measure(counter, http, "/admin/bareclient/", runs)
        ours = figures["client list"]
        figures["client list"]["bare_ratio"] = {
            "bare_median_ms": bare["median_ms"], "bare_db_calls": bare["db_calls"],
            "time": round(ours["median_ms"] / bare["median_ms"], 2) if bare["median_ms"] else None,
            "db_calls": round(ours["db_calls"] / bare["db_calls"], 2) if bare["db_calls"] else None,
        }
        return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[1000, 10000])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--only", action="append", default=[], help="measure only this figure (repeatable); "
                        "the others already in the file are kept, each measured figure carries its date")
    args = parser.parse_args()
    from linear_cursor import install

    from admin_app.metrics.periods import london_today

    install()
    counter = CallCounter()
    counter.install()
    result = {"measured_on": london_today().isoformat(), "runs": args.runs, "store": "mongomock, in process",
              "case_files": {}}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    if args.only and OUT.exists():
        result = json.loads(OUT.read_text())
    for size in args.sizes:
        figures = run(size, args.runs, counter, tuple(args.only))
        if args.only:
            for found in figures.values():
                found["measured_on"] = london_today().isoformat()
            result["case_files"].setdefault(str(size), {}).update(figures)
        else:
            result["case_files"][str(size)] = figures
        OUT.write_text(json.dumps(result, indent=2) + "\n")  # each size as soon as it is measured
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
