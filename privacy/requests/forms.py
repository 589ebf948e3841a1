"""Input forms of data-subject requests: the public form, staff intake and the handler's steps."""

import re

from django import forms
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from crm.validators import NOTE_MAX_LENGTH, validate_business_id
from registers.fields import PersonalCharFormField, PersonalEmailFormField
from registers.forms import DateInput
from registers.models import Register

from .models import DataSubjectRequest

MANDATE_MAX_BYTES = 5 * 1024 * 1024
# Magic numbers of the accepted mandate files: the bytes decide, never the name.
MANDATE_SIGNATURES = {
    b"%PDF-": "pdf",
    b"\x89PNG\r\n\x1a\n": "png",
    b"\xff\xd8\xff": "jpg",
}
ERROR_MANDATE_TOO_BIG = _("The file is too large: the limit is 5 MB.")
ERROR_MANDATE_TYPE = _("Send the mandate as a PDF, PNG or JPEG file.")
ERROR_NO_REGISTERS = _("Choose at least one register, or all registers.")
ERROR_CORRECTION_NEEDED = _("Tell what should be corrected and why.")
ERROR_MANDATE_NEEDED = _("Attach the mandate of the person you act for.")
ERROR_ADDRESS_NEEDED = _("Give a postal address for an answer by post.")
ERROR_RECEIVED_FUTURE = _("The date of receipt cannot be in the future.")
ERROR_ANSWER_NOW = _(
    "Only an access request made in person by someone identified with an identity document can be answered at once."
)
RECORD_ITEM = re.compile(r"^(customer|contact_person|message):[0-9a-f-]{36}$")


def validate_mandate(upload) -> None:
    if upload.size > MANDATE_MAX_BYTES:
        raise forms.ValidationError(ERROR_MANDATE_TOO_BIG, code="too_big")
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    kind = next((k for magic, k in MANDATE_SIGNATURES.items() if head.startswith(magic)), None)
    if kind is None:
        raise forms.ValidationError(ERROR_MANDATE_TYPE, code="file_type")
    # Stored under a random name with the extension the content proves.
    upload.name = f"mandate.{kind}"


def personal_text_field(label, *, required=False, rows=None, max_length=None, help_text=""):
    """Return a text field for free text that may hold personal data (a textarea when `rows` is given)."""
    widget = forms.Textarea(attrs={"rows": rows}) if rows else None
    return PersonalCharFormField(
        label=label,
        required=required,
        max_length=max_length or NOTE_MAX_LENGTH,
        widget=widget,
        help_text=help_text,
    )


class RequesterFieldsMixin(forms.Form):
    requester_name = personal_text_field(_("Your name"), required=True, max_length=200)
    requester_email = PersonalEmailFormField(label=_("E-mail address"))
    requester_phone = personal_text_field(_("Phone (optional)"), max_length=50)
    requester_address = personal_text_field(_("Postal address (optional)"), rows=3, max_length=500)
    acting_for = personal_text_field(
        _("I act on behalf of (optional)"),
        max_length=200,
        help_text=_("The name of the person you represent, for example as a guardian. Attach the mandate below."),
    )
    mandate = forms.FileField(
        label=_("Mandate (PDF, PNG or JPEG, at most 5 MB)"),
        required=False,
        validators=[validate_mandate],
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.png,.jpg,.jpeg,application/pdf,image/png,image/jpeg"}),
    )
    details = personal_text_field(_("Details of your request (optional)"), rows=4, max_length=5000)
    correction_what = personal_text_field(_("What should be corrected (rectification)"), rows=3, max_length=5000)
    correction_why = personal_text_field(_("Why the data is wrong (rectification)"), rows=3, max_length=5000)
    language = forms.ChoiceField(label=_("Language of the answer"), choices=DataSubjectRequest.Language.choices)
    delivery = forms.ChoiceField(
        label=_("How do you want the answer?"),
        choices=[
            (DataSubjectRequest.Delivery.ELECTRONIC, _("Electronically: a download link by e-mail")),
            (DataSubjectRequest.Delivery.POST, _("By post")),
        ],
        widget=forms.RadioSelect,
        initial=DataSubjectRequest.Delivery.ELECTRONIC,
    )

    def clean(self):
        data = super().clean()
        if data.get("kind") == DataSubjectRequest.Kind.RECTIFICATION and not (
            data.get("correction_what") and data.get("correction_why")
        ):
            self.add_error("correction_what", ERROR_CORRECTION_NEEDED)
        if data.get("acting_for") and not data.get("mandate"):
            self.add_error("mandate", ERROR_MANDATE_NEEDED)
        if data.get("delivery") == DataSubjectRequest.Delivery.POST and not data.get("requester_address"):
            self.add_error("requester_address", ERROR_ADDRESS_NEEDED)
        return data

    def request_data(self) -> dict:
        """Return the cleaned values the request services take."""
        names = [
            "kind",
            "requester_name",
            "requester_email",
            "requester_phone",
            "requester_address",
            "acting_for",
            "mandate",
            "details",
            "correction_what",
            "correction_why",
            "language",
            "delivery",
        ]
        return {name: self.cleaned_data.get(name) or "" for name in names if name in self.cleaned_data}


class PublicRequestForm(RequesterFieldsMixin):
    field_order = [
        "kind",
        "all_registers",
        "registers",
        "requester_name",
        "requester_email",
        "requester_phone",
        "requester_address",
        "language",
        "delivery",
        "correction_what",
        "correction_why",
        "details",
        "acting_for",
        "mandate",
    ]

    kind = forms.ChoiceField(
        label=_("What do you ask for?"), choices=DataSubjectRequest.Kind.choices, widget=forms.RadioSelect
    )
    all_registers = forms.BooleanField(label=_("All registers of this controller"), required=False)
    registers = forms.ModelMultipleChoiceField(
        label=_("Registers"),
        queryset=Register.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        to_field_name="slug",
    )
    # Left empty by people; filled by form-spamming robots.
    website = PersonalCharFormField(
        label=_("Leave this field empty"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )

    def __init__(self, *args, registers, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("language", (get_language() or "fi")[:2])
        super().__init__(*args, **kwargs)
        self.fields["registers"].queryset = registers
        # Register names in the reader's language.
        self.fields["registers"].label_from_instance = lambda register: register.name

    def clean(self):
        data = super().clean()
        if not data.get("all_registers") and not data.get("registers"):
            self.add_error("registers", ERROR_NO_REGISTERS)
        return data

    @property
    def is_robot(self) -> bool:
        return bool(self.cleaned_data.get("website"))


# Channels that file their own requests (the public form, the city's customer profile, the person's "my data"
# pages): never typed in by staff, nor is the profile's sign-in, which only the profile's own call records.
SELF_FILING_CHANNELS = frozenset(
    {DataSubjectRequest.Channel.WEB, DataSubjectRequest.Channel.PROFILE, DataSubjectRequest.Channel.MY_DATA}
)
STAFF_IDENTITY_METHODS = [
    c for c in DataSubjectRequest.IdentityMethod.choices if c[0] != DataSubjectRequest.IdentityMethod.PROFILE_SIGN_IN
]


class StaffIntakeForm(RequesterFieldsMixin):
    field_order = [
        "kind",
        "channel",
        "received_on",
        "registers",
        "requester_name",
        "requester_email",
        "requester_phone",
        "requester_address",
        "identity_method",
        "identity_note",
        "answer_now",
    ]

    kind = forms.ChoiceField(label=_("Request type"), choices=DataSubjectRequest.Kind.choices)
    channel = forms.ChoiceField(
        label=_("Received through"),
        choices=[c for c in DataSubjectRequest.Channel.choices if c[0] not in SELF_FILING_CHANNELS],
    )
    received_on = forms.DateField(label=_("Received on"), initial=timezone.localdate, widget=DateInput)
    registers = forms.ModelMultipleChoiceField(
        label=_("Registers"),
        queryset=Register.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        to_field_name="slug",
    )
    requester_name = personal_text_field(_("Name of the requester"), required=True, max_length=200)
    requester_email = PersonalEmailFormField(label=_("E-mail address"), required=False)
    identity_method = forms.ChoiceField(
        label=_("Identity verified by"),
        choices=[("", _("not yet verified")), *STAFF_IDENTITY_METHODS],
        required=False,
    )
    identity_note = personal_text_field(
        _("Identity note"),
        max_length=300,
        help_text=_("For example the kind of document shown. Never write down an identity code."),
    )
    answer_now = forms.BooleanField(
        label=_("Oral access request on site: start processing at once"),
        required=False,
    )
    delivery = forms.ChoiceField(
        label=_("Delivery of the answer"), choices=DataSubjectRequest.Delivery.choices, widget=forms.RadioSelect
    )

    def __init__(self, *args, registers, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("language", (get_language() or "fi")[:2])
        super().__init__(*args, **kwargs)
        self.fields["registers"].queryset = registers
        self.fields["registers"].label_from_instance = lambda register: register.name

    def clean_received_on(self):
        value = self.cleaned_data["received_on"]
        if value > timezone.localdate():
            raise forms.ValidationError(ERROR_RECEIVED_FUTURE)
        return value

    def clean(self):
        data = super().clean()
        if data.get("answer_now") and not (
            data.get("kind") == DataSubjectRequest.Kind.ACCESS
            and data.get("channel") == DataSubjectRequest.Channel.IN_PERSON
            and data.get("identity_method") == DataSubjectRequest.IdentityMethod.IN_PERSON_ID
        ):
            self.add_error("answer_now", ERROR_ANSWER_NOW)
        return data

    def request_data(self) -> dict:
        data = super().request_data()
        for name in ("channel", "received_on", "identity_method", "identity_note", "answer_now"):
            data[name] = self.cleaned_data.get(name)
        data["identity_method"] = data["identity_method"] or ""
        data["identity_note"] = data["identity_note"] or ""
        return data


class VerifyIdentityForm(forms.Form):
    method = forms.ChoiceField(label=_("Identity verified by"), choices=STAFF_IDENTITY_METHODS)
    note = personal_text_field(_("Note"), max_length=300, help_text=_("Never write down an identity code."))


class ReasonForm(forms.Form):
    reason = personal_text_field(_("Reason"), required=True, rows=3, max_length=2000)


class MessageForm(forms.Form):
    message = personal_text_field(_("Message to the requester"), required=True, rows=5, max_length=5000)


class TransitionForm(ReasonForm):
    to = forms.ChoiceField(choices=DataSubjectRequest.State.choices, widget=forms.HiddenInput)
    reason = personal_text_field(_("Reason"), rows=2, max_length=2000)


class DuplicateForm(forms.Form):
    reference = PersonalCharFormField(label=_("Reference number of the original request"), max_length=20)


class ApproveForm(forms.Form):
    decision_text = personal_text_field(_("Note to the answer (optional)"), rows=3, max_length=5000)


class SubjectSearchForm(forms.Form):
    name = personal_text_field(_("Name"), max_length=200)
    email = PersonalCharFormField(label=_("E-mail"), required=False, max_length=254)
    phone = personal_text_field(_("Phone"), max_length=50)
    date_of_birth = forms.DateField(label=_("Date of birth"), required=False, widget=DateInput)
    business_id = PersonalCharFormField(
        label=_("Business ID"), required=False, max_length=20, validators=[validate_business_id]
    )


class MatchConfirmForm(forms.Form):
    register = forms.SlugField()
    record = forms.MultipleChoiceField(required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Any well-formed item passes here; the service checks that each one
        # really is a record of the register.
        self.fields["record"].valid_value = lambda value: bool(RECORD_ITEM.match(value))


class QueueFilterForm(forms.Form):
    """The queue's tab and filters; a value that is not on offer is ignored, never an error page."""

    OPEN, CLOSED, UNCONFIRMED = "", "closed", "unconfirmed"

    show = forms.ChoiceField(
        choices=[(OPEN, OPEN), (CLOSED, CLOSED), (UNCONFIRMED, UNCONFIRMED)], required=False, widget=forms.HiddenInput
    )
    register = forms.ChoiceField(label=_("Register"), required=False)
    kind = forms.ChoiceField(
        label=_("Request type"),
        required=False,
        choices=[("", _("all request types")), *DataSubjectRequest.Kind.choices],
    )

    def __init__(self, data=None, *, registers: list[Register] = ()):
        super().__init__(data)
        self.registers = {register.slug: register for register in registers}
        self.fields["register"].choices = [("", _("all registers"))] + [
            (register.slug, register.name) for register in registers
        ]
        if len(registers) < 2:
            # One register is no choice: the list holds only its requests anyway.
            self.fields["register"].widget = forms.HiddenInput()

    def filters(self) -> tuple[str, Register | None, str]:
        """Return the tab, the register (or None) and the request type (or "") of the valid values."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return (
            data.get("show") or self.OPEN,
            self.registers.get(data.get("register") or ""),
            data.get("kind") or "",
        )
