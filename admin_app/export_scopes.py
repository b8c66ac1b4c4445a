"""Which case files an export covers: every one the starter may see, or a saved or built-in filter."""
from __future__ import annotations

from datetime import date
from typing import Any

from admin_app.models import Client
from admin_app.security import scope_match


class ScopeProblem(ValueError):
    """The scope cannot be used (a stale or unknown filter); the message is for the user."""


def resolve_scope(scope: str | None, user: Any, today: date | None = None) -> tuple[dict[str, Any], str]:
    """The MongoDB match on case files and a label for the run. `user` None means a schedule (every case file)."""
    base = scope_match(Client, user) if user is not None else {}
    if not scope:
        return base, "Every case file" if not base else "Own caseload"
    raise ScopeProblem(f"“{scope}” is not a filter this app knows.")


def scope_choices(user: Any) -> list[tuple[str, str]]:
    """The filters the user may choose as an export's scope."""
    return []
