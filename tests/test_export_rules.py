"""The export runner's pure rules: periods of a schedule, cron timing in UK time, back-off."""
from datetime import date, datetime

import pytest

from admin_app import export_runs
from admin_app.metrics.periods import Period


@pytest.mark.parametrize("rule, day, start, end", [
    ("previous_quarter", date(2026, 7, 5), date(2026, 4, 1), date(2026, 6, 30)),
    ("previous_quarter", date(2026, 4, 1), date(2026, 1, 1), date(2026, 3, 31)),
    ("previous_month", date(2026, 3, 1), date(2026, 2, 1), date(2026, 2, 28)),
    ("previous_month", date(2026, 1, 10), date(2025, 12, 1), date(2025, 12, 31)),
    ("fy_to_date", date(2026, 11, 25), date(2026, 4, 1), date(2026, 11, 25)),
    ("fy_to_date", date(2027, 2, 3), date(2026, 4, 1), date(2027, 2, 3)),
])
def test_a_schedule_covers_the_period_its_rule_names(rule, day, start, end):
    assert export_runs.period_for(rule, day) == Period(start, end)


@pytest.mark.parametrize("text", ["", "every day", "0 7 * *", "61 7 * * *", "0 7 32 * *", "0 7 * * * *"])
def test_bad_timing_is_explained(text):
    assert "five cron fields" in export_runs.cron_problem(text)


def test_good_timing_is_accepted():
    assert export_runs.cron_problem(" 0 7 5 1,4,7,10 * ") is None


def test_timing_is_read_in_uk_time_across_the_clock_change():
    # 07:00 in London is 06:00 UTC in summer and 07:00 UTC in winter.
    assert export_runs.next_due("0 7 * * *", datetime(2026, 7, 1, 12, 0)) == datetime(2026, 7, 2, 6, 0)
    assert export_runs.next_due("0 7 * * *", datetime(2026, 12, 1, 12, 0)) == datetime(2026, 12, 2, 7, 0)
    # The quarter's 5th at 07:00: after 5 July 07:00 BST comes 5 October.
    assert export_runs.next_due("0 7 5 1,4,7,10 *", datetime(2026, 7, 5, 6, 0)) == datetime(2026, 10, 5, 6, 0)


def test_local_date_of_a_utc_moment():
    assert export_runs.local_date(datetime(2026, 6, 30, 23, 30)) == date(2026, 7, 1)
    assert export_runs.local_date(datetime(2026, 12, 31, 23, 30)) == date(2026, 12, 31)


def test_back_off_doubles_and_is_capped():
    waits = [export_runs.backoff_seconds(attempt, 60) for attempt in range(1, 8)]
    assert waits[:4] == [60, 120, 240, 480]
    assert max(waits) == 3600 and waits == sorted(waits)


def test_a_run_key_names_schedule_and_period():
    period = Period(date(2026, 4, 1), date(2026, 6, 30))
    assert export_runs.run_key("abc", period) == "abc:2026-04-01:2026-06-30"
    assert export_runs.run_key("abc", period) != export_runs.run_key("abd", period)
