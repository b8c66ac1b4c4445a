"""The daily digest: each worker and manager gets the counts of their due items, with links into the app.

The email holds counts and links only, never a client's name or any case detail: whoever follows a
link signs in and sees only what their role allows. Someone with nothing due gets no email.
"""
from __future__ import annotations

import logging
from datetime import date
from urllib.parse import urlencode

from admin_app.mail import MailNotSent, send_mail
from admin_app.models.case_file import Client
from admin_app.models.people import Role, User
from admin_app.saved_filters import BUILTIN_FILTERS, MANAGER, WORKER, Builtin, due_builtins
from admin_app.security import sees_everything
from config import Settings

log = logging.getLogger(__name__)

DIGEST_ROLES = (WORKER, MANAGER)
CLIENT_LIST_PATH = "/admin/client/"


def counts_by_worker(builtin: Builtin, today: date) -> dict:
    """How many clients match the filter, per assigned worker (ObjectId or None), in one query."""
    worker_field = Client._fields["worker"].db_field
    rows = Client._get_collection().aggregate([
        {"$match": builtin.match(today)},
        {"$group": {"_id": f"${worker_field}", "count": {"$sum": 1}}},
    ])
    return {row["_id"]: row["count"] for row in rows}


def digest_lines(user, counts: dict[str, dict], base_url: str) -> list[str]:
    """One line per due item with a count, and its link; empty when nothing is due."""
    everything = sees_everything(user)
    lines = []
    for builtin in due_builtins(user.role_names):
        per_worker = counts.get(builtin.key, {})
        count = sum(per_worker.values()) if everything else per_worker.get(user.pk, 0)
        if count:
            link = f"{base_url.rstrip('/')}{CLIENT_LIST_PATH}?{urlencode({'builtin': builtin.key})}"
            lines.append(f"- {builtin.name}: {count}\n  {link}")
    return lines


def digest_body(user, lines: list[str], today: date, base_url: str) -> str:
    scope = "across the service" if sees_everything(user) else "on your caseload"
    return (f"Hello {user.name or user.email},\n\n"
            f"Items due {scope} on {today:%A %d %B %Y}:\n\n" + "\n".join(lines) + "\n\n"
            f"Sign in to see the clients: {base_url.rstrip('/')}/admin/savedfilter/\n"
            "This email gives counts only; case details stay in the app.\n")


def send_digests(settings: Settings, today: date) -> int:
    """Email every active worker and manager the counts of their due items; the number of emails sent."""
    wanted = {b.key: b for b in BUILTIN_FILTERS if b.due_for}
    counts = {key: counts_by_worker(builtin, today) for key, builtin in wanted.items()}
    roles = Role.objects(name__in=list(DIGEST_ROLES))
    sent = 0
    for user in User.objects(active=True, roles__in=list(roles)).order_by("email"):
        lines = digest_lines(user, counts, settings.base_url)
        if not lines:
            continue
        try:
            send_mail(settings, [user.email], f"Your due items for {today:%d/%m/%Y}",
                      digest_body(user, lines, today, settings.base_url))
        except MailNotSent as exc:
            # One address failing must not stop everyone else's digest.
            log.warning("digest for %s not sent: %s", user.email, exc)
            continue
        sent += 1
    return sent
