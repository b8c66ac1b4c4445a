"""The lone-working page on a phone: a worker checks in and out of a visit with one tap each, and the page fits
a phone's width without sideways scrolling."""
from __future__ import annotations

from datetime import timedelta

from selenium.webdriver.common.by import By


def test_a_worker_checks_in_and_out_on_a_phone_sized_screen(app, users, screen):
    from admin_app.models.risk import Venue, Visit
    from admin_app.risk.alerts import london_now

    now = london_now().replace(second=0, microsecond=0)
    with app.app_context():
        venue = Venue(name="Lozells Community Hub", area="Lozells", postcode_district="B19", kind="community_centre").save()
        visit = Visit(starts_at=now - timedelta(minutes=10), ends_at=now + timedelta(minutes=50), venue=venue,
                      workers=[users["worker"]]).save()
    screen.driver.set_window_size(390, 844)
    screen.sign_in("worker@test.e4e").open("/admin/visit/checkin/")
    card = screen.driver.find_element(By.CSS_SELECTOR, f'[data-visit="{visit.pk}"]')
    assert "Lozells Community Hub" in card.text
    assert screen.driver.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")
    button = card.find_element(By.XPATH, ".//button[normalize-space()='Check in']")
    assert button.size["height"] >= 40  # a thumb-sized target
    button.click()
    screen.wait_for(lambda d: "Checked in at" in d.page_source, "no confirmation of the check-in")
    screen.driver.find_element(By.CSS_SELECTOR, f'[data-visit="{visit.pk}"]').find_element(
        By.XPATH, ".//button[normalize-space()='Check out']").click()
    screen.wait_for(lambda d: "stay safe" in d.page_source, "no confirmation of the check-out")
    with app.app_context():
        done = Visit.objects.get(pk=visit.pk)
    assert (done.status, done.checked_in_by, done.checked_out_by) == ("checked_out", "worker@test.e4e", "worker@test.e4e")
    assert screen.console_errors() == []
