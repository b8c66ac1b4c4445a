"""Out of hours, worked out from a contact's start time: Monday to Friday 09:00-17:00 is in hours, bank holidays
of England and Wales are not."""
from __future__ import annotations

from datetime import date

import pytest

from admin_app.metrics.working_hours import contact_out_of_hours, is_bank_holiday, parse_start_time

MONDAY = date(2026, 11, 23)
SATURDAY, SUNDAY = date(2026, 11, 28), date(2026, 11, 29)


@pytest.mark.parametrize("day, start, out", [
    (MONDAY, "08:59", True),
    (MONDAY, "09:00", False),      # opening time is in hours
    (MONDAY, "16:59", False),
    (MONDAY, "17:00", True),       # closing time is out of hours
    (MONDAY, "23:30", True),
    (MONDAY, "00:00", True),
    (SATURDAY, "11:00", True),
    (SUNDAY, "11:00", True),
    (date(2026, 12, 25), "11:00", True),   # Christmas Day, a Friday
    (date(2026, 12, 28), "11:00", True),   # Boxing Day falls on a Saturday: the Monday after is the bank holiday
    (date(2026, 12, 29), "11:00", False),
    (date(2025, 8, 25), "10:00", True),    # summer bank holiday (England and Wales; not Scotland's)
    (date(2025, 8, 4), "10:00", False),    # Scotland's summer bank holiday is a working day here
    (date(2025, 3, 17), "10:00", False),   # St Patrick's Day: Northern Ireland only
])
def test_out_of_hours_at_the_boundaries(day, start, out):
    assert contact_out_of_hours(day, start, ticked=False) is out
    assert contact_out_of_hours(day, start, ticked=True) is out  # the start time wins over a tick


def test_a_contact_without_a_start_time_keeps_the_workers_tick():
    assert contact_out_of_hours(MONDAY, None, ticked=True) is True
    assert contact_out_of_hours(MONDAY, "", ticked=False) is False


def test_bank_holidays_are_those_of_england_and_wales():
    assert is_bank_holiday(date(2026, 5, 4)) and is_bank_holiday(date(2026, 4, 3))  # early May, Good Friday
    assert not is_bank_holiday(date(2026, 1, 2))  # a Scottish bank holiday only


@pytest.mark.parametrize("text", ["9", "9.30", "24:00", "12:60", "ab:cd", "1230", "7:5"])
def test_a_start_time_that_is_not_a_time_is_refused_with_a_message(text):
    with pytest.raises(ValueError, match="24-hour clock|time of day"):
        parse_start_time(text)
