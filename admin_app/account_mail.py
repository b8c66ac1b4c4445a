"""The emails of the sign-in pages, sent through the service's own mail (admin_app/mail.py).

Flask-Security sends one email in this service: someone at the second step of signing in who cannot use their
authenticator app asks for help (its "two-factor rescue"). That becomes an alert to the administrators, a
notice on their home page and an email, once an hour per account. Whoever asked knew the password, so the
alert tells the administrators to check it is really the person before they reset the second factor in the
Users screen.
"""
from __future__ import annotations

import logging

from flask import current_app, request
from flask_security import MailUtil

from admin_app.alerts import alert_admins_once
from admin_app.mail import MailNotSent, send_mail

log = logging.getLogger(__name__)

RESCUE_TEMPLATE = "two_factor_rescue"
RESCUE_WINDOW_MINUTES = 60


def ask_for_two_factor_reset(email: str, address: str | None) -> bool:
    """Tell the administrators that `email` cannot use their authenticator app; True if this raised the alert."""
    return alert_admins_once(
        f"Two-factor sign-in reset asked for: {email}",
        f"{email} gave the right password but could not give a code from their authenticator app, and asked for "
        f"their two-factor sign-in to be reset (from network address {address or 'unknown'}). Check it is really "
        "them, by phone or in person, before you reset it in the Users screen: whoever asked knew the password. "
        "Resetting it ends their sessions; they set up an app again when they next sign in.",
        key=f"tf-reset:{email}", minutes=RESCUE_WINDOW_MINUTES, link="/admin/user/")


class ServiceMail(MailUtil):
    """Flask-Security's mail hook (its `mail_util_cls`)."""

    def send_mail(self, template, subject, recipient, sender, body, html, **kwargs) -> None:
        if str(template).endswith(RESCUE_TEMPLATE):
            user = kwargs.get("user")
            ask_for_two_factor_reset(user.email if user is not None else "(unknown account)", request.remote_addr)
            return
        try:
            send_mail(current_app.config["SETTINGS"], [str(recipient)], str(subject), body or "")
        except MailNotSent as exc:
            log.warning("sign-in page email %s to %s not sent: %s", template, recipient, exc)
