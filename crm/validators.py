"""Field validators of personal data.

DOMAIN.md (seed 000): personal identity codes (henkilötunnus,
personbeteckning) are never stored, not even inside free text.
"""

import re

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from stdnum.fi import hetu, ytunnus

ERROR_IDENTITY_CODE = _("Personal identity codes may not be stored. Remove the identity code from this field.")
ERROR_BUSINESS_ID = _("Enter a valid Finnish business ID (for example 1234567-8); the check digit does not match.")
ERROR_BIRTH_DATE_FUTURE = _("The date of birth cannot be in the future.")
ERROR_CONTROL_CHARACTERS = _("Remove the control characters from this field.")

# DDMMYY, a century sign (+, -, A-F for the 2000s, U-Y as extra signs for the
# 1900s since 2023), a three-digit individual number and a check character.
# The surrounding look-arounds keep the match away from longer numbers.
_IDENTITY_CODE_CANDIDATE = re.compile(
    r"(?<![0-9A-Za-z])(\d{6})\s?([-+A-FU-Ya-fu-y])\s?(\d{3}[0-9A-Ya-y])(?![0-9A-Za-z])"
)
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def contains_identity_code(text: str) -> bool:
    """Tell whether the text contains a checksum-valid Finnish personal identity code."""
    for match in _IDENTITY_CODE_CANDIDATE.finditer(text or ""):
        candidate = "".join(match.groups()).upper()
        # Temporary codes (individual number 900-999) are identity codes too.
        if hetu.is_valid(candidate, allow_temporary=True):
            return True
    return False


def validate_no_identity_code(value: str) -> None:
    if isinstance(value, str) and contains_identity_code(value):
        raise ValidationError(ERROR_IDENTITY_CODE, code="identity_code")


def validate_no_control_characters(value: str) -> None:
    if isinstance(value, str) and _CONTROL_CHARACTERS.search(value):
        raise ValidationError(ERROR_CONTROL_CHARACTERS, code="control_characters")


def normalise_business_id(value: str) -> str:
    """Return the business ID in its printed form (1234567-8) when it is valid."""
    value = (value or "").strip()
    return ytunnus.format(value) if ytunnus.is_valid(value) else value


def validate_business_id(value: str) -> None:
    if value and not ytunnus.is_valid(value):
        raise ValidationError(ERROR_BUSINESS_ID, code="business_id")


def validate_not_in_future(value) -> None:
    if value and value > timezone.localdate():
        raise ValidationError(ERROR_BIRTH_DATE_FUTURE, code="future_date")
