import threading

import pytest
from aiosmtpd.controller import Controller

from tests.archive.conftest import dovecot, dovecot_account  # noqa: F401 - the bounce tests read a real IMAP server
from tests.archive.dovecot import _free_port


class Sink:
    """An SMTP server on a free loopback port that keeps every message it receives."""

    def __init__(self):
        self.messages = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        with self.lock:
            self.messages.append(
                {"from": envelope.mail_from, "to": list(envelope.rcpt_tos), "data": envelope.original_content}
            )
        return "250 OK"

    def to(self, address: str) -> list[dict]:
        with self.lock:
            return [message for message in self.messages if address in message["to"]]


@pytest.fixture
def smtp_sink(settings):
    handler = Sink()
    controller = Controller(handler, hostname="127.0.0.1", port=_free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    handler.port = controller.port
    yield handler
    controller.stop()
