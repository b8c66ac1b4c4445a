"""Demo data for the client space: one invited client of worker1 with a plan, messages, an opportunity and a visit."""
from __future__ import annotations

from datetime import date, datetime, timedelta

from bson import ObjectId

from admin_app.client_space import service
from admin_app.models.case_file import Client, PlanGoal, SharedOpportunity
from admin_app.models.client_space import ClientAccount
from admin_app.models.people import Role, User
from admin_app.models.risk import Venue, Visit

DEMO_CLIENT_EMAIL = "client@demo.e4e"


def seed_client_space_demo(today: date, now_local: datetime, domain: str, password_hash: str) -> dict[str, int]:
    worker = User.objects(email=f"worker1@{domain}").first()
    client = Client.objects(worker=worker, status="active", anonymised_on=None).order_by("reference").first() if worker else None
    if client is None or ClientAccount.objects(client=client.pk).first() is not None:
        return {"client_space_accounts": 0}
    user = User(email=DEMO_CLIENT_EMAIL, name=client.first_name, password=password_hash,
                roles=[Role.objects(name=service.CLIENT_ROLE).first()], confirmed_at=datetime.utcnow()).save()
    ClientAccount(user=user, client=client, invited_by=worker.email, invited_at=datetime.utcnow() - timedelta(days=3),
                  invitation_expires_at=datetime.utcnow(), accepted_at=datetime.utcnow() - timedelta(days=2)).save()
    goal = PlanGoal(id=ObjectId(), goal="Start work in a warehouse or on a building site",
                    steps="Get a CSCS card\nWrite a CV with your worker\nApply for two jobs a week",
                    due_date=today + timedelta(days=60), status="open")
    Client.objects(pk=client.pk).update_one(push__plan_goals=goal)
    Client.objects(pk=client.pk).update_one(push__shared_opportunities=SharedOpportunity(
        id=ObjectId(), date=today - timedelta(days=1), kind="training", title="CSCS card course (one day, free)",
        organisation="Birmingham Adult Education", link="https://example.org/cscs-course",
        closing_date=today + timedelta(days=14), note="This gets you onto building sites. I can come with you."))
    stamp = datetime.utcnow()
    service.send_message(client.pk, sender="worker", text="Hi, it's your worker. You can message me here any time; "
                         "I reply in working hours.", language="en", staff=worker, minutes=5, now=stamp - timedelta(days=2))
    service.send_message(client.pk, sender="client", text="Thanks. Can we do the CV on Thursday?", language="en",
                         now=stamp - timedelta(days=1, hours=20))
    service.send_message(client.pk, sender="worker", text="Yes, Thursday at 2pm at the community centre.",
                         language="en", staff=worker, minutes=5, now=stamp - timedelta(days=1, hours=18))
    venue = Venue.objects.order_by("name").first()
    start = datetime.combine(today + timedelta(days=2), datetime.min.time()).replace(hour=14)
    Visit(starts_at=start, ends_at=start + timedelta(hours=1), venue=venue, workers=[worker], clients=[client],
          purpose="CV session", created_by=worker.email).save()
    return {"client_space_accounts": 1}
