"""The client space in a real browser, on a phone-sized screen: every page in every language passes axe."""
from __future__ import annotations

from admin_app.client_space.languages import LOCALES
from tests.browser.axe import assert_accessible
from tests.browser.conftest import wait_until
from tests.test_client_space import CLIENT_PASSWORD, files, invite  # noqa: F401  (fixture and helper)

PAGES = ("/my/", "/my/plan", "/my/appointments", "/my/opportunities", "/my/messages", "/my/talk-now")


def waits(browser, condition, message):
    """Each click posts a form: wait for the next page rather than read the one being left."""
    return wait_until(browser, condition, message)


def test_every_client_page_in_every_language_is_accessible(app, login, files, live_server, browser):  # noqa: F811
    from selenium.webdriver.common.by import By

    browser.set_window_size(390, 844)
    link = invite(app, login, files["mine"], "jay@example.org").replace("http://localhost", live_server.url)
    browser.get(link)
    assert_accessible(browser, "invitation page")
    browser.find_element(By.ID, "password").send_keys(CLIENT_PASSWORD)
    browser.find_element(By.ID, "password_again").send_keys(CLIENT_PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
    waits(browser, lambda d: d.current_url.endswith("/my/"), "the invitation did not lead to the client's home")
    for code, language in LOCALES.items():
        browser.find_element(By.CSS_SELECTOR, f"button[name=language][value={code}]").click()
        waits(browser, lambda d: d.find_element(By.TAG_NAME, "html").get_attribute("lang") == code,
              f"the page did not change to {language.english}")
        for path in PAGES:
            browser.get(live_server.url + path)
            html = browser.find_element(By.TAG_NAME, "html")
            assert html.get_attribute("lang") == code
            assert html.get_attribute("dir") == ("rtl" if language.rtl else "ltr")
            assert_accessible(browser, f"{path} in {language.english}")
        browser.save_screenshot(f"/tmp/client-space-{code}.png")
    # Marking a step done works without JavaScript: a plain form post.
    browser.get(live_server.url + "/my/plan")
    browser.find_element(By.CSS_SELECTOR, "button[name=done][value=yes]").click()
    waits(browser, lambda d: d.find_elements(By.CSS_SELECTOR, ".steps li.done"), "the step was not marked done")
    browser.find_element(By.CSS_SELECTOR, "footer form button.link").click()  # sign out
    waits(browser, lambda d: "/my/sign-in" in d.current_url, "signing out did not end on the sign-in page")
    browser.get(live_server.url + "/my/")
    assert "/my/sign-in" in browser.current_url
    assert_accessible(browser, "sign-in page")


def test_the_worker_reads_and_replies_from_the_case_file(app, login, users, files, live_server, browser):  # noqa: F811
    from selenium.webdriver.common.by import By

    from admin_app.client_space import service
    from tests.browser.conftest import Screen

    with app.app_context():
        service.send_message(files["mine"].pk, sender="client", text="Can we meet on Friday?", language="pl")
    screen = Screen(browser, live_server.url).sign_in(users["worker"].email)
    screen.open(f"/admin/casefile/{files['mine'].pk}/")
    browser.find_element(By.CSS_SELECTOR, "a.client-messages").click()
    thread = waits(browser, lambda d: d.find_elements(By.CSS_SELECTOR, ".message-thread"), "no message thread")[0]
    assert "written in Polish" in thread.text
    browser.find_element(By.ID, "text").send_keys("Yes, Friday at 2pm")
    browser.find_element(By.CSS_SELECTOR, "#reply-heading ~ form button[type=submit]").click()
    waits(browser, lambda d: any("Yes, Friday at 2pm" in t.text for t in d.find_elements(By.CSS_SELECTOR, ".message-thread")),
          "the reply is not in the thread")
    browser.save_screenshot("/tmp/client-space-staff.png")
