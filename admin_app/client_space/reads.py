"""What the client space shows from outside the case file: the client's next appointments (from the visits)."""
from __future__ import annotations

from datetime import timedelta

from admin_app.models.risk import Visit
from admin_app.risk.alerts import london_now

#: A visit still shows for this long after it started (the client may be on the way).
STILL_SHOWN_MINUTES = 60


def next_appointments(client, now=None) -> list[Visit]:
    """The client's planned visits from now, soonest first: only the time and the venue are read."""
    since = (now or london_now()) - timedelta(minutes=STILL_SHOWN_MINUTES)
    return list(Visit.objects(clients=client.pk, starts_at__gte=since, status__in=["planned", "checked_in"])
                .only("starts_at", "ends_at", "venue").order_by("starts_at").limit(20))


def open_goals(client) -> list:
    """The open goals of the client's Vocational Action Plan, soonest due first."""
    from admin_app.timeline import current_plan

    return current_plan(client)
