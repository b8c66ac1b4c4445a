"""Deterministic demo data: partners, employers, staff profiles and 18 months of fictional case files."""
from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Sequence

from bson import ObjectId

from admin_app import audit, rules
from admin_app.metrics.working_hours import contact_out_of_hours
from admin_app.models.case_file import (
    Assessment,
    Assignment,
    BenefitsSession,
    Client,
    Consent,
    Contact,
    Disclosure,
    EmployerContact,
    GrantBid,
    OnwardReferral,
    Outcome,
    PlanGoal,
    Referral,
    RiskAssessment,
    RiskNote,
    SafeguardingConcern,
    ProgressUpdate,
    StatusChange,
    VocationalProfile,
)
from admin_app.models.partners import Employer, GeneralEmployerContact, Organisation
from admin_app.models.people import FteChange, StaffProfile, User
from admin_app.models.staff_time import StaffTime
from admin_app.search import client_search_keys

HISTORY_DAYS = 548  # 18 months of history before `today`
#: (kind, possible minutes, chance in a week) of a worker's staff time that belongs to no client.
STAFF_TIME_PATTERN = (("partner_meeting", (60, 90), 0.7), ("travel", (30, 45, 60), 0.9), ("training", (120, 180), 0.15),
                      ("job_development", (60, 120), 0.6), ("supervision", (60,), 0.5))
STAFF_TIME_NOTES = {"partner_meeting": "Monthly meeting with the probation team", "travel": "Travel between venues",
                    "training": "Trauma-informed practice training", "job_development": "Employer breakfast, Digbeth",
                    "supervision": "Supervision with the service manager"}
REFERENCE_FORMAT = "E4E-{:05d}"
SEED_ACTOR = "seed-demo"
DEMO_MARK = "[demo] "  # encrypted free text is fictional, and says so


class DemoDataError(RuntimeError):
    """The demo data cannot be generated (e.g. the database already holds case files)."""


# --- fixed partner data ------------------------------------------------------------------
# (name, kind, org_type, contact_name, email, phone, services)
ORGANISATIONS: tuple[tuple[str, str, str | None, str, str, str, str], ...] = (
    ("Birmingham Youth Offending Service", "referral_partner", "yos", "Dionne Clarke",
     "referrals@yos-birmingham.example", "0121 496 0101", ""),
    ("Birmingham Children's Trust (Leaving Care)", "referral_partner", "childrens_trust", "Harpreet Gill",
     "leavingcare@childrens-trust.example", "0121 496 0102", ""),
    ("West Midlands Police Violence Reduction Team", "referral_partner", "police", "PC Owen Price",
     "vrt@wmp.example", "0121 496 0103", ""),
    ("Eastside College of Further Education", "both", "fe_college", "Nadia Rahman",
     "learnersupport@eastside-college.example", "0121 496 0104", "Access courses, ESOL, CSCS and SIA courses"),
    ("Saltley Park Academy", "referral_partner", "school", "Mr Tom Walsh",
     "safeguarding@saltleypark.example", "0121 496 0105", ""),
    ("Lozells Youth Collective", "both", "community_group", "Kwame Boateng",
     "hello@lozells-youth.example", "0121 496 0106", "Mentoring, sport, youth work in the evenings"),
    ("Midlands Rehabilitation Company (CRC)", "referral_partner", "crc", "Sarah Jennings",
     "ete@midlands-crc.example", "0121 496 0107", ""),
    ("Probation Service Birmingham Central", "referral_partner", "probation", "Imran Qureshi",
     "bham.central@probation.example", "0121 496 0108", ""),
    ("HMP Birmingham Resettlement Team", "referral_partner", "prison", "Gemma Ward",
     "resettlement@hmp-birmingham.example", "0121 496 0109", ""),
    ("Digbeth Start-Up Business Advice", "signposting_partner", None, "Leon Fraser",
     "advice@digbeth-startup.example", "0121 496 0110", "Start-up business advice, business plans, HMRC registration"),
    ("Second Step Housing Advice", "signposting_partner", None, "Aisha Noor",
     "advice@secondstep-housing.example", "0121 496 0111", "Housing advice and homelessness prevention"),
    ("Ladywood Wellbeing Service", "signposting_partner", None, "Dr Ruth Okonjo",
     "referrals@ladywood-wellbeing.example", "0121 496 0112", "Talking therapies, drug and alcohol support"),
)

# (name, sector, postcode, job types)
EMPLOYERS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("Digbeth Logistics Ltd", "Logistics and warehousing", "B5 5RT", ("Warehouse operative", "Forklift driver")),
    ("Tyseley Recycling Services", "Waste and recycling", "B11 2AA", ("Recycling operative", "HGV driver's mate")),
    ("Aston Build Group", "Construction", "B6 4BE", ("Labourer", "Groundworker", "Scaffolder's labourer")),
    ("Small Heath Motors", "Automotive", "B10 0HJ", ("Trainee mechanic", "Valeter")),
    ("Bullring Kitchen Co", "Hospitality", "B5 4BU", ("Kitchen porter", "Commis chef")),
    ("Handsworth Family Bakery", "Food production", "B21 9RY", ("Bakery assistant", "Delivery driver")),
    ("Erdington Care Partnership", "Health and social care", "B23 6TN", ("Care assistant", "Support worker")),
    ("Selly Oak Fitness Hub", "Sport and leisure", "B29 6AE", ("Gym instructor", "Receptionist")),
    ("Jewellery Quarter Print Works", "Manufacturing", "B18 6HP", ("Print finisher", "Machine operator")),
    ("Sparkhill Superstore", "Retail", "B11 4DA", ("Retail assistant", "Stock controller")),
    ("Castle Vale Security Services", "Security", "B35 7NL", ("Security officer", "CCTV operator")),
    ("Northfield Cleaning Solutions", "Cleaning and facilities", "B31 2PA", ("Cleaner", "Cleaning supervisor")),
    ("Perry Barr Stadium Events", "Events", "B42 2LR", ("Steward", "Event crew")),
    ("Hockley Fabrication Ltd", "Engineering", "B18 5AR", ("Welder's assistant", "Fabricator")),
    ("Nechells Rail Depot Services", "Transport", "B7 5HU", ("Track labourer", "Depot cleaner")),
    ("Ladypool Road Restaurants", "Hospitality", "B12 8LP", ("Waiter", "Kitchen assistant")),
    ("Kings Heath Garden Centre", "Horticulture", "B14 7RN", ("Garden centre assistant", "Landscaper")),
    ("Moseley Barber Academy", "Hair and beauty", "B13 8JP", ("Trainee barber", "Barber")),
    ("Acocks Green Builders Merchants", "Construction supplies", "B27 6BT", ("Yard operative", "Counter assistant")),
    ("Saltley Parcel Hub", "Logistics and warehousing", "B8 1BG", ("Parcel sorter", "Van driver")),
    ("Birmingham Eastside Hotel", "Hospitality", "B4 7ET", ("Housekeeper", "Night porter")),
    ("Stechford Bus Garage Services", "Transport", "B33 8SA", ("Bus cleaner", "Trainee bus driver")),
    ("Longbridge Assembly Components", "Manufacturing", "B31 2TT", ("Production operative", "Quality inspector")),
    ("Edgbaston Sports Catering", "Catering", "B5 7QU", ("Catering assistant", "Bar staff")),
    ("Lozells Community Café", "Social enterprise", "B19 1AP", ("Barista", "Café assistant")),
    ("Harborne Property Maintenance", "Property maintenance", "B17 9QS", ("Maintenance assistant", "Painter and decorator")),
    ("Witton Tyre and Exhaust", "Automotive", "B6 7JH", ("Tyre fitter",)),
    ("Bordesley Green Meat Packers", "Food production", "B9 5TH", ("Packing operative", "Butcher's assistant")),
    ("Ladywood Leisure Centre", "Sport and leisure", "B16 8NA", ("Lifeguard", "Leisure assistant")),
    ("City Centre Telecoms Installers", "Telecoms", "B1 1BB", ("Cable installer", "Apprentice engineer")),
)

FIRST_NAMES = (
    "Aaliyah", "Abdi", "Adebayo", "Ahmed", "Aisha", "Amir", "Andre", "Arjun", "Ayaan", "Bilal", "Callum",
    "Chantelle", "Ciaran", "Danielle", "Darnell", "Deshawn", "Ebony", "Emeka", "Faisal", "Fatima", "Gurpreet",
    "Hamza", "Harpreet", "Ibrahim", "Imani", "Ionut", "Jaden", "Jamal", "Jasmine", "Jordan", "Kacper", "Kayden",
    "Kemi", "Khadija", "Kofi", "Kyle", "Leon", "Liam", "Malik", "Marcus", "Mariam", "Mohammed", "Nathaniel",
    "Nia", "Omar", "Precious", "Rashid", "Reece", "Rhys", "Rohan", "Ryan", "Samira", "Shanice", "Simran",
    "Tariq", "Tyrone", "Usman", "Yasmin", "Yusuf", "Zain", "Zara", "Tomasz", "Elijah", "Kieran", "Mustafa",
)
LAST_NAMES = (
    "Ahmed", "Akhtar", "Ali", "Begum", "Hussain", "Iqbal", "Khan", "Mahmood", "Rashid", "Patel", "Singh", "Kaur",
    "Sandhu", "Johal", "Campbell", "Brown", "Williams", "Thompson", "Francis", "Bennett", "Clarke", "Mensah",
    "Okafor", "Adeyemi", "Osei", "Abdi", "Warsame", "Farah", "Nowak", "Kowalski", "Popescu", "O'Connor",
    "Murphy", "Byrne", "Smith", "Jones", "Taylor", "Walker", "Hughes", "Grant", "McKenzie", "Gordon", "Reid",
    "Haider", "Miah", "Uddin", "Barnes", "Lewis", "Morgan", "Douglas",
)
POSTCODE_DISTRICTS = ("B6", "B7", "B8", "B9", "B10", "B11", "B12", "B19", "B20", "B21", "B23", "B33", "B36", "B44")
POSTCODE_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"

SOURCE_WEIGHTS = {"yos": 10, "childrens_trust": 7, "police": 10, "fe_college": 8, "school": 4,
                  "community_group": 12, "crc": 6, "probation": 18, "prison": 10, "self": 15}
CONVICTED_SOURCES = {"yos": 0.6, "crc": 0.95, "probation": 0.95, "prison": 1.0, "police": 0.4}
REJECTIONS = {
    "risk_unacceptable": "Current risk to staff from an ongoing dispute is too high for community meetings; "
                         "re-referral welcome once the MAPPA review has taken place.",
    "ineligible": "Client was 36 on the referral date, over the age range for this service.",
    "declined_support": "Client told the referrer and us that they do not want employment support at present.",
    "other": "Client is already supported by another employment programme funded for the same outcome.",
}
WITHDRAWALS = ("Referrer withdrew the referral: client moved out of Birmingham.",
               "Client remanded in custody before allocation.",
               "Referrer withdrew: client started work before the assessment.")
PROGRESS = ("Finished the CV and applied for three warehouse jobs; one interview booked.",
            "Completed the CSCS card course and passed the test; now applying for labouring work.",
            "Attended every appointment; started a trial shift at a café and was asked back.",
            "Wrote a first business plan with the start-up adviser and priced the first stock.")
CHALLENGES = ("Travel across the city is a worry because of a local dispute; meetings moved to the office.",
              "Benefits letters caused stress; a better-off calculation helped.",
              "Missed two appointments after a family crisis; back in touch now.", None)
NEEDS = ("Work boots and a travel pass for the first month in work.",
         "Support to open a bank account before the first payday.",
         "A reference from the college tutor.", None)
CLOSURES_IN_WORK = ("Support complete: settled in work and asked to close.",
                    "Support complete: business trading and client asked to close.")
CLOSURES_OTHER = ("Disengaged: no contact for eight weeks despite outreach.",
                  "Moved out of Birmingham.",
                  "Recalled to custody.",
                  "Client asked to close the case.")
REOPENINGS = ("Re-opened: client asked for help after losing their job.",
              "Re-opened: released from custody and referred back.",
              "Re-opened: client got back in touch wanting to try again.")
LEAVING_REASONS = ("Temporary contract ended.", "Dismissed after lateness in the first weeks.",
                   "Left: the site was in an area the client cannot safely travel to.",
                   "Agency stopped offering shifts.", "Left for health reasons.", "Left after a dispute with a supervisor.")
LATER_LEAVING_REASONS = ("Moved to a better paid job.", "Seasonal contract ended.", "Company restructured; role ended.")
SELF_EMPLOYMENT_TYPES = ("Mobile barbering (own business)", "Car valeting (own business)", "Clothing brand (own business)",
                         "Street food stall (own business)", "Personal trainer (self-employed)",
                         "Music production studio (own business)", "Painting and decorating (self-employed)")
NON_PAID = (("training", "CSCS card course"), ("training", "SIA door supervisor course"),
            ("training", "Forklift licence course"), ("education", "Access to Higher Education course"),
            ("education", "ESOL and maths Level 2"), ("volunteering", "Volunteer youth sports coach"),
            ("volunteering", "Community café volunteer"))
PREVIOUS_SUPPORT = ("Jobcentre Plus work coach", "DWP Restart Scheme", "Probation ETE worker",
                    "Prince's Trust programme", "Youth Offending Service ETE officer")
LANGUAGES_OTHER = ("Urdu", "Punjabi", "Bengali", "Somali", "Arabic", "Polish", "Romanian", "Kurdish", "Pashto")
CONTACT_NOTES = {
    "face_to_face": ("Met at the library; worked on CV and job search.", "Coffee in town; talked through applications.",
                     "Went through interview preparation together.", "Met in the park; reviewed the action plan.",
                     "Visited the job centre together to sort ID.", "Met after work; follow-along check-in."),
    "phone": ("Phone check-in; arranged next meeting.", "Called to confirm interview time.",
              "Phone call after the shift; all going well."),
    "video": ("Video call to practise interview questions.",),
    "message": ("Messages about shift pattern and travel.", "Text reminder about the appointment."),
    "admin": ("Wrote up vocational profile.", "Prepared application forms and references.",
              "Liaised with probation officer about appointments."),
}
RISK_NOTE_TEXTS = (
    "Client reports tension with a group from a neighbouring estate after a social media argument; "
    "agreed to meet in the city centre, not locally, until this settles.",
    "Client says a former associate has been asking where he works; discussed a safer route to the site.",
    "Client disclosed carrying a weapon for protection last year; says he no longer does. Plan reviewed.",
    "Client anxious after a friend was assaulted; not retaliating, agreed to keep in daily contact this week.",
    "Client's licence conditions include an exclusion zone; checked the employer's site is outside it.",
)
SAFEGUARDING_TEXTS = (
    "Client sleeping on a friend's sofa after being asked to leave home; at risk of being drawn back into old group.",
    "Client's younger brother (15) said to be running errands for older youths; client worried for him.",
    "Client in debt to someone linked to a local group and feels pressured to repay by 'doing favours'.",
)
DISCLOSURE_TEXTS = (
    "Information that a named rival group planned to attack the client at a specific address that evening.",
    "Client stated credible intent by a third party to use a firearm against a named person within 24 hours.",
)
CONVICTION_TEXTS = (
    "Wounding with intent (s.18), sentenced {year}; released on licence.",
    "Possession of a bladed article, {year}; community order completed.",
    "Violent disorder, {year}; 18 months' custody, licence ended.",
    "Robbery, {year}; released from a young offender institution.",
)
MITIGATIONS = {
    "low": "Usual lone-working procedure; meet in public places in daylight.",
    "medium": "Meet in the city centre or office; worker checks in with the team before and after.",
    "high": "Two staff or office only; avoid the client's postcode; manager informed before each meeting.",
}
REVIEW_DAYS = {"low": 182, "medium": 91, "high": 28}
GENERAL_CONTACT_NOTES = ("Visited the site manager about entry-level vacancies.",
                         "Informational interview with the HR lead about recruitment and disclosure.",
                         "Dropped in to discuss a trial shift scheme.", "Met the owner about upcoming roles.")


@dataclass
class _Caseload:
    """A worker's open-case intervals, used to keep every worker within their cap over time."""

    user: User
    start: date
    cap: int
    intervals: list[tuple[date, date | None]] = field(default_factory=list)

    def load_on(self, day: date) -> int:
        return sum(1 for s, e in self.intervals if s <= day and (e is None or day < e))

    def has_room(self, start: date, end: date | None) -> bool:
        points = [start] + [s for s, _ in self.intervals if start < s and (end is None or s < end)]
        return all(self.load_on(p) < self.cap for p in points)

    def first_full_after(self, start: date) -> date | None:
        later = sorted(s for s, _ in self.intervals if s > start)
        return next((p for p in later if self.load_on(p) >= self.cap), None)


def _weekday(day: date) -> date:
    """The day itself, or the Monday after a weekend day."""
    return day + timedelta(days=(7 - day.weekday()) % 7) if day.weekday() >= 5 else day


class _DemoBuilder:
    def __init__(self, workers: Sequence[User], managers: Sequence[User], today: date, seed: int):
        self.rng = random.Random(seed)
        self.today = today
        self.start = today - timedelta(days=HISTORY_DAYS)
        self.workers = list(workers)
        self.managers = [m for m in managers if m is not None]
        self.organisations: dict[str, Organisation] = {}
        self.employers: list[Employer] = []
        self.job_types: dict[str, tuple[str, ...]] = {}
        self.new_docs: dict[str, list] = {"organisations": [], "employers": [], "staff_profiles": []}

    # --- partners, employers, staff ----------------------------------------------------
    def build_organisations(self) -> None:
        existing = {o.name: o for o in Organisation.objects(name__in=[row[0] for row in ORGANISATIONS])}
        for name, kind, org_type, contact, email, phone, services in ORGANISATIONS:
            org = existing.get(name)
            if org is None:
                org = Organisation(id=ObjectId(), name=name, kind=kind, org_type=org_type, contact_name=contact,
                                   email=email, phone=phone, services=services or None)
                self.new_docs["organisations"].append(org)
            self.organisations[org_type or name] = org

    def build_staff_profiles(self) -> None:
        self.caseloads: list[_Caseload] = []
        existing = {p.user.pk: p for p in StaffProfile.objects(user__in=self.workers)} if self.workers else {}
        mid_year = date(self.today.year if self.today.month >= 11 else self.today.year - 1, 10, 1)
        patterns = (
            dict(fte=1.0, start_date=self.today - timedelta(days=3 * 365), lived_experience=True,
                 languages=["English", "Punjabi", "Urdu"]),
            dict(fte=0.6, start_date=self.today - timedelta(days=2 * 365), lived_experience=False,
                 languages=["English", "Polish"],
                 # Full time until she went part time 200 days ago: targets follow the FTE of each day.
                 fte_history=[FteChange(start=self.today - timedelta(days=2 * 365), fte=1.0),
                              FteChange(start=self.today - timedelta(days=200), fte=0.6)]),
            dict(fte=1.0, start_date=mid_year, lived_experience=False, languages=["English", "Somali", "Arabic"]),
            dict(fte=1.0, start_date=self.today - timedelta(days=900), lived_experience=True, languages=["English"]),
        )
        for index, worker in enumerate(self.workers):
            profile = existing.get(worker.pk)
            if profile is None:
                profile = StaffProfile(id=ObjectId(), user=worker, **patterns[index % len(patterns)])
                self.new_docs["staff_profiles"].append(profile)
            self.caseloads.append(_Caseload(worker, profile.start_date, profile.effective_cap))
        self.fte = {c.user.pk: float(p.fte) for c, p in zip(self.caseloads, self._profiles_in_order(existing))}

    def build_staff_time(self) -> list[StaffTime]:
        """Each worker's weekly time that belongs to no client: partner meetings, travel, training, job development."""
        rng = random.Random(self.rng.random())  # its own stream: the case files stay as they were
        out = []
        profiles = {c.user.pk: c.start for c in self.caseloads}
        for worker in self.workers:
            monday = self.start - timedelta(days=self.start.weekday())
            while monday < self.today:
                for kind, minutes, chance in STAFF_TIME_PATTERN:
                    day = monday + timedelta(days=rng.randint(0, 4))
                    if rng.random() < chance and profiles.get(worker.pk, day) <= day < self.today:
                        out.append(StaffTime(id=ObjectId(), staff=worker, date=day, kind=kind,
                                             minutes=rng.choice(minutes), note=STAFF_TIME_NOTES[kind],
                                             created_at=datetime.combine(day, time(17, 0))))
                monday += timedelta(days=7)
        return out

    def show_a_reassignment(self, cases: list[Client]) -> None:
        """Two open cases came over from another worker part way through, so each worker's figures show the split."""
        if len(self.workers) < 2:
            return
        moved = [c for c in cases if c.worker is not None and c.status != "closed"
                 and (self.today - c.referral.date).days > 200][:2]
        for client in moved:
            before = next(w for w in self.workers if w != client.worker)
            handed = client.referral.date + timedelta(days=90)
            client.assignments = [Assignment(worker=before, start=client.referral.date, by=SEED_ACTOR,
                                             reason="allocated at referral"),
                                  Assignment(worker=client.worker, start=handed, by=self._by(self._manager()),
                                             reason="caseload rebalanced")]

    def _profiles_in_order(self, existing: dict) -> list[StaffProfile]:
        new = {p.user.pk: p for p in self.new_docs["staff_profiles"]}
        return [existing.get(w.pk) or new[w.pk] for w in self.workers]

    def build_employers(self) -> None:
        rng = self.rng
        existing = {e.name: e for e in Employer.objects(name__in=[row[0] for row in EMPLOYERS])}
        for name, sector, postcode, job_types in EMPLOYERS:
            self.job_types[name] = job_types
            employer = existing.get(name)
            if employer is None:
                slug = "".join(ch for ch in name.lower() if ch.isalnum())[:24]
                employer = Employer(id=ObjectId(), name=name, sector=sector, postcode=postcode,
                                    contact_name=f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
                                    email=f"jobs@{slug}.example", phone=f"0121 496 {rng.randint(200, 999):04d}",
                                    created_at=datetime.combine(self.start - timedelta(days=rng.randint(0, 200)), time(9)))
                self.new_docs["employers"].append(employer)
            self.employers.append(employer)
        self._general_employer_contacts()

    def _general_employer_contacts(self) -> None:
        """Job development for the whole caseload: several face-to-face visits a week per worker."""
        rng = self.rng
        fresh = self.new_docs["employers"]
        if not fresh:
            return
        favourites = fresh[: max(1, len(fresh) // 3)]
        for caseload in self.caseloads:
            fte = self.fte.get(caseload.user.pk, 1.0)
            week = max(caseload.start, self.start)
            week -= timedelta(days=week.weekday())
            while week <= self.today:
                if rng.random() > 0.08:  # leave, training weeks
                    for _ in range(round(rng.uniform(3, 7) * fte)):
                        day = week + timedelta(days=rng.randint(0, 4))
                        if day > self.today or day < caseload.start:
                            continue
                        employer = rng.choice(favourites) if rng.random() < 0.4 else rng.choice(fresh)
                        purpose = rng.choices(("job_development", "informational_interview", "placement_support"),
                                              (6, 3, 1))[0]
                        employer.employer_contacts.append(GeneralEmployerContact(
                            date=day, staff=caseload.user, face_to_face=rng.random() < 0.85, purpose=purpose,
                            note=rng.choice(GENERAL_CONTACT_NOTES)))
                week += timedelta(days=7)
        for employer in fresh:
            employer.employer_contacts.sort(key=lambda c: c.date)

    # --- case files ----------------------------------------------------------------------
    def build_clients(self, count: int) -> list[Client]:
        rng = self.rng
        days = sorted(self.today - timedelta(days=rng.randint(2, HISTORY_DAYS)) for _ in range(count))
        # The newest two referrals await a manager's decision, so there is always one to decide.
        return [self._client(index + 1, referral_date, awaiting=index >= count - 2) for index, referral_date in enumerate(days)]

    def _manager(self) -> User | None:
        return self.rng.choice(self.managers) if self.managers else None

    def _by(self, user: User | None) -> str:
        return user.email if user is not None else SEED_ACTOR

    def _client(self, number: int, referral_date: date, awaiting: bool = False) -> Client:
        rng, today = self.rng, self.today
        source = rng.choices(list(SOURCE_WEIGHTS), list(SOURCE_WEIGHTS.values()))[0]
        cohort = "convicted" if rng.random() < CONVICTED_SOURCES.get(source, 0.15) else "at_risk"
        born = self._date_of_birth(referral_date)
        client = Client(
            reference=REFERENCE_FORMAT.format(number),
            first_name=rng.choice(FIRST_NAMES),
            last_name=rng.choice(LAST_NAMES),
            date_of_birth=born,
            postcode=f"{rng.choice(POSTCODE_DISTRICTS)} {rng.randint(1, 9)}{rng.choice(POSTCODE_LETTERS)}"
                     f"{rng.choice(POSTCODE_LETTERS)}",
            phone=f"07700 900{rng.randint(0, 999):03d}",
            referral=Referral(date=referral_date, organisation=self.organisations.get(source), source=source,
                              cohort=cohort),
            created_at=datetime.combine(referral_date, time(9, 0)) + timedelta(minutes=rng.randint(0, 480)),
        )
        manager = self._manager()
        client.status_history = [StatusChange(date=referral_date, status="referred", reason="Referral received",
                                              by=self._by(manager))]
        roll = rng.random()
        recent = (today - referral_date).days < 14
        if awaiting or (recent and roll < 0.5):
            pass  # awaiting a decision
        elif roll < 0.12:
            self._reject(client, rng.choice(list(REJECTIONS)), manager)
        elif roll < 0.19:
            decided = min(today, referral_date + timedelta(days=rng.randint(3, 20)))
            client.referral.decision, client.referral.decision_date = "withdrawn", decided
            client.referral.decided_by = self._by(manager)
            client.status_history.append(StatusChange(date=decided, status="closed",
                                                      reason=f"Referral withdrawn: {rng.choice(WITHDRAWALS)}",
                                                      by=self._by(manager)))
        else:
            self._accept(client, manager)
        client.status = client.status_history[-1].status
        return self._finish(client)

    def _date_of_birth(self, referral_date: date) -> date:
        while True:
            born = referral_date - timedelta(days=self.rng.randint(18 * 365 + 5, 35 * 365 + 300))
            if rules.MIN_AGE <= rules.age_on(born, referral_date) <= rules.MAX_AGE:
                return born

    def _reject(self, client: Client, reason: str, manager: User | None, rationale: str | None = None) -> None:
        decided = min(self.today, client.referral.date + timedelta(days=self.rng.randint(1, 10)))
        client.referral.decision, client.referral.decision_date = "rejected", decided
        client.referral.decided_by = self._by(manager)
        client.referral.rejection_reason = reason
        client.referral.rationale = rationale or REJECTIONS[reason]
        client.status_history.append(StatusChange(date=decided, status="closed", reason="Referral rejected",
                                                  by=self._by(manager)))

    def _accept(self, client: Client, manager: User | None) -> None:
        rng, today = self.rng, self.today
        decided = min(today, client.referral.date + timedelta(days=rng.randint(1, 7)))
        assessed = decided + timedelta(days=rng.randint(2, 21))
        closed = None if rng.random() < 0.45 else assessed + timedelta(days=rng.randint(90, 420))
        if closed is not None and closed > today:
            closed = None
        reopened = closed_again = None
        if closed is not None and rng.random() < 0.2:
            reopened = closed + timedelta(days=rng.randint(30, 150))
            if reopened > today - timedelta(days=14):
                reopened = None
            elif rng.random() < 0.35:
                closed_again = reopened + timedelta(days=rng.randint(60, 200))
                closed_again = closed_again if closed_again <= today else None
        caseload = self._allocate(decided, assessed, closed, reopened, closed_again)
        if caseload is None:
            self._reject(client, "caseload_at_capacity", manager,
                         "Every employment specialist is at their caseload cap; referrer asked to re-refer in 8 weeks.")
            return
        caseload, closed, reopened, closed_again = caseload
        client.worker = caseload.user
        client.referral.decision, client.referral.decision_date = "accepted", decided
        client.referral.decided_by = self._by(manager)
        _CaseStory(self, client, caseload.user, assessed, closed, reopened, closed_again).tell()

    def _allocate(self, decided: date, assessed: date, closed: date | None, reopened: date | None,
                  closed_again: date | None):
        """The worker with the lightest caseload who has room for this case over its whole life."""
        rng = self.rng
        in_post = [c for c in self.caseloads if c.start <= decided] or self.caseloads
        for caseload in sorted(in_post, key=lambda c: (c.load_on(decided), rng.random())):
            if caseload.has_room(decided, closed):
                if reopened is not None and not (caseload.has_room(reopened, closed_again)
                                                 and caseload.load_on(reopened) < caseload.cap):
                    reopened = closed_again = None
            elif caseload.load_on(decided) < caseload.cap:
                full = caseload.first_full_after(decided)
                if full is None or (full - assessed).days < 60:
                    continue
                closed, reopened, closed_again = full - timedelta(days=rng.randint(0, 7)), None, None
            else:
                continue
            caseload.intervals.append((decided, closed))
            if reopened is not None:
                caseload.intervals.append((reopened, closed_again))
            return caseload, closed, reopened, closed_again
        return None

    def _finish(self, client: Client) -> Client:
        client.id = ObjectId()
        client.assignments = [Assignment(worker=client.worker, start=client.referral.date, by=SEED_ACTOR,
                                         reason="allocated at referral" if client.worker else "awaiting allocation")]
        client.validate()
        last = max([client.referral.date] + [s.date for s in client.status_history]
                   + [c.date for c in client.contacts])
        client.updated_at = datetime.combine(last, time(17, 0))  # validate() stamps the clock; keep it deterministic
        errors = rules.case_file_errors(client, self.today)
        if errors:
            raise DemoDataError(f"generated case file {client.reference} breaks the rules: {errors}")
        return client


class _CaseStory:
    """The history of one accepted case: assessment, contacts, jobs, closures and re-opening."""

    def __init__(self, builder: _DemoBuilder, client: Client, worker: User, assessed: date,
                 closed: date | None, reopened: date | None, closed_again: date | None):
        self.b, self.rng, self.today = builder, builder.rng, builder.today
        self.client, self.worker = client, worker
        self.assessed, self.closed, self.reopened, self.closed_again = assessed, closed, reopened, closed_again
        self.events: list[tuple[date, int, str, str]] = []  # (date, order, status, reason)

    def tell(self) -> None:
        rng, client = self.rng, self.client
        if self.assessed > self.today:
            self._contact(self.client.referral.decision_date, "phone", 15, "Called to arrange the first meeting.")
            return
        goal = rng.choices(("employment", "self_employment", "both"), (70, 12, 18))[0]
        employed = rng.random() < 0.1
        self._assessment(goal, employed)
        periods = [(self.assessed, self.closed)]
        if self.reopened is not None:
            periods.append((self.reopened, self.closed_again))
        for index, (start, end) in enumerate(periods):
            self._period(index, start, end, goal, employed and index == 0, last=index == len(periods) - 1)
        self._plan_goals(goal)
        self._extras(goal)
        self._status_history()
        self._progress_update()
        for name in ("contacts", "employer_contacts", "risk_assessments", "risk_notes", "outcomes",
                     "benefits_sessions", "onward_referrals", "safeguarding_concerns", "disclosures"):
            getattr(client, name).sort(key=lambda item: getattr(item, "date", None) or item.start_date)

    # --- pieces --------------------------------------------------------------------------
    def _assessment(self, goal: str, employed: bool) -> None:
        rng, client, on = self.rng, self.client, self.assessed
        language = "English" if rng.random() < 0.85 else rng.choice(LANGUAGES_OTHER)
        client.consent = Consent(recorded=True, date=on, preferred_language=language,
                                 isa_version="MAISA 3.0" if (self.today - on).days < 270 else "MAISA 2.1",
                                 interpreter_needed=language != "English" and rng.random() < 0.5)
        previous = rng.random() < 0.3
        conviction = None
        if client.referral.cohort == "convicted":
            conviction = DEMO_MARK + rng.choice(CONVICTION_TEXTS).format(year=on.year - rng.randint(1, 6))
        client.assessment = Assessment(
            date=on, readiness=rng.choices(("low", "medium", "high"), (25, 50, 25))[0], goal=goal,
            employment_status="employed_needing_support" if employed else rng.choices(("unemployed", "inactive"), (70, 30))[0],
            agreed_to_take_part=True, previous_support=previous,
            previous_support_from=rng.choice(PREVIOUS_SUPPORT) if previous else None,
            conviction_details=conviction)
        client.vocational_profile = VocationalProfile(
            work_history=rng.choice(("No paid work yet.", "Cash-in-hand labouring and car washing.",
                                     "Six months in a warehouse before custody.", "Kitchen work through an agency.")),
            skills=rng.choice(("Good with people; can drive.", "Strong at fixing cars and bikes.",
                               "Music production and social media.", "Fitness, coaching younger lads at football.")),
            interests=rng.choice(("Construction, outdoor work.", "Own business in barbering.", "Logistics, driving.",
                                  "Hospitality and food.", "Care work, helping people.")),
            barriers=rng.choice(("Conviction to disclose; no CV.", "No ID or bank account.", "Travel limited by safety.",
                                 "Low confidence; gaps in education.", "Housing unstable.")))
        self.events.append((on, 1, "assessed", "Initial assessment; vocational profile started"))
        level = rng.choices(("low", "medium", "high"), (45, 38, 17))[0]
        self.level = level
        self.client.risk_assessments.append(self._risk_assessment(on, "individual", level))

    def _risk_assessment(self, on: date, kind: str, level: str) -> RiskAssessment:
        return RiskAssessment(date=on, kind=kind, level=level, mitigations=MITIGATIONS[level],
                              review_date=on + timedelta(days=REVIEW_DAYS[level]), assessor=self.worker)

    def _contact(self, on: date, mode: str, minutes: int, note: str | None = None, place: str | None = None) -> None:
        rng = self.rng
        if place is None:
            place = {"face_to_face": rng.choices(("community", "office", "custody"), (80, 18, 2))[0],
                     "admin": "office"}.get(mode, "online" if mode == "video" else None)
            if place == "custody" and self.client.referral.cohort != "convicted":
                place = "community"
        if on.weekday() >= 5:
            start_time = "11:00"
        elif mode == "admin":
            start_time = None
        else:
            draw = rng.random()  # one in ten client contacts is in the evening
            start_time = "17:30" if draw < 0.1 else f"{9 + int(draw * 1000) % 8:02d}:{30 * (int(draw * 10000) % 2):02d}"
        out_of_hours = contact_out_of_hours(on, start_time, False)
        self.client.contacts.append(Contact(date=on, start_time=start_time, minutes=minutes, mode=mode, place=place,
                                            out_of_hours=out_of_hours, staff=self.worker,
                                            note=note or rng.choice(CONTACT_NOTES[mode])))

    def _regular_contact(self, on: date) -> None:
        rng = self.rng
        mode = rng.choices(("face_to_face", "phone", "message", "video", "admin"), (60, 15, 8, 4, 13))[0]
        minutes = {"face_to_face": rng.randrange(30, 125, 5), "admin": rng.randrange(15, 65, 5),
                   "video": rng.randrange(20, 65, 5)}.get(mode, rng.randrange(15, 35, 5))
        self._contact(on, mode, minutes)

    def _period(self, index: int, start: date, end: date | None, goal: str, employed: bool, last: bool) -> None:
        rng, today = self.rng, self.today
        stop = end or today
        if index == 0:
            self._contact(start, "face_to_face", rng.randrange(60, 125, 5), "Initial assessment; vocational profile started.")
            active_on = start + timedelta(days=rng.randint(3, 12))
            if active_on <= stop:
                self.events.append((active_on, 2, "active", "Vocational Action Plan agreed"))
        else:
            self.events.append((start, 0, "active", rng.choice(REOPENINGS)))
            self._contact(start, "face_to_face", rng.randrange(45, 95, 5), "Re-opening meeting; plan reviewed.")
        if end is not None:
            self.events.append((end, 5, "closed", ""))  # reason set once the outcomes are known
        jobs = self._outcomes(start, stop, goal, employed, closed=end is not None, reopen_next=not last)
        # regular contact, with follow-along around each job start
        follow = {j.start_date + timedelta(days=d) for j in jobs for d in (-3, 2, 9, 16, 23)}
        lapsed = end is None and rng.random() < 0.1  # open case, but out of touch for over four weeks
        limit = today - timedelta(days=rng.randint(35, 70)) if lapsed else stop
        day = start
        while True:
            in_work = any(j.start_date <= day and (j.end_date is None or day <= j.end_date) for j in jobs)
            weeks = (day - start).days // 7
            day += timedelta(days=rng.randint(7, 21) if in_work else rng.randint(3, 10) if weeks < 8 else rng.randint(5, 16))
            if day >= limit:
                break
            self._regular_contact(day)
        for day in sorted(follow):
            if start < day < limit:
                self._contact(day, "face_to_face" if rng.random() < 0.7 else "phone", rng.randrange(15, 65, 5),
                              "Follow-along around the job start.")
        if end is not None:
            self._contact(end, "admin", rng.randrange(15, 35, 5), "Closure summary written and case closed.")
        self._employer_contacts(start, stop, jobs, first_period=index == 0)
        self._risk_reviews(start, stop)

    def _outcomes(self, start: date, stop: date, goal: str, employed: bool, closed: bool, reopen_next: bool) -> list[Outcome]:
        rng, today, client = self.rng, self.today, self.client
        jobs: list[Outcome] = []
        chance = 0.55 if not employed else 0.3
        if (stop - start).days > 25 and rng.random() < chance:
            begins = start + timedelta(days=min(rng.randint(21, 300), (stop - start).days - 1))
            business = goal == "self_employment" or (goal == "both" and rng.random() < 0.4)
            jobs.append(self._job(begins, business, reopen_next, stop))
            second = jobs[0].end_date + timedelta(days=rng.randint(7, 60)) if jobs[0].end_date \
                else begins + timedelta(days=rng.randint(20, 120))
            if rng.random() < 0.22 and second < stop:
                jobs.append(self._job(second, False, reopen_next, stop, part_time=True))
        for job in jobs:
            client.outcomes.append(job)
            status = "in_business" if job.kind == "self_employment" else "in_work"
            self.events.append((job.start_date, 3, status, f"Started: {job.job_type}"))
        # back to active when every paid outcome has ended before the case closes
        for job in jobs:
            if job.end_date and job.end_date < stop and not any(
                    o is not job and o.start_date <= job.end_date and (o.end_date is None or o.end_date > job.end_date)
                    for o in jobs):
                self.events.append((job.end_date, 4, "active", "Job ended; back to job search"))
        if rng.random() < 0.3 and (stop - start).days > 30:
            kind, what = rng.choice(NON_PAID)
            begins = start + timedelta(days=rng.randint(10, (stop - start).days - 1))
            ends = begins + timedelta(days=rng.randint(5, 120))
            client.outcomes.append(Outcome(kind=kind, start_date=begins, end_date=ends if ends <= today else None,
                                           job_type=what, competitive=False,
                                           employer=None if kind != "volunteering" else rng.choice(self.b.employers)))
        return jobs

    def _job(self, begins: date, business: bool, must_end: bool, stop: date, part_time: bool = False) -> Outcome:
        rng, today = self.rng, self.today
        sustained = rng.random() < 0.65
        ends = begins + timedelta(days=rng.randint(95, 600) if sustained else rng.randint(5, 88))
        reason = rng.choice(LATER_LEAVING_REASONS if sustained else LEAVING_REASONS)
        if must_end and ends >= stop:  # a re-opened case lost the job before re-opening
            ends, reason = stop - timedelta(days=rng.randint(1, 10)), rng.choice(LEAVING_REASONS)
            ends = max(ends, begins)
        if ends > today:
            ends, reason = None, None
        if business:
            self.business_started = begins
            return Outcome(kind="self_employment", start_date=begins, end_date=ends, job_type=rng.choice(SELF_EMPLOYMENT_TYPES),
                           hours_per_week=Decimal(rng.randrange(16, 41)), competitive=True,
                           reason_for_leaving="Business stopped trading." if ends else None)
        employer = self._last_employer if getattr(self, "_last_employer", None) and rng.random() < 0.5 \
            else rng.choice(self.b.employers)
        hours = Decimal(rng.choice(("16", "20", "24", "25.5"))) if part_time else Decimal(rng.choice(("30", "37.5", "40", "35", "22.5")))
        return Outcome(kind="paid_employment", start_date=begins, end_date=ends, employer=employer,
                       job_type=rng.choice(self.b.job_types.get(employer.name, ("Operative",))),
                       hours_per_week=hours, competitive=rng.random() < 0.93, reason_for_leaving=reason)

    def _employer_contacts(self, start: date, stop: date, jobs: list[Outcome], first_period: bool) -> None:
        rng = self.rng
        first = start + timedelta(days=rng.randint(3, 30) if rng.random() < 0.7 else rng.randint(31, 120))
        until = min([stop] + [j.start_date for j in jobs])
        day, face_to_face = first, True
        while day <= until and day <= self.today:
            employer = rng.choice(self.b.employers)
            self._last_employer = employer
            self.client.employer_contacts.append(EmployerContact(
                date=day, employer=employer, face_to_face=face_to_face,
                purpose=rng.choices(("job_development", "informational_interview"), (2, 1))[0],
                with_client=rng.random() < 0.4, staff=self.worker,
                note=f"Job development with {employer.name} for this client."))
            day += timedelta(days=rng.randint(10, 45))
            face_to_face = rng.random() < 0.8
        for job in jobs:
            if job.employer is not None and job.start_date + timedelta(days=7) <= min(stop, self.today):
                self.client.employer_contacts.append(EmployerContact(
                    date=job.start_date + timedelta(days=7), employer=job.employer, face_to_face=True,
                    purpose="placement_support", with_client=rng.random() < 0.5, staff=self.worker,
                    note="Placement support visit in the first weeks of the job."))

    def _risk_reviews(self, start: date, stop: date) -> None:
        rng = self.rng
        latest = self.client.risk_assessments[-1]
        if latest.date < start:
            latest = self._risk_assessment(start, "individual", self.level)
            self.client.risk_assessments.append(latest)
        while latest.review_date <= stop and rng.random() < 0.85:
            on = latest.review_date + timedelta(days=rng.randint(-5, 5))
            if on > self.today or on > stop:
                break
            level = rng.choices(("low", "medium", "high"), (50, 35, 15))[0] if rng.random() < 0.3 else latest.level
            latest = self._risk_assessment(on, "individual", level)
            self.client.risk_assessments.append(latest)
        if rng.random() < 0.4:
            on = start + timedelta(days=rng.randint(1, 20))
            if on <= stop:
                self.client.risk_assessments.append(self._risk_assessment(
                    on, rng.choice(("venue", "group")), rng.choices(("low", "medium", "high"), (60, 30, 10))[0]))
        self.level = latest.level

    def _plan_goals(self, goal: str) -> None:
        rng, client, today = self.rng, self.client, self.today
        open_case = self.closed is None or (self.reopened is not None and self.closed_again is None)
        goals = [("Get a CV and a disclosure letter ready", 21), ("Sort ID and a bank account", 30)]
        if goal in ("employment", "both"):
            goals.append(("Apply for entry-level roles in the sectors I chose", 90))
        if goal in ("self_employment", "both"):
            goals.append(("Write a business plan with the start-up adviser", 120))
        if client.outcomes and any(o.kind in ("paid_employment", "self_employment") for o in client.outcomes):
            goals.append(("Keep the job past 13 weeks and plan the next step", 200))
        for index, (text, due_in) in enumerate(goals):
            due = self.assessed + timedelta(days=due_in)
            status = "achieved" if due < today and rng.random() < 0.75 else "open"
            if status == "open" and due < today and rng.random() < 0.3:
                status = "dropped"
            if not open_case and status == "open":
                status = "achieved" if rng.random() < 0.5 else "dropped"
            client.plan_goals.append(PlanGoal(goal=text, steps="Worked through step by step with my worker.",
                                              due_date=due, status=status))
        if open_case and not any(g.status == "open" for g in client.plan_goals):
            client.plan_goals.append(PlanGoal(goal="Find and keep work I enjoy", steps="Weekly meetings; employer visits.",
                                              due_date=today + timedelta(days=rng.randint(30, 120)), status="open"))

    def _extras(self, goal: str) -> None:
        """Benefits counselling, risk notes, safeguarding, disclosures, onward referrals and grant bids."""
        rng, client, today = self.rng, self.client, self.today
        last_day = max(c.date for c in client.contacts)
        span = max(0, (last_day - self.assessed).days)

        def some_day(earliest: int = 0) -> date:
            return self.assessed + timedelta(days=rng.randint(min(earliest, span), span))

        if rng.random() < 0.4:
            for _ in range(rng.randint(1, 3)):
                client.benefits_sessions.append(BenefitsSession(
                    date=some_day(), minutes=rng.randrange(30, 95, 5),
                    topic=rng.choice(("Better-off calculation", "Universal Credit and starting work",
                                      "Reporting self-employed earnings to Universal Credit", "Housing costs after a job start")),
                    note="Went through the figures together."))
        high = any(a.level == "high" for a in client.risk_assessments)
        notes = rng.randint(1, 3) if high else (1 if rng.random() < 0.25 else 0)
        for _ in range(notes):
            client.risk_notes.append(RiskNote(date=some_day(), level="high" if high else "medium",
                                              text=DEMO_MARK + rng.choice(RISK_NOTE_TEXTS), author=self.worker))
        if rng.random() < 0.1:
            client.safeguarding_concerns.append(SafeguardingConcern(
                date=some_day(), concern=DEMO_MARK + rng.choice(SAFEGUARDING_TEXTS),
                referred_to=rng.choice(("Birmingham Adult Social Care", "Birmingham Children's Trust MASH",
                                        "Housing Options")),
                action="Referral made with the client's knowledge; follow-up booked."))
        if high and rng.random() < 0.3:
            on = some_day()
            manager = self.b._manager()
            report = on + timedelta(days=rng.randint(1, 4))
            client.disclosures.append(Disclosure(
                date=on, basis=rng.choices(("threat_to_life", "safety_of_others", "public_disorder"), (6, 3, 1))[0],
                decided_by=self.worker.name or self.worker.email,
                authorised_by=(manager.name or manager.email) if manager else "Service manager",
                shared_with="West Midlands Police, Force Contact Centre",
                what_shared=DEMO_MARK + rng.choice(DISCLOSURE_TEXTS),
                written_report_date=report if report <= today and rng.random() < 0.6 else None))
        if goal in ("self_employment", "both") or rng.random() < 0.2:
            organisation = self.b.organisations["Digbeth Start-Up Business Advice"] if goal != "employment" \
                else rng.choice([self.b.organisations["Second Step Housing Advice"],
                                 self.b.organisations["Ladywood Wellbeing Service"]])
            client.onward_referrals.append(OnwardReferral(
                date=some_day(), organisation=organisation,
                purpose="Start-up business advice" if goal != "employment" else "Support alongside job search",
                outcome=rng.choice(("Attended first appointment.", "Waiting for an appointment.", None))))
        started = getattr(self, "business_started", None)
        if (started or goal in ("self_employment", "both")) and rng.random() < 0.75:
            asked = Decimal(rng.randrange(500, 3050, 50))
            submitted = (started - timedelta(days=rng.randint(5, 30))) if started else some_day(30)
            submitted = max(submitted, self.assessed)
            age = (today - submitted).days
            status = "draft" if age < 10 else rng.choices(("submitted", "approved", "paid", "rejected"), (2, 3, 3, 1))[0]
            if status == "approved" and age > 60:
                status = "paid"  # an award this old has been paid out
            if status == "submitted" and age > 90:
                status = "rejected"  # nor does the panel sit on a bid for three months
            awarded = None
            if status in ("approved", "paid"):
                awarded = asked if rng.random() < 0.6 else (asked * Decimal("0.8")).quantize(Decimal("1.00"))
            client.grant_bids.append(GrantBid(
                bid_id=_demo_bid_id(client.reference, len(client.grant_bids) + 1), amount_asked=asked, purpose=rng.choice(("Equipment and first stock", "Van deposit and insurance",
                                                         "Clippers, chair and mirror", "Website and first batch of stock")),
                plan_summary="Business plan written with the start-up adviser; break-even in six months.",
                submitted_date=None if status == "draft" else submitted, status=status, amount_awarded=awarded))

    def _progress_update(self) -> None:
        """An open case has the worker's own account of the last quarter, for the quarterly return."""
        client, rng = self.client, self.rng
        if client.status_history[-1].status not in ("active", "in_work", "in_business"):
            return
        on = self.today - timedelta(days=rng.randint(3, 45))
        if on < self.assessed:
            return
        client.progress_updates.append(ProgressUpdate(
            date=on, author=self.worker, progress=rng.choice(PROGRESS), challenges=rng.choice(CHALLENGES),
            needs=rng.choice(NEEDS)))

    def _status_history(self) -> None:
        """Fold the events into a status history where each change really changes the status."""
        client = self.client
        status = client.status_history[-1].status
        for on, _, new, reason in sorted(self.events, key=lambda e: (e[0], e[1])):
            if on > self.today:
                continue
            if status == "closed" and not (new == "active" and on == self.reopened):
                continue  # nothing moves a closed case except re-opening
            if new == status:
                continue
            if new == "active" and status in ("in_work", "in_business"):
                still = [o for o in client.outcomes if o.kind in ("paid_employment", "self_employment")
                         and o.start_date <= on and (o.end_date is None or o.end_date > on)]
                if still:
                    continue
            if new == "closed":
                in_work = status in ("in_work", "in_business")
                reason = self.rng.choice(CLOSURES_IN_WORK if in_work else CLOSURES_OTHER)
            client.status_history.append(StatusChange(date=on, status=new, reason=reason, by=self.worker.email))
            status = new


def _demo_bid_id(reference: str, number: int) -> str:
    """A bid number shaped like the app's own, the same for the same demo case file every time."""
    return str(ObjectId(hashlib.sha256(f"{reference}/{number}".encode()).digest()[:12]))


def generate_demo(workers: list[User], managers: list[User], today: date, seed: int = 2026,
                  clients: int = 100) -> dict[str, int]:
    """Seed partners, employers, staff profiles and `clients` case files; the same inputs give the same data."""
    if not workers:
        raise DemoDataError("Demo data needs at least one worker.")
    if Client.objects.count():
        raise DemoDataError("The database already holds case files; demo case files go into an empty database.")
    builder = _DemoBuilder(workers, managers, today, seed)
    with audit.acting_as(SEED_ACTOR):
        builder.build_organisations()
        builder.build_staff_profiles()
        builder.build_employers()
        cases = builder.build_clients(clients)
        builder.show_a_reassignment(cases)
        staff_time = builder.build_staff_time()
        counts: dict[str, int] = {}
        for name, documents in (("organisations", builder.new_docs["organisations"]),
                                ("employers", builder.new_docs["employers"]),
                                ("staff_profiles", builder.new_docs["staff_profiles"]),
                                ("clients", cases), ("staff_time", staff_time)):
            if documents:
                model = type(documents[0])
                if model is not Client:
                    for document in documents:
                        document.validate()
                else:  # inserted in bulk, so the keys save() would make are made here
                    for document in documents:
                        document.search_keys = client_search_keys(document.reference, document.first_name,
                                                                  document.last_name)
                model._get_collection().insert_many([document.to_mongo() for document in documents])
            counts[name] = len(documents)
    return counts


def replay_grant_bids(db, today: date, *, worker_by: str, panel_by: str, manager_by: str, payments_by: str,
                      pot_total_pence: int = 50_000_00) -> dict[str, int]:
    """Open a grant pot per financial year and take each generated bid through the real workflow.

    generate_demo writes each bid with the status it should reach; here every such bid is put back
    to draft and moved on by admin_app.grants, so the pots' committed and paid figures, the bids'
    histories and the ledger agree exactly as they would after real use.
    """
    from admin_app import grants
    from admin_app.metrics.periods import financial_year, fy_label, fy_start_year

    planned = list(db[Client._get_collection_name()].aggregate([
        {"$unwind": "$grant_bids"},
        {"$match": {"grant_bids.status": {"$ne": "draft"}}},
        {"$project": {"bid": "$grant_bids"}},
        {"$sort": {"bid.submitted_date": 1, "bid.bid_id": 1}},
    ]))
    first_year = min((fy_start_year(p["bid"]["submitted_date"].date()) for p in planned), default=fy_start_year(today))
    pots = 0
    for year in range(first_year, fy_start_year(today) + 1):
        period = financial_year(year)
        if grants.pot_for(db, period.start) is None:
            grants.create_pot(db, fy_label(year), period.start, period.end, pot_total_pence, by=manager_by,
                              on=min(period.start, today))
            pots += 1
    # The panel has work on first sign-in: the newest bid waits for it, the one before is in its review.
    waiting = {plan["bid"]["bid_id"]: status for plan, status in zip(reversed(planned), ("submitted", "panel_review"))}
    moved = 0
    for plan in planned:
        bid = plan["bid"]
        target = waiting.get(bid["bid_id"], bid["status"])
        ref = grants.find_bid(db, bid["bid_id"])
        at = f"grant_bids.{ref.index}."
        db[Client._get_collection_name()].update_one(
            {"_id": ref.client_id, at + "bid_id": bid["bid_id"]},
            {"$set": {at + "status": "draft"}, "$unset": {at + "submitted_date": "", at + "amount_awarded_pence": ""}})
        submitted = bid["submitted_date"].date()
        asked, awarded = int(bid.get("amount_asked_pence") or 0), int(bid.get("amount_awarded_pence") or 0)

        def step(operation, days, **values):
            grants.OPERATIONS[operation](db, grants.find_bid(db, bid["bid_id"]), on=min(submitted + timedelta(days=days), today),
                                         **values)

        step("submit", 0, by=worker_by)
        if target == "submitted":
            moved += 1
            continue
        step("review", 2, by=panel_by)
        if target == "panel_review":
            moved += 1
            continue
        if target == "rejected":
            step("recommend", 5, by=panel_by, recommendation="reject", note="Plan not yet ready for funding.")
            step("reject", 7, by=manager_by, reason="The panel asked for a fuller cash-flow forecast first.")
        else:
            reduced = awarded < asked
            step("recommend", 5, by=panel_by, recommendation="approve_reduced" if reduced else "approve",
                 amount_pence=awarded if reduced else None, note="Sound plan." if not reduced else "Fund the essentials.")
            try:
                step("approve", 7, by=manager_by, amount_pence=awarded)
            except grants.GrantRefused:
                continue  # the year's pot is spent: the bid waits with the panel's recommendation
            if target == "paid":
                # Larger awards are paid in two instalments a month apart, as the grant allows.
                instalments = [awarded] if awarded <= 1_000_00 else [awarded * 6 // 10, awarded - awarded * 6 // 10]
                for number, amount in enumerate(instalments):
                    days = 14 + 30 * number
                    step("pay", days, by=payments_by, amount_pence=amount, paid_on=min(submitted + timedelta(days=days), today),
                         reference=f"BACS {bid['bid_id'][-6:]}/{number + 1}")
        moved += 1
    return {"grant_pots": pots, "grant_bids_moved": moved}


def seed_export_runs(settings, now: datetime) -> dict[str, int]:
    """Export runs as after some months of service, made by the real build and send: each schedule's last
    period sent to its recipients (the evaluator gets the two latest monthly extracts, the commissioner the
    last quarterly return), and one return that failed because an address had left its allow-list, with the
    notice and email managers get. Mail goes where the settings send it (a folder in the demo)."""
    from admin_app import export_runs
    from admin_app.views.export_scopes import resolve_scope
    from admin_app.models.exports import ExportRun, ExportSchedule

    if ExportRun.objects.count():
        return {"export_runs": 0}
    today = export_runs.local_date(now)
    made = []
    with audit.acting_as(SEED_ACTOR):
        for schedule in ExportSchedule.objects(active=True).order_by("name"):
            latest = export_runs.period_for(schedule.period_rule, today)
            periods = [latest]
            if schedule.report == "evaluator_extract":
                periods.insert(0, export_runs.period_for(schedule.period_rule, latest.start))
            match, scope = resolve_scope(schedule.scope, None)
            for period in periods:
                made.append(export_runs.create_run(schedule.report, period, match=match, scope=scope,
                                                   started_by=f"schedule “{schedule.name}”", schedule=schedule,
                                                   now=_run_time(period, now)))
        opcc = ExportSchedule.objects(report="opcc_return").first()
        if opcc is not None:
            earlier = export_runs.period_for(opcc.period_rule, export_runs.period_for(opcc.period_rule, today).start)
            match, scope = resolve_scope(opcc.scope, None)
            run = export_runs.create_run(opcc.report, earlier, match=match, scope=scope,
                                         started_by=f"schedule “{opcc.name}”", schedule=opcc, now=_run_time(earlier, now))
            # Sent to an analyst who has since left the OPCC and the allow-list: the send is refused.
            ExportRun.objects(pk=run.pk).update_one(push__recipients="former.analyst@opcc.example.gov.uk")
            made.append(run)
        for run in made:
            export_runs.build(str(run.pk), settings.pseudonym_key, now=run.queued_at, settings=settings)
            export_runs.deliver(str(run.pk), settings, now=run.queued_at)
            # Finished minutes after it was queued, as on the day (the send stamps the real clock).
            ExportRun.objects(pk=run.pk, finished_at__exists=True).update_one(
                set__finished_at=run.queued_at + timedelta(minutes=2))
    statuses = [run.status for run in ExportRun.objects(pk__in=[run.pk for run in made]).only("status")]
    return {"export_runs_sent": statuses.count("sent"), "export_runs_failed": statuses.count("failed")}


def _run_time(period, now: datetime) -> datetime:
    """When the schedule would have run for the period: early on the second day after it, never after `now`."""
    return min(datetime.combine(period.end + timedelta(days=2), time(6)), now)
