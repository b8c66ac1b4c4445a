"""Screens whose point is what a person sees and does in a browser: the case file's contact form,
the dashboards' charts (drawn from the app alone, under its Content-Security-Policy) and the
period picker."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from admin_app.metrics.periods import financial_year_of, london_today, quarter
from tests.conftest import new_client

CHARTS = ("caseload", "monthly", "hours", "outcomes")


@pytest.fixture
def demo(app):
    """The demo service: every role's user and forty case files with contacts, jobs and hours."""
    from admin_app.cli import seed_demo_data

    with app.app_context():
        seed_demo_data(clients=40)
    return app.config["DEMO_PASSWORD"]


def add_contact(app, worker, screen, reference, day, mode):
    """Sign in as the worker, open a new case file's page, open "Record a contact", set the date and mode.

    Returns the case file's id."""
    with app.app_context():
        pk = new_client(reference, worker=worker).pk
    screen.sign_in(worker.email).open(f"/admin/casefile/{pk}/")
    screen.driver.find_element(By.LINK_TEXT, "Record a contact").click()
    date_input = screen.wait_for(lambda d: d.find_elements(By.CSS_SELECTOR, "form.task-form input[name=date]"),
                                 "the contact form did not open")[0]
    screen.set_value(date_input, day.isoformat())
    Select(screen.driver.find_element(By.NAME, "mode")).select_by_visible_text(mode)
    return pk


def save(driver):
    driver.find_element(By.CSS_SELECTOR, "form.task-form button[type=submit]").click()


def test_worker_records_a_contact_through_the_task_form(app, users, screen):
    from admin_app.models.case_file import Client

    day = london_today() - timedelta(days=9)
    pk = add_contact(app, users["worker"], screen, "E4E-B0001", day, "Face-to-face")
    screen.driver.find_element(By.NAME, "minutes-minutes").send_keys("45")
    screen.driver.find_element(By.NAME, "out_of_hours").click()
    save(screen.driver)
    screen.wait_for(lambda d: d.current_url.endswith(f"/admin/casefile/{pk}/"), "saving did not go back to the case file")

    with app.app_context():
        contacts = Client.objects.get(pk=pk).contacts
    assert [(c.date, c.minutes, c.mode, c.out_of_hours, c.staff) for c in contacts] == [
        (day, 45, "face_to_face", True, users["worker"])]
    assert "Face-to-face contact, 45 min — out of hours" in screen.driver.find_element(By.CSS_SELECTOR, "table.timeline").text
    assert screen.console_errors() == []


def test_a_contact_with_no_minutes_is_refused_and_the_form_keeps_what_was_typed(app, users, screen):
    from admin_app.models.case_file import Client

    pk = add_contact(app, users["worker"], screen, "E4E-B0002", london_today(), "Phone")
    driver = screen.driver
    driver.find_element(By.NAME, "note").send_keys("Called about the CSCS card")
    save(driver)

    screen.wait_for(lambda d: d.find_elements(By.CSS_SELECTOR, ".error-summary"), "no error was shown")
    duration = driver.find_element(By.CSS_SELECTOR, "form.task-form .field-minutes")
    assert "Enter how long it took" in duration.text
    assert driver.find_element(By.NAME, "note").get_attribute("value") == "Called about the CSCS card"
    assert Select(driver.find_element(By.NAME, "mode")).first_selected_option.text == "Phone"
    with app.app_context():
        assert Client.objects.get(pk=pk).contacts == []


def test_service_dashboard_draws_every_chart_from_the_app_alone(demo, screen):
    screen.sign_in("manager@demo.e4e", demo).open("/admin/dashboard/")
    driver = screen.driver
    assert driver.find_element(By.TAG_NAME, "h2").text == "Service dashboard"
    window_width = driver.execute_script("return document.documentElement.clientWidth")
    for name in CHARTS:
        box = driver.execute_script(
            "const svg = document.querySelector(`[data-chart='${arguments[0]}'] svg`);"
            "if (!svg) return null; const r = svg.getBoundingClientRect();"
            "return {width: r.width, height: r.height, right: r.right, marks: svg.querySelectorAll('rect, path, polyline, circle').length};",
            name)
        assert box is not None, f"the {name} chart was not drawn"
        assert box["width"] > 200 and box["height"] > 100, f"the {name} chart has no room: {box}"
        assert box["right"] <= window_width + 1, f"the {name} chart runs off the page: {box}"
        assert box["marks"] > 0, f"the {name} chart has nothing on it"
    tiles = driver.find_elements(By.CSS_SELECTOR, "[data-kpi]")
    assert tiles and all(t.text.strip() for t in tiles)
    assert screen.resources_from_elsewhere() == []
    assert screen.console_errors() == []


def test_period_picker_shows_the_quarter_chosen(demo, screen):
    screen.sign_in("manager@demo.e4e", demo).open("/admin/dashboard/")
    driver = screen.driver
    Select(driver.find_element(By.ID, "kind")).select_by_visible_text("Quarter")
    Select(driver.find_element(By.ID, "q")).select_by_visible_text("Q1")
    driver.find_element(By.CSS_SELECTOR, "form[aria-label='Reporting period'] button[type=submit]").click()
    screen.wait_for(lambda d: "kind=quarter" in d.current_url, "the period was not applied")

    period = quarter(financial_year_of(date.today()).start.year, 1)
    stated = driver.find_element(By.CSS_SELECTOR, "h2 + p").text
    assert stated.startswith(f"{period.start:%-d %B %Y} to {period.end:%-d %B %Y}")
    assert Select(driver.find_element(By.ID, "kind")).first_selected_option.text == "Quarter"


def test_worker_dashboard_shows_their_own_caseload_only(demo, screen):
    screen.sign_in("worker1@demo.e4e", demo).open("/admin/dashboard/")
    driver = screen.driver
    assert driver.find_element(By.TAG_NAME, "h2").text == "My caseload"
    labels = driver.execute_script(
        "return [...document.querySelectorAll(\"[data-chart='caseload'] svg text\")].map(t => t.textContent)")
    others = [name for name in ("Jordan", "Priya", "Marcus") if any(name in text for text in labels)]
    assert others == [], f"another worker's name is on this worker's chart: {labels}"
    assert screen.console_errors() == []


def test_grant_pot_chart_is_drawn_for_the_manager(demo, screen):
    screen.sign_in("manager@demo.e4e", demo).open("/admin/grantpot/")
    box = screen.driver.execute_script(
        "const svg = document.querySelector(\"[data-chart='grant-pots'] svg\");"
        "return svg && {width: svg.getBoundingClientRect().width, marks: svg.querySelectorAll('rect').length};")
    assert box and box["width"] > 200 and box["marks"] > 0
    assert screen.resources_from_elsewhere() == []
    assert screen.console_errors() == []


def test_a_filter_built_in_the_list_is_saved_shared_and_run_by_a_worker_within_their_caseload(app, users, screen):
    """The manager filters the Clients list with the filter controls, saves it shared with workers;
    a worker runs it from Saved filters and sees only their own clients that match."""
    with app.app_context():
        new_client("E4E-B0101", worker=users["worker"], referral=_referral("convicted"))
        new_client("E4E-B0102", worker=users["worker"], referral=_referral("at_risk"))
        new_client("E4E-B0103", worker=users["worker2"], referral=_referral("convicted"))
    driver = screen.driver
    screen.sign_in(users["manager"].email).open("/admin/client/")
    driver.find_element(By.LINK_TEXT, "Add Filter").click()
    next(a for a in driver.find_elements(By.CSS_SELECTOR, ".field-filters a.filter") if a.text == "Cohort").click()
    row = screen.wait_for(lambda d: d.find_elements(By.CSS_SELECTOR, "table.filters tr"), "no filter row appeared")[-1]
    value = row.find_element(By.CSS_SELECTOR, "select.filter-val, input.filter-val")
    if value.tag_name == "select":
        screen.set_value(value, "convicted")
    else:
        value.send_keys("convicted")
    driver.find_element(By.CSS_SELECTOR, "#filter_form button[type=submit]").click()
    screen.wait_for(lambda d: "flt" in d.current_url, "the filter was not applied")
    assert _references(driver) == ["E4E-B0101", "E4E-B0103"]

    driver.find_element(By.CSS_SELECTOR, "details.saved-filter-form summary").click()
    driver.find_element(By.ID, "saved-filter-name").send_keys("Convicted cohort")
    driver.find_element(By.CSS_SELECTOR, "input[name=shared_roles][value=worker]").click()
    driver.find_element(By.CSS_SELECTOR, "details.saved-filter-form button[type=submit]").click()
    screen.wait_for(lambda d: "Convicted cohort" in d.find_element(By.TAG_NAME, "body").text, "no word that it was saved")

    driver.delete_all_cookies()
    screen.sign_in(users["worker"].email).open("/admin/savedfilter/")
    saved = driver.find_element(By.XPATH, "//tr[td[contains(., 'Convicted cohort')]]")
    saved.find_element(By.CSS_SELECTOR, "a[title=Run]").click()
    screen.wait_for(lambda d: "/admin/client/" in d.current_url, "running the filter did not open the Clients list")
    assert _references(driver) == ["E4E-B0101"]
    assert screen.console_errors() == []


def _referral(cohort):
    from admin_app.models.case_file import Referral

    return Referral(date=date.today().replace(day=1), source="probation", cohort=cohort, decision="accepted")


def _references(driver):
    return sorted(a.text for a in driver.find_elements(By.CSS_SELECTOR, "table.model-list td.col-reference a"))


def test_manager_runs_the_opcc_return_now_and_downloads_the_workbook(demo, screen, tmp_path):
    import openpyxl

    driver = screen.driver
    folder = tmp_path / "downloads"
    folder.mkdir()
    driver.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(folder)})
    screen.sign_in("manager@demo.e4e", demo).open("/admin/exportrun/run/")
    Select(driver.find_element(By.ID, "report")).select_by_value("opcc_return")
    Select(driver.find_element(By.NAME, "kind")).select_by_visible_text("Quarter")
    Select(driver.find_element(By.NAME, "q")).select_by_visible_text("Q1")
    driver.find_element(By.ID, "notes").send_keys("Two referrals paused during the summer.")
    driver.find_element(By.XPATH, "//form//button[normalize-space()='Run']").click()
    screen.wait_for(lambda d: "/admin/exportrun/details/" in d.current_url, "the run's page did not open")

    link = driver.find_element(By.PARTIAL_LINK_TEXT, "Download")
    filename = link.text.removeprefix("Download ").strip()
    link.click()
    saved = screen.wait_for(lambda d: [p for p in folder.glob("*.xlsx")], "the workbook was not downloaded")
    assert saved[0].name == filename
    workbook = openpyxl.load_workbook(saved[0])
    assert {"Cases", "Challenges and obstacles"} <= set(workbook.sheetnames)
    assert workbook["Challenges and obstacles"]["A2"].value == "Two referrals paused during the summer."
    assert screen.console_errors() == []
