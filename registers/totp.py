"""Authenticator (TOTP) devices whose secrets are stored encrypted.

django-otp's TOTP device keeps the shared secret in clear hex: anyone who
reads the database (a backup, a restored copy) could compute the codes of
every owner and main user. Here the secret is a Fernet token under a key that
lives only in the environment (TOTP_ENCRYPTION_KEY), so the database alone is
not enough. Codes are checked by django-otp's own TOTP implementation.

A secret that cannot be decrypted (the key in the environment is wrong or was
removed) fails closed: the code is refused, the error is logged for the
operators, and the user may still sign in with a recovery code.
"""

import logging
import secrets
import time
from base64 import b32encode
from urllib.parse import quote, urlencode

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models, transaction
from django_otp.models import Device, ThrottlingMixin, TimestampMixin
from django_otp.oath import TOTP

logger = logging.getLogger(__name__)

# 160 bits, the size RFC 4226 recommends for HMAC-SHA1 and what django-otp generates.
KEY_BYTES = 20


class TOTPKeyUnreadableError(Exception):
    """The stored secret cannot be decrypted with the keys in the environment."""


def _fernet() -> MultiFernet:
    # Built per call so a changed setting (a rotation, or a test) takes effect at once; it is cheap.
    return MultiFernet([Fernet(key) for key in settings.TOTP_ENCRYPTION_KEYS])


def encrypt_key(bin_key: bytes) -> str:
    """Return the stored form of a binary TOTP secret (encrypted with the first configured key)."""
    return _fernet().encrypt(bin_key).decode()


def _new_encrypted_key() -> str:
    return encrypt_key(secrets.token_bytes(KEY_BYTES))


class TOTPDevice(TimestampMixin, ThrottlingMixin, Device):
    """An authenticator app: the fields of django-otp's TOTP device, with the secret encrypted."""

    # A Fernet token: 120 characters for a 20-byte secret, 140 for django-otp's largest (40 bytes).
    encrypted_key = models.CharField(max_length=200, default=_new_encrypted_key)
    step = models.PositiveSmallIntegerField(default=30)
    t0 = models.BigIntegerField(default=0)
    digits = models.PositiveSmallIntegerField(default=6)
    tolerance = models.PositiveSmallIntegerField(default=1)
    drift = models.SmallIntegerField(default=0)
    # A code is accepted once: only time steps after the last verified one count.
    last_t = models.BigIntegerField(default=-1)

    class Meta:
        app_label = "registers"
        verbose_name = "authenticator"

    @property
    def bin_key(self) -> bytes:
        try:
            return _fernet().decrypt(self.encrypted_key.encode())
        except InvalidToken as error:
            raise TOTPKeyUnreadableError(
                f"TOTP device {self.pk} cannot be decrypted with TOTP_ENCRYPTION_KEY"
            ) from error

    @property
    def key_readable(self) -> bool:
        try:
            return bool(self.bin_key)
        except TOTPKeyUnreadableError:
            return False

    def get_throttle_factor(self):
        return getattr(settings, "OTP_TOTP_THROTTLE_FACTOR", 1)

    @transaction.atomic
    def verify_token(self, token) -> bool:
        allowed, _info = self.verify_is_allowed()
        if not allowed:
            return False
        try:
            key = self.bin_key
        except TOTPKeyUnreadableError:
            # Not the user's fault, so no throttling; the operators must restore the key.
            logger.exception("Refused a TOTP code: the device's secret cannot be decrypted")
            return False
        try:
            number = int(token)
        except (TypeError, ValueError):
            number = None
        totp = TOTP(key, self.step, self.t0, self.digits, self.drift)
        totp.time = time.time()
        if number is None or not totp.verify(number, self.tolerance, self.last_t + 1):
            self.throttle_increment(commit=True)
            return False
        self.last_t = totp.t()
        self.drift = totp.drift
        # Re-encrypting on each use moves the secret to the newest key after a rotation.
        self.encrypted_key = _fernet().rotate(self.encrypted_key.encode()).decode()
        self.throttle_reset(commit=False)
        self.set_last_used_timestamp(commit=False)
        self.save()
        return True

    @property
    def config_url(self) -> str:
        """The otpauth:// address an authenticator app reads from the QR code."""
        issuer = getattr(settings, "OTP_TOTP_ISSUER", "").replace(":", "")
        label = f"{issuer}:{self.user.get_username()}" if issuer else self.user.get_username()
        params = {"secret": b32encode(self.bin_key), "algorithm": "SHA1", "digits": self.digits, "period": self.step}
        query = urlencode(params)
        if issuer:
            query += f"&issuer={quote(issuer)}"
        return f"otpauth://totp/{quote(label)}?{query}"


@transaction.atomic
def totp_keys_reencrypt() -> tuple[int, list[int]]:
    """Re-encrypt every stored secret under the first configured key (after a rotation).

    Returns how many were re-encrypted and the ids of devices no configured key opens.
    """
    fernet = _fernet()
    done, unreadable = 0, []
    for device in TOTPDevice.objects.select_for_update().order_by("pk"):
        try:
            device.encrypted_key = fernet.rotate(device.encrypted_key.encode()).decode()
        except InvalidToken:
            unreadable.append(device.pk)
            continue
        device.save(update_fields=["encrypted_key"])
        done += 1
    return done, unreadable
