"""Customers, contact persons and interactions as the integration API shows and accepts them.

The serializers check types, formats and lengths (with the model fields' own validators, the identity-code guard
among them) and hand a plain dict to crm.services; what a register collects, the kind rules and the restriction
of processing stay with the models and services, so the API refuses exactly what the web forms refuse.
"""

from django.utils.translation import gettext_lazy as _
from phonenumber_field.serializerfields import PhoneNumberField
from rest_framework import serializers

from crm.models import ContactPerson, Customer, Interaction

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
        # From the prefetch of the list and detail views (tag_links with their tags): no query per row.
        return sorted(link.tag.name for link in customer.tag_links.all())


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


class SyncQuerySerializer(serializers.Serializer):
    """The query of a list: changes since a moment (a client's last sync), and the web list's search."""

    modified_since = serializers.DateTimeField(
        required=False, help_text=_("Only rows changed at or after this moment (ISO 8601).")
    )
    search = serializers.CharField(required=False, allow_blank=True, max_length=200)
