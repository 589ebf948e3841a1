"""Input forms of the rights screens: corrections, refusals, decisions, art. 19 tasks, the ledger and consents."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from privacy.requests.forms import personal_text_field
from registers.forms import DateInput

from .models import (
    ERROR_COMPELLING_GROUNDS_TEXT,
    ConsentRecord,
    Disclosure,
    ErasureAction,
    NotificationTask,
    ObjectionWeighing,
    RefusalGround,
)
from .rectification import CONTACT_PERSON_FIELDS, CUSTOMER_FIELDS

FIELD_NAMES = sorted(set(CUSTOMER_FIELDS) | set(CONTACT_PERSON_FIELDS))


class RectificationItemForm(forms.Form):
    record = forms.CharField(widget=forms.HiddenInput)
    field = forms.ChoiceField(label=_("Field"), choices=[(name, name) for name in FIELD_NAMES])
    requested_value = personal_text_field(_("Correct value"), max_length=1000)
    source_checked = personal_text_field(
        _("Checked against"),
        max_length=200,
        help_text=_("For example: population information system, trade register."),
    )


class RecordForm(forms.Form):
    record = forms.CharField(widget=forms.HiddenInput)


class RectificationRefuseForm(forms.Form):
    ground = forms.ChoiceField(label=_("Legal ground"), choices=RefusalGround.choices)
    note = personal_text_field(_("Reason"), required=True, rows=2, max_length=2000)


class RefusalForm(forms.Form):
    grounds = forms.MultipleChoiceField(
        label=_("Legal grounds"), choices=RefusalGround.choices, widget=forms.CheckboxSelectMultiple, required=False
    )
    text = personal_text_field(_("Reasons, in words the requester understands"), rows=4, max_length=5000)
    partial = forms.BooleanField(label=_("Partial refusal (the rest of the request is carried out)"), required=False)


class DecideForm(forms.Form):
    grounds = forms.MultipleChoiceField(
        label=_("Further legal grounds"),
        choices=RefusalGround.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    text = personal_text_field(_("Reasons, in words the requester understands"), rows=4, max_length=5000)


class MentionDecisionForm(forms.Form):
    decision = forms.ChoiceField(label=_("Decision"), choices=ErasureAction.Decision.choices, widget=forms.RadioSelect)
    decision_note = personal_text_field(_("Why the mention is kept"), rows=2, max_length=2000)


class NotificationResolveForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Outcome"),
        choices=[(s, label) for s, label in NotificationTask.Status.choices if s != NotificationTask.Status.OPEN],
        widget=forms.RadioSelect,
    )
    justification = forms.ChoiceField(
        label=_("Why not"), choices=[("", "-"), *NotificationTask.Justification.choices], required=False
    )
    note = personal_text_field(_("Note"), rows=2, max_length=2000)


class DisclosureForm(forms.Form):
    customer = forms.UUIDField(label=_("Customer"), widget=forms.HiddenInput)
    recipient = personal_text_field(_("Recipient"), required=True, max_length=200)
    recipient_kind = forms.ChoiceField(label=_("Kind of recipient"), choices=Disclosure.RecipientKind.choices)
    recipient_contact = personal_text_field(
        _("Recipient's contact"), max_length=300, help_text=_("Where to send notices of changes.")
    )
    data_description = personal_text_field(
        _("Data disclosed"),
        required=True,
        rows=2,
        max_length=2000,
        help_text=_("Name the kinds of data (e.g. name and address), not their values."),
    )
    legal_basis = personal_text_field(
        _("Legal basis"),
        required=True,
        max_length=200,
        help_text=_("For example: Act 621/1999 16(3) §, or the contract."),
    )
    purpose = personal_text_field(_("Purpose"), max_length=300)
    disclosed_on = forms.DateField(label=_("Disclosed on"), widget=DateInput, initial=timezone.localdate)

    def clean_disclosed_on(self):
        value = self.cleaned_data["disclosed_on"]
        if value > timezone.localdate():
            raise forms.ValidationError(_("The date cannot be in the future."))
        return value


class ConsentGiveForm(forms.Form):
    purpose = forms.ChoiceField(label=_("Purpose"), choices=ConsentRecord.Purpose.choices)
    channel = forms.ChoiceField(
        label=_("Given through"),
        choices=[(c, label) for c, label in ConsentRecord.Channel.choices if c not in {"link", "request"}],
    )
    notice_version = personal_text_field(_("Privacy notice shown"), max_length=100)


class ObjectionWeighingForm(forms.Form):
    """The outcome of weighing an objection to processing (GDPR 21(1))."""

    outcome = forms.ChoiceField(
        label=_("Outcome of the weighing"),
        choices=[
            (ObjectionWeighing.State.PROCESSING_STOPPED, _("No compelling grounds: stop the processing")),
            (ObjectionWeighing.State.COMPELLING_GROUNDS, _("Compelling legitimate grounds override the objection")),
        ],
        widget=forms.RadioSelect,
    )
    grounds_text = personal_text_field(
        _("The compelling legitimate grounds, in words the requester understands"), rows=4, max_length=5000
    )

    def clean(self):
        data = super().clean()
        if (
            data.get("outcome") == ObjectionWeighing.State.COMPELLING_GROUNDS
            and not (data.get("grounds_text") or "").strip()
        ):
            self.add_error("grounds_text", ERROR_COMPELLING_GROUNDS_TEXT)
        return data


class RestrictionLiftForm(forms.Form):
    """Why a restriction of processing is lifted (GDPR 18(3)); the notice tells the person."""

    reason = personal_text_field(
        _("Reason for lifting, in words the person understands"), required=True, rows=3, max_length=2000
    )


class RestrictionLiftCancelForm(forms.Form):
    reason = personal_text_field(_("Reason for cancelling"), required=True, rows=2, max_length=2000)
