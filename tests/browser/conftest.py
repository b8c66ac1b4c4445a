"""A real Chromium driving the app over HTTP: the app served from a thread, the browser headless.

`make test` installs Debian's chromium and chromium-driver when they are missing (see the Makefile);
on a machine where that cannot be done these tests are skipped with the reason.
"""
from __future__ import annotations

import shutil
import threading
from contextlib import contextmanager

import pytest
from werkzeug.serving import make_server

from tests.conftest import PASSWORD

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")


@contextmanager
def serving(app):
    """The app served on a free local port while the block runs."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.url = f"http://127.0.0.1:{server.server_port}"
    try:
        yield server
    finally:
        server.shutdown()
        thread.join(timeout=5)


@contextmanager
def chromium():
    """A headless Chromium driven by Debian's chromedriver while the block runs (skips when absent)."""
    if not (CHROMIUM and CHROMEDRIVER):
        pytest.skip("chromium and chromedriver are not installed")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--window-size=1400,1000", "--lang=en-GB"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # The driver is the one Debian installed: nothing is downloaded.
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.implicitly_wait(0)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def live_server(app):
    """The test app served on a free local port for as long as the test runs."""
    with serving(app) as server:
        yield server


@pytest.fixture
def browser():
    with chromium() as driver:
        yield driver


def wait_until(driver, condition, message, seconds=30):
    """Wait for `condition` on the page a click or a post leads to.

    While the browser swaps one page for the next, reading an element can fail in several ways (not there
    yet, stale, or "does not belong to the document"); each is a reason to look again, not a failure."""
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, seconds, ignored_exceptions=(WebDriverException,)).until(condition, message)


def leads_to_a_new_page(driver, action, message, seconds=30):
    """Do `action` (a click that submits or follows a link) and wait until the page it leads to has loaded.

    Reading the page straight after the click could still see the old page, or, once the next `get` has
    started, be overtaken by the late answer to the click."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.expected_conditions import staleness_of

    old_page = driver.find_element(By.TAG_NAME, "html")
    action()
    return wait_until(driver, lambda d: staleness_of(old_page)(d)
                      and d.execute_script("return document.readyState") == "complete", message, seconds)


class Screen:
    """The browser pointed at the live app, with the few moves every browser test makes."""

    def __init__(self, driver, base_url):
        self.driver = driver
        self.base_url = base_url

    def open(self, path):
        self.driver.get(self.base_url + path)
        return self

    def sign_in(self, email, password=PASSWORD):
        from selenium.webdriver.common.by import By

        self.open("/login")
        self.driver.find_element(By.NAME, "email").send_keys(email)
        self.driver.find_element(By.NAME, "password").send_keys(password)
        self.driver.find_element(By.CSS_SELECTOR, "form [type=submit]").click()
        self.wait_for(lambda d: "/login" not in d.current_url, "sign-in did not leave the login page")
        return self

    def wait_for(self, condition, message, seconds=30):
        return wait_until(self.driver, condition, message, seconds)

    def set_value(self, element, value):
        """Set a date or text input the way a picker would, and tell the page it changed."""
        self.driver.execute_script(
            "arguments[0].value = arguments[1];"
            "arguments[0].dispatchEvent(new Event('change', {bubbles: true}));", element, value)

    def console_errors(self):
        return [entry["message"] for entry in self.driver.get_log("browser") if entry["level"] == "SEVERE"]

    def resources_from_elsewhere(self):
        """Every script, stylesheet, image or font the page loaded from anywhere but the app."""
        return self.driver.execute_script(
            "return performance.getEntriesByType('resource').map(e => e.name)"
            ".filter(n => !n.startsWith(location.origin) && !n.startsWith('data:'));")


@pytest.fixture
def screen(browser, live_server):
    return Screen(browser, live_server.url)
