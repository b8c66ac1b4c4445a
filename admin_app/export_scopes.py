"""Which case files an export covers: every one the starter may see, or a saved or built-in filter."""
from __future__ import annotations

from datetime import date
from typing import Any

from admin_app.metrics.periods import london_today
from admin_app.models import Client
from admin_app.saved_filters import StaleFilter, export_scope, export_scope_choices
from admin_app.security import scope_match

ScopeProblem = StaleFilter


def resolve_scope(scope: str | None, user: Any, today: date | None = None) -> tuple[dict[str, Any], str]:
    """The MongoDB match on case files and a label for the run. `user` None means a schedule.

    Raises ScopeProblem (a stale or unknown filter) with a message for the user.
    """
    if not scope:
        base = scope_match(Client, user) if user is not None else {}
        return base, "Every case file" if not base else "Own caseload"
    return export_scope(scope, user, today or london_today())


def scope_choices(user: Any) -> list[tuple[str, str]]:
    """The filters the user may choose as an export's scope."""
    return export_scope_choices(user)
