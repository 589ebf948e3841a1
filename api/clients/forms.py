"""Input checks of the main user's integration-client screens; api.services decides the rest."""

import datetime

from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from registers import roles
from registers.fields import PersonalCharFormField
from registers.forms import DateInput
from registers.models import Register

from ..models import APIClient, parse_networks
from ..services import MAX_VALIDITY_DAYS

NO_SCOPE = ""
SCOPE_CHOICES = [
    (NO_SCOPE, _("no access")),
    (roles.Role.API_READ, _("read only")),
    (roles.Role.API_WRITE, _("read and write")),
    (roles.Role.API_KEEPER, _("read and write, and read requests, imports and duplicates")),
]
ERROR_NETWORKS = _("Give one IP address or network (such as 192.0.2.0/24) per line.")
ERROR_NO_SCOPE = _("Give the client at least one register to read or write.")
ERROR_EXPIRY_PAST = _("The expiry date has passed.")
ERROR_EXPIRY_LONG = _("A key is valid for a year at most; renew it when it ends.")


def _people():
    """Active people who may answer for a client: never another client's machine user."""
    return (
        get_user_model()
        .objects.filter(is_active=True)
        .exclude(groups__name=roles.INTEGRATION_CLIENTS_GROUP)
        .order_by("last_name", "first_name", "username")
    )


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        name = obj.get_full_name()
        return f"{name} ({obj.get_username()})" if name else obj.get_username()


class ScopesMixin:
    """One choice per register (none / read / read and write / with the keepers' records), kept as `scope_<slug>`."""

    def _add_scope_fields(self, initial: dict[int, str] | None = None) -> None:
        initial = initial or {}
        self.registers = list(Register.objects.select_related("organisation").order_by("name_fi", "pk"))
        for register in self.registers:
            self.fields[self.scope_field(register)] = forms.ChoiceField(
                label=register.name,
                choices=SCOPE_CHOICES,
                required=False,
                initial=initial.get(register.pk, NO_SCOPE),
            )

    @staticmethod
    def scope_field(register) -> str:
        return f"scope_{register.slug}"

    def scope_fields(self):
        return [self[self.scope_field(register)] for register in self.registers]

    def other_fields(self):
        names = {self.scope_field(register) for register in self.registers}
        return [field for field in self.visible_fields() if field.name not in names]

    def scopes(self) -> dict:
        chosen = {}
        for register in self.registers:
            role = self.cleaned_data.get(self.scope_field(register)) or NO_SCOPE
            if role != NO_SCOPE:
                chosen[register] = role
        return chosen

    def _check_scopes(self) -> None:
        if not any(self.cleaned_data.get(self.scope_field(register)) for register in self.registers):
            raise forms.ValidationError(ERROR_NO_SCOPE)


class ClientCreateForm(ScopesMixin, forms.Form):
    name = PersonalCharFormField(
        label=_("Name"), max_length=50, help_text=_("For example the system that calls the API.")
    )
    description = PersonalCharFormField(
        label=_("Purpose"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000, required=False
    )
    owner = PersonChoiceField(
        label=_("Responsible person"),
        queryset=get_user_model().objects.none(),
        help_text=_("The person who answers for this integration and is asked about it in the access review."),
    )
    expires_on = forms.DateField(
        label=_("Key expires"), widget=DateInput, help_text=_("The last day the key works; a year at most.")
    )
    allowed_networks = forms.CharField(
        label=_("Allowed source addresses"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=2000,
        help_text=_("One address or network (CIDR) per line. Empty: calls are accepted from any address."),
    )
    rate_per_minute = forms.IntegerField(label=_("Calls per minute"), min_value=1, max_value=100_000, initial=600)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = _people()
        self.fields["expires_on"].initial = timezone.localdate() + datetime.timedelta(days=365)
        self._add_scope_fields()

    def clean_expires_on(self):
        expires_on = self.cleaned_data["expires_on"]
        today = timezone.localdate()
        if expires_on < today:
            raise forms.ValidationError(ERROR_EXPIRY_PAST)
        if expires_on > today + datetime.timedelta(days=MAX_VALIDITY_DAYS):
            raise forms.ValidationError(ERROR_EXPIRY_LONG)
        return expires_on

    def clean_allowed_networks(self):
        text = self.cleaned_data["allowed_networks"].replace("\x00", "")
        try:
            parse_networks(text)
        except ValueError:
            raise forms.ValidationError(ERROR_NETWORKS) from None
        return text.strip()

    def clean(self):
        cleaned = super().clean()
        self._check_scopes()
        return cleaned


class ClientScopesForm(ScopesMixin, forms.Form):
    reason = PersonalCharFormField(label=_("Reason"), max_length=300, help_text=_("For example the decision or task."))

    def __init__(self, *args, client: APIClient, current: dict[int, str], **kwargs):
        super().__init__(*args, **kwargs)
        self.client = client
        self._add_scope_fields(initial=current)

    def clean(self):
        cleaned = super().clean()
        self._check_scopes()
        return cleaned


class ClientRevokeForm(forms.Form):
    reason = PersonalCharFormField(label=_("Reason for revoking"), max_length=300)
