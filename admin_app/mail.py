"""Outgoing email: SMTP with TLS (STARTTLS, or implicit on port 465) and authentication from config, or .eml files.

With no SMTP_HOST set (embedded mode) each message is written to MAIL_FOLDER, so a demo never
sends anything. Every failure to hand a message over is raised as MailNotSent, which the jobs
retry with back-off.
"""
from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from datetime import datetime
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Iterable
from zoneinfo import ZoneInfo

from config import Settings


LONDON = ZoneInfo("Europe/London")


class MailNotSent(Exception):
    """The message was not handed over; nothing was sent."""


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    mimetype: str = "application/octet-stream"


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def build_message(settings: Settings, to: Iterable[str], subject: str, body: str,
                  attachments: Iterable[Attachment] = (), message_id: str | None = None) -> EmailMessage:
    recipients = sorted({address.strip() for address in to if address and address.strip()})
    if not recipients:
        raise MailNotSent("no recipients")
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = ", ".join(recipients)
    message["Subject"] = subject
    message["Date"] = format_datetime(datetime.now(LONDON))
    message["Message-ID"] = message_id or make_msgid(domain=settings.mail_from.rpartition("@")[2] or None)
    message.set_content(body)
    for item in attachments:
        maintype, _, subtype = item.mimetype.partition("/")
        message.add_attachment(item.content, maintype=maintype, subtype=subtype or "octet-stream",
                               filename=item.filename)
    return message


def send_mail(settings: Settings, to: Iterable[str], subject: str, body: str,
              attachments: Iterable[Attachment] = (), message_id: str | None = None) -> str:
    """Send one message; returns its Message-ID. Raises MailNotSent if it could not be handed over."""
    message = build_message(settings, to, subject, body, attachments, message_id)
    if not settings.smtp_host:
        _write_to_folder(settings.mail_folder, message)
        return message["Message-ID"]
    try:
        # Port 465 speaks TLS from the first byte; any other port upgrades with STARTTLS when SMTP_TLS is on.
        implicit_tls = settings.smtp_tls and settings.smtp_port == 465
        connect = smtplib.SMTP_SSL if implicit_tls else smtplib.SMTP
        extra = {"context": ssl.create_default_context()} if implicit_tls else {}
        with connect(settings.smtp_host, settings.smtp_port, timeout=30, **extra) as smtp:
            smtp.ehlo()
            if settings.smtp_tls and not implicit_tls:
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if settings.smtp_user:
                smtp.login(settings.smtp_user, settings.smtp_password or "")
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        raise MailNotSent(f"{type(exc).__name__}: {exc}") from exc
    return message["Message-ID"]


def _write_to_folder(folder: Path, message: EmailMessage) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    stem = message["Message-ID"].strip("<>").replace("/", "_").replace("@", "_at_")
    (folder / f"{stem}.eml").write_bytes(bytes(message))
