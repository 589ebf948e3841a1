"""What a client reads of invoices, archived messages, data-subject requests, import batches and duplicates.

Every field is read-only: these resources change only through the web UI's own actions (or, for a request,
through the public form's intake, which has its own serializer below).
"""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from crm.models import ContactCentreMessage, Invoice, MessageAttachment
from duplicates.models import DuplicateCandidate
from imports.models import ImportBatch
from privacy.requests.models import DataSubjectRequest


class ReadOnlyModelSerializer(serializers.ModelSerializer):
    def get_fields(self):
        fields = super().get_fields()
        for field in fields.values():
            field.read_only = True
        return fields


class InvoiceSerializer(ReadOnlyModelSerializer):
    customer = serializers.UUIDField(source="customer.code", help_text=_("The customer's code."))

    class Meta:
        model = Invoice
        fields = ["code", "customer", "number", "amount", "due_date", "status", "created_at", "updated_at"]


class InvoiceStatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Invoice.Status.choices)


class OrderingClientField(serializers.Serializer):
    code = serializers.UUIDField()
    department = serializers.CharField()


class MessageAttachmentSerializer(ReadOnlyModelSerializer):
    class Meta:
        model = MessageAttachment
        fields = ["code", "filename", "declared_type", "content_type", "size", "sha256"]


# The texts as the archive stores them: every personal identity code masked at intake. The original
# (`raw`) is never served here: only a contact-centre expert opens it, in the web UI, logged.
MESSAGE_FIELDS = [
    "code",
    "ordering_client",
    "direction",
    "sender",
    "recipient",
    "cc",
    "subject",
    "body",
    "html_body",
    "sent_at",
    "intake",
    "thread_key",
    "unreadable",
    "identity_codes_masked",
    "created_at",
    "updated_at",
]


class MessageSerializer(ReadOnlyModelSerializer):
    ordering_client = OrderingClientField(read_only=True)
    attachment_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = ContactCentreMessage
        fields = [*MESSAGE_FIELDS, "attachment_count"]


class MessageDetailSerializer(ReadOnlyModelSerializer):
    ordering_client = OrderingClientField(read_only=True)
    attachments = MessageAttachmentSerializer(many=True, read_only=True, source="attachment_list")

    class Meta:
        model = ContactCentreMessage
        fields = [*MESSAGE_FIELDS, "attachments"]


class DataSubjectRequestSerializer(ReadOnlyModelSerializer):
    registers = serializers.SlugRelatedField(slug_field="slug", many=True, read_only=True)

    class Meta:
        model = DataSubjectRequest
        fields = [
            "code",
            "reference",
            "kind",
            "channel",
            "state",
            "registers",
            "all_registers",
            "requester_name",
            "requester_email",
            "requester_phone",
            "requester_address",
            "acting_for",
            "details",
            "correction_what",
            "correction_why",
            "language",
            "delivery",
            "email_confirmed_at",
            "received_at",
            "service_due_at",
            "legal_due_at",
            "extended_at",
            "responded_at",
            "outcome",
            "closed_at",
            "created_at",
            "updated_at",
        ]


class DataSubjectRequestFileSerializer(serializers.Serializer):
    """A request as the public form takes it (the register comes from the URL); the form validates it."""

    kind = serializers.ChoiceField(choices=DataSubjectRequest.Kind.choices)
    requester_name = serializers.CharField(max_length=200)
    requester_email = serializers.EmailField()
    requester_phone = serializers.CharField(max_length=50, required=False, allow_blank=True)
    requester_address = serializers.CharField(max_length=500, required=False, allow_blank=True)
    # A representative's request needs the mandate file, which only the public form takes: given here, it is
    # refused as the form refuses it without the file.
    acting_for = serializers.CharField(max_length=200, required=False, allow_blank=True)
    details = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    correction_what = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    correction_why = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    language = serializers.ChoiceField(choices=DataSubjectRequest.Language.choices)
    delivery = serializers.ChoiceField(
        choices=[DataSubjectRequest.Delivery.ELECTRONIC, DataSubjectRequest.Delivery.POST]
    )


class FiledSerializer(serializers.Serializer):
    detail = serializers.CharField()


class ImportBatchSerializer(ReadOnlyModelSerializer):
    class Meta:
        model = ImportBatch
        fields = [
            "code",
            "kind",
            "file_name",
            "match_mode",
            "state",
            "rows",
            "created",
            "updated",
            "skipped",
            "duplicate",
            "invalid",
            "rejected",
            "progress",
            "previewed_at",
            "started_at",
            "finished_at",
            "undone_at",
            "created_at",
            "updated_at",
        ]


class DuplicateRecordSerializer(serializers.Serializer):
    code = serializers.UUIDField()
    name = serializers.CharField(source="display_name")


class DuplicateCandidateSerializer(ReadOnlyModelSerializer):
    records = serializers.SerializerMethodField()

    class Meta:
        model = DuplicateCandidate
        fields = ["code", "kind", "records", "score", "reasons", "state", "created_at", "updated_at"]

    def get_records(self, candidate) -> DuplicateRecordSerializer(many=True):  # type: ignore[valid-type]
        pair = (
            [candidate.first, candidate.second]
            if candidate.first_id
            else [
                candidate.first_person,
                candidate.second_person,
            ]
        )
        return DuplicateRecordSerializer(pair, many=True).data
