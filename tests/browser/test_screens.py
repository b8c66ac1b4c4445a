"""Screens whose point is what a person sees and does in a browser: the nested case-file form,
the dashboards' charts (drawn from the app alone, under its Content-Security-Policy) and the
period picker."""
from __future__ import annotations

from datetime import date

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from admin_app.metrics.periods import financial_year_of, quarter
from tests.conftest import new_client

CHARTS = ("caseload", "monthly", "hours", "outcomes")


@pytest.fixture
def demo(app):
    """The demo service: every role's user and forty case files with contacts, jobs and hours."""
    from admin_app.cli import seed_demo_data

    with app.app_context():
        seed_demo_data(clients=40)
    return app.config["DEMO_PASSWORD"]


def test_worker_records_a_contact_through_the_nested_form(app, users, screen):
    from admin_app.models.case_file import Client

    with app.app_context():
        pk = new_client("E4E-B0001", worker=users["worker"]).pk
    screen.sign_in(users["worker"].email).open(f"/admin/client/edit/?id={pk}")
    driver = screen.driver

    driver.find_element(By.ID, "contacts-button").click()
    added = driver.find_elements(By.CSS_SELECTOR, "#contacts .inline-field-list .inline-field")
    assert len(added) == 1, "the Add button did not add a contact to the form"
    contact = added[0]
    screen.set_value(contact.find_element(By.CSS_SELECTOR, "input[type=date]"), "2026-11-20")
    contact.find_element(By.CSS_SELECTOR, "input[name$='-minutes']").send_keys("45")
    Select(contact.find_element(By.CSS_SELECTOR, "select[name$='-mode']")).select_by_visible_text("Face-to-face")
    contact.find_element(By.CSS_SELECTOR, "input[name$='-out_of_hours']").click()
    driver.find_element(By.CSS_SELECTOR, "input[type=submit][value='Save']").click()
    screen.wait_for(lambda d: "/edit/" not in d.current_url, "saving did not leave the form")

    with app.app_context():
        contacts = Client.objects.get(pk=pk).contacts
    assert [(c.date, c.minutes, c.mode, c.out_of_hours) for c in contacts] == [(date(2026, 11, 20), 45, "face_to_face", True)]
    assert screen.console_errors() == []


def test_a_contact_with_no_minutes_is_refused_and_the_form_keeps_what_was_typed(app, users, screen):
    from admin_app.models.case_file import Client

    with app.app_context():
        pk = new_client("E4E-B0002", worker=users["worker"]).pk
    screen.sign_in(users["worker"].email).open(f"/admin/client/edit/?id={pk}")
    driver = screen.driver
    driver.find_element(By.ID, "contacts-button").click()
    contact = driver.find_element(By.CSS_SELECTOR, "#contacts .inline-field-list .inline-field")
    screen.set_value(contact.find_element(By.CSS_SELECTOR, "input[type=date]"), "2026-11-20")
    Select(contact.find_element(By.CSS_SELECTOR, "select[name$='-mode']")).select_by_visible_text("Phone")
    note = contact.find_element(By.CSS_SELECTOR, "[name$='-note']")
    note.send_keys("Called about the CSCS card")
    # Get past the browser's own required-field check to reach the server's.
    driver.execute_script("document.querySelectorAll('[required]').forEach(e => e.removeAttribute('required'))")
    driver.find_element(By.CSS_SELECTOR, "input[type=submit][value='Save']").click()

    screen.wait_for(lambda d: d.find_elements(By.CSS_SELECTOR, ".invalid-feedback, .help-block, .alert-danger"),
                    "no error was shown")
    minutes = driver.find_element(By.CSS_SELECTOR, "#contacts .inline-field-list [name$='-minutes']")
    error = minutes.find_element(By.XPATH, "ancestor::div[contains(@class, 'form-group')][1]")
    assert "This field is required." in error.text
    kept = driver.find_element(By.CSS_SELECTOR, "#contacts .inline-field-list [name$='-note']")
    assert kept.get_attribute("value") == "Called about the CSCS card"
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
