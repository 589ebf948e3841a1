"""Field validators of personal data.

DOMAIN.md (seed 000): personal identity codes (henkilötunnus,
personbeteckning) are never stored, not even inside free text.
"""

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from stdnum.fi import ytunnus

# The free-text rules live in `registers` so that the fields of every app can apply them.
from registers.validators import (  # noqa: F401
    ERROR_BIDI_CONTROLS,
    ERROR_CONTROL_CHARACTERS,
    ERROR_IDENTITY_CODE,
    FREE_TEXT_VALIDATORS,
    NOTE_MAX_LENGTH,
    contains_identity_code,
    validate_no_bidi_controls,
    validate_no_control_characters,
    validate_no_identity_code,
)

# The example's check digit is right (tests/crm/test_validators.py): an example the form refuses teaches nothing.
ERROR_BUSINESS_ID = _("Enter a valid Finnish business ID (for example 1234567-1); the check digit does not match.")
ERROR_BIRTH_DATE_FUTURE = _("The date of birth cannot be in the future.")


def normalise_business_id(value: str) -> str:
    """Return the business ID in its printed form (1234567-1) when it is valid, e.g. typed as 12345671."""
    value = (value or "").strip()
    return ytunnus.format(value) if ytunnus.is_valid(value) else value


def validate_business_id(value: str) -> None:
    if value and not ytunnus.is_valid(value):
        raise ValidationError(ERROR_BUSINESS_ID, code="business_id")


def validate_not_in_future(value) -> None:
    if value and value > timezone.localdate():
        raise ValidationError(ERROR_BIRTH_DATE_FUTURE, code="future_date")
