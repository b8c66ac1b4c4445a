"""The case file's daily work in a real browser: a worker opens a client's case-file page from the list,
records a contact and a job start through the short task forms, follows the nudge to change the
status, and gets clear errors, kept input and focus on the field when something is wrong.

Screenshots of the page and the forms go to /tmp/shots/ (outside the repository) for a person to look at.
"""
from __future__ import annotations

import base64
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from admin_app.metrics.periods import london_today
from tests.conftest import new_client

SHOTS = Path("/tmp/shots")


def shoot(driver, name):
    """A screenshot of the whole page as it stands, for a person to look at (never asserted on)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    size = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
    shot = driver.execute_cdp_cmd("Page.captureScreenshot", {
        "format": "png", "captureBeyondViewport": True,
        "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}})
    (SHOTS / f"{name}.png").write_bytes(base64.b64decode(shot["data"]))


def stored(app, pk):
    """The case file exactly as the database holds it, field names as stored."""
    from admin_app.models.case_file import Client

    with app.app_context():
        return Client._get_collection().find_one({"_id": pk})


def _midnight(day):
    """A date as MongoDB holds it."""
    return datetime(day.year, day.month, day.day)


def flash_text(driver):
    return " ".join(e.text for e in driver.find_elements(By.CSS_SELECTOR, ".alert-success"))


def on_case_file_page(screen, pk):
    screen.wait_for(lambda d: d.current_url.split("?")[0].endswith(f"/admin/casefile/{pk}/"),
                    "did not land back on the case-file page")


def click_link(driver, text):
    driver.find_element(By.LINK_TEXT, text).click()


def selected_text(driver, name):
    return Select(driver.find_element(By.NAME, name)).first_selected_option.text


@pytest.fixture
def case_file(app, users):
    """One of the worker's clients, accepted and active, with nothing recorded yet; and another worker's."""
    with app.app_context():
        mine = new_client("E4E-C0001", worker=users["worker"]).pk
        new_client("E4E-C0002", worker=users["worker2"])
    return mine


@pytest.mark.parametrize("how", ["reference", "eye icon"])
def test_worker_opens_their_clients_case_file_page_from_the_client_list(app, users, screen, case_file, how):
    driver = screen.driver
    screen.sign_in(users["worker"].email).open("/admin/client/")
    row = driver.find_element(By.XPATH, "//table[contains(@class,'model-list')]//tr[td[contains(., 'E4E-C0001')]]")
    assert "E4E-C0002" not in driver.find_element(By.CSS_SELECTOR, "table.model-list").text
    if how == "reference":
        row.find_element(By.LINK_TEXT, "E4E-C0001").click()
    else:
        row.find_element(By.CSS_SELECTOR, "a .fa-eye, a[title='View Record']").click()
    on_case_file_page(screen, case_file)
    assert driver.find_element(By.TAG_NAME, "h1").text.startswith("E4E-C0001")
    assert driver.title.startswith("Case file E4E-C0001")
    assert screen.console_errors() == []


def test_worker_records_a_contact_and_a_job_start_and_moves_the_case_to_in_work(app, users, screen, case_file):
    driver = screen.driver
    worker = users["worker"]
    today = london_today()
    screen.sign_in(worker.email).open("/admin/client/")
    driver.find_element(By.LINK_TEXT, "E4E-C0001").click()
    on_case_file_page(screen, case_file)
    shoot(driver, "01-case-file-page-empty")

    # A contact: today and the worker are filled in already; they type the time and choose the mode.
    click_link(driver, "Record a contact")
    screen.wait_for(lambda d: d.find_elements(By.NAME, "minutes-hours"), "the contact form did not open")
    assert driver.find_element(By.TAG_NAME, "h1").text.startswith("Record a contact")
    assert driver.find_element(By.NAME, "date").get_attribute("value") == today.isoformat()
    assert selected_text(driver, "staff") == worker.name
    assert selected_text(driver, "place") == "—"
    driver.find_element(By.NAME, "minutes-hours").send_keys("1")
    driver.find_element(By.NAME, "minutes-minutes").send_keys("30")
    Select(driver.find_element(By.NAME, "mode")).select_by_visible_text("Face-to-face")
    shoot(driver, "02-contact-form-filled")
    driver.find_element(By.XPATH, "//form[contains(@class,'task-form')]//button[normalize-space()='Save']").click()

    on_case_file_page(screen, case_file)
    assert "Contact recorded for E4E-C0001." in flash_text(driver)
    first = driver.find_element(By.CSS_SELECTOR, "table.timeline tbody tr")
    assert first.find_element(By.CSS_SELECTOR, "td").text == f"{today:%d/%m/%Y}"
    assert "Face-to-face contact, 1 h 30 min" in first.text
    assert driver.find_element(By.CSS_SELECTOR, ".hours-face-to-face").text == "1.5"
    shoot(driver, "03-case-file-page-after-contact")

    # A paid job that started a week ago.
    started = today - timedelta(days=7)
    click_link(driver, "Record an outcome (job, business, training…)")
    screen.wait_for(lambda d: d.find_elements(By.NAME, "kind"), "the outcome form did not open")
    Select(driver.find_element(By.NAME, "kind")).select_by_visible_text("Paid employment")
    screen.set_value(driver.find_element(By.NAME, "start_date"), started.isoformat())
    driver.find_element(By.NAME, "job_type").send_keys("Warehouse operative")
    driver.find_element(By.NAME, "hours_per_week").send_keys("30")
    shoot(driver, "04-outcome-form-filled")
    driver.find_element(By.XPATH, "//form[contains(@class,'task-form')]//button[normalize-space()='Save']").click()

    on_case_file_page(screen, case_file)
    assert "Outcome recorded for E4E-C0001." in flash_text(driver)
    nudge = driver.find_element(By.CSS_SELECTOR, ".job-start")
    week_13, week_26 = started + timedelta(weeks=13), started + timedelta(weeks=26)
    assert f"{week_13:%d/%m/%Y} (13 weeks)" in nudge.text
    assert f"{week_26:%d/%m/%Y} (26 weeks)" in nudge.text
    shoot(driver, "05-case-file-page-job-start-nudge")

    nudge.find_element(By.LINK_TEXT, "Change the status to In work").click()
    screen.wait_for(lambda d: d.find_elements(By.NAME, "status"), "the status form did not open")
    assert selected_text(driver, "status") == "In work"
    shoot(driver, "06-status-form")
    driver.find_element(By.XPATH, "//form[contains(@class,'task-form')]//button[normalize-space()='Change status']").click()

    on_case_file_page(screen, case_file)
    assert "E4E-C0001 is now In work." in flash_text(driver)
    assert driver.find_element(By.CSS_SELECTOR, ".case-status").text == "In work"
    assert driver.find_elements(By.LINK_TEXT, "Change the status to In work") == []
    shoot(driver, "07-case-file-page-in-work")
    assert screen.console_errors() == []

    document = stored(app, case_file)
    [contact] = document["contacts"]
    assert {k: v for k, v in contact.items() if k != "_id"} == {
        "date": _midnight(today), "minutes": 90, "mode": "face_to_face", "out_of_hours": False, "staff": worker.pk}
    [outcome] = document["outcomes"]
    assert {k: v for k, v in outcome.items() if k != "_id"} == {
        "kind": "paid_employment", "start_date": _midnight(started), "job_type": "Warehouse operative",
        "hours_per_week": 30.0, "competitive": True}
    assert document["status"] == "in_work"
    [change] = document["status_history"]
    assert (change["status"], change["by"], change["date"]) == ("in_work", worker.email, _midnight(today))


#: What is wrong -> (the field's label, the input its link focuses, days from today, hours and minutes typed).
BAD_VALUES = {
    "no duration": ("How long", "minutes-hours", 0, ("", "")),
    "a future date": ("Date", "date", 1, ("1", "20")),
}


@pytest.mark.parametrize("bad", BAD_VALUES)
def test_a_bad_value_is_named_at_the_top_with_a_link_to_its_field_and_the_rest_is_kept(app, users, screen,
                                                                                     case_file, bad):
    label, focused, days, (hours, minutes) = BAD_VALUES[bad]
    driver = screen.driver
    day = london_today() + timedelta(days=days)
    screen.sign_in(users["worker"].email).open(f"/admin/casefile/{case_file}/add/contacts")
    screen.set_value(driver.find_element(By.NAME, "date"), day.isoformat())
    driver.find_element(By.NAME, "minutes-hours").send_keys(hours)
    driver.find_element(By.NAME, "minutes-minutes").send_keys(minutes)
    Select(driver.find_element(By.NAME, "mode")).select_by_visible_text("Phone")
    Select(driver.find_element(By.NAME, "place")).select_by_visible_text("Community")
    driver.find_element(By.NAME, "out_of_hours").click()
    driver.find_element(By.NAME, "note").send_keys("Called about the CSCS card")
    driver.find_element(By.XPATH, "//form[contains(@class,'task-form')]//button[normalize-space()='Save']").click()

    summary = screen.wait_for(lambda d: d.find_elements(By.CSS_SELECTOR, ".error-summary"), "no error summary")[0]
    shoot(driver, f"08-contact-form-errors-{bad.replace(' ', '-')}")
    form = driver.find_element(By.CSS_SELECTOR, "form.task-form")
    assert summary.location["y"] < form.location["y"], "the error summary is not above the form"
    assert driver.switch_to.active_element == summary, "the error summary did not take the focus"
    [link] = summary.find_elements(By.TAG_NAME, "a")
    assert link.text.startswith(f"{label}: ")
    link.click()
    assert driver.switch_to.active_element.get_attribute("name") == focused

    assert driver.find_element(By.NAME, "date").get_attribute("value") == day.isoformat()
    assert driver.find_element(By.NAME, "minutes-hours").get_attribute("value") == hours
    assert driver.find_element(By.NAME, "minutes-minutes").get_attribute("value") == minutes
    assert selected_text(driver, "mode") == "Phone"
    assert selected_text(driver, "place") == "Community"
    assert driver.find_element(By.NAME, "out_of_hours").is_selected()
    assert driver.find_element(By.NAME, "note").get_attribute("value") == "Called about the CSCS card"
    assert selected_text(driver, "staff") == users["worker"].name
    assert stored(app, case_file).get("contacts", []) == []
    assert screen.console_errors() == []


def test_worker_finds_the_employer_of_a_job_start_by_typing_the_start_of_its_name(app, users, screen, case_file):
    """Employers are many: the outcome form looks them up as the worker types, and lists none up front."""
    from admin_app.models.partners import Employer

    with app.app_context():
        for name in ("Brindley Bakery", "Bull Ring Barbers", "Digbeth Dining"):
            Employer(name=name).save()
        bakery = Employer.objects.get(name="Brindley Bakery").pk
    driver = screen.driver
    screen.sign_in(users["worker"].email).open(f"/admin/casefile/{case_file}/add/outcomes")
    screen.wait_for(lambda d: d.find_elements(By.NAME, "kind"), "the outcome form did not open")
    assert "Digbeth Dining" not in driver.page_source
    Select(driver.find_element(By.NAME, "kind")).select_by_visible_text("Paid employment")
    screen.set_value(driver.find_element(By.NAME, "start_date"), (london_today() - timedelta(days=2)).isoformat())
    driver.find_element(By.NAME, "job_type").send_keys("Baker")
    driver.find_element(By.NAME, "hours_per_week").send_keys("25")
    driver.find_element(By.CSS_SELECTOR, ".field-employer .select2-choice").click()
    search = screen.wait_for(lambda d: [i for i in d.find_elements(By.CSS_SELECTOR, ".select2-drop-active .select2-input")
                                        if i.is_displayed()], "the look-up did not open")[0]
    search.send_keys("bri")
    screen.wait_for(lambda d: [o for o in d.find_elements(By.CSS_SELECTOR, ".select2-drop-active .select2-result-label")
                               if o.text == "Brindley Bakery"], "the look-up offered no employer")
    offered = [o.text for o in driver.find_elements(By.CSS_SELECTOR, ".select2-drop-active .select2-result-label")]
    assert offered == ["Brindley Bakery"]
    driver.find_element(By.CSS_SELECTOR, ".select2-drop-active .select2-result-label").click()
    assert driver.find_element(By.CSS_SELECTOR, ".field-employer .select2-chosen").text == "Brindley Bakery"
    shoot(driver, "08-outcome-employer-looked-up")
    driver.find_element(By.XPATH, "//form[contains(@class,'task-form')]//button[normalize-space()='Save']").click()
    on_case_file_page(screen, case_file)
    assert "Outcome recorded for E4E-C0001." in flash_text(driver)
    assert stored(app, case_file)["outcomes"][0]["employer"] == bakery
    assert screen.console_errors() == []
