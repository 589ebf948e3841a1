"""Input forms of the staff workspace.

Forms check formats (business-ID checksum, e-mail, phone, dates, no identity
codes, no control characters) and hand `cleaned_data` to a service; the
services and models own the rules that need the database or other fields.
"""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from registers.fields import PersonalCharFormField
from registers.forms import DateInput
from registers.models import Register

from .models import (
    ERROR_INTERACTION_IN_FUTURE,
    ContactCentreMessage,
    ContactPerson,
    Customer,
    Interaction,
    OrderingClient,
    Tag,
)
from .selectors import CUSTOMER_ORDERINGS
from .validators import (
    FREE_TEXT_VALIDATORS,
    normalise_business_id,
    validate_business_id,
    validate_not_in_future,
)

DATETIME_INPUT_FORMAT = "%Y-%m-%dT%H:%M"
# Times outside these years are typing errors, and year 1 cannot even be converted to UTC.
EARLIEST_YEAR, LATEST_YEAR = 1900, 2100
ERROR_TIME_OUT_OF_RANGE = _("Enter a time between the years %(earliest)s and %(latest)s.")
MAX_INACTIVE_MONTHS = 240

PERSON_FIELDS = ("first_name", "last_name", "date_of_birth")
ORGANISATION_FIELDS = ("organisation_name", "business_id")
# Always editable fields after the name fields; the register's optional fields
# (Customer.OPTIONAL_FIELDS) are added only when the register collects them. The objection
# and the restriction are not among them: they change only through the rights steps.
COMMON_TRAILING_FIELDS = ()


def _text_validators(field: forms.Field) -> None:
    # The models reject identity codes on save too; checking here shows the
    # error next to the field before any service runs.
    if isinstance(field, forms.CharField):
        field.validators += [v for v in FREE_TEXT_VALIDATORS if v not in field.validators]


def _model_fields(model, names) -> dict[str, forms.Field]:
    fields = forms.fields_for_model(model, fields=list(names))
    for field in fields.values():
        _text_validators(field)
    return fields


class VersionedForm(forms.Form):
    """A form that carries the version it was based on, for optimistic locking."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class CustomerForm(VersionedForm):
    """Customer fields of one kind (person or organisation), limited to what the register collects."""

    def __init__(self, *args, register: Register, kind: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.register = register
        self.kind = kind
        own, other = (
            (PERSON_FIELDS, ORGANISATION_FIELDS)
            if kind == Customer.Kind.PERSON
            else (ORGANISATION_FIELDS, PERSON_FIELDS)
        )
        collected = [name for name in Customer.fields_collected_by(register) if name not in other]
        # A register that does not collect a field never shows it: the name
        # fields of the kind, then the collected optional fields in model order.
        optional = {name for names in Customer.OPTIONAL_FIELDS.values() for name in names}
        names = [name for name in own if name not in optional or name in collected]
        names += [name for name in collected if name not in names]
        names += COMMON_TRAILING_FIELDS
        version = self.fields.pop("version")
        self.fields.update(_model_fields(Customer, names))
        self.fields["version"] = version
        if "last_name" in self.fields:
            self.fields["last_name"].required = True
        if "organisation_name" in self.fields:
            self.fields["organisation_name"].required = True
        if "business_id" in self.fields:
            # Accept the ID with or without the hyphen and surrounding spaces.
            self.fields["business_id"].max_length = 12
            self.fields["business_id"].widget.attrs.update(maxlength=12, inputmode="text", autocomplete="off")
            self.fields["business_id"].help_text = _("For example 1234567-1.")
        if "date_of_birth" in self.fields:
            self.fields["date_of_birth"].widget = DateInput()
            self.fields["date_of_birth"].validators.append(validate_not_in_future)
        if "email" in self.fields:
            self.fields["email"].widget.attrs.setdefault("autocomplete", "off")
        if "extra_info" in self.fields:
            self.fields["extra_info"].widget.attrs["rows"] = 4

    # Constraint violations arrive as errors of the whole form; these belong next to a field.
    CONSTRAINT_FIELDS = {"customer_business_id_unique_per_register": "business_id"}

    def field_of_error(self, message: str) -> str | None:
        for constraint in Customer._meta.constraints:
            field = self.CONSTRAINT_FIELDS.get(constraint.name)
            if field in self.fields and str(constraint.violation_error_message) == message:
                return field
        return None

    def clean_business_id(self) -> str:
        value = "".join(self.cleaned_data.get("business_id", "").split())
        validate_business_id(value)
        return normalise_business_id(value)

    def service_data(self) -> dict:
        """Return the cleaned values for the service, without the form's own bookkeeping."""
        data = {name: value for name, value in self.cleaned_data.items() if name != "version"}
        data["kind"] = self.kind
        return data


class DuplicateConfirmForm(forms.Form):
    """The new-customer form's answer to a duplicate warning: the customer is another one, save it anyway."""

    different_customer = forms.BooleanField(label=_("This is a different customer: save it anyway"), required=False)


class ContactPersonForm(VersionedForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        version = self.fields.pop("version")
        names = ("first_name", "last_name", "title", "responsibility", "email", "phone", "interests")
        self.fields.update(_model_fields(ContactPerson, names))
        self.fields["interests"].widget.attrs["rows"] = 3
        self.fields["version"] = version

    def service_data(self) -> dict:
        return {name: value for name, value in self.cleaned_data.items() if name != "version"}


class InteractionForm(forms.Form):
    def __init__(self, *args, customer: Customer, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields.update(_model_fields(Interaction, ("kind", "occurred_at", "subject", "text")))
        self.fields["occurred_at"] = forms.DateTimeField(
            label=Interaction._meta.get_field("occurred_at").verbose_name,
            input_formats=[DATETIME_INPUT_FORMAT, "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
            widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_INPUT_FORMAT),
        )
        self.fields["text"].widget.attrs["rows"] = 5
        if customer.is_organisation:
            self.fields["contact_person"] = forms.ModelChoiceField(
                label=Interaction._meta.get_field("contact_person").verbose_name,
                queryset=customer.contact_persons.all(),
                required=False,
                to_field_name="code",
            )

    def clean_occurred_at(self):
        value = self.cleaned_data["occurred_at"]
        if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
            raise ValidationError(
                ERROR_TIME_OUT_OF_RANGE,
                code="out_of_range",
                params={"earliest": EARLIEST_YEAR, "latest": LATEST_YEAR},
            )
        return value

    def clean(self):
        cleaned = super().clean()
        # The model refuses it too (Interaction.clean); here the error appears before any service runs.
        if Interaction.is_too_early(cleaned.get("kind"), cleaned.get("occurred_at")):
            self.add_error("occurred_at", ERROR_INTERACTION_IN_FUTURE)
        return cleaned

    def service_data(self) -> dict:
        return dict(self.cleaned_data)


class CustomerFilterForm(forms.Form):
    """The search, filters and sort of the customer list; every field optional, invalid ones ignored."""

    MARKETING_ANY = ""
    MARKETING_OBJECTED = "yes"
    MARKETING_NOT_OBJECTED = "no"

    q = forms.CharField(
        label=_("Search by name, business ID, e-mail or phone"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off", "spellcheck": "false"}),
    )
    kind = forms.ChoiceField(label=_("Customer type"), required=False, choices=[("", _("all")), *Customer.Kind.choices])
    language = forms.ChoiceField(
        label=_("Language"), required=False, choices=[("", _("all")), *Customer.Language.choices]
    )
    marketing = forms.ChoiceField(
        label=_("Direct marketing"),
        required=False,
        choices=[
            (MARKETING_ANY, _("all")),
            (MARKETING_OBJECTED, _("has objected")),
            (MARKETING_NOT_OBJECTED, _("has not objected")),
        ],
    )
    inactive_months = forms.IntegerField(
        label=_("No activity for at least (months)"),
        required=False,
        min_value=1,
        max_value=MAX_INACTIVE_MONTHS,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    tag = forms.ChoiceField(label=_("Tag"), required=False)
    sort = forms.ChoiceField(
        label=_("Sort by"),
        required=False,
        choices=[
            ("name", _("name, A-Ö")),
            ("-name", _("name, Ö-A")),
            ("-activity", _("latest activity first")),
            ("activity", _("oldest activity first")),
        ],
    )

    def __init__(self, *args, register: Register, **kwargs):
        super().__init__(*args, **kwargs)
        if not register.collects("language"):
            del self.fields["language"]
        tags = Tag.objects.filter(register=register).values_list("code", "name") if register.pk else []
        tags = [(str(code), name) for code, name in tags]
        if tags:
            self.fields["tag"].choices = [("", _("all")), *tags]
        else:
            del self.fields["tag"]
        for field in self.fields.values():
            _text_validators(field)

    def clean_q(self) -> str:
        return self.cleaned_data["q"].strip()

    def selector_kwargs(self) -> dict:
        """Return the keyword arguments of `crm.selectors.customer_list` for the valid fields."""
        data = self.cleaned_data if self.is_bound else {}
        marketing = data.get("marketing") or self.MARKETING_ANY
        sort = data.get("sort") or "name"
        return {
            "search": data.get("q") or "",
            "kind": data.get("kind") or "",
            "language": data.get("language") or "",
            "marketing_objection": None if marketing == self.MARKETING_ANY else marketing == self.MARKETING_OBJECTED,
            "inactive_months": data.get("inactive_months"),
            "tag": data.get("tag") or "",
            "ordering": sort if sort in CUSTOMER_ORDERINGS else "name",
        }

    def full_clean(self):
        super().full_clean()
        # A mistyped filter must not hide the list: drop only the invalid fields.
        if self.is_bound:
            for name in list(self.errors):
                self.cleaned_data.pop(name, None)


class CustomerSearchForm(forms.Form):
    """The front page's search across every customer register the user may see."""

    q = forms.CharField(
        label=_("Search customers and contact persons in all your registers"),
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off", "spellcheck": "false"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _text_validators(self.fields["q"])

    def clean_q(self) -> str:
        return self.cleaned_data["q"].strip()


class ArchiveFilterForm(forms.Form):
    """The archive lists' filters; the message list adds search, direction, dates and "unreadable only".

    The search refuses an identity code (`PersonalCharFormField`): the archive holds codes only masked, and
    a code typed into a search would itself be personal data in URLs, logs and the access log.
    """

    q = PersonalCharFormField(
        label=_("Search"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off", "spellcheck": "false"}),
    )
    direction = forms.ChoiceField(
        label=_("Direction"),
        choices=[("", _("both directions")), *ContactCentreMessage.Direction.choices],
        required=False,
    )
    sent_from = forms.DateField(label=_("From date"), required=False, widget=DateInput)
    sent_to = forms.DateField(label=_("To date"), required=False, widget=DateInput)
    ordering_client = forms.ModelChoiceField(
        label=_("Ordering client"),
        queryset=OrderingClient.objects.none(),
        required=False,
        empty_label=_("all ordering clients"),
        to_field_name="code",
    )
    unreadable = forms.BooleanField(label=_("Unreadable only"), required=False)

    MESSAGE_FIELDS = ("q", "direction", "sent_from", "sent_to", "unreadable")

    def __init__(self, *args, clients, messages: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["ordering_client"].queryset = clients
        if not messages:
            for name in self.MESSAGE_FIELDS:
                del self.fields[name]

    def clean_q(self) -> str:
        return self.cleaned_data["q"].strip()

    def clean(self):
        data = super().clean()
        for name in ("sent_from", "sent_to"):
            day = data.get(name)
            if day is not None and not EARLIEST_YEAR <= day.year <= LATEST_YEAR:
                self.add_error(name, ERROR_TIME_OUT_OF_RANGE % {"earliest": EARLIEST_YEAR, "latest": LATEST_YEAR})
        return data

    def selector_kwargs(self) -> dict:
        """Return the keyword arguments of `crm.selectors.message_list` for the valid fields."""
        data = self.cleaned_data if self.is_bound and hasattr(self, "cleaned_data") else {}
        return {
            "search": data.get("q") or "",
            "direction": data.get("direction") or "",
            "sent_from": data.get("sent_from"),
            "sent_to": data.get("sent_to"),
            "ordering_client": data.get("ordering_client"),
            "unreadable_only": bool(data.get("unreadable")),
        }

    def full_clean(self):
        super().full_clean()
        # A mistyped filter must not hide the list: drop only the invalid fields (their errors stay shown).
        if self.is_bound:
            for name in list(self.errors):
                self.cleaned_data.pop(name, None)


def add_model_errors(form: forms.Form, error: ValidationError) -> None:
    """Show a model or service ValidationError next to the fields it names, the rest above the form."""
    field_of_error = getattr(form, "field_of_error", lambda message: None)
    if hasattr(error, "error_dict"):
        for field, messages in error.message_dict.items():
            for message in messages:
                form.add_error(field if field in form.fields else field_of_error(message), message)
    else:
        for message in error.messages:
            form.add_error(field_of_error(message), message)


class CompanySearchForm(forms.Form):
    """A search of the company register (PRH) by name, town or line of business; at least one of them."""

    name = forms.CharField(label=_("Company name"), max_length=200, required=False)
    location = forms.CharField(label=_("Town of the registered office"), max_length=100, required=False)
    business_line = forms.CharField(
        label=_("Line of business"),
        max_length=100,
        required=False,
        help_text=_("An industry code or a word of its description, e.g. 62 or ohjelmisto."),
    )
    page = forms.IntegerField(min_value=1, max_value=1000, required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The search is sent to PRH: a personal identity code typed by mistake must not leave the house.
        for field in self.fields.values():
            _text_validators(field)

    def clean(self):
        cleaned = super().clean()
        if not any(cleaned.get(name) for name in ("name", "location", "business_line")):
            raise ValidationError(_("Give a name, a town or a line of business to search for."), code="empty")
        return cleaned

    def criteria(self) -> dict:
        data = self.cleaned_data
        return {
            "name": data["name"],
            "location": data["location"],
            "business_line": data["business_line"],
            "page": data.get("page") or 1,
        }
