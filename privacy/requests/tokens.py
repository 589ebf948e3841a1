"""Signed tokens in the links sent to requesters.

Nothing secret is stored: each token signs the public UUID of a request or
package with the project's SECRET_KEY and a salt of its own, so a token for
one purpose (or one request) never opens another. A reference number alone
opens nothing.
"""

import datetime

from django.core import signing

CONFIRM_SALT = "privacy.request.confirm-email"
STATUS_SALT = "privacy.request.status"
DOWNLOAD_SALT = "privacy.package.download"
# The e-mail confirmation link works for two days (the brief: 48 hours).
CONFIRM_MAX_AGE = datetime.timedelta(hours=48)
# A request still unconfirmed this long after its confirmation letter gets one reminder, with a fresh link, while the
# first link still works (privacy.requests.tasks.confirmation_reminders_send, hourly).
CONFIRM_REMINDER_AFTER = datetime.timedelta(hours=24)
# The status link stops working this many days after the request was
# answered or closed: long enough to read the answer, not a key for ever.
STATUS_LINK_DAYS_AFTER_END = 30


class TokenExpiredError(Exception):
    pass


class TokenInvalidError(Exception):
    pass


def confirm_token_make(request) -> str:
    return signing.TimestampSigner(salt=CONFIRM_SALT).sign(str(request.code))


def confirm_token_read(token: str) -> str:
    """Return the request code in a confirmation token, or raise TokenExpiredError/TokenInvalidError."""
    try:
        return signing.TimestampSigner(salt=CONFIRM_SALT).unsign(token, max_age=CONFIRM_MAX_AGE)
    except signing.SignatureExpired:
        raise TokenExpiredError from None
    except signing.BadSignature:
        raise TokenInvalidError from None


def status_token_make(request) -> str:
    return signing.Signer(salt=STATUS_SALT).sign(str(request.code))


def status_token_read(token: str) -> str:
    try:
        return signing.Signer(salt=STATUS_SALT).unsign(token)
    except signing.BadSignature:
        raise TokenInvalidError from None


def download_token_make(package) -> str:
    # The expiry lives on the package row (it can be shortened or revoked);
    # the signature only proves the link was issued for this package.
    return signing.Signer(salt=DOWNLOAD_SALT).sign(str(package.code))


def download_token_read(token: str) -> str:
    try:
        return signing.Signer(salt=DOWNLOAD_SALT).unsign(token)
    except signing.BadSignature:
        raise TokenInvalidError from None
