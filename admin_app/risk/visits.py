"""What the visit check needs, read from the database: the venue's assessments, each attending client's
individual assessments and current affiliations, the groups around them, and the staff's other visits.

The check itself is rules.visit_findings (pure); this module only gathers its facts, in one query per kind.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from admin_app.models.case_file import Client
from admin_app.models.risk import Affiliation, Group, Venue, Visit
from admin_app.risk import rules


def _assessed(items, kind_of=lambda item: getattr(item, "kind", "venue")) -> tuple[rules.Assessed, ...]:
    return tuple(rules.Assessed(on=item.date, level=item.level, review_date=item.review_date, kind=kind_of(item))
                 for item in items if item.date is not None)


def planned_visit(starts_at: datetime, ends_at: datetime, venue, workers, clients, exclude=None) -> rules.PlannedVisit:
    client_ids = [c.pk for c in clients if c is not None]
    assessed = {c.pk: c for c in Client.objects(pk__in=client_ids).only("reference", "risk_assessments")}
    affiliated: dict = {}
    for row in Affiliation.objects(client__in=client_ids, ended_on=None).only("client", "group").no_dereference():
        affiliated.setdefault(row.client.id, set()).add(row.group.id)
    own = {g for groups in affiliated.values() for g in groups}
    groups = {g.pk: g for g in Group.objects(pk__in=list(own))}
    # Every group rival to an attending client's group, whichever side recorded the rivalry.
    for g in Group.objects(rivals__in=list(own)):
        groups.setdefault(g.pk, g)
    for g in list(groups.values()):
        for rival in Group.objects(pk__in=[r.pk for r in g.rivals if r is not None and r.pk not in groups]):
            groups.setdefault(rival.pk, rival)
    group_facts = {pk: rules.GroupFacts(name=g.name, areas=frozenset(g.areas or ()),
                                        rivals=frozenset(r.pk for r in g.rivals if r is not None))
                   for pk, g in groups.items()}
    facts = tuple(rules.ClientFacts(reference=assessed[c].reference if c in assessed else str(c),
                                    assessments=_assessed(assessed[c].risk_assessments) if c in assessed else (),
                                    groups=frozenset(affiliated.get(c, ())))
                  for c in client_ids)
    if venue is not None:
        # Read whole: a form's drop-down may hold the venue with its name only.
        venue = Venue.objects(pk=venue.pk).first()
    venue_facts = None if venue is None else rules.VenueFacts(
        name=venue.name, area=venue.area, postcode_district=venue.postcode_district,
        assessments=_assessed(venue.assessments))
    others = ()
    worker_ids = [w.pk for w in workers if w is not None]
    if worker_ids:
        near = Visit.objects(workers__in=worker_ids, status__ne="cancelled",
                             starts_at__lt=ends_at, ends_at__gt=starts_at)
        if exclude is not None:
            near = near.filter(pk__ne=exclude)
        others = tuple(rules.OtherVisit(worker=", ".join(w.name or w.email for w in v.workers if w is not None and w.pk in worker_ids),
                                        starts_at=v.starts_at, ends_at=v.ends_at,
                                        where=v.venue.name if v.venue else "no venue")
                       for v in near.limit(20))
    return rules.PlannedVisit(starts_at=starts_at, ends_at=ends_at, venue=venue_facts, clients=facts,
                              groups=group_facts, other_visits=others)


def findings_for(visit: Visit, show_groups: bool) -> list[rules.Finding]:
    return rules.visit_findings(planned_visit(visit.starts_at, visit.ends_at, visit.venue, visit.workers, visit.clients,
                                              exclude=visit.pk), show_groups=show_groups)


def upcoming(query, now: datetime, days: int = 14):
    return query.filter(starts_at__gte=now - timedelta(hours=12), starts_at__lt=now + timedelta(days=days),
                        status__in=list(rules.OPEN_VISIT_STATUSES)).order_by("starts_at")
