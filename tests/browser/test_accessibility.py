"""axe-core (WCAG 2.2 A and AA, no serious or critical violation: tests/browser/axe.py) on every page each role
can reach in the demo service, in a real browser.

Each role signs in once and walks the links the app shows it, as tests/test_every_page.py does; a screen (its
path with record ids taken out) is checked once per role. A form is checked again after adding one of each kind
of nested item, and after a refused save (submitted as it opened, with the new nested items blank); one list
per role again with a row of each of its filters."""
from __future__ import annotations

import html
import re
from urllib.parse import urlsplit

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from admin_app.metrics.periods import london_today
from tests.browser.axe import describe, violations
from tests.browser.conftest import Screen, chromium, leads_to_a_new_page, serving
from tests.conftest import build_app
from tests.test_every_page import LINK, NOT_FOLLOWED

ROLES = ["admin", "manager", "worker1", "admin_staff", "grant_panel", "evaluator", "commissioner"]
RECORD_ID = re.compile(r"[0-9a-f]{24}")
NEW_RECORD_FORM = re.compile(r"/admin/[a-z_]+/new/$|/admin/casefile/\{id\}/add/[a-z_]+$")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from admin_app.cli import seed_demo_data

    app = build_app(tmp_path_factory.mktemp("axe"))
    with app.app_context():
        seed_demo_data(clients=12)
    with serving(app) as server:
        yield app, server


@pytest.fixture(scope="module")
def driver():
    with chromium() as driver:
        yield driver


@pytest.fixture
def signed_in(demo, driver):
    """Sign in as the demo user of a role, in the module's one browser."""
    app, server = demo

    def sign_in(role):
        driver.delete_all_cookies()
        return Screen(driver, server.url).sign_in(f"{role}@demo.e4e", app.config["DEMO_PASSWORD"])

    return sign_in


def screen_of(url: str) -> str:
    return RECORD_ID.sub("{id}", urlsplit(url).path)


def problems_here(driver, what: str) -> list[str]:
    found = violations(driver)
    return [f"{what} {driver.current_url}:\n{describe(found)}"] if found else []


def structure_problems(driver) -> list[str]:
    """What axe's WCAG rules leave to best practice but the service promises on every page: its language,
    a skip link to the content, one h1, and a title of its own before the service's name."""
    problems = []
    if driver.find_element(By.TAG_NAME, "html").get_attribute("lang") != "en-GB":
        problems.append("the page does not declare en-GB")
    if not driver.find_elements(By.CSS_SELECTOR, "a.skip-link[href='#main-content']") or not driver.find_elements(By.ID, "main-content"):
        problems.append("no skip link to the main content")
    headings = driver.find_elements(By.TAG_NAME, "h1")
    if len(headings) != 1:
        problems.append(f"{len(headings)} h1 headings")
    if not re.match(r"\S.* [–—] .*Enterprise for Employment$", driver.title):
        problems.append(f"the title {driver.title!r} does not name the page")
    return [f"page {driver.current_url}: {', '.join(problems)}"] if problems else []


def add_one_of_each_nested_item(driver) -> int:
    buttons = driver.find_elements(By.CSS_SELECTOR, "form button.inline-add-field")
    for button in buttons:
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", button)
        button.click()
    return len(buttons)


def add_each_filter(driver) -> int:
    """Add one row of each filter a list offers (Flask-Admin's "Add Filter" menu)."""
    choices = driver.find_elements(By.CSS_SELECTOR, "a.filter")
    for choice in choices:
        driver.execute_script("arguments[0].click()", choice)
    return len(choices)


def submit(driver) -> None:
    """Submit the page's form and wait for the page the save leads to."""
    form = driver.find_element(By.CSS_SELECTOR, "main form[method=post]:not(.form-inline):has(button[type=submit], input[type=submit])")
    button = form.find_element(By.CSS_SELECTOR, "[type=submit]")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", button)
    leads_to_a_new_page(driver, button.click, f"the save on {driver.current_url} led nowhere")


@pytest.mark.parametrize("role", ROLES)
def test_every_page_a_role_reaches_passes_axe(signed_in, driver, role):
    screen = signed_in(role)
    screens, problems, queue, forms_refused, filtered, titles = set(), [], ["/admin/"], 0, False, {}
    while queue:
        url = html.unescape(queue.pop(0))
        key = screen_of(url)
        if key in screens or any(part in url for part in NOT_FOLLOWED):
            continue
        screens.add(key)
        screen.open(url)
        problems += problems_here(driver, "page") + structure_problems(driver)
        titles.setdefault(driver.title, set()).add(screen_of(driver.current_url))
        links = LINK.findall(driver.page_source)
        if add_one_of_each_nested_item(driver):
            problems += problems_here(driver, "after adding nested items on")
        if not filtered and add_each_filter(driver):
            filtered = True  # the filter rows are the same markup on every list
            problems += problems_here(driver, "after adding filters on")
        if NEW_RECORD_FORM.search(key):
            submit(driver)
            if driver.find_elements(By.CSS_SELECTOR, ".error-summary"):
                forms_refused += 1
                problems += problems_here(driver, "after a refused save on")
        queue.extend(links)
    assert problems == [], "\n\n".join(problems)
    assert len(screens) >= 2, screens  # the walk went beyond the home page
    # A list, a record's details and its edit form each have a title of their own.
    shared = {title: pages for title, pages in titles.items() if len(pages) > 1}
    assert shared == {}, shared
    if role in ("admin", "manager", "worker1"):
        assert forms_refused >= 3, "no refused form was checked"


def test_a_refused_case_file_says_what_is_wrong_at_the_top_and_beside_each_field(signed_in, driver):
    """The GOV.UK error summary: "There is a problem", each entry a link that takes the person to its field."""
    screen = signed_in("manager")
    screen.open("/admin/client/")
    driver.find_element(By.CSS_SELECTOR, "td.list-buttons-column a[href*='/admin/client/edit/']").click()
    born = london_today().replace(year=london_today().year + 1)
    screen.set_value(driver.find_element(By.ID, "date_of_birth"), born.isoformat())
    submit(driver)

    summary = screen.wait_for(lambda d: d.find_elements(By.CSS_SELECTOR, ".error-summary"), "no error summary")[0]
    assert summary.find_element(By.TAG_NAME, "h2").text == "There is a problem"
    assert driver.switch_to.active_element == summary  # keyboard and screen-reader users start at it
    entry = summary.find_element(By.PARTIAL_LINK_TEXT, "Date of birth must be in the past")
    assert entry.get_attribute("href").endswith("#date_of_birth")
    assert "-" not in entry.text.split("past")[0]  # no negative age
    field_group = driver.find_element(By.ID, "date_of_birth").find_element(By.XPATH, "ancestor::div[contains(@class, 'form-group')]")
    assert "Date of birth must be in the past" in field_group.text
    entry.send_keys(Keys.ENTER)  # the link takes the keyboard to the field
    assert driver.switch_to.active_element.get_attribute("id") == "date_of_birth"
    assert problems_here(driver, "refused case file") == []


def test_the_sign_in_two_factor_and_password_pages_are_in_the_service_layout_and_pass_axe(demo, driver):
    app, server = demo
    driver.delete_all_cookies()
    screen = Screen(driver, server.url).open("/login")
    problems = problems_here(driver, "sign-in page")
    assert driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en-GB"
    assert driver.find_element(By.CSS_SELECTOR, "a.skip-link").get_attribute("href").endswith("#main-content")
    assert driver.find_elements(By.CSS_SELECTOR, "menu") == []  # no stray menu of account pages

    driver.find_element(By.NAME, "email").send_keys("manager@demo.e4e")
    driver.find_element(By.NAME, "password").send_keys("not the password")
    driver.find_element(By.CSS_SELECTOR, "main form [type=submit]").click()
    summary = screen.wait_for(lambda d: d.find_elements(By.CSS_SELECTOR, ".error-summary"), "no error summary")[0]
    assert "There is a problem" in summary.text and "Email or password is not right" in summary.text
    problems += problems_here(driver, "refused sign-in")

    screen.sign_in("manager@demo.e4e", app.config["DEMO_PASSWORD"])
    for path, what in (("/tf-setup", "two-factor set-up"), ("/change", "change of password")):
        screen.open(path)
        assert driver.find_element(By.CSS_SELECTOR, "header a[data-back=app]")  # the way back to the screens
        problems += problems_here(driver, what)
    driver.find_element(By.CSS_SELECTOR, "main form [type=submit]").click()  # nothing typed
    summary = screen.wait_for(lambda d: d.find_elements(By.CSS_SELECTOR, ".error-summary"), "no error summary")[0]
    first = summary.find_element(By.CSS_SELECTOR, "a")
    assert driver.find_element(By.ID, first.get_attribute("href").split("#")[1]).tag_name == "input"
    problems += problems_here(driver, "refused change of password")
    assert problems == [], "\n\n".join(problems)


def test_the_second_step_of_signing_in_and_asking_for_help_pass_axe(demo, driver):
    from admin_app.models import User

    app, server = demo
    with app.app_context():
        secret = app.extensions["security"]._totp_factory.generate_totp_secret()
        User.objects(email="grant_panel@demo.e4e").update_one(set__tf_primary_method="authenticator",
                                                             set__tf_totp_secret=secret)
    driver.delete_all_cookies()
    screen = Screen(driver, server.url).open("/login")
    driver.find_element(By.NAME, "email").send_keys("grant_panel@demo.e4e")
    driver.find_element(By.NAME, "password").send_keys(app.config["DEMO_PASSWORD"])
    driver.find_element(By.CSS_SELECTOR, "main form [type=submit]").click()
    screen.wait_for(lambda d: "/tf-validate" in d.current_url, "the code page did not open")
    assert driver.find_element(By.TAG_NAME, "h1").text == "Code from your app"
    problems = problems_here(driver, "second step of signing in") + structure_problems(driver)
    leads_to_a_new_page(driver, driver.find_element(By.ID, "rescue").click, "asking for help led nowhere")
    assert "The administrators have been told" in driver.find_element(By.TAG_NAME, "main").text
    problems += problems_here(driver, "after asking for help") + structure_problems(driver)
    with app.app_context():  # the module's other tests sign in as this user with a password alone
        User.objects(email="grant_panel@demo.e4e").update_one(unset__tf_primary_method=True, unset__tf_totp_secret=True)
    assert problems == [], "\n\n".join(problems)
