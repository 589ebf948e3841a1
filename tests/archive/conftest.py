import pytest

from archive.models import Mailbox
from tests.factories import OrderingClientFactory

from . import dovecot as dovecot_helpers


@pytest.fixture(scope="session")
def dovecot():
    """A Dovecot of this test process's own on a free loopback port, or a skip saying why there is none."""
    if not dovecot_helpers.installed():
        pytest.skip(dovecot_helpers.NOT_INSTALLED)
    server = dovecot_helpers.Dovecot().start()
    yield server
    server.stop()


@pytest.fixture
def dovecot_account(dovecot):
    """An account of its own on the server, with an empty INBOX and Sent folder: (user, password)."""
    return dovecot.add_user()


def mailbox_for(server, account, *, ordering_client=None, **fields) -> Mailbox:
    """A mailbox as the main user would configure it, pointing at an account of the test server."""
    user, password = account
    values = {"name": user, "host": server.host, "port": server.port, "security": Mailbox.Security.PLAIN}
    mailbox = Mailbox(ordering_client=ordering_client or OrderingClientFactory(), username=user, **{**values, **fields})
    mailbox.set_password(password)
    mailbox.full_clean()
    mailbox.save()
    return mailbox


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT
