"""Reporting periods: inclusive date ranges, UK financial years (1 April - 31 March) and their quarters."""
from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

FY_START_MONTH = 4

LONDON = ZoneInfo("Europe/London")


@dataclass(frozen=True, slots=True)
class Period:
    """An inclusive range of dates: both start and end belong to the period."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.start > self.end:
            raise ValueError(f"a period cannot end ({self.end}) before it starts ({self.start})")

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day <= self.end

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def label(self) -> str:
        return f"{self.start.isoformat()} to {self.end.isoformat()}"

    def overlap_days(self, start: date | None, end: date | None) -> int:
        """Days of this period that also fall in [start, end]; None means open-ended."""
        lo = max(self.start, start or date.min)
        hi = min(self.end, end or date.max)
        return max(0, (hi - lo).days + 1)


def add_months(day: date, months: int) -> date:
    """The same day `months` later (or earlier), clamped to the month's last day."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def fy_start_year(day: date) -> int:
    """The calendar year in which the financial year holding `day` began."""
    return day.year if day.month >= FY_START_MONTH else day.year - 1


def financial_year(start_year: int) -> Period:
    """Financial year start_year/start_year+1: 1 April to 31 March."""
    return Period(date(start_year, 4, 1), date(start_year + 1, 3, 31))


def financial_year_of(day: date) -> Period:
    return financial_year(fy_start_year(day))


def previous_financial_year(day: date) -> Period:
    return financial_year(fy_start_year(day) - 1)


def quarter(start_year: int, number: int) -> Period:
    """Quarter 1-4 of financial year start_year (Q1 Apr-Jun, Q2 Jul-Sep, Q3 Oct-Dec, Q4 Jan-Mar)."""
    if number not in (1, 2, 3, 4):
        raise ValueError(f"a quarter is 1, 2, 3 or 4, not {number}")
    first = add_months(date(start_year, 4, 1), 3 * (number - 1))
    return Period(first, add_months(first, 3) - timedelta(days=1))


def quarter_number(day: date) -> int:
    return (day.month - FY_START_MONTH) % 12 // 3 + 1


def quarter_of(day: date) -> Period:
    return quarter(fy_start_year(day), quarter_number(day))


def previous_quarter(day: date) -> Period:
    """The whole quarter before the one holding `day` (the quarterly return's period)."""
    return quarter_of(quarter_of(day).start - timedelta(days=1))


def month_of(day: date) -> Period:
    first = day.replace(day=1)
    return Period(first, add_months(first, 1) - timedelta(days=1))


def months_in(period: Period) -> list[Period]:
    """The calendar months the period touches, each cut to the period's own dates."""
    out, first = [], period.start.replace(day=1)
    while first <= period.end:
        month = month_of(first)
        out.append(Period(max(month.start, period.start), min(month.end, period.end)))
        first = add_months(first, 1)
    return out


def month_key(day: date) -> str:
    """'2024-07' for any day in July 2024."""
    return f"{day.year:04d}-{day.month:02d}"


def previous_month(day: date) -> Period:
    return month_of(day.replace(day=1) - timedelta(days=1))


def financial_year_to_date(day: date) -> Period:
    return Period(financial_year_of(day).start, day)


def fy_label(start_year: int) -> str:
    return f"{start_year}/{(start_year + 1) % 100:02d}"


_FY = re.compile(r"^(?:FY\s*)?(\d{4})(?:[-/](\d{2}|\d{4}))?$", re.I)
_FY_QUARTER = re.compile(r"^(?:FY\s*)?(\d{4})(?:[-/](\d{2}|\d{4}))?\s*[- ]?\s*Q([1-4])$", re.I)
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_RANGE = re.compile(r"^(\d{4}-\d{2}-\d{2})\s*(?:\.\.|/|\s+to\s+|:)\s*(\d{4}-\d{2}-\d{2})$", re.I)


def parse_period(text: str) -> Period:
    """Read a period: '2024-04-01..2025-03-31', 'FY2024', '2024/25', '2024/25 Q1', 'FY2024Q3', '2024-07' or one date."""
    value = (text or "").strip()
    if match := _RANGE.match(value):
        return Period(_parse_date(match[1]), _parse_date(match[2]))
    if match := _FY_QUARTER.match(value):
        return quarter(_fy_year(match[1], match[2], value), int(match[3]))
    if (match := _MONTH.match(value)) and 1 <= int(match[2]) <= 12:
        return month_of(date(int(match[1]), int(match[2]), 1))
    if match := _FY.match(value):
        return financial_year(_fy_year(match[1], match[2], value))
    if re.match(r"^\d{4}-\d{2}-\d{2}$", value):
        day = _parse_date(value)
        return Period(day, day)
    raise ValueError(
        f"{text!r} is not a period; use START..END dates (2024-04-01..2025-03-31), "
        "a financial year (FY2024 or 2024/25), a quarter (2024/25 Q1) or a month (2024-07)"
    )


def _parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def _fy_year(first: str, second: str | None, whole: str) -> int:
    year = int(first)
    if second is not None and int(second) % 100 != (year + 1) % 100:
        raise ValueError(f"{whole!r}: a financial year runs from one year into the next, e.g. {fy_label(year)}")
    return year


def london_today() -> date:
    """Today in Europe/London, where every date of the service is judged."""
    return datetime.now(LONDON).date()
