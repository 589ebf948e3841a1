"""Customers, contact persons and interactions as the integration API shows and accepts them.

The serializers check types, formats and lengths (with the model fields' own validators, the identity-code guard
among them) and hand a plain dict to crm.services; what a register collects, the kind rules and the restriction
of processing stay with the models and services, so the API refuses exactly what the web forms refuse.
"""

import copy
from enum import Enum

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from phonenumber_field.serializerfields import PhoneNumberField
from rest_framework import serializers

from crm.models import ContactPerson, Customer, Interaction

from .. import query

ERROR_NOT_WRITABLE = _("This field cannot be set here.")

BOOKKEEPING = ("version", "created_at", "updated_at")


class StrictModelSerializer(serializers.ModelSerializer):
    # Refuses fields it does not write (a typo, a read-only flag such as processing_restricted) instead of
    # dropping them silently: a client must learn that its change was not made. (A comment, not a docstring:
    # drf-spectacular would show a docstring as every schema's description.)

    def to_internal_value(self, data):
        if isinstance(data, dict):
            writable = {name for name, field in self.fields.items() if not field.read_only}
            unknown = sorted(str(name) for name in data if name not in writable)
            if unknown:
                raise serializers.ValidationError({name: [ERROR_NOT_WRITABLE] for name in unknown})
        return super().to_internal_value(data)

    def service_data(self) -> dict:
        return dict(self.validated_data)

    def get_fields(self):
        # REST framework builds every field from the model's options for each serializer, that is on every request
        # (about 2 ms for a customer, a tenth of a detail read). They are built once per class here and each
        # serializer gets copies, made as REST framework copies declared fields (Field.__deepcopy__: a new field
        # from the same arguments, validators shared).
        cls = type(self)
        if "_built_fields" not in cls.__dict__:
            cls._built_fields = super().get_fields()
        return copy.deepcopy(cls._built_fields)

    # Reads: REST framework's per-field machinery took most of a 100-row page's time (about 0.4 ms a row). Plain
    # attributes of the common field types are written here as those fields write them (same values, same ISO
    # formats and time zone, None for NULL); every other field (phones, methods, related codes) goes the
    # standard way. tests/api/customers/test_reads.py compares the two for every field. A row may be a model or
    # a named tuple of its columns (api.customers.views.customer_rows): both are read by attribute.
    def to_representation(self, instance):
        data = {}
        for name, source, convert, field in self._readers():
            if convert is None:
                attribute = field.get_attribute(instance)
                data[name] = None if attribute is None else field.to_representation(attribute)
            else:
                value = getattr(instance, source)
                data[name] = None if value is None else convert(value)
        return data

    def _readers(self) -> list[tuple]:
        # Worked out once per serializer, whose child serves every row of a list: (name, attribute, plain
        # converter or None for the field's own way, field).
        if not hasattr(self, "_reader_list"):
            plain = self._plain_fields()
            self._reader_list = [
                (field.field_name, field.source, plain.get(field.field_name), field) for field in self._readable
            ]
        return self._reader_list

    def _plain_fields(self) -> dict:
        if not hasattr(self, "_plain"):
            self._readable = list(self._readable_fields)
            # The time zone is looked up once, not twice a row: it is the request's, as REST framework's
            # DateTimeField would look it up for each value.
            converters = {**PLAIN_CONVERTERS, serializers.DateTimeField: _datetime_in(timezone.get_current_timezone())}
            self._plain = {
                field.field_name: converters[type(field)]
                for field in self._readable_fields
                if type(field) in converters and "." not in field.source and field.source != "*"
            }
        return self._plain


def _datetime_in(zone):
    def convert(value) -> str:
        text = timezone.localtime(value, zone).isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text

    return convert


def _choice(value):
    return value.value if isinstance(value, Enum) else value


PLAIN_CONVERTERS = {
    serializers.CharField: str,
    serializers.EmailField: str,
    serializers.UUIDField: str,
    serializers.ChoiceField: _choice,
    serializers.BooleanField: bool,
    serializers.IntegerField: int,
    serializers.DateField: lambda value: value.isoformat(),
    # DateTimeField: _datetime_in(the request's time zone), added by StrictModelSerializer._plain_fields.
}


STORED = "%s_stored"


class StoredPhoneField(PhoneNumberField):
    """A phone number in, parsed in the project's region (PHONENUMBER_DEFAULT_REGION: "040 123 4567" is a Finnish
    mobile number); out, as stored (E.164, PHONENUMBER_DB_FORMAT), read as plain text where a list loaded it so
    (api.customers.views.stored_phones): parsing and validating three numbers a row took most of a page's time."""

    def get_attribute(self, instance):
        stored = getattr(instance, STORED % self.source, None)
        return stored if stored is not None else super().get_attribute(instance)

    def to_representation(self, value):
        return value if isinstance(value, str) else super().to_representation(value)


def _phone_field():
    return StoredPhoneField(required=False, allow_blank=True)


class CustomerSerializer(StrictModelSerializer):
    tags = serializers.SerializerMethodField(help_text=_("Names of the register's tags on the customer."))
    landline = _phone_field()
    mobile = _phone_field()
    fax = _phone_field()

    class Meta:
        model = Customer
        fields = [
            "code",
            "kind",
            *Customer.DATA_FIELDS,
            "marketing_objection",
            "processing_restricted",
            "tags",
            *BOOKKEEPING,
        ]
        read_only_fields = ["code", "marketing_objection", "processing_restricted", *BOOKKEEPING]
        # The model's constraints (one business ID per register) are checked by full_clean() in the service.
        validators = []

    def get_tags(self, customer) -> list[str]:
        # A list row and a customer's detail bring the names in their own query (api.customers.views._tag_names: no
        # query per row); a customer just created or changed reads them here, in one query of the names.
        names = getattr(customer, "tag_names", None)
        if names is None and isinstance(customer, Customer):
            names = customer.tag_links.values_list("tag__name", flat=True)
        return sorted(names or ())


class ContactPersonSerializer(StrictModelSerializer):
    customer = serializers.UUIDField(source="customer.code", read_only=True)
    phone = _phone_field()

    class Meta:
        model = ContactPerson
        fields = ["code", "customer", *ContactPerson.DATA_FIELDS, "marketing_objection", *BOOKKEEPING]
        read_only_fields = ["code", "marketing_objection", *BOOKKEEPING]


class InteractionSerializer(StrictModelSerializer):
    customer = serializers.UUIDField(source="customer.code", read_only=True)
    contact_person = serializers.SlugRelatedField(
        slug_field="code",
        queryset=ContactPerson.objects.none(),
        required=False,
        allow_null=True,
        help_text=_("Code of one of the customer's contact persons."),
    )

    class Meta:
        model = Interaction
        fields = ["code", "customer", "contact_person", "kind", "occurred_at", "subject", "text", *BOOKKEEPING]
        read_only_fields = ["code", *BOOKKEEPING]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        customer = self.context.get("customer")
        if customer is not None:
            # Only the customer's own contact persons: another customer's code is "does not exist", never a link.
            self.fields["contact_person"].queryset = customer.contact_persons.all()


class SyncQuerySerializer(query.SyncQuerySerializer):
    """The query of a list: changes since a moment (a client's last sync), and the web list's search."""

    search = serializers.CharField(required=False, allow_blank=True, max_length=200)
