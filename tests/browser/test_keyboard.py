"""The keyboard alone: a worker signs in and records a contact with Tab, Enter and typing, never a click.

Every key goes to the element that has the focus (as a keyboard would); the only other move is typing an
address into the browser, which a keyboard user does too."""
from __future__ import annotations

from datetime import timedelta

from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from admin_app.metrics.periods import london_today
from tests.conftest import PASSWORD, new_client


def focused(driver):
    return driver.switch_to.active_element


def press(driver, *keys):
    ActionChains(driver).send_keys(*keys).perform()


def tab_to(driver, wanted, what, limit=60):
    """Press Tab until the focused element is the one wanted; fail if Tab never reaches it."""
    for _ in range(limit):
        press(driver, Keys.TAB)
        element = focused(driver)
        if wanted(element):
            return element
    raise AssertionError(f"Tab never reached {what}")


def named(name):
    return lambda element: element.get_attribute("name") == name


def test_a_worker_signs_in_and_records_a_contact_with_the_keyboard_alone(app, users, screen):
    from admin_app.models.case_file import Client

    worker = users["worker"]
    with app.app_context():
        pk = new_client("E4E-K0001", worker=worker).pk
    driver = screen.driver
    day = london_today() - timedelta(days=3)

    screen.open("/login")
    tab_to(driver, named("email"), "the email field").send_keys(worker.email)
    press(driver, Keys.TAB)
    assert focused(driver).get_attribute("name") == "password"
    press(driver, PASSWORD, Keys.ENTER)
    screen.wait_for(lambda d: "/login" not in d.current_url, "signing in with Enter did not leave the sign-in page")

    # The skip link is the first stop and takes the focus past the menu to the page's content.
    screen.open(f"/admin/casefile/{pk}/")
    press(driver, Keys.TAB)
    assert focused(driver).text == "Skip to main content"
    press(driver, Keys.ENTER)
    assert focused(driver).get_attribute("id") == "main-content"

    tab_to(driver, lambda e: e.text == "Record a contact", "the Record a contact link")
    press(driver, Keys.ENTER)
    screen.wait_for(lambda d: d.find_elements(By.CSS_SELECTOR, "form.task-form"), "Enter on the link did not open the form")

    date_input = tab_to(driver, named("date"), "the date field")
    # A date field takes day, month and year typed in the order the browser's language shows them.
    order = driver.execute_script("return new Intl.DateTimeFormat(navigator.language).formatToParts(new Date())"
                                  ".filter(p => p.type !== 'literal').map(p => p.type)")
    parts = {"day": f"{day.day:02d}", "month": f"{day.month:02d}", "year": f"{day.year}"}
    date_input.send_keys("".join(parts[part] for part in order))
    assert date_input.get_attribute("value") == day.isoformat()
    tab_to(driver, named("mode"), "the mode drop-down").send_keys("Phone")
    tab_to(driver, named("minutes-minutes"), "the minutes field").send_keys("40")
    note = tab_to(driver, named("note"), "the note field")
    note.send_keys("Talked through the CSCS card application")
    tab_to(driver, lambda e: e.get_attribute("type") == "submit", "the save button")
    press(driver, Keys.ENTER)

    screen.wait_for(lambda d: d.current_url.endswith(f"/admin/casefile/{pk}/"), "saving with Enter did not go back to the case file")
    with app.app_context():
        contacts = Client.objects.get(pk=pk).contacts
    assert [(c.date, c.mode, c.minutes, c.note, c.staff) for c in contacts] == [
        (day, "phone", 40, "Talked through the CSCS card application", worker)]


def test_the_searchable_employer_drop_down_works_from_the_keyboard(app, users, screen):
    """A look-up drop-down (select2): Tab to it, type the start of the name, Enter on the offered employer."""
    from admin_app.models import Employer
    from admin_app.models.case_file import Client

    worker = users["worker"]
    with app.app_context():
        pk = new_client("E4E-K0002", worker=worker).pk
        Employer(name="Brindley Place Hotel").save()
        Employer(name="Bullring Retail").save()
    driver = screen.driver
    screen.sign_in(worker.email)
    screen.open(f"/admin/casefile/{pk}/add/employer_contacts")

    lookup = tab_to(driver, lambda e: "select2-focusser" in (e.get_attribute("class") or "")
                    or "select2-input" in (e.get_attribute("class") or ""), "the employer look-up")
    assert lookup.get_attribute("id") and driver.find_element(By.CSS_SELECTOR, f"label[for='{lookup.get_attribute('id')}']").text == "Employer"
    press(driver, "Bull")
    screen.wait_for(lambda d: any(r.text == "Bullring Retail" for r in d.find_elements(By.CSS_SELECTOR, ".select2-result-label")),
                    "typing did not offer the employer")
    press(driver, Keys.ENTER)
    assert "Bullring Retail" in driver.find_element(By.CSS_SELECTOR, ".select2-container .select2-chosen").text
    tab_to(driver, lambda e: e.get_attribute("type") == "submit", "the save button")
    press(driver, Keys.ENTER)

    screen.wait_for(lambda d: d.current_url.endswith(f"/admin/casefile/{pk}/"), "saving with Enter did not go back to the case file")
    with app.app_context():
        contacts = Client.objects.get(pk=pk).employer_contacts
    assert [c.employer.name for c in contacts] == ["Bullring Retail"]
