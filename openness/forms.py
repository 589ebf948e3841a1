from django import forms
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from privacy.requests.forms import personal_text_field
from registers.fields import PersonalEmailFormField
from registers.forms import DateInput
from registers.models import Register

from .models import DocumentRequest

ERROR_PERSONAL_DATA = _(
    "You ask for personal data from a personal data file: give your name and what you will use the data for "
    "(Act 621/1999 13(2) §)."
)


ERROR_PARTY = _("A party's right depends on who you are and on the matter: give your name and the matter.")


class DocumentRequestForm(forms.Form):
    """The request as anyone may make it (13 §): only the documents are required, unless personal data from a
    personal data file is asked for, which needs the requester's identity and purpose (13(2) §)."""

    request_text = personal_text_field(
        _("Which documents do you ask for?"),
        required=True,
        rows=5,
        max_length=5000,
        help_text=_("Describe the documents well enough for us to find them, for example their subject and time."),
    )
    registers = forms.ModelMultipleChoiceField(
        label=_("Personal data from these files (only if you ask for personal data)"),
        queryset=Register.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        to_field_name="slug",
    )
    requester_name = personal_text_field(_("Your name"), max_length=200)
    requester_email = PersonalEmailFormField(label=_("E-mail address for the answer"), required=False)
    requester_address = personal_text_field(_("Postal address"), rows=3, max_length=500)
    requester_kind = forms.ChoiceField(
        label=_("You are"),
        choices=DocumentRequest.RequesterKind.choices,
        initial=DocumentRequest.RequesterKind.NOT_TOLD,
        required=False,
    )
    purpose = personal_text_field(_("What will you use the personal data for?"), rows=3, max_length=2000)
    recipient_legal_basis = personal_text_field(
        _("Your right to process the data"),
        max_length=300,
        help_text=_("For example the provision of law or the basis of the General Data Protection Regulation."),
    )
    marketing_use = forms.BooleanField(
        label=_("The data is for direct marketing, opinion or market research, or address use"), required=False
    )
    language = forms.ChoiceField(label=_("Language of the answer"), choices=DocumentRequest.Language.choices)
    as_party = forms.BooleanField(
        label=_("I ask as a party to a matter that the documents concern"),
        required=False,
        help_text=_("A party may get even secret documents that have affected the handling of their matter (11 §)."),
    )
    party_matter = personal_text_field(_("Which matter?"), max_length=300)

    def __init__(self, *args, registers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["registers"].queryset = registers
        self.fields["registers"].label_from_instance = lambda register: register.name

    def clean(self):
        data = super().clean()
        if data.get("registers") and not (data.get("requester_name") and data.get("purpose")):
            self.add_error("purpose", ERROR_PERSONAL_DATA)
        if data.get("as_party") and not (data.get("requester_name") and data.get("party_matter")):
            self.add_error("party_matter", ERROR_PARTY)
        return data

    def request_data(self) -> dict:
        names = (
            "request_text",
            "requester_name",
            "requester_email",
            "requester_address",
            "requester_kind",
            "purpose",
            "recipient_legal_basis",
            "marketing_use",
            "language",
            "party_matter",
        )
        data = {name: self.cleaned_data.get(name) or "" for name in names}
        data["marketing_use"] = bool(self.cleaned_data.get("marketing_use"))
        data["as_party"] = bool(self.cleaned_data.get("as_party"))
        data["requester_kind"] = data["requester_kind"] or DocumentRequest.RequesterKind.NOT_TOLD
        return data


class IntakeForm(DocumentRequestForm):
    channel = forms.ChoiceField(
        label=_("Received through"),
        choices=[c for c in DocumentRequest.Channel.choices if c[0] != DocumentRequest.Channel.WEB],
    )
    received_on = forms.DateField(label=_("Received on"), widget=DateInput)
    written = forms.BooleanField(label=_("Made in writing"), required=False, initial=True)
    field_order = ["channel", "received_on", "written"]

    def request_data(self) -> dict:
        return {
            **super().request_data(),
            "channel": self.cleaned_data["channel"],
            "written": self.cleaned_data["written"],
        }


class ExtendForm(forms.Form):
    reason = forms.ChoiceField(label=_("Reason for the longer time"), choices=DocumentRequest.ExtensionReason.choices)
    note = personal_text_field(_("Note"), rows=2, max_length=2000)


class AnswerForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("Answer"),
        choices=[
            (DocumentRequest.Outcome.GRANTED, DocumentRequest.Outcome.GRANTED.label),
            (DocumentRequest.Outcome.PARTLY_GRANTED, DocumentRequest.Outcome.PARTLY_GRANTED.label),
            (DocumentRequest.Outcome.NOT_HELD, DocumentRequest.Outcome.NOT_HELD.label),
        ],
    )
    delivery = forms.ChoiceField(
        label=_("Delivery"), choices=[("", "—"), *DocumentRequest.Delivery.choices], required=False
    )
    fee_amount = forms.DecimalField(label=_("Fee (euros)"), required=False, min_value=0, max_digits=8, decimal_places=2)
    fee_basis = personal_text_field(_("Basis of the fee"), max_length=300)


class RefuseForm(forms.Form):
    reason = personal_text_field(_("Reason for the refusal"), required=True, rows=3, max_length=5000)


class ChoiceForm(forms.Form):
    wanted = forms.ChoiceField(label=_("The requester's answer"), choices=DocumentRequest.DecisionWanted.choices)


class DecideForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("Decision"),
        choices=[
            (value, label)
            for value, label in DocumentRequest.Outcome.choices
            if value not in ("transferred", "withdrawn")
        ],
    )
    text = personal_text_field(_("Reasons of the decision"), required=True, rows=6, max_length=10000)


class TransferForm(forms.Form):
    to_authority = personal_text_field(_("Transferred to"), required=True, max_length=200)


class NoteForm(forms.Form):
    note = personal_text_field(_("Note"), rows=2, max_length=2000)


class DisclosureForm(forms.Form):
    columns = forms.MultipleChoiceField(label=_("Data to give"), widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, columns, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["columns"].choices = [(column.name, capfirst(column.label)) for column in columns]
