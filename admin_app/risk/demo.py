"""Demo risk and safety data: fictional groups with their areas and rivalries, venues with assessments, a few
affiliations, visits (one with an overridden finding, one not checked out) and the alerts they raise (shown
in the app, never emailed: seeding the demo sends nothing).

Every name here is invented. Run after the demo case files exist (cli.seed_demo_data).
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

from admin_app import audit
from admin_app.models.case_file import Client
from admin_app.models.people import User
from admin_app.models.risk import Affiliation, Group, Venue, VenueAssessment, Visit
from admin_app.risk import alerts, rules

SEED_ACTOR = "seed-demo"
DEMO_MARK = "[demo] "

# (name, areas claimed)
GROUPS = (
    ("Lozells Road Boys", ("Lozells", "B19")),
    ("Small Heath Crew", ("Small Heath", "B10")),
    ("Aston Lane Mob", ("Aston", "B6")),
    ("Handsworth Young Ones", ("Handsworth", "B21")),
)
RIVALRIES = (("Lozells Road Boys", "Small Heath Crew"), ("Aston Lane Mob", "Handsworth Young Ones"),
             ("Lozells Road Boys", "Aston Lane Mob"))
# (name, area, postcode district, kind, level, days since assessed, days to review; None: never assessed)
VENUES = (
    ("Enterprise for Employment office", "Digbeth", "B5", "office", "low", 40, 140),
    ("Lozells Community Hub", "Lozells", "B19", "community_centre", "medium", 30, 60),
    ("Small Heath Library Café", "Small Heath", "B10", "cafe", "medium", 200, -20),
    ("Eastside College Learning Centre", "Eastside", "B4", "college", "low", 60, 120),
    ("Aston Park Sports Pavilion", "Aston", "B6", "community_centre", None, 0, 0),
)


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute))


def seed_risk_demo(today: date, now_local: datetime, manager: User | None) -> dict[str, int]:
    """Seed once (nothing happens when groups already exist); the counts of what was made."""
    if Group.objects.count():
        return {}
    now_local = now_local.replace(second=0, microsecond=0)
    with audit.acting_as(SEED_ACTOR):
        groups = {name: Group(name=name, areas=list(areas), notes=f"{DEMO_MARK}Fictional group for the demo").save()
                  for name, areas in GROUPS}
        for first, second in RIVALRIES:
            Group.objects(pk=groups[first].pk).update_one(add_to_set__rivals=groups[second].pk)
        venues = {}
        for name, area, district, kind, level, ago, review in VENUES:
            assessments = [] if level is None else [VenueAssessment(
                date=today - timedelta(days=ago), level=level, assessor=manager,
                mitigations=f"{DEMO_MARK}Meet in the open area; reception knows who is expected",
                review_date=today + timedelta(days=review))]
            venues[name] = Venue(name=name, area=area, postcode_district=district, kind=kind,
                                 assessments=assessments).save()
        # The first open case files of the first two workers, by reference, get affiliations.
        workers = [u for u in User.objects(email__in=["worker1@demo.e4e", "worker2@demo.e4e"]).order_by("email")]
        made_affiliations = 0
        chosen: dict[str, list[Client]] = {}
        plan = (("Lozells Road Boys", "confirmed", "police"), ("Small Heath Crew", "likely", "probation"),
                ("Aston Lane Mob", "possible", "self"))
        for worker in workers:
            cases = list(Client.objects(worker=worker, status__in=["active", "in_work", "in_business"])
                         .only("reference", "worker").order_by("reference").limit(len(plan)))
            chosen[worker.email] = cases
            for case, (group, confidence, source) in zip(cases, plan):
                Affiliation(client=case, group=groups[group], confidence=confidence, source=source,
                            source_detail=f"{DEMO_MARK}Recorded at the multi-agency meeting",
                            date=today - timedelta(days=45), recorded_by="manager@demo.e4e").save()
                made_affiliations += 1
        made_visits = 0
        first = workers[0] if workers else None
        mine = chosen.get(first.email, []) if first else []
        if first is not None and len(mine) >= 2:
            office, hub = venues["Enterprise for Employment office"], venues["Lozells Community Hub"]
            # Tomorrow at the office: nothing to find.
            Visit(starts_at=_at(today + timedelta(days=1), 10), ends_at=_at(today + timedelta(days=1), 11),
                  venue=office, workers=[first], clients=[mine[0]], purpose="CV and job search",
                  created_by=first.email).save()
            # Two rival clients at the hub, booked with a manager's override (separate rooms, two staff).
            booked = Visit(starts_at=_at(today + timedelta(days=2), 14), ends_at=_at(today + timedelta(days=2), 15),
                           venue=hub, workers=[first] + ([manager] if manager else []), clients=mine[:2],
                           purpose="Group session on CSCS cards", created_by="manager@demo.e4e")
            from admin_app.risk.visits import findings_for

            found = findings_for(booked, show_groups=True)
            booked.findings = [f.message for f in found]
            booked.finding_codes = [f.code for f in found]
            if rules.serious(found):
                booked.override_reason = "Separate rooms and arrival times; two staff present throughout"
                booked.override_by, booked.override_at = "manager@demo.e4e", datetime.utcnow()
            booked.save()
            # Yesterday, checked out, its outcome not yet recorded.
            Visit(starts_at=_at(today - timedelta(days=1), 11), ends_at=_at(today - timedelta(days=1), 12),
                  venue=office, workers=[first], clients=[mine[0]], purpose="Interview practice", status="checked_out",
                  checked_in_at=datetime.utcnow() - timedelta(days=1, hours=1), checked_in_by=first.email,
                  checked_out_at=datetime.utcnow() - timedelta(days=1), checked_out_by=first.email,
                  created_by=first.email).save()
            # Checked in two hours ago and never checked out: the managers are alerted.
            Visit(starts_at=now_local - timedelta(hours=2), ends_at=now_local - timedelta(hours=1),
                  venue=venues["Eastside College Learning Centre"], workers=[first], clients=[mine[1]],
                  purpose="Enrolment on the SIA course", status="checked_in",
                  checked_in_at=datetime.utcnow() - timedelta(hours=2), checked_in_by=first.email,
                  created_by=first.email).save()
            # Later today, for the check-in page.
            later = min(now_local + timedelta(hours=1), _at(today, 22))
            Visit(starts_at=later, ends_at=later + timedelta(hours=1), venue=office, workers=[first],
                  clients=[mine[0]], purpose="Benefits check", created_by=first.email).save()
            made_visits = 5
        with audit.acting_as("lone-working"):
            overdue = alerts.overdue_checkouts(now_local, 30, email=False)
        # The newest high risk note on a few case files, as the alerts they would have raised.
        raised = 0
        for case in Client.objects(risk_notes__level="high", status__ne="closed").only("reference", "worker") \
                .order_by("-updated_at").limit(3):
            if alerts.raise_alert("risk_note", f"demo:{case.pk}", summary="Risk note at high added",
                                  client_id=case.pk, reference=case.reference, worker=case.worker, email=False):
                raised += 1
    return {"groups": len(groups), "venues": len(venues), "affiliations": made_affiliations, "visits": made_visits,
            "risk_alerts": raised + len(overdue)}
