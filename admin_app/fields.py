"""Field types with the bounds a person would expect, so forms, imports and jobs all refuse the same garbage.

Model modules take StringField, DateField, DateTimeField, IntField, FloatField and DecimalField from here
instead of from mongoengine. Text is at most TEXT_MAX characters and holds no control characters (NUL and
the like; tabs and line breaks are fine); dates lie between 1900 and 2100; numbers are finite and within
what a counter of this service could reach. A field still declares its own tighter bounds where it has them.
"""
from __future__ import annotations

import math
import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

import mongoengine

#: The longest note anyone writes in one field.
TEXT_MAX = 10_000
EARLIEST = date(1900, 1, 1)
LATEST = date(2100, 12, 31)
#: Counts, minutes, bytes and pence all stay well inside a 32-bit integer.
NUMBER_LIMIT = 2**31 - 1
# C0 controls except tab, line feed and carriage return; DEL; lone surrogates (which cannot be stored).
CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def control_character_error(value) -> str | None:
    if isinstance(value, str) and CONTROL_CHARACTERS.search(value):
        return "Remove the control characters (such as NUL) from this text."
    return None


def date_range_error(value) -> str | None:
    day = value.date() if isinstance(value, datetime) else value
    if isinstance(day, date) and not EARLIEST <= day <= LATEST:
        return f"Give a date between {EARLIEST:%d/%m/%Y} and {LATEST:%d/%m/%Y}."
    return None


class StringField(mongoengine.StringField):
    def __init__(self, *args, max_length=TEXT_MAX, **kwargs):
        super().__init__(*args, max_length=max_length, **kwargs)

    def validate(self, value):
        super().validate(value)
        message = control_character_error(value)
        if message:
            self.error(message)


class EmailField(mongoengine.EmailField):
    def __init__(self, *args, max_length=254, **kwargs):
        super().__init__(*args, max_length=max_length, **kwargs)


class DateField(mongoengine.DateField):
    def validate(self, value):
        super().validate(value)
        message = date_range_error(self.to_python(value))
        if message:
            self.error(message)


class DateTimeField(mongoengine.DateTimeField):
    def validate(self, value):
        super().validate(value)
        message = date_range_error(self.to_python(value))
        if message:
            self.error(message)


class IntField(mongoengine.IntField):
    def __init__(self, *args, min_value=-NUMBER_LIMIT, max_value=NUMBER_LIMIT, **kwargs):
        super().__init__(*args, min_value=min_value, max_value=max_value, **kwargs)

    def validate(self, value):
        try:
            number = int(value)
        except (TypeError, ValueError):
            self.error("Give a whole number.")
        if not self.min_value <= number <= self.max_value:
            self.error(f"Must be between {self.min_value:,} and {self.max_value:,}.")


class FloatField(mongoengine.FloatField):
    def __init__(self, *args, min_value=-float(NUMBER_LIMIT), max_value=float(NUMBER_LIMIT), **kwargs):
        super().__init__(*args, min_value=min_value, max_value=max_value, **kwargs)

    def validate(self, value):
        if isinstance(value, float) and not math.isfinite(value):
            self.error("Give a number.")
        super().validate(value)


class DecimalField(mongoengine.DecimalField):
    def __init__(self, *args, min_value=-NUMBER_LIMIT, max_value=NUMBER_LIMIT, **kwargs):
        super().__init__(*args, min_value=min_value, max_value=max_value, **kwargs)

    def validate(self, value):
        try:
            finite = Decimal(str(value)).is_finite() if value is not None else True
        except (InvalidOperation, ValueError):
            finite = False
        if not finite:
            self.error("Give a number.")
        super().validate(value)
