import datetime
import random
import re

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from crm.validators import (
    ERROR_BIDI_CONTROLS,
    ERROR_BUSINESS_ID,
    ERROR_IDENTITY_CODE,
    contains_identity_code,
    normalise_business_id,
    validate_business_id,
    validate_no_bidi_controls,
    validate_no_identity_code,
    validate_not_in_future,
)


@pytest.mark.parametrize(
    "text",
    [
        "131052-308T",  # 1900s, classic hyphen
        "131052+308T".replace("+", "-"),
        "010101A900R",  # 2000s, temporary individual number
        "010594Y9032",  # 2023 extra century sign for the 1900s
        "010516B903X",  # 2023 extra century sign for the 2000s
        "Asiakkaan hetu on 131052-308T, muista tämä",
        "hetu:131052-308t",  # lower-case check character
    ],
)
def test_it_finds_identity_codes(text):
    assert contains_identity_code(text)


@pytest.mark.parametrize(
    "text",
    [
        "131052-308A",  # wrong check character
        "0201256-6",  # a business ID
        "+358 40 123 4567",
        "Tilausnumero 2024-000123",
        "Kokous 12.10.2024 klo 14-16",
        "",
    ],
)
def test_it_accepts_text_without_identity_codes(text):
    assert not contains_identity_code(text)


@pytest.mark.parametrize(
    "text",
    [
        "131052308T",  # without the century sign (issue 11 B5)
        "131052308t",
        "Asiakas 131052308T soitti",
        "hetu:131052308T.",
        "010101900R",  # a temporary code without its sign
        "131052\u2013308T",  # an en dash pasted from a word processor
        "131052 - 308T",
    ],
)
def test_it_finds_identity_codes_without_or_with_an_unusual_century_sign(text):
    assert contains_identity_code(text)


@pytest.mark.parametrize(
    "text",
    [
        "131052308U",  # the check character does not match the nine digits
        "310252308Y",  # 31 February is no date in any century
        "1131052308T",  # part of a longer number
        "131052308TX",  # part of a longer word
        "0401234567",  # a mobile number whose date and check digit do not fit
        "040 123 4567",
        "+358131052308",  # an international number is never a code
        "Lasku 1234567890",
        "IBAN FI21 1234 5600 0007 85",
    ],
)
def test_ordinary_numbers_are_not_taken_for_codes_without_the_sign(text):
    assert not contains_identity_code(text)


def test_few_random_ten_digit_numbers_are_taken_for_codes():
    # A date and a matching check character are both needed: about one in a thousand.
    rng = random.Random(11)
    numbers = [str(rng.randrange(10**9, 10**10)) for _ in range(5000)]
    assert sum(map(contains_identity_code, numbers)) < 15


@pytest.mark.parametrize("text", ["Anna \u202eNIMI", "\u2066x\u2069", "a\u202ab"])
def test_text_direction_overrides_are_refused(text):
    with pytest.raises(ValidationError) as caught:
        validate_no_bidi_controls(text)
    assert caught.value.messages == [str(ERROR_BIDI_CONTROLS)]


def test_a_right_to_left_script_itself_is_fine():
    validate_no_bidi_controls("شريف Ääkkönen")


def test_identity_code_error_is_translated(settings):
    from django.utils import translation

    with translation.override("sv"):
        with pytest.raises(ValidationError) as caught:
            validate_no_identity_code("131052-308T")
        assert "personbeteckning" in caught.value.messages[0].lower()
    with translation.override("fi"):
        with pytest.raises(ValidationError) as caught:
            validate_no_identity_code("131052-308T")
        assert "henkilötunnus" in caught.value.messages[0].lower()
    with translation.override("en"), pytest.raises(ValidationError, match=str(ERROR_IDENTITY_CODE)):
        validate_no_identity_code("131052-308T")


def test_it_rejects_a_business_id_with_a_wrong_check_digit():
    with pytest.raises(ValidationError, match=re.escape(str(ERROR_BUSINESS_ID))):
        validate_business_id("0201256-7")
    validate_business_id("0201256-6")


def test_it_normalises_business_ids_to_the_printed_form():
    assert normalise_business_id(" 02012566 ") == "0201256-6"
    assert normalise_business_id("not-an-id") == "not-an-id"


def test_it_rejects_birth_dates_in_the_future():
    with pytest.raises(ValidationError):
        validate_not_in_future(timezone.localdate() + datetime.timedelta(days=1))
    validate_not_in_future(timezone.localdate())
