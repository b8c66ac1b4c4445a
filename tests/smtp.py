"""A real SMTP server (aiosmtpd) in the test process that keeps what it receives."""
from __future__ import annotations

import socket
from email import message_from_bytes, policy

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Inbox:
    """The server's handler: keeps messages, and can refuse some addresses or the next few messages."""

    def __init__(self):
        self.messages = []
        self.refuse = 0
        self.refused_addresses = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refused_addresses:
            return "550 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.refuse:
            self.refuse -= 1
            return "451 4.3.0 Try again later"
        self.messages.append((sorted(envelope.rcpt_tos), message_from_bytes(envelope.content, policy=policy.default)))
        return "250 OK"


class MailServer:
    """The server on a fixed port, which can be taken down and brought back."""

    def __init__(self, **controller_options):
        self.handler = Inbox()
        self.port = free_port()
        self.options = controller_options
        self.controller = None

    def start(self) -> "MailServer":
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port, **self.options)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def messages(self):
        return self.handler.messages

    def refuse_next(self, count: int) -> None:
        self.handler.refuse = count

    def refuse_address(self, address: str) -> None:
        self.handler.refused_addresses.add(address)

    def by_recipient(self) -> dict:
        return {rcpt: message for rcpts, message in self.messages for rcpt in rcpts}
