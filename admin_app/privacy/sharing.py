"""Recipient-checked sharing: a report goes only to users holding a role the report declares
(exports/__init__.py), or to an address an administrator put on that report's allow-list; a link goes only
to users who can sign in and open it. Checked when a schedule is saved and again just before sending."""
from __future__ import annotations

from typing import Iterable

from admin_app.models.people import User
from admin_app.models.sharing import AllowedRecipient
from admin_app.security import has_permission
from admin_app.vocabulary import ROLES, label

DOWNLOAD_PERMISSION = "exportrun.download"


def recipient_roles(report_key: str) -> tuple[str, ...]:
    from exports import REPORTS

    report = REPORTS.get(report_key)
    return report.recipient_roles if report else ()


def recipient_problems(report_key: str, recipients: Iterable[str], delivery: str) -> list[str]:
    """One message per address that may not receive this report this way; empty when all may."""
    addresses = [a.strip().lower() for a in recipients if a and a.strip()]
    roles = set(recipient_roles(report_key))
    users = {u.email.lower(): u for u in User.objects(email__in=addresses, active=True)}
    allowed = {a.lower() for a in AllowedRecipient.objects(report=report_key).distinct("email")}
    problems = []
    for address in addresses:
        user = users.get(address)
        holds_role = user is not None and bool(user.role_names & roles)
        if delivery == "link":
            if not holds_role:
                problems.append(f"{address} cannot be sent a link: only active users holding one of the roles "
                                f"{_roles(roles)} may receive this report as a link.")
            elif not has_permission(DOWNLOAD_PERMISSION, user):
                problems.append(f"{address} could not open the link: their role does not allow downloading exports.")
        elif not holds_role and address not in allowed:
            problems.append(f"{address} may not receive this report: it is not a user holding one of the roles "
                            f"{_roles(roles)}, nor on the report's allow-list (an administrator keeps it).")
    return problems


def _roles(roles: set[str]) -> str:
    return ", ".join(sorted(label(ROLES, role) for role in roles)) or "(none)"
