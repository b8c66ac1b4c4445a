"""Working hours: whether a contact was out of hours (outside Monday to Friday 09:00-17:00, or on a bank holiday)."""
from __future__ import annotations

from datetime import date, time
from functools import lru_cache

import holidays

OPENS = time(9, 0)
CLOSES = time(17, 0)


@lru_cache(maxsize=64)
def _bank_holidays(year: int) -> holidays.HolidayBase:
    # England and Wales share one list of bank holidays; the library keeps it (and the substitute days) up to date.
    return holidays.country_holidays("GB", subdiv="ENG", years=year)


def is_bank_holiday(day: date) -> bool:
    return day in _bank_holidays(day.year)


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and not is_bank_holiday(day)


def parse_start_time(text: str | None) -> time | None:
    """A contact's start time as typed ("HH:MM", 24-hour clock); None when blank. ValueError when it is not a time."""
    if text is None or not str(text).strip():
        return None
    raw = str(text).strip()
    hours, sep, minutes = raw.partition(":")
    if not sep or not hours.isdigit() or not minutes.isdigit() or len(minutes) != 2 or len(hours) > 2:
        raise ValueError(f"{raw!r} is not a time: give it as hours and minutes on the 24-hour clock, such as 17:30")
    value = int(hours), int(minutes)
    if not (0 <= value[0] <= 23 and 0 <= value[1] <= 59):
        raise ValueError(f"{raw!r} is not a time of day: hours run 00-23 and minutes 00-59")
    return time(*value)


def is_out_of_hours(day: date, start: time) -> bool:
    """Started before 09:00 or from 17:00, at a weekend or on a bank holiday of England and Wales."""
    return not is_working_day(day) or start < OPENS or start >= CLOSES


def contact_out_of_hours(day: date, start_time: str | None, ticked: bool) -> bool:
    """Derived from the start time where there is one; otherwise the worker's own tick."""
    try:
        start = parse_start_time(start_time)
    except ValueError:
        start = None
    return is_out_of_hours(day, start) if start is not None else bool(ticked)
