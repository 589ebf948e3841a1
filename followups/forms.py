"""Input of follow-ups: the assignee among the register's people, a due date, a note and a contact person."""

from django import forms

from crm.forms import EARLIEST_YEAR, ERROR_TIME_OUT_OF_RANGE, LATEST_YEAR
from crm.models import Customer
from registers.models import Register, UserProfile

from . import selectors
from .models import FollowUp


def _user_label(user) -> str:
    return user.get_full_name() or user.username


class FollowUpForm(forms.Form):
    def __init__(self, *args, register: Register, customer: Customer, **kwargs):
        super().__init__(*args, **kwargs)
        self.users = {str(user.pk): user for user in selectors.assignee_choices(register=register)}
        self.fields["assignee"] = forms.ChoiceField(
            label=FollowUp._meta.get_field("assignee").verbose_name,
            choices=[("", "---------"), *((pk, _user_label(user)) for pk, user in self.users.items())],
        )
        self.fields["due_on"] = forms.DateField(
            label=FollowUp._meta.get_field("due_on").verbose_name,
            widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        )
        self.fields["note"] = FollowUp._meta.get_field("note").formfield(widget=forms.Textarea(attrs={"rows": 4}))
        self.people = {}
        if customer.is_organisation:
            self.people = {str(person.code): person for person in customer.contact_persons.all()}
            self.fields["contact_person"] = forms.ChoiceField(
                label=FollowUp._meta.get_field("contact_person").verbose_name,
                choices=[("", "---------"), *((code, person.display_name) for code, person in self.people.items())],
                required=False,
            )

    def clean_due_on(self):
        value = self.cleaned_data["due_on"]
        if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
            raise forms.ValidationError(
                ERROR_TIME_OUT_OF_RANGE,
                code="out_of_range",
                params={"earliest": EARLIEST_YEAR, "latest": LATEST_YEAR},
            )
        return value

    def service_data(self) -> dict:
        data = self.cleaned_data
        return {
            "assignee": self.users[data["assignee"]],
            "due_on": data["due_on"],
            "note": data.get("note") or "",
            "contact_person": self.people.get(data.get("contact_person") or ""),
        }


class DigestSettingForm(forms.Form):
    followup_digest = forms.BooleanField(
        label=UserProfile._meta.get_field("followup_digest").verbose_name,
        help_text=UserProfile._meta.get_field("followup_digest").help_text,
        required=False,
    )
