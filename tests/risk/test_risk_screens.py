"""Risk and safety screens as their users meet them: alerts on the home page until acknowledged, affiliations
and visits scoped to the caseload on every channel, the visit check before saving, the manager's override,
check-in and check-out, and the visit outcome that records the contacts."""
from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from werkzeug.datastructures import MultiDict

from tests.conftest import csrf_token, new_client

TODAY = date.today()


def text(response) -> str:
    return response.get_data(as_text=True)


def post(client, url, data, token_from=None):
    form = MultiDict(data)
    form["csrf_token"] = csrf_token(client, token_from or url)
    return client.post(url, data=form)


@pytest.fixture
def world(app, users):
    """Two caseloads, two rival groups, an assessed venue in North Side's area, an unassessed cafe."""
    from admin_app.models.case_file import RiskAssessment
    from admin_app.models.risk import Affiliation, Group, Venue, VenueAssessment

    with app.app_context():
        current = [RiskAssessment(date=TODAY - timedelta(days=5), kind="individual", level="medium",
                                  review_date=TODAY + timedelta(days=60))]
        mine = new_client("E4E-S0001", worker=users["worker"], risk_assessments=current)
        also_mine = new_client("E4E-S0002", worker=users["worker"], risk_assessments=current)
        theirs = new_client("E4E-S0003", worker=users["worker2"], risk_assessments=current)
        north = Group(name="North Side", areas=["Lozells", "B19"]).save()
        south = Group(name="South Crew", areas=["Small Heath"], rivals=[north]).save()
        hub = Venue(name="Lozells Community Hub", area="Lozells", postcode_district="B19", kind="community_centre",
                    assessments=[VenueAssessment(date=TODAY - timedelta(days=10), level="medium",
                                                 review_date=TODAY + timedelta(days=80))]).save()
        cafe = Venue(name="Digbeth Cafe", area="Digbeth", postcode_district="B5", kind="cafe",
                     assessments=[VenueAssessment(date=TODAY - timedelta(days=10), level="low",
                                                  review_date=TODAY + timedelta(days=80))]).save()
        bare = Venue(name="Unassessed Cafe", area="Aston", kind="cafe").save()
        theirs_aff = Affiliation(client=theirs, group=south, confidence="likely", source="police",
                                 source_detail="Named in a police briefing", date=TODAY - timedelta(days=20)).save()
        mine_aff = Affiliation(client=mine, group=north, confidence="confirmed", source="self",
                               date=TODAY - timedelta(days=20)).save()
        also_aff = Affiliation(client=also_mine, group=south, confidence="possible", source="worker",
                               date=TODAY - timedelta(days=20)).save()
    return dict(mine=mine, also_mine=also_mine, theirs=theirs, north=north, south=south, hub=hub, cafe=cafe, bare=bare,
                theirs_aff=theirs_aff, mine_aff=mine_aff, also_aff=also_aff)


# --- alerts on the home page -------------------------------------------------------------------------

def test_an_alert_stays_on_the_home_page_until_acknowledged_and_records_who_and_when(app, users, login, world):
    from admin_app.models.risk import RiskAlert
    from admin_app.risk.alerts import raise_alert

    with app.app_context():
        alert = raise_alert("risk_note", "t1", summary="Risk note at high added", client_id=world["mine"].pk,
                            reference="E4E-S0001", worker=users["worker"])
    worker, manager, other = login("worker"), login("manager"), login("worker2")
    for who in (worker, manager):
        assert f'data-alert="{alert.pk}"' in text(who.get("/admin/"))
    assert f'data-alert="{alert.pk}"' not in text(other.get("/admin/"))
    # Another caseload's worker cannot acknowledge it by posting its id.
    post(other, "/admin/riskalert/acknowledge/", {"id": str(alert.pk)}, token_from="/admin/")
    with app.app_context():
        assert RiskAlert.objects.get(pk=alert.pk).open is True
    assert other.get(f"/admin/riskalert/details/?id={alert.pk}").status_code == 404
    response = post(manager, "/admin/riskalert/acknowledge/", {"id": str(alert.pk)}, token_from="/admin/")
    assert response.status_code == 302
    with app.app_context():
        done = RiskAlert.objects.get(pk=alert.pk)
        assert (done.open, done.acknowledged_by) == (False, "manager@test.e4e")
        assert abs(done.acknowledged_at - datetime.utcnow()) < timedelta(minutes=1)
    assert f'data-alert="{alert.pk}"' not in text(worker.get("/admin/"))
    assert users["manager"].name in text(worker.get(f"/admin/riskalert/details/?id={alert.pk}"))  # by name


@pytest.mark.parametrize("role", ["admin_staff", "evaluator", "commissioner", "grant_panel"])
def test_roles_without_the_permissions_see_no_risk_screen(login, world, role):
    who = login(role)
    for url in ("/admin/risk/", "/admin/riskalert/", "/admin/affiliation/", "/admin/visit/", "/admin/group/",
                f"/admin/affiliation/details/?id={world['mine_aff'].pk}", "/admin/visit/checkin/"):
        assert who.get(url).status_code == 403, (role, url)
    assert "North Side" not in text(who.get("/admin/"))


# --- affiliations: scope on every channel --------------------------------------------------------------

def test_a_worker_sees_only_their_own_caseloads_affiliations(app, users, login, world):
    worker = login("worker")
    listing = text(worker.get("/admin/affiliation/"))
    assert "E4E-S0001" in listing and "E4E-S0003" not in listing
    assert worker.get(f"/admin/affiliation/details/?id={world['theirs_aff'].pk}").status_code == 404
    assert worker.get(f"/admin/affiliation/edit/?id={world['theirs_aff'].pk}").status_code == 404
    assert "E4E-S0003" not in text(worker.get("/admin/affiliation/?search=South"))
    assert worker.get("/admin/affiliation/export/csv/").status_code == 403
    lookup = worker.get("/admin/affiliation/ajax/lookup/?name=client&query=E4E")
    assert "E4E-S0003" not in text(lookup) and "South Crew" not in text(lookup)
    assert "South Crew" not in text(worker.get("/admin/risk/")) and "E4E-S0003" not in text(worker.get("/admin/risk/"))
    manager_list = text(login("manager").get("/admin/affiliation/"))
    assert "E4E-S0003" in manager_list
    details = text(login("manager").get(f"/admin/affiliation/details/?id={world['theirs_aff'].pk}"))
    assert "Named in a police briefing" in details


def test_a_worker_cannot_record_an_affiliation_on_another_caseload_and_a_new_one_alerts(app, users, login, world):
    from admin_app.models.risk import Affiliation, RiskAlert

    worker = login("worker")
    data = {"client": str(world["theirs"].pk), "group": str(world["north"].pk), "confidence": "possible",
            "source": "worker", "source_detail": "Seen with them at the park", "date": TODAY.isoformat()}
    post(worker, "/admin/affiliation/new/", data)
    with app.app_context():
        assert Affiliation.objects(client=world["theirs"].pk).count() == 1
    response = post(worker, "/admin/affiliation/new/", {**data, "client": str(world["also_mine"].pk)})
    assert response.status_code == 302, text(response)[:3000]
    with app.app_context():
        made = Affiliation.objects(client=world["also_mine"].pk, group=world["north"].pk).get()
        raw = Affiliation._get_collection().find_one({"_id": made.pk})
        assert raw["source_detail"] != "Seen with them at the park" and made.source_detail == "Seen with them at the park"
        assert made.recorded_by == "worker@test.e4e"
        alert = RiskAlert.objects.get(kind="conflict_marker")
        assert (alert.reference, alert.worker.pk) == ("E4E-S0002", users["worker"].pk)


def test_a_new_rivalry_alerts_the_clients_of_both_groups_once(app, users, login, world):
    from admin_app.models.risk import Group, RiskAlert

    with app.app_context():
        east = Group(name="East Boys").save()
        from admin_app.models.risk import Affiliation

        Affiliation(client=world["theirs"], group=east, confidence="likely", source="police", date=TODAY).save()
    manager = login("manager")
    url = f"/admin/group/edit/?id={world['north'].pk}"
    data = {"name": "North Side", "areas-0": "Lozells", "areas-1": "B19", "rivals": [str(world["south"].pk), str(east.pk)]}
    form = MultiDict([(k, v) for k, vs in data.items() for v in (vs if isinstance(vs, list) else [vs])])
    form["csrf_token"] = csrf_token(manager, url)
    assert manager.post(url, data=form).status_code == 302
    manager.post(url, data=form)  # saved again: no new rivalry, no new alert
    with app.app_context():
        alerts = RiskAlert.objects(kind="conflict_marker")
        assert sorted(a.reference for a in alerts) == ["E4E-S0001", "E4E-S0003"]
        assert {r.name for r in Group.objects.get(pk=world["north"].pk).rivals} == {"South Crew", "East Boys"}
    assert login("worker").get(url).status_code == 403


# --- visits -----------------------------------------------------------------------------------------------

def _when(hours_from_now=24, length=1):
    start = (datetime.now() + timedelta(hours=hours_from_now)).replace(minute=0, second=0, microsecond=0)
    return start, start + timedelta(hours=length)


def visit_form(venue, workers, clients, starts, ends, **extra):
    fields = [("starts_at", starts.strftime("%Y-%m-%d %H:%M:%S")), ("ends_at", ends.strftime("%Y-%m-%d %H:%M:%S")),
              ("venue", str(venue.pk)), ("purpose", "Job search session"), ("status", "planned")]
    fields += [("workers", str(w.pk)) for w in workers] + [("clients", str(c.pk)) for c in clients]
    fields += list(extra.items())
    return fields


def test_a_visit_with_no_findings_is_booked_at_once(app, users, login, world):
    from admin_app.models.risk import Visit

    worker = login("worker")
    starts, ends = _when()
    response = post(worker, "/admin/visit/new/", visit_form(world["cafe"], [users["worker"]], [world["mine"]], starts, ends))
    assert response.status_code == 302, text(response)[:3000]
    with app.app_context():
        visit = Visit.objects.get()
        assert visit.findings == [] and visit.created_by == "worker@test.e4e"


def test_serious_findings_are_shown_before_saving_and_need_a_manager_with_a_reason(app, users, login, world):
    from admin_app.models.audit import AuditEvent
    from admin_app.models.risk import Visit

    starts, ends = _when()
    rivals = visit_form(world["hub"], [users["worker"]], [world["mine"], world["also_mine"]], starts, ends)
    worker = login("worker")
    page = text(post(worker, "/admin/visit/new/", rivals))
    assert 'data-finding="rival_clients"' in page and 'data-finding="rival_territory"' in page
    assert "E4E-S0001 and E4E-S0002 belong to rival groups" in page
    page = text(post(worker, "/admin/visit/new/", rivals + [("confirm_findings", "y"), ("override_reason", "I know them")]))
    assert "needs a manager&#39;s override" in page or "needs a manager's override" in page
    manager = login("manager")
    page = text(post(manager, "/admin/visit/new/", rivals + [("confirm_findings", "y")]))
    assert "Give the reason for overriding" in page
    with app.app_context():
        assert Visit.objects.count() == 0
    response = post(manager, "/admin/visit/new/",
                    rivals + [("confirm_findings", "y"), ("override_reason", "Separate rooms, two staff present")])
    assert response.status_code == 302, text(response)[:3000]
    with app.app_context():
        visit = Visit.objects.get()
        assert set(visit.finding_codes) == {"rival_clients", "rival_territory"}
        assert (visit.override_by, visit.override_reason) == ("manager@test.e4e", "Separate rooms, two staff present")
        event = AuditEvent.objects.get(action="update", record_id=str(visit.pk), summary__startswith="overrode")
        assert "Separate rooms" in event.summary and event.actor == "manager@test.e4e"


def test_a_worker_may_pass_a_non_serious_finding_by_confirming_it(app, users, login, world):
    from admin_app.models.risk import Visit

    worker = login("worker")
    starts, ends = _when()
    with app.app_context():
        Visit(starts_at=starts, ends_at=ends, venue=world["cafe"], workers=[users["worker"]]).save()
    data = visit_form(world["cafe"], [users["worker"]], [world["mine"]], starts + timedelta(minutes=30),
                      ends + timedelta(minutes=30))
    assert 'data-finding="worker_double_booked"' in text(post(worker, "/admin/visit/new/", data))
    assert post(worker, "/admin/visit/new/", data + [("confirm_findings", "y")]).status_code == 302


def test_visits_are_scoped_to_the_staff_on_them_and_a_worker_cannot_book_another_caseload(app, users, login, world):
    from admin_app.models.risk import Visit

    starts, ends = _when()
    with app.app_context():
        theirs = Visit(starts_at=starts, ends_at=ends, venue=world["cafe"], workers=[users["worker2"]],
                       clients=[world["theirs"]]).save()
    worker = login("worker")
    assert "Digbeth Cafe" not in text(worker.get("/admin/visit/"))
    for url in (f"/admin/visit/details/?id={theirs.pk}", f"/admin/visit/edit/?id={theirs.pk}",
                f"/admin/visit/outcome/?id={theirs.pk}"):
        assert worker.get(url).status_code == 404, url
    post(worker, "/admin/visit/checkin/in/", {"id": str(theirs.pk)}, token_from="/admin/visit/checkin/")
    with app.app_context():
        assert Visit.objects.get(pk=theirs.pk).status == "planned"
    page = text(post(worker, "/admin/visit/new/", visit_form(world["cafe"], [users["worker"]], [world["theirs"]],
                                                             starts, ends, confirm_findings="y")))
    assert "Choose only options the search offers" in page  # another caseload's client is not on offer
    with app.app_context():
        assert not Visit.objects(clients=world["theirs"].pk, created_by=users["worker"].email).count()
    # Booking a visit for someone else only: the worker is put on it, so it stays within their scope.
    post(worker, "/admin/visit/new/", visit_form(world["cafe"], [users["worker2"]], [world["mine"]], starts,
                                                 ends, confirm_findings="y"))
    with app.app_context():
        booked = Visit.objects(clients=world["mine"].pk).get()
        assert {w.email for w in booked.workers} == {"worker@test.e4e", "worker2@test.e4e"}


def test_check_in_and_out_from_the_phone_page(app, users, login, world):
    from admin_app.models.risk import Visit

    starts, ends = _when(hours_from_now=0)
    with app.app_context():
        visit = Visit(starts_at=starts, ends_at=ends, venue=world["cafe"], workers=[users["worker"]]).save()
    worker = login("worker")
    page = text(worker.get("/admin/visit/checkin/"))
    assert f'data-visit="{visit.pk}"' in page and 'name="viewport"' in page
    post(worker, "/admin/visit/checkin/in/", {"id": str(visit.pk)}, token_from="/admin/visit/checkin/")
    post(worker, "/admin/visit/checkin/out/", {"id": str(visit.pk)}, token_from="/admin/visit/checkin/")
    with app.app_context():
        done = Visit.objects.get(pk=visit.pk)
        assert (done.status, done.checked_in_by, done.checked_out_by) == ("checked_out", "worker@test.e4e", "worker@test.e4e")


def test_recording_the_outcome_adds_each_attending_clients_contact_once(app, users, login, world):
    from admin_app.models.case_file import Client
    from admin_app.models.risk import Visit

    starts = datetime(TODAY.year, TODAY.month, TODAY.day, 10, 0) - timedelta(days=1)
    with app.app_context():
        visit = Visit(starts_at=starts, ends_at=starts + timedelta(minutes=90), venue=world["cafe"],
                      workers=[users["worker"]], clients=[world["mine"], world["also_mine"]], status="checked_out").save()
    worker = login("worker")
    url = f"/admin/visit/outcome/?id={visit.pk}"
    assert 'value="90"' in text(worker.get(url))
    data = {f"attended-{world['mine'].pk}": "y", f"minutes-{world['mine'].pk}": "abc"}
    assert "give the minutes spent" in text(post(worker, url, data)).lower()
    data[f"minutes-{world['mine'].pk}"] = "75"
    data[f"note-{world['mine'].pk}"] = "CV and two applications"
    assert post(worker, url, data).status_code == 302
    post(worker, url, data)
    with app.app_context():
        contacts = Client.objects.get(pk=world["mine"].pk).contacts
        assert [(c.date, c.minutes, c.mode, c.place, c.note, c.staff.email) for c in contacts] == [
            (starts.date(), 75, "face_to_face", "community", "CV and two applications", "worker@test.e4e")]
        assert Client.objects.get(pk=world["also_mine"].pk).contacts == []
        assert Visit.objects.get(pk=visit.pk).outcome_recorded_by == "worker@test.e4e"


# --- the risk view ---------------------------------------------------------------------------------------

def test_the_risk_view_shows_a_worker_their_own_caseload_and_a_manager_everyone(app, users, login, world):
    from admin_app.models.case_file import Client, RiskNote, SafeguardingConcern

    with app.app_context():
        Client.objects(pk=world["mine"].pk).update_one(push__risk_notes=RiskNote(date=TODAY, level="high", text="x"))
        Client.objects(pk=world["theirs"].pk).update_one(
            push__safeguarding_concerns=SafeguardingConcern(date=TODAY, concern="y"))
    worker_view = text(login("worker").get("/admin/risk/"))
    high = worker_view.split('class="high-risk"')[1].split("</ul>")[0]
    assert "E4E-S0001" in high and "E4E-S0003" not in high
    assert "Unassessed Cafe" in worker_view
    manager_high = text(login("manager").get("/admin/risk/")).split('class="high-risk"')[1].split("</ul>")[0]
    assert "E4E-S0001" in manager_high and "E4E-S0003" in manager_high


# --- affiliations never leave in the evaluator's or the OPCC's exports ------------------------------------

@pytest.mark.parametrize("report", ["evaluator_extract", "opcc_return"])
def test_affiliations_and_groups_are_in_no_evaluator_or_opcc_export(app, users, world, report):
    import openpyxl

    from admin_app import export_runs
    from admin_app.metrics.periods import Period

    with app.app_context():
        period = Period(TODAY - timedelta(days=365), TODAY)
        run = export_runs.create_run(report, period, match={}, scope="Every case file", started_by="test")
        run = export_runs.build(str(run.pk), app.config["SETTINGS"].pseudonym_key)
        assert run.status == "built", run.error
        book = openpyxl.load_workbook(export_runs.open_file(run), read_only=True)
        cells = " ".join(str(value) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True)
                         for value in row if value is not None)
    assert sum(run.row_counts.values()) > 0
    for secret in ("North Side", "South Crew", "Named in a police briefing", "affiliat", "confirmed", "Lozells"):
        assert secret.lower() not in cells.lower(), secret


def test_the_case_file_page_shows_conflict_markers_only_to_those_who_may_read_affiliations(app, users, login, world):
    url = f"/admin/casefile/{world['mine'].pk}/"
    assert "North Side" in text(login("worker").get(url)) and "North Side" in text(login("manager").get(url))
    admin_staff_page = login("admin_staff").get(url)
    assert admin_staff_page.status_code == 200 and "North Side" not in text(admin_staff_page)
    assert "conflict-markers" not in text(admin_staff_page)


def test_a_worker_records_a_venue_with_its_assessment_and_a_review_before_it_is_refused(app, users, login):
    from admin_app.models.risk import Venue

    worker = login("worker")
    data = {"name": "Saltley Gate Café", "area": "Saltley", "postcode_district": "b8 ", "kind": "cafe",
            "assessments-0-date": TODAY.isoformat(), "assessments-0-level": "medium",
            "assessments-0-mitigations": "Sit by the door", "assessments-0-review_date": (TODAY - timedelta(days=1)).isoformat()}
    page = text(post(worker, "/admin/venue/new/", data))
    assert "review date cannot be before the assessment" in page
    with app.app_context():
        assert Venue.objects.count() == 0
    data["assessments-0-review_date"] = (TODAY + timedelta(days=90)).isoformat()
    assert post(worker, "/admin/venue/new/", data).status_code == 302
    with app.app_context():
        venue = Venue.objects.get()
        assert venue.postcode_district == "B8"
        assert (venue.latest_assessment.level, venue.latest_assessment.assessor.email) == ("medium", "worker@test.e4e")
    assert login("worker").get(f"/admin/venue/delete/").status_code in (403, 405)
    assert "Saltley Gate Café" in text(login("worker2").get("/admin/venue/"))  # venues are shared


def test_a_visits_form_cannot_mark_it_checked_out_only_cancel_it(app, users, login, world):
    from admin_app.models.risk import Visit

    starts, ends = _when()
    with app.app_context():
        visit = Visit(starts_at=starts, ends_at=ends, venue=world["cafe"], workers=[users["worker"]]).save()
    worker = login("worker")
    url = f"/admin/visit/edit/?id={visit.pk}"
    form = visit_form(world["cafe"], [users["worker"]], [], starts, ends)
    page = text(post(worker, url, [(k, "checked_out" if k == "status" else v) for k, v in form]))
    assert "Not a valid choice" in page
    assert post(worker, url, [(k, "cancelled" if k == "status" else v) for k, v in form]).status_code == 302
    with app.app_context():
        assert Visit.objects.get(pk=visit.pk).status == "cancelled"
