"""Outgoing mail against a real SMTP server that demands a sign-in (aiosmtpd in this process)."""
from __future__ import annotations

from dataclasses import replace

import pytest
from aiosmtpd.smtp import AuthResult

from admin_app.mail import Attachment, MailNotSent, send_mail
from config import load_settings
from tests.smtp import MailServer

# The test server takes a sign-in without TLS; production mail uses STARTTLS (SMTP_TLS, on by default).
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


def authenticate(server, session, envelope, mechanism, auth_data):
    ok = auth_data.login == b"reports" and auth_data.password == b"right-password"
    return AuthResult(success=ok)


@pytest.fixture
def server():
    """An SMTP server that refuses any message from a sender that has not signed in."""
    server = MailServer(authenticator=authenticate, auth_required=True, auth_require_tls=False,
                        auth_exclude_mechanism=["LOGIN"]).start()
    yield server
    server.stop()


def settings_for(server, password):
    return replace(load_settings({}), smtp_host="127.0.0.1", smtp_port=server.port, smtp_tls=False,
                   smtp_user="reports", smtp_password=password, mail_from="reports@e4e.example.org")


def test_a_signed_in_send_delivers_to_every_recipient_with_the_attachment(server):
    message_id = send_mail(settings_for(server, "right-password"), ["b@example.org", "a@example.org", " "],
                           "Quarterly return", "Attached.", [Attachment("return.xlsx", b"PK\x03\x04data")])
    [(recipients, message)] = server.messages
    assert recipients == ["a@example.org", "b@example.org"]
    assert message["Message-ID"] == message_id and message["From"] == "reports@e4e.example.org"
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == "return.xlsx" and attachment.get_content() == b"PK\x03\x04data"


def test_without_the_sign_in_the_server_refuses_and_the_caller_is_told(server):
    with pytest.raises(MailNotSent):
        send_mail(replace(settings_for(server, ""), smtp_user=None), ["a@example.org"], "Quarterly return", "Attached.")
    assert server.messages == []


def test_no_recipients_is_refused_before_connecting(server):
    with pytest.raises(MailNotSent, match="no recipients"):
        send_mail(settings_for(server, "right-password"), ["", "  "], "Subject", "Body")


def test_without_an_smtp_host_mail_is_written_to_the_folder(tmp_path):
    settings = replace(load_settings({}), smtp_host=None, mail_folder=tmp_path / "mail")
    send_mail(settings, ["a@example.org"], "Digest", "Three items due.")
    [written] = list((tmp_path / "mail").glob("*.eml"))
    assert "Three items due." in written.read_text()
