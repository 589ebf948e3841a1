"""Rules for every piece of free text the project stores: no identity codes, no hidden characters, bounded size.

DOMAIN.md (seed 000): personal identity codes (henkilötunnus, personbeteckning) are never stored, not even
inside free text. The rules live in `registers`, the lowest app, so that the model fields of every app
(`registers.fields`) can apply them; `crm.validators` re-exports them.
"""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from stdnum.fi import hetu

ERROR_IDENTITY_CODE = _("Personal identity codes may not be stored. Remove the identity code from this field.")
ERROR_CONTROL_CHARACTERS = _("Remove the control characters from this field.")
ERROR_BIDI_CONTROLS = _(
    "Remove the invisible text-direction characters from this field: they can make the text read differently "
    "from what is stored."
)

# Size limits of free text: a line (names, titles, reasons) and a note (interaction text, details).
NOTE_MAX_LENGTH = 10_000

_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212"
# DDMMYY, a century sign (+, -, A-F for the 2000s, U-Y as extra signs for the 1900s since 2023; a dash
# pasted from a word processor counts as the hyphen), a three-digit individual number and a check character.
# The look-arounds keep the match away from longer numbers and words.
_WITH_SIGN = re.compile(
    rf"(?<![0-9A-Za-z])(\d{{6}})\s?([-+A-FU-Ya-fu-y{_DASHES}])\s?(\d{{3}}[0-9A-Ya-y])(?![0-9A-Za-z])"
)
# The same code typed without its century sign (DDMMYYNNNC). A ten-character number is flagged only when
# the date is real and the check character matches the nine digits, so about one random number in a
# thousand is taken for a code; written with spaces (040 123 4567) a phone number never is.
_WITHOUT_SIGN = re.compile(r"(?<![0-9A-Za-z+])(\d{6})(\d{3}[0-9A-Ya-y])(?![0-9A-Za-z])")
_CENTURY_SIGNS = ("-", "A", "+")
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Explicit embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069): the "Trojan Source" characters.
_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")


def _is_code(date_part: str, sign: str, rest: str) -> bool:
    sign = "-" if sign in _DASHES else sign
    # Temporary codes (individual number 900-999) are identity codes too.
    return hetu.is_valid(f"{date_part}{sign}{rest}".upper(), allow_temporary=True)


def contains_identity_code(text: str) -> bool:
    """Tell whether the text contains a checksum-valid Finnish personal identity code, with or without its sign."""
    text = text or ""
    for match in _WITH_SIGN.finditer(text):
        if _is_code(*match.groups()):
            return True
    for match in _WITHOUT_SIGN.finditer(text):
        date_part, rest = match.groups()
        # The checksum covers only the digits, so any century whose date exists will do.
        if any(_is_code(date_part, sign, rest) for sign in _CENTURY_SIGNS):
            return True
    return False


# What a masked identity code reads as: the shape of a code, none of its characters.
IDENTITY_CODE_MASK = "••••••-••••"


def mask_identity_codes(text: str) -> tuple[str, int]:
    """Return the text with every identity code replaced by IDENTITY_CODE_MASK, and how many were replaced.

    The contact-centre archive keeps e-mails as sent, and people write their codes into them: what is
    listed, searched and shown is the masked text (docs/contact-centre-archive.md).
    """
    count = 0

    def with_sign(match):
        nonlocal count
        if _is_code(*match.groups()):
            count += 1
            return IDENTITY_CODE_MASK
        return match.group(0)

    def without_sign(match):
        nonlocal count
        date_part, rest = match.groups()
        if any(_is_code(date_part, sign, rest) for sign in _CENTURY_SIGNS):
            count += 1
            return IDENTITY_CODE_MASK
        return match.group(0)

    text = _WITH_SIGN.sub(with_sign, text or "")
    return _WITHOUT_SIGN.sub(without_sign, text), count


def validate_no_identity_code(value) -> None:
    if isinstance(value, str) and contains_identity_code(value):
        raise ValidationError(ERROR_IDENTITY_CODE, code="identity_code")


def validate_no_control_characters(value) -> None:
    if isinstance(value, str) and _CONTROL_CHARACTERS.search(value):
        raise ValidationError(ERROR_CONTROL_CHARACTERS, code="control_characters")


def validate_no_bidi_controls(value) -> None:
    if isinstance(value, str) and _BIDI_CONTROLS.search(value):
        raise ValidationError(ERROR_BIDI_CONTROLS, code="bidi_controls")


# The checks every stored piece of free text gets, in the order their messages matter most.
FREE_TEXT_VALIDATORS = (validate_no_identity_code, validate_no_control_characters, validate_no_bidi_controls)
