"""Model and form fields for free text that may name people: every text field of every app uses one of these.

The checks of `registers.validators` run in three places, so that no path stores an identity code:
- the form field, before any parsing (a phone number parser would turn `131052-308T` into digits);
- the model field's validators, in `full_clean()` and in every ModelForm, the admin's included;
- `get_db_prep_save()`, which Django calls for every value written by `save()`, `bulk_create()`,
  `update()`, `bulk_update()` and the raw saves of `loaddata`, none of which run validators.
A field that can never hold free text (a choice, a hash, a token) stays a plain field and is listed
in the allow-list of tests/test_identity_code_walk.py.
"""

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.db import models
from phonenumber_field import formfields as phone_formfields
from phonenumber_field import modelfields as phone_modelfields
from phonenumber_field import widgets as phone_widgets

from .validators import (
    FREE_TEXT_VALIDATORS,
    NOTE_MAX_LENGTH,
    validate_no_control_characters,
    validate_no_identity_code,
)


def _raw(value):
    # A parsed phone number keeps what was typed; the check looks at that, not at the digits parsed from it.
    return getattr(value, "raw_input", None) or ("" if value is None else str(value))


def validate_raw_no_identity_code(value) -> None:
    validate_no_identity_code(_raw(value))


class RefusesIdentityCodes:
    """The last guard, on every write: no identity code or control character reaches the database."""

    # Text-direction characters are left to the validators here: a stored row that predates the rule
    # must still be erasable and purgeable.
    def write_errors(self, value) -> list[ValidationError]:
        errors, raw = [], _raw(value)
        for check in (validate_no_identity_code, validate_no_control_characters):
            try:
                check(raw)
            except ValidationError as error:
                errors.extend(error.error_list)
        return errors

    def get_db_prep_save(self, value, connection):
        errors = self.write_errors(value)
        if errors:
            raise ValidationError({self.name: errors})
        return super().get_db_prep_save(value, connection)


def write_errors(instance) -> dict[str, list[ValidationError]]:
    """Return what the fields of the instance would refuse to write, by field name."""
    errors = {}
    for field in instance._meta.concrete_fields:
        if isinstance(field, RefusesIdentityCodes):
            field_errors = field.write_errors(getattr(instance, field.attname))
            if field_errors:
                errors[field.name] = field_errors
    return errors


class PersonalCharFormField(forms.CharField):
    """A form's line or note of free text: bounded, with no identity code, control or text-direction characters."""

    default_validators = list(FREE_TEXT_VALIDATORS)

    def __init__(self, *, max_length=NOTE_MAX_LENGTH, **kwargs):
        super().__init__(max_length=max_length, **kwargs)


class PersonalEmailFormField(forms.EmailField):
    default_validators = [*forms.EmailField.default_validators, *FREE_TEXT_VALIDATORS]


class TypedPhoneNumberWidget(phone_widgets.RegionalPhoneNumberWidget):
    """Shows a stored number in the national format, and a refused input exactly as it was typed."""

    def format_value(self, value):
        if isinstance(value, str):
            return super(phone_widgets.RegionalPhoneNumberWidget, self).format_value(value)
        return super().format_value(value)


class PersonalPhoneNumberFormField(phone_formfields.PhoneNumberField):
    """A phone number field that refuses an identity code as typed, before the parser turns it into digits."""

    widget = TypedPhoneNumberWidget
    default_validators = [*phone_formfields.PhoneNumberField.default_validators, *FREE_TEXT_VALIDATORS]

    def to_python(self, value):
        if isinstance(value, str):
            for validator in FREE_TEXT_VALIDATORS:
                validator(value)
        return super().to_python(value)


class PersonalCharField(RefusesIdentityCodes, models.CharField):
    """A line of free text."""

    default_validators = list(FREE_TEXT_VALIDATORS)

    def formfield(self, **kwargs):
        return super().formfield(**{"form_class": PersonalCharFormField, **kwargs})


class PersonalTextField(RefusesIdentityCodes, models.TextField):
    """A note of free text, at most NOTE_MAX_LENGTH characters unless the field says otherwise."""

    default_validators = list(FREE_TEXT_VALIDATORS)

    def __init__(self, *args, max_length=NOTE_MAX_LENGTH, **kwargs):
        super().__init__(*args, max_length=max_length, **kwargs)
        # TextField leaves its max_length to the form; the model enforces it too.
        self.validators.append(MaxLengthValidator(self.max_length))

    def formfield(self, **kwargs):
        return super().formfield(**{"form_class": PersonalCharFormField, **kwargs})


class PersonalEmailField(RefusesIdentityCodes, models.EmailField):
    """An e-mail address, whose local part must not carry an identity code either."""

    default_validators = [*models.EmailField.default_validators, *FREE_TEXT_VALIDATORS]

    def formfield(self, **kwargs):
        return super().formfield(**{"form_class": PersonalEmailFormField, **kwargs})


class PersonalPhoneNumberField(RefusesIdentityCodes, phone_modelfields.PhoneNumberField):
    """A phone number, checked as typed: an identity code is refused, not parsed into a 'valid' number."""

    default_validators = [validate_raw_no_identity_code, *phone_modelfields.PhoneNumberField.default_validators]

    def formfield(self, **kwargs):
        return super().formfield(**{"form_class": PersonalPhoneNumberFormField, **kwargs})
