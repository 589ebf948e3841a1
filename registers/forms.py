"""Input checks of the access-management, review and audit screens; services do the rest."""

from auditlog.models import LogEntry
from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import roles
from .audit import LoginKind, audited_content_types
from .fields import PersonalCharFormField, PersonalEmailFormField
from .models import AccessReviewItem, Role

ERROR_NO_SUCH_USER = _("There is no active account with this username.")
ERROR_DATES = _("The end date must not be before the start date.")
ERROR_TIME_RANGE = _("The start of the period must not be after its end.")
ERROR_ROLE_KIND = _("The role “%(role)s” does not fit a %(kind)s.")


class DateInput(forms.DateInput):
    """A browser date picker: its value must be ISO (yyyy-mm-dd) whatever the page's language writes dates as."""

    input_type = "date"

    def __init__(self, attrs=None, format=None):
        super().__init__(attrs=attrs, format=format or "%Y-%m-%d")


class ReasonForm(forms.Form):
    reason = PersonalCharFormField(label=_("Reason"), max_length=300)


class UserCreateForm(forms.Form):
    username = PersonalCharFormField(label=_("Username"), max_length=150, validators=[UnicodeUsernameValidator()])
    first_name = PersonalCharFormField(label=_("First name"), max_length=150)
    last_name = PersonalCharFormField(label=_("Last name"), max_length=150)
    email = PersonalEmailFormField(
        label=_("E-mail"), help_text=_("The new user receives a one-time link to choose a password.")
    )
    reason = PersonalCharFormField(label=_("Reason"), max_length=300, help_text=_("For example the decision or task."))


class MembershipGrantForm(forms.Form):
    username = PersonalCharFormField(label=_("Username"), max_length=150)
    role = forms.ChoiceField(label=_("Role"))
    starts_on = forms.DateField(label=_("Starts"), widget=DateInput, initial=timezone.localdate)
    ends_on = forms.DateField(
        label=_("Ends"),
        widget=DateInput,
        required=False,
        help_text=_("The last day of access. Leave empty if the task has no known end."),
    )
    reason = PersonalCharFormField(label=_("Reason"), max_length=300, help_text=_("For example the decision or task."))

    def __init__(self, *args, register, grantable_roles=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.register = register
        fitting = roles.roles_fitting(register)
        # Every role validates here and the service decides who may grant it,
        # so a forged choice gets the service's own error; the menu offers
        # only what the actor may grant and what fits the register. Nothing is
        # preselected: the first role would be the most privileged one, and a
        # hurried grant must not make anybody an owner by default.
        self.fields["role"].choices = Role.choices
        self.fields["role"].widget.choices = [("", _("Choose a role"))] + [
            (value, label) for value, label in Role.choices if value in grantable_roles and value in fitting
        ]

    def clean_role(self):
        role = self.cleaned_data["role"]
        if role not in roles.roles_fitting(self.register):
            raise forms.ValidationError(
                ERROR_ROLE_KIND, params={"role": Role(role).label, "kind": self.register.get_kind_display()}
            )
        return role

    def clean_username(self):
        username = self.cleaned_data["username"].strip()
        try:
            return get_user_model().objects.get(username=username, is_active=True)
        except get_user_model().DoesNotExist:
            raise forms.ValidationError(ERROR_NO_SUCH_USER) from None

    def clean(self):
        data = super().clean()
        if data.get("starts_on") and data.get("ends_on") and data["ends_on"] < data["starts_on"]:
            self.add_error("ends_on", ERROR_DATES)
        return data


class ReviewDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[(AccessReviewItem.Decision.KEEP, _("keep")), (AccessReviewItem.Decision.REVOKE, _("revoke"))],
        widget=forms.RadioSelect,
    )
    reason = PersonalCharFormField(
        label=_("Reason"), max_length=300, required=False, help_text=_("Required when access is revoked.")
    )
    # Set by the confirmation page: a revoke ends the user's access at once, so it takes a second step.
    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)


class _PeriodForm(forms.Form):
    since = forms.DateField(label=_("From"), required=False, widget=DateInput)
    until = forms.DateField(label=_("To"), required=False, widget=DateInput)

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            self.add_error("until", ERROR_TIME_RANGE)
        return data


class AuditFilterForm(_PeriodForm):
    user = PersonalCharFormField(label=_("User"), required=False, max_length=150)
    object_type = forms.ChoiceField(label=_("Object type"), required=False)
    action = forms.TypedChoiceField(
        label=_("Action"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[
            ("", _("all")),
            (LogEntry.Action.CREATE, _("create")),
            (LogEntry.Action.UPDATE, _("update")),
            (LogEntry.Action.DELETE, _("delete")),
        ],
    )
    field_order = ["user", "object_type", "action", "since", "until"]

    def __init__(self, *args, with_action=True, **kwargs):
        super().__init__(*args, **kwargs)
        self.content_types = {str(ct.pk): ct for ct in audited_content_types()}
        self.fields["object_type"].choices = [("", _("all"))] + [
            (key, str(ct.model_class()._meta.verbose_name).capitalize()) for key, ct in self.content_types.items()
        ]
        if not with_action:
            del self.fields["action"]

    def clean_user(self):
        username = self.cleaned_data["user"].strip()
        if not username:
            return None
        # An unknown username simply matches nothing.
        return get_user_model().objects.filter(username=username).first() or get_user_model()(pk=0)

    def clean_object_type(self):
        return self.content_types.get(self.cleaned_data["object_type"])


class LoginFilterForm(_PeriodForm):
    username = PersonalCharFormField(label=_("Username"), required=False, max_length=255)
    kind = forms.ChoiceField(label=_("Event"), required=False, choices=[("", _("all")), *LoginKind.choices])
    field_order = ["username", "kind", "since", "until"]
