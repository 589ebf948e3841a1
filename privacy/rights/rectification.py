"""Rectification (GDPR 16): requested corrections beside the stored values, applied through the crm services.

The handler records each correction the person asks for on a confirmed record; the screen shows it beside the
value stored now. Applying runs the normal validated services (`crm.services.customer_update`, ...) for every
correction in one transaction: one invalid value and nothing is changed, the request stays open. A correction can
be refused with a legal ground (e.g. the data was checked against the trade register and is right). Archived
contact-centre messages are never edited (DOMAIN 004): the answer says that the archive keeps messages as sent.
Recipients of the corrected data are notified (GDPR 19).
"""

from collections import defaultdict

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm import services as crm_services
from crm.models import ContactPerson, Customer
from privacy.requests.models import DataSubjectRequest, RequestEvent, SubjectMatch
from privacy.requests.workflow import request_event_add

from .disclosures import notification_tasks_create
from .models import RectificationItem, RefusalGround
from .services import require

State = DataSubjectRequest.State
Kind = DataSubjectRequest.Kind
Status = RectificationItem.Status

CUSTOMER_FIELDS = Customer.DATA_FIELDS
CONTACT_PERSON_FIELDS = ContactPerson.DATA_FIELDS

ERROR_FIELD_NOT_RECTIFIABLE = _("This field cannot be corrected in this record.")
ERROR_ARCHIVE_ITEM = _("Archived messages are kept exactly as sent and are never corrected.")
ERROR_NOT_ARCHIVE = _("Only an archived message is answered this way.")
ERROR_NOTHING_TO_APPLY = _("There are no requested corrections to apply.")
ERROR_ITEM_DECIDED = _("This correction has already been decided.")
ERROR_REASON_REQUIRED = _("Give the reason for not correcting the data.")
ERROR_IN_RECORD = _("%(record)s, %(field)s: %(message)s")


def rectifiable_fields(record) -> list[tuple[str, str]]:
    """Return (name, label) of the fields of `record` a correction may change."""
    if isinstance(record, Customer):
        collected = set(Customer.fields_collected_by(record.register))
        names = [n for n in CUSTOMER_FIELDS if n in collected or not _is_optional(n)]
        if record.kind == Customer.Kind.PERSON:
            names = [n for n in names if n not in {"organisation_name", "business_id"}]
        else:
            names = [n for n in names if n not in {"first_name", "last_name", "date_of_birth"}]
        return [(n, str(Customer._meta.get_field(n).verbose_name)) for n in names]
    if isinstance(record, ContactPerson):
        return [(n, str(ContactPerson._meta.get_field(n).verbose_name)) for n in CONTACT_PERSON_FIELDS]
    return []


def _is_optional(name: str) -> bool:
    return any(name in fields for fields in Customer.OPTIONAL_FIELDS.values())


def display_value(record, name: str) -> str:
    """Return the stored value of a field as text, for showing beside the requested one."""
    value = getattr(record, name)
    field = record._meta.get_field(name)
    if field.choices and value:
        return str(dict(field.choices).get(value, value))
    if hasattr(value, "as_international"):
        return value.as_international
    return "" if value is None else str(value)


def _python_value(record, name: str, text: str):
    field = record._meta.get_field(name)
    text = (text or "").strip()
    if not text:
        return None if field.null else ""
    return field.to_python(text)


def _check_item(request: DataSubjectRequest, match: SubjectMatch) -> None:
    require(request, kinds=(Kind.RECTIFICATION,), states=(State.IN_PROGRESS,))
    if match.request_id != request.pk:
        raise ValidationError(ERROR_FIELD_NOT_RECTIFIABLE)


@transaction.atomic
def rectification_item_add(
    *, request: DataSubjectRequest, actor, match: SubjectMatch, field: str, requested_value: str, source_checked=""
) -> RectificationItem:
    """Record one correction the person asks for, on a record confirmed as theirs."""
    _check_item(request, match)
    if match.message_id:
        raise ValidationError(ERROR_ARCHIVE_ITEM)
    record = match.record
    if field not in dict(rectifiable_fields(record)):
        raise ValidationError({"field": ERROR_FIELD_NOT_RECTIFIABLE})
    try:
        # Catch a wrong format now; the whole record is validated again when the correction is applied.
        record._meta.get_field(field).clean(_python_value(record, field, requested_value), record)
    except ValidationError as error:
        raise ValidationError({"requested_value": error.messages}) from None
    item = RectificationItem(
        request=request,
        match=match,
        field=field,
        requested_value=(requested_value or "").strip(),
        source_checked=(source_checked or "").strip(),
        proposed_by=actor,
    )
    item.full_clean()
    item.save()
    request_event_add(
        request=request,
        actor=actor,
        action=RequestEvent.Action.RECTIFICATION_PROPOSED,
        payload={"item": str(item.code), "field": field},
    )
    return item


@transaction.atomic
def rectification_archive_answer(*, request: DataSubjectRequest, actor, match: SubjectMatch) -> RectificationItem:
    """Answer that an archived message is not corrected: the archive keeps messages exactly as sent."""
    _check_item(request, match)
    if not match.message_id:
        raise ValidationError(ERROR_NOT_ARCHIVE)
    existing = request.rectification_items.filter(match=match).first()
    if existing is not None:
        return existing
    now = timezone.now()
    item = RectificationItem.objects.create(
        request=request,
        match=match,
        status=Status.REFUSED,
        ground=RefusalGround.ARCHIVE_AS_SENT,
        note=str(ERROR_ARCHIVE_ITEM),
        proposed_by=actor,
        decided_by=actor,
        decided_at=now,
    )
    request_event_add(
        request=request,
        actor=actor,
        action=RequestEvent.Action.RECTIFICATION_REFUSED,
        payload={"item": str(item.code), "ground": item.ground},
    )
    return item


@transaction.atomic
def rectification_item_refuse(*, item: RectificationItem, actor, ground: str, note: str) -> RectificationItem:
    """Refuse one requested correction with a legal ground and the reason (e.g. checked against the source)."""
    item = RectificationItem.objects.select_for_update().select_related("request").get(pk=item.pk)
    require(item.request, kinds=(Kind.RECTIFICATION,), states=(State.IN_PROGRESS,))
    if item.status != Status.PROPOSED:
        raise ValidationError(ERROR_ITEM_DECIDED)
    if ground not in RefusalGround.values:
        raise ValidationError({"ground": _("Choose the legal ground.")})
    if not (note or "").strip():
        raise ValidationError({"note": ERROR_REASON_REQUIRED})
    item.status = Status.REFUSED
    item.ground = ground
    item.note = note.strip()
    item.decided_by = actor
    item.decided_at = timezone.now()
    item.save(update_fields=["status", "ground", "note", "decided_by", "decided_at", "updated_at"])
    request_event_add(
        request=item.request,
        actor=actor,
        action=RequestEvent.Action.RECTIFICATION_REFUSED,
        payload={"item": str(item.code), "ground": ground},
    )
    return item


def _in_record(error: ValidationError, record, labels: dict[str, str]) -> ValidationError:
    # Name the record and the field, so the handler sees which correction failed.
    by_field = error.message_dict.items() if hasattr(error, "error_dict") else [("", error.messages)]
    messages = [
        ERROR_IN_RECORD % {"record": record, "field": labels.get(field, field or "-"), "message": message}
        for field, field_messages in by_field
        for message in field_messages
    ]
    return ValidationError(messages)


@transaction.atomic
def rectification_apply(*, request: DataSubjectRequest, actor) -> list[RectificationItem]:
    """Apply every requested correction through the crm services, all or nothing, and notify the recipients."""
    current = DataSubjectRequest.objects.select_for_update().get(pk=request.pk)
    require(current, kinds=(Kind.RECTIFICATION,), states=(State.IN_PROGRESS,))
    items = list(
        current.rectification_items.select_for_update(of=("self",))
        .filter(status=Status.PROPOSED)
        .select_related("match__customer__register", "match__contact_person__customer")
    )
    if not items:
        raise ValidationError(ERROR_NOTHING_TO_APPLY)
    by_record: dict[tuple, list[RectificationItem]] = defaultdict(list)
    for item in items:
        by_record[(type(item.match.record), item.match.record.pk)].append(item)
    now = timezone.now()
    corrected_customers = []
    for (model, pk), record_items in by_record.items():
        record = model.objects.select_for_update().get(pk=pk)
        corrected_customers.append(record if model is Customer else record.customer)
        labels = dict(rectifiable_fields(record))
        data = {}
        for item in record_items:
            item.previous_value = display_value(record, item.field)
            data[item.field] = _python_value(record, item.field, item.requested_value)
        try:
            if model is Customer:
                crm_services.customer_update(actor=actor, customer=record, data=data, version=record.version)
            else:
                crm_services.contact_person_update(actor=actor, person=record, data=data, version=record.version)
        except ValidationError as error:
            # The outer transaction rolls back every correction already made: nothing is half-applied.
            raise _in_record(error, record, labels) from None
        for item in record_items:
            item.status = Status.APPLIED
            item.decided_by = actor
            item.decided_at = now
            item.save(update_fields=["status", "previous_value", "decided_by", "decided_at", "updated_at"])
    request_event_add(
        request=current,
        actor=actor,
        action=RequestEvent.Action.RECTIFICATION_APPLIED,
        payload={"items": [str(item.code) for item in items]},
    )
    notification_tasks_create(request=current, actor=actor, customers=corrected_customers)
    return items
