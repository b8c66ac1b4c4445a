"""What every export is given (ExportContext) and what it is (Report); the registry lives in exports/__init__.py."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Mapping

from admin_app.metrics.periods import Period


@dataclass(frozen=True)
class ExportContext:
    period: Period                 # inclusive
    match: Mapping[str, Any]       # MongoDB match on the clients collection: the scope ({} = every case file)
    generated_at: datetime
    generated_by: str              # "manager@x.org" or "schedule “OPCC quarterly”"
    schedule: str | None           # schedule name, or None for a run on demand
    pseudonym_key: str             # settings.pseudonym_key
    notes: str = ""                # OPCC return: the manager's challenges and obstacles
    min_group: int = 5             # evaluator extract: coded values held by fewer people show as "other"
    date_precision: str = "month"  # evaluator extract: dates generalised to month, quarter or year


#: (pymongo database, path of the .xlsx to write, context) -> data rows per sheet
Build = Callable[[Any, str, ExportContext], dict[str, int]]


@dataclass(frozen=True)
class Report:
    key: str
    title: str
    audience: str
    build: Build
    #: The roles whose members may receive it (admin_app/privacy/sharing.py); others only through an allow-list.
    recipient_roles: tuple[str, ...] = ("manager", "admin")

    def filename(self, period: Period) -> str:
        return f"{self.key.replace('_', '-')}-{period.start.isoformat()}-to-{period.end.isoformat()}.xlsx"
