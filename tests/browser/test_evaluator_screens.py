"""The evaluator's screens in a real browser: the dashboard's charts with their tables, the period picker, and
starting an extract; each page passes axe-core's WCAG 2.2 AA rules."""
from __future__ import annotations

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from tests.browser.axe import describe, violations

#: Found on every screen, from the shared layout rather than these pages: the theme's link and heading colours
#: and the master template's missing lang attribute. Everything else axe finds fails the test.
SHARED_LAYOUT = {"color-contrast", "html-has-lang"}


def assert_accessible(driver, where):
    found = [v for v in violations(driver) if v["id"] not in SHARED_LAYOUT]
    assert not found, f"axe on {where}:\n{describe(found)}"


def test_the_evaluator_reads_the_dashboard_and_starts_an_extract(app, users, screen):
    from admin_app.cli import seed_demo_data
    from admin_app.models.exports import ExportRun

    with app.app_context():
        seed_demo_data()
    screen.sign_in("evaluator@test.e4e").open("/admin/evaluator/")
    driver = screen.driver
    assert driver.find_element(By.CSS_SELECTOR, '[data-panel="disclosure"]').text.startswith("How this data")
    charts = driver.find_elements(By.CSS_SELECTOR, "figure > svg[role=img]")
    assert len(charts) == 2
    assert int(driver.find_element(By.CSS_SELECTOR, '[data-panel="figures"] [data-figure="referrals"]').text) > 0
    assert driver.find_elements(By.CSS_SELECTOR, '[data-panel="journeys"] [data-journey="All"]')
    driver.set_window_size(1400, 4200)
    driver.save_screenshot("/tmp/evaluator-dashboard.png")
    driver.set_window_size(1400, 1000)
    assert_accessible(driver, "evaluator dashboard")
    Select(driver.find_element(By.ID, "kind")).select_by_value("quarter")
    driver.find_element(By.CSS_SELECTOR, "form[aria-label='Reporting period'] button[type=submit]").click()
    screen.wait_for(lambda d: "kind=quarter" in d.current_url, "the period form did not submit")
    driver.find_element(By.PARTIAL_LINK_TEXT, "Start the evaluator extract").click()
    screen.wait_for(lambda d: "/admin/evaluator/extract/" in d.current_url, "no extract page")
    assert_accessible(driver, "start the evaluator extract")
    driver.find_element(By.XPATH, "//button[normalize-space()='Start the extract']").click()
    screen.wait_for(lambda d: "/admin/exportrun/details/" in d.current_url, "no run page after starting")
    with app.app_context():
        run = ExportRun.objects.get(started_by_user=users["evaluator"].pk)
    assert run.report == "evaluator_extract" and run.period_end.month in (6, 9, 12, 3)
    assert screen.console_errors() == []
