"""Input of the campaign screens: the draft's texts and segment, the send's confirmation."""

from django import forms
from django.utils.translation import gettext_lazy as _

from registers.fields import PersonalCharFormField

from .models import Campaign

TEXT_FIELDS = ("subject_fi", "body_fi", "subject_sv", "body_sv", "subject_en", "body_en")


class CampaignForm(forms.Form):
    name = PersonalCharFormField(label=_("name"), max_length=150)
    segment = forms.ModelChoiceField(
        label=_("segment"),
        queryset=None,
        required=False,
        to_field_name="code",
        empty_label=_("the whole register"),
    )
    audience = forms.ChoiceField(label=_("recipients"), choices=Campaign.Audience.choices)
    subject_fi = PersonalCharFormField(label=_("subject in Finnish"), max_length=200, required=False)
    body_fi = PersonalCharFormField(label=_("message in Finnish"), required=False, widget=forms.Textarea)
    subject_sv = PersonalCharFormField(label=_("subject in Swedish"), max_length=200, required=False)
    body_sv = PersonalCharFormField(label=_("message in Swedish"), required=False, widget=forms.Textarea)
    subject_en = PersonalCharFormField(label=_("subject in English"), max_length=200, required=False)
    body_en = PersonalCharFormField(label=_("message in English"), required=False, widget=forms.Textarea)
    rate_per_minute = forms.IntegerField(label=_("messages per minute"), min_value=1, max_value=100_000, initial=600)

    def __init__(self, *args, segments, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["segment"].queryset = segments

    @classmethod
    def initial_from(cls, campaign: Campaign) -> dict:
        initial = {name: getattr(campaign, name) for name in ("name", "audience", "rate_per_minute", *TEXT_FIELDS)}
        initial["segment"] = campaign.segment.code if campaign.segment_id else None
        return initial


class QueueForm(forms.Form):
    confirm = forms.BooleanField(
        label=_("I have read the preview and the numbers above; send the campaign."),
        required=True,
    )
