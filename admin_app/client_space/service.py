"""What the client space does to a case file: messages, the client's step updates, "I need to talk to someone
now", and invitations. No Flask views here; every write is matched by the client's own case file id.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from bson import ObjectId

from admin_app import audit
from admin_app.metrics.periods import LONDON
from admin_app.models.case_file import Client, Contact, Message, StepUpdate
from admin_app.models.client_space import ClientAccount
from admin_app.models.exports import Notice
from admin_app.security import CLIENT_ROLE

#: How long an invitation link works.
INVITATION_HOURS = 72
#: The worker's time a client's message counts for (reading and thinking about it), as a "message" contact.
#: The worker can correct it on the contact like any other; a reply counts the minutes the worker gives.
CLIENT_MESSAGE_MINUTES = 5
MESSAGE_MAX = 2000
NOTE_MAX = 1000
TALK_NOW_KIND = "talk_now"


class NotYours(Exception):
    """The goal, step or item is not in the client's own case file."""


def london(moment: datetime) -> datetime:
    """A stored UTC time as London wall-clock time (naive)."""
    return moment.replace(tzinfo=timezone.utc).astimezone(LONDON).replace(tzinfo=None)


# --- messages ---------------------------------------------------------------------------------------

def send_message(client_id, *, sender: str, text: str, language: str | None, staff=None,
                 minutes: int = CLIENT_MESSAGE_MINUTES, now: datetime | None = None) -> Message:
    """Store one message and the "message" contact it counts as, in one write to the case file; tell the worker
    of a client's message with a notice on their home page."""
    now = now or datetime.utcnow()
    local = london(now)
    client = Client.objects(pk=client_id).only("reference", "worker").first()
    if client is None:
        raise NotYours()
    staff = staff or client.worker
    contact = Contact(id=ObjectId(), date=local.date(), start_time=f"{local:%H:%M}", minutes=minutes, mode="message",
                      place="online", staff=staff)
    message = Message(id=ObjectId(), sent_at=now, sender=sender, staff=staff, text=text.strip()[:MESSAGE_MAX],
                      language=language, contact_id=contact.id)
    contact.validate()
    message.validate()
    done = Client._get_collection().update_one(
        {"_id": client.pk},
        {"$push": {"contacts": contact.to_mongo().to_dict(), "messages": message.to_mongo().to_dict()},
         "$set": {"updated_at": now}})
    if done.matched_count != 1:
        raise NotYours()
    who = "the client" if sender == "client" else "the worker"
    audit.record("update", collection="clients", record_id=client.pk,
                 summary=f"{client.reference}: message from {who} {message.id} (a message contact {contact.id})",
                 changes=audit.item_changes(f"messages.{message.id}", None, message)
                 + audit.item_changes(f"contacts.{contact.id}", None, contact))
    if sender == "client" and client.worker is not None:
        Notice(role="worker", user=client.worker.pk,
               text=f"New message from your client {client.reference} in the client space"
                    + (f" (written in {language_name(language)})" if language and language != "en" else "") + ".",
               link=f"/admin/client-space/{client.pk}/").save()
    return message


def language_name(code: str | None) -> str:
    from admin_app.client_space.languages import LOCALES

    return LOCALES[code].english if code in LOCALES else (code or "")


# --- the plan ---------------------------------------------------------------------------------------

def update_step(client_id, goal_id, step_number: int | None, *, done: bool | None = None, note: str | None = None,
                now: datetime | None = None) -> StepUpdate:
    """The client marks a step of an open goal done (or not done after all), or leaves a note on it or on the goal.

    The goal must be in the client's own case file and open; the step is named by its number on the page and
    stored with its text."""
    goal_oid = ObjectId(str(goal_id)) if ObjectId.is_valid(str(goal_id)) else None
    if goal_oid is None:
        raise NotYours()
    raw = Client._get_collection().find_one({"_id": ObjectId(str(client_id))},
                                            {"plan_goals": {"$elemMatch": {"_id": goal_oid}}, "reference": 1})
    goals = (raw or {}).get("plan_goals") or []
    if not goals or goals[0].get("status", "open") != "open":
        raise NotYours()
    from admin_app.models.case_file import PlanGoal

    goal = PlanGoal._from_son(goals[0])
    step = None
    if step_number is not None:
        lines = goal.step_lines
        if not 0 <= step_number < len(lines):
            raise NotYours()
        step = lines[step_number]
    update = StepUpdate(id=ObjectId(), at=now or datetime.utcnow(), step=step, done=done,
                        note=(note or "").strip()[:NOTE_MAX] or None)
    update.validate()
    done_write = Client._get_collection().update_one(
        {"_id": ObjectId(str(client_id)), "plan_goals": {"$elemMatch": {"_id": goal_oid}}},
        {"$push": {"plan_goals.$.client_updates": update.to_mongo().to_dict()},
         "$set": {"updated_at": datetime.utcnow()}})
    if done_write.matched_count != 1:
        raise NotYours()
    audit.record("update", collection="clients", record_id=client_id,
                 summary=f"{raw['reference']}: the client updated plan goal {goal_oid} in the client space",
                 changes=audit.item_changes(f"plan_goals.{goal_oid}.client_updates.{update.id}", None, update))
    return update


@dataclass(frozen=True)
class Step:
    number: int
    text: str
    done: bool
    notes: tuple[str, ...]


def steps_of(goal) -> list[Step]:
    """Each line of the goal's steps with what the client last said about it (done or not) and their notes."""
    updates = sorted(goal.client_updates or [], key=lambda u: u.at)
    shown = []
    for number, text in enumerate(goal.step_lines):
        mine = [u for u in updates if u.step == text]
        marks = [u.done for u in mine if u.done is not None]
        shown.append(Step(number, text, bool(marks and marks[-1]), tuple(u.note for u in mine if u.note)))
    return shown


def goal_notes(goal) -> list[str]:
    return [u.note for u in sorted(goal.client_updates or [], key=lambda u: u.at) if u.step is None and u.note]


# --- "I need to talk to someone now" ------------------------------------------------------------------

def talk_now(client) -> bool:
    """Alert the worker and the managers, like a risk alert (stored once, emailed once by a job). While an
    earlier request is still open (not acknowledged), pressing again raises nothing new. True if this raised it."""
    from admin_app.models.risk import RiskAlert
    from admin_app.risk.alerts import raise_alert

    if RiskAlert.objects(client=client.pk, kind=TALK_NOW_KIND, open=True).only("id").first() is not None:
        return False
    earlier = RiskAlert.objects(client=client.pk, kind=TALK_NOW_KIND).count()
    # Two presses at the same moment count the same earlier alerts, so they make the same key: one is stored.
    alert = raise_alert(TALK_NOW_KIND, f"{TALK_NOW_KIND}:{client.pk}:{earlier}",
                        summary="The client pressed \"I need to talk to someone now\" in the client space",
                        client_id=client.pk, reference=client.reference, worker=client.worker)
    return alert is not None


# --- invitations --------------------------------------------------------------------------------------

def invite(client, email: str, by: str, now: datetime | None = None) -> tuple[ClientAccount, str]:
    """Make (or renew) the client's account with a one-time invitation token; a renewed invitation ends the
    earlier one. The token is Flask-Security's reset token, which stops working once a password is set."""
    from flask_security import hash_password
    from flask_security.recoverable import generate_reset_password_token

    from admin_app.models.people import Role, User
    from admin_app.security import datastore, end_every_session

    now = now or datetime.utcnow()
    account = ClientAccount.objects(client=client.pk).first()
    role = Role.objects(name=CLIENT_ROLE).first()
    if account is None:
        if User.objects(email=email).first() is not None:
            raise ValueError("That email address already has an account here. Use the client's own address.")
        user = datastore.create_user(email=email, name=client.first_name, roles=[role],
                                     password=hash_password(ObjectId().binary.hex() + ObjectId().binary.hex()))
        account = ClientAccount(user=user, client=client)
    else:
        user = account.user
        if user.email != email:
            if User.objects(email=email, pk__ne=user.pk).first() is not None:
                raise ValueError("That email address already has an account here. Use the client's own address.")
            user.email = email
        # A new random password: the earlier invitation (and any session) stops working.
        user.password = hash_password(ObjectId().binary.hex() + ObjectId().binary.hex())
        user.active = True
        user.save()
        end_every_session(user)
    account.invited_by, account.invited_at = by, now
    account.invitation_expires_at = now + timedelta(hours=INVITATION_HOURS)
    account.accepted_at = None
    account.save()
    return account, generate_reset_password_token(user)


def invitation_email(link: str, language: str | None) -> tuple[str, str]:
    """The invitation's subject and text in the client's language, followed by the English (for whoever helps
    them read it); English alone when that is their language or there is no translation."""
    from babel.support import NullTranslations, Translations

    from admin_app.client_space import TRANSLATIONS
    from admin_app.client_space.languages import DEFAULT, LOCALES

    def written(gettext) -> tuple[str, str]:
        subject = gettext("Your invitation from Enterprise for Employment")
        body = "\n\n".join((
            gettext("Your worker at Enterprise for Employment has invited you to your own space, where you can see "
                    "your plan and appointments and send them a message."),
            gettext("Open this link on your phone to choose a password (it works once, for %(hours)s hours):")
            % {"hours": INVITATION_HOURS} + "\n" + link,
            gettext("If you did not expect this, you can ignore it.")))
        return subject, body + "\n"

    english = written(NullTranslations().gettext)
    translations = Translations.load(TRANSLATIONS, [language]) if language in LOCALES and language != DEFAULT else None
    if not isinstance(translations, Translations):  # English, or a language with no catalogue
        return english
    own = written(translations.gettext)
    if own == english:
        return english
    return f"{own[0]} / {english[0]}", f"{own[1]}\n---\n\n{english[1]}"


def invitation_account(token: str) -> tuple[ClientAccount | None, str]:
    """The account a token invites, or None and why ("expired" or "invalid"): an invitation works once, within
    INVITATION_HOURS, and only the latest one."""
    from flask_security.utils import check_and_get_token_status, verify_hash

    from admin_app.models.people import User

    expired, invalid, data = check_and_get_token_status(token, "reset", timedelta(hours=INVITATION_HOURS))
    if invalid or not data or not isinstance(data, (list, tuple)) or len(data) != 2:
        return None, "invalid"
    user = User.objects(fs_uniquifier=str(data[0])).first()
    account = ClientAccount.objects(user=user.pk).first() if user is not None else None
    if account is None or account.accepted_at is not None or not data[1] or not verify_hash(data[1], user.password):
        return None, "invalid"
    if expired:
        return None, "expired"
    return account, ""


def accept(account: ClientAccount, password: str, now: datetime | None = None) -> None:
    """The client's own password: the invitation is used up (its token named the old password)."""
    from flask_security import hash_password

    from admin_app.security import datastore

    user = account.user
    user.password = hash_password(password)
    user.confirmed_at = now or datetime.utcnow()
    datastore.set_uniquifier(user)
    user.save()
    account.accepted_at = now or datetime.utcnow()
    account.save()
    audit.record("update", collection="users", record_id=user.pk,
                 summary=f"client space invitation accepted for {account.client.reference}", actor=user.email)
