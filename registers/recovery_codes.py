"""Two-factor recovery codes, stored only as salted, slow hashes.

django-otp's static tokens keep each code in clear: anyone who reads the
database (a backup, a restored copy) could pass the second factor of every
owner and main user. Here a device keeps a random salt and one PBKDF2 digest
per code; a typed code is hashed once and compared with every digest in
constant time, and a matched code is deleted (each works once).
"""

import hashlib
import hmac
import secrets

from django.conf import settings
from django.db import models, transaction
from django_otp.models import Device, ThrottlingMixin, TimestampMixin

RECOVERY_CODE_COUNT = 10
# One derivation per attempt (all of a device's codes share its salt), so the
# cost can be high enough to make guessing a stolen digest's 40- or 64-bit code futile.
ITERATIONS = 100_000


def digest(*, salt: str, code: str) -> str:
    """Return the stored form of `code` under `salt`."""
    normalised = code.replace(" ", "").replace("-", "").lower()
    return hashlib.pbkdf2_hmac("sha256", normalised.encode(), salt.encode(), ITERATIONS).hex()


def _new_salt() -> str:
    return secrets.token_hex(16)


class RecoveryCodeDevice(TimestampMixin, ThrottlingMixin, Device):
    salt = models.CharField(max_length=64, default=_new_salt)

    class Meta:
        app_label = "registers"
        verbose_name = "recovery code set"

    def get_throttle_factor(self):
        return getattr(settings, "OTP_STATIC_THROTTLE_FACTOR", 1)

    @transaction.atomic
    def verify_token(self, token) -> bool:
        allowed, _info = self.verify_is_allowed()
        if not allowed:
            return False
        typed = digest(salt=self.salt, code=str(token))
        match = None
        for code in self.codes.select_for_update():
            # Every digest is compared, in constant time, so the answer's timing says nothing.
            if hmac.compare_digest(code.digest, typed) and match is None:
                match = code
        if match is None:
            self.throttle_increment()
            return False
        match.delete()
        self.throttle_reset(commit=False)
        self.set_last_used_timestamp(commit=False)
        self.save()
        return True


class RecoveryCode(models.Model):
    device = models.ForeignKey(RecoveryCodeDevice, related_name="codes", on_delete=models.CASCADE)
    digest = models.CharField(max_length=64)

    class Meta:
        app_label = "registers"

    def __str__(self):
        return f"recovery code {self.pk}"


@transaction.atomic
def recovery_codes_create(*, user) -> list[str]:
    """Replace the user's recovery codes with fresh ones and return them (shown once, never stored)."""
    RecoveryCodeDevice.objects.filter(user=user).delete()
    device = RecoveryCodeDevice.objects.create(user=user, name="recovery")
    codes = [secrets.token_hex(8) for _ in range(RECOVERY_CODE_COUNT)]
    for code in codes:
        RecoveryCode.objects.create(device=device, digest=digest(salt=device.salt, code=code))
    return codes
