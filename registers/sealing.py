"""Files and secrets sealed under keys that live only in the environment (ARCHIVE_ENCRYPTION_KEY).

The contact-centre archive keeps every message exactly as it came (seed 004), identity codes included
(docs/contact-centre-archive.md), and a mailbox's password must be usable by the poller: both are stored as
Fernet tokens, so a copy of the database or of the media folder alone reveals neither. A comma-separated
list of keys: the first seals, every one opens; to rotate, put a new key first.
"""

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


class SealBrokenError(Exception):
    """The sealed value cannot be opened with the keys in the environment (a wrong or removed key)."""


def _fernet() -> MultiFernet:
    # Built per call so a changed setting (a rotation, or a test) takes effect at once.
    return MultiFernet([Fernet(key) for key in settings.ARCHIVE_ENCRYPTION_KEYS])


def seal(data: bytes) -> bytes:
    return _fernet().encrypt(data)


def unseal(token: bytes) -> bytes:
    try:
        return _fernet().decrypt(token)
    except InvalidToken:
        raise SealBrokenError from None


def seal_text(text: str) -> str:
    return seal(text.encode()).decode()


def unseal_text(token: str) -> str:
    return unseal(token.encode()).decode()
