import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from registers.fields import PersonalCharFormField
from registers.forms import DateInput


class LegalHoldForm(forms.Form):
    customer = forms.UUIDField(widget=forms.HiddenInput, required=False)
    reason = PersonalCharFormField(
        label=_("Reason"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Name the matter (e.g. the case number of a claim), not the person."),
    )
    ends_on = forms.DateField(label=_("Hold until"), widget=DateInput)

    def clean_ends_on(self):
        ends_on = self.cleaned_data["ends_on"]
        if ends_on < timezone.localdate():
            raise forms.ValidationError(_("The end date must be today or later."))
        if ends_on > timezone.localdate() + datetime.timedelta(days=366 * 10):
            raise forms.ValidationError(_("A hold may last at most ten years; renew it if needed."))
        return ends_on


class LegalHoldReleaseForm(forms.Form):
    release_reason = PersonalCharFormField(label=_("Reason for release"), max_length=300)
