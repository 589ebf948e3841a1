"""Input forms of the rights screens: corrections, refusals, decisions, art. 19 tasks, the ledger, consents and the
notice texts."""

from django import forms
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from privacy.requests.forms import personal_text_field
from registers.forms import DateInput

from .models import (
    ERROR_COMPELLING_GROUNDS_TEXT,
    ERROR_NOTICE_TEXT_REQUIRED,
    ConsentNotice,
    ConsentRecord,
    Disclosure,
    ErasureAction,
    NoticeLanguage,
    NotificationTask,
    ObjectionRecord,
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


STAFF_CHANNEL_CHOICES = [(channel.value, channel.label) for channel in ConsentRecord.STAFF_CHANNELS]


class ConsentGiveForm(forms.Form):
    """A consent staff record: through which channel, and after which notice text, read out in which language.

    With `notice`, the form is that version's: its purpose and code travel as hidden fields and only the languages
    it is written in are offered (the page shows the text to read out beside it).
    """

    purpose = forms.ChoiceField(label=_("Purpose"), choices=ConsentRecord.Purpose.choices)
    notice = forms.UUIDField(required=False, widget=forms.HiddenInput)
    language = forms.ChoiceField(label=_("Text read or shown in"), choices=NoticeLanguage.choices, required=False)
    channel = forms.ChoiceField(label=_("Given through"), choices=STAFF_CHANNEL_CHOICES)

    def __init__(self, *args, notice: ConsentNotice | None = None, **kwargs):
        if notice is not None:
            kwargs.setdefault("auto_id", f"id_give_{notice.code}_%s")
            kwargs.setdefault("initial", {})
            kwargs["initial"] = {"purpose": notice.purpose, "notice": notice.code, **kwargs["initial"]}
        super().__init__(*args, **kwargs)
        if notice is not None:
            self.fields["purpose"].widget = forms.HiddenInput()
            names = dict(NoticeLanguage.choices)
            self.fields["language"].choices = [(code, names[code]) for code in notice.languages]
            self.fields["language"].required = True


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


class ConsentWithdrawForm(forms.Form):
    """A withdrawal staff record: how it reached them, and the day (a letter read later), today by default."""

    channel = forms.ChoiceField(label=_("Withdrawn through"), choices=STAFF_CHANNEL_CHOICES, required=False)
    withdrawn_on = forms.DateField(label=_("Received on"), widget=DateInput, required=False)

    def clean_withdrawn_on(self):
        value = self.cleaned_data["withdrawn_on"]
        if value is not None and value > timezone.localdate():
            raise forms.ValidationError(_("The date cannot be in the future."))
        return value


NOTICE_USES = [
    *[(f"{ConsentNotice.Kind.CONSENT}:{value}", label) for value, label in ConsentRecord.Purpose.choices],
    *[(f"{ConsentNotice.Kind.WITHDRAWAL}:{value}", label) for value, label in ConsentRecord.Purpose.choices],
    *[(f"{ConsentNotice.Kind.OBJECTION}:{value}", label) for value, label in ObjectionRecord.Purpose.choices],
]


class ConsentNoticeForm(forms.Form):
    """A new version of a notice: what it is shown for, its label and start, and its text in each language."""

    use = forms.ChoiceField(label=_("Shown before"), choices=[])
    version = personal_text_field(_("Version"), required=True, max_length=40, help_text=_("For example: 2026-1."))
    valid_from = forms.DateField(label=_("In force from"), widget=DateInput, initial=timezone.localdate)
    text_fi = personal_text_field(_("Text in Finnish"), rows=6, max_length=10_000)
    text_sv = personal_text_field(_("Text in Swedish"), rows=6, max_length=10_000)
    text_en = personal_text_field(_("Text in English"), rows=6, max_length=10_000)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        kinds = dict(ConsentNotice.Kind.choices)
        groups: dict[str, list] = {}
        for value, label in NOTICE_USES:
            kind = value.split(":", 1)[0]
            groups.setdefault(capfirst(kinds[kind]), []).append((value, capfirst(label)))
        self.fields["use"].choices = list(groups.items())

    def clean(self):
        data = super().clean()
        if not any((data.get(f"text_{code}") or "").strip() for code in ("fi", "sv", "en")):
            raise forms.ValidationError(ERROR_NOTICE_TEXT_REQUIRED)
        return data

    @property
    def kind_and_purpose(self) -> tuple[str, str]:
        kind, purpose = self.cleaned_data["use"].split(":", 1)
        return kind, purpose
