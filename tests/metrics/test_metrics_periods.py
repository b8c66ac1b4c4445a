"""Reporting periods: financial years, quarters and parsing."""
from __future__ import annotations

from datetime import date

import pytest

from admin_app.metrics.periods import (
    Period,
    financial_year,
    financial_year_of,
    financial_year_to_date,
    parse_period,
    previous_month,
    previous_quarter,
    quarter,
    quarter_of,
)


def test_financial_year_runs_1_april_to_31_march():
    assert financial_year(2024) == Period(date(2024, 4, 1), date(2025, 3, 31))
    assert financial_year_of(date(2025, 3, 31)) == financial_year(2024)
    assert financial_year_of(date(2025, 4, 1)) == financial_year(2025)


@pytest.mark.parametrize("number, start, end", [
    (1, date(2024, 4, 1), date(2024, 6, 30)), (2, date(2024, 7, 1), date(2024, 9, 30)),
    (3, date(2024, 10, 1), date(2024, 12, 31)), (4, date(2025, 1, 1), date(2025, 3, 31)),
])
def test_quarters_follow_the_financial_year(number, start, end):
    assert quarter(2024, number) == Period(start, end)
    assert quarter_of(end) == Period(start, end)


def test_period_is_inclusive_at_both_ends():
    q1 = quarter(2024, 1)
    assert date(2024, 4, 1) in q1 and date(2024, 6, 30) in q1
    assert date(2024, 3, 31) not in q1 and date(2024, 7, 1) not in q1
    assert q1.days == 91


def test_previous_quarter_month_and_year_to_date():
    assert previous_quarter(date(2024, 4, 15)) == quarter(2023, 4)
    assert previous_month(date(2024, 3, 5)) == Period(date(2024, 2, 1), date(2024, 2, 29))
    assert financial_year_to_date(date(2024, 12, 1)) == Period(date(2024, 4, 1), date(2024, 12, 1))


@pytest.mark.parametrize("text, expected", [
    ("2024-04-01..2025-03-31", financial_year(2024)),
    ("FY2024", financial_year(2024)),
    ("2024/25", financial_year(2024)),
    ("2024-25", financial_year(2024)),
    ("2024/25 Q3", quarter(2024, 3)),
    ("FY2024Q4", quarter(2024, 4)),
    ("2024-07", Period(date(2024, 7, 1), date(2024, 7, 31))),
    ("2024-07-09", Period(date(2024, 7, 9), date(2024, 7, 9))),
])
def test_parse_period_reads_the_usual_forms(text, expected):
    assert parse_period(text) == expected


@pytest.mark.parametrize("text", ["", "next year", "2024/26", "2025-03-31..2024-04-01", "2024-02-30"])
def test_parse_period_explains_what_is_wrong(text):
    with pytest.raises(ValueError):
        parse_period(text)
