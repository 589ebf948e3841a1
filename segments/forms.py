"""Input forms of tags, saved views and bulk actions; the services own the rules that need the database."""

import datetime
import uuid

from django import forms
from django.utils.translation import gettext_lazy as _

from crm import exports
from crm.validators import FREE_TEXT_VALIDATORS
from registers.forms import DateInput
from registers.models import Register

from . import selectors
from .models import BulkAction

ACTION_EXPORT = "export"
# Codes a page can tick: a page shows 50 rows; a larger selection is "all that match".
MAX_PICKED = 1000
ERROR_PICK_CUSTOMERS = _("Pick the customers first, or choose all customers that match.")
ERROR_PICK_TAG = _("Choose a tag.")
ERROR_PICK_ASSIGNEE = _("Choose who is to follow up, and by when.")


class TagForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=60, validators=FREE_TEXT_VALIDATORS)


class SavedViewForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100, validators=FREE_TEXT_VALIDATORS)
    shared = forms.BooleanField(label=_("Share with the register's users"), required=False)
    columns = forms.MultipleChoiceField(label=_("Visible columns"), required=False, widget=forms.CheckboxSelectMultiple)
    # The list's query string when the view was saved (only the list's own parameters are kept).
    query = forms.CharField(required=False, widget=forms.HiddenInput, max_length=2000, validators=FREE_TEXT_VALIDATORS)

    def __init__(self, *args, register: Register | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        columns = exports.list_columns(register) if register is not None else []
        self.fields["columns"].choices = [(column.name, column.label) for column in columns]

    def clean_query(self) -> dict:
        return selectors.query_from(self.cleaned_data.get("query") or "")


class TagChoiceForm(forms.Form):
    """The customer page's add-a-tag select."""

    tag = forms.ChoiceField(label=_("Tag"))

    def __init__(self, *args, tags=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tag"].choices = [(str(tag.code), tag.name) for tag in tags]


class BulkActionForm(forms.Form):
    action = forms.ChoiceField(
        label=_("Action"),
        choices=[*BulkAction.Kind.choices, (ACTION_EXPORT, _("Download as CSV"))],
    )
    all_matching = forms.BooleanField(required=False)
    query = forms.CharField(required=False, widget=forms.HiddenInput, max_length=2000, validators=FREE_TEXT_VALIDATORS)
    view = forms.UUIDField(required=False, widget=forms.HiddenInput)
    tag = forms.ChoiceField(label=_("Tag"), required=False)
    assignee = forms.ChoiceField(label=_("Assignee"), required=False)
    due_on = forms.DateField(label=_("Due"), required=False, widget=DateInput())
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        validators=FREE_TEXT_VALIDATORS,
    )

    def __init__(self, *args, tags=(), assignees=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tag"].choices = [("", "---------"), *((str(tag.code), tag.name) for tag in tags)]
        self.fields["assignee"].choices = [
            ("", "---------"),
            *((str(user.pk), user.get_full_name() or user.get_username()) for user in assignees),
        ]

    def customer_codes(self) -> list[str]:
        """The codes ticked on the page (valid UUIDs only; the service reads them through the list's selector)."""
        codes = self.data.getlist("customer") if hasattr(self.data, "getlist") else self.data.get("customer", [])
        valid = []
        for code in codes[:MAX_PICKED]:
            try:
                valid.append(str(uuid.UUID(str(code))))
            except ValueError:
                continue
        return valid

    def clean_query(self) -> dict:
        return selectors.query_from(self.cleaned_data.get("query") or "")

    def clean(self):
        data = super().clean()
        action = data.get("action")
        if not data.get("all_matching") and not self.customer_codes():
            raise forms.ValidationError(ERROR_PICK_CUSTOMERS)
        if action in (BulkAction.Kind.TAG_ADD, BulkAction.Kind.TAG_REMOVE) and not data.get("tag"):
            self.add_error("tag", ERROR_PICK_TAG)
        if action == BulkAction.Kind.FOLLOWUP_ASSIGN and not (data.get("assignee") and data.get("due_on")):
            self.add_error("assignee", ERROR_PICK_ASSIGNEE)
        due_on = data.get("due_on")
        if due_on is not None and not datetime.date(1900, 1, 1) <= due_on <= datetime.date(2100, 12, 31):
            self.add_error("due_on", _("Enter a valid date."))
        return data

    def parameters(self) -> dict:
        data = self.cleaned_data
        if data["action"] == BulkAction.Kind.FOLLOWUP_ASSIGN:
            return {"assignee": int(data["assignee"]), "due_on": data["due_on"].isoformat(), "note": data["note"]}
        if data["action"] in (BulkAction.Kind.TAG_ADD, BulkAction.Kind.TAG_REMOVE):
            return {"tag": data["tag"]}
        return {}
