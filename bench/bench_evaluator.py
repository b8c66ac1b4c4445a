"""The evaluator's dashboard and API pages at 1,000 and 5,000 case files (the demo generator's, in mongomock):
server time per request (median of runs after a warm-up) and response bytes. Prints a table.

    .venv/bin/python bench/bench_evaluator.py            # 1,000 and 5,000 case files
    .venv/bin/python bench/bench_evaluator.py 300 --runs 3

The dashboard and /figures read a snapshot of the figures (admin_app/snapshots.py), so the warm-up request
computes them and the timed ones read them; "first" is the warm-up's time. mongomock scans in Python, so times grow faster here than on a MongoDB server; the shape (what grows with
what) carries over.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_pages import PASSWORD, build  # noqa: E402


def timed(http, url, runs, headers=None):
    started = time.perf_counter()
    http.get(url, headers=headers)
    first = time.perf_counter() - started
    seconds, size = [], 0
    for _ in range(runs):
        started = time.perf_counter()
        response = http.get(url, headers=headers)
        seconds.append(time.perf_counter() - started)
        size = len(response.data)
        assert response.status_code == 200, (url, response.status_code, response.data[:200])
    return first, statistics.median(seconds), size


def run(clients: int, runs: int) -> list[tuple]:
    from admin_app.evaluator import tokens
    from admin_app.metrics.periods import london_today
    from admin_app.models import User
    from admin_app.models.api_tokens import ApiToken

    with tempfile.TemporaryDirectory() as folder:
        app, _, _ = build(Path(folder), clients)
        app.config["SETTINGS"] = app.config["SETTINGS"].__class__(
            **{**app.config["SETTINGS"].__dict__, "evaluator_api_limits": "100000 per minute"})
        with app.app_context():
            evaluator = User.objects(email__startswith="evaluator@").first()
            token = tokens.issue(ApiToken(user=evaluator, name="bench", scopes=["cases:read", "events:read",
                                                                              "figures:read"],
                                          expires_on=london_today() + timedelta(days=1)), app.config["SECRET_KEY"])
        http = app.test_client()
        page = http.get("/login").get_data(as_text=True)
        csrf = page.split('name="csrf_token"')[1].split('value="')[1].split('"')[0]
        http.post("/login", data={"email": evaluator.email, "password": PASSWORD, "csrf_token": csrf})
        api = app.test_client()
        bearer = {"Authorization": f"Bearer {token}"}
        return [(clients, name, *timed(client, url, runs, headers)) for name, client, url, headers in (
            ("evaluator dashboard (this year)", http, "/admin/evaluator/", None),
            ("API /figures (this year)", api, "/api/evaluator/v1/figures", bearer),
            ("API /cases, 200 per page", api, "/api/evaluator/v1/cases?limit=200", bearer),
            ("API /events, 50 case files", api, "/api/evaluator/v1/events?limit=50", bearer),
        )]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("sizes", nargs="*", type=int, default=[1000, 5000])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(f"{'case files':>10}  {'page':<34} {'first s':>8} {'median s':>9} {'bytes':>10}")
    for size in args.sizes:
        for clients, name, first, seconds, size_bytes in run(size, args.runs):
            print(f"{clients:>10}  {name:<34} {first:>8.2f} {seconds:>9.2f} {size_bytes:>10,}", flush=True)


if __name__ == "__main__":
    main()
