"""The answer to an access request (GDPR art. 15): content, letter and JSON.

`package_content` gathers, in the requester's language, every confirmed
record from every register of the request, the register description items
of art. 15(1) and the dates on which the data was processed (from the access
log: dates only, never times or staff names, KHO:2025:51), and each record's
consents and objections with the text the person was shown (GDPR 7(1)). Other people's
data is left out with a recorded reason (art. 15(4)): contact persons of an
organisation who are not the requester, and every staff user's name.
`render_html`/`render_pdf`/`render_json` turn the content into the files.
The HTML comes from an autoescaping template, so text in the records is
never markup, in the browser or in the PDF.
"""

import datetime
import json
import zoneinfo
from collections.abc import Callable

from auditlog.models import LogEntry
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q
from django.db.models.functions import TruncDate
from django.template.loader import render_to_string
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from crm.models import (
    ContactCentreMessage,
    ContactPerson,
    ContactPersonTag,
    Customer,
    CustomerTag,
    Interaction,
    Invoice,
    Tag,
)
from followups.models import FollowUp
from registers.description import description_content_on, description_sections

from .models import DataSubjectRequest, Redaction, SubjectMatch

# Art. 15(1) items that every register part of an answer must state; keys of
# `registers.description.description_sections`.
ARTICLE_15_SECTIONS = (
    "controller",
    "contacts",
    "purposes",
    "legal_basis",
    "data_categories",
    "recipients",
    "openness_act",
    "transfers",
    "retention",
    "sources",
    "automated_decisions",
    "rights",
    "complaint",
)
CUSTOMER_FIELDS = (
    "kind",
    *Customer.DATA_FIELDS,
    "marketing_objection",
    "processing_restricted",
    "source",
    "created_at",
    "last_activity_at",
)
CONTACT_PERSON_FIELDS = (*ContactPerson.DATA_FIELDS, "created_at")
MESSAGE_FIELDS = ("direction", "sent_at", "sender", "recipient", "cc", "subject", "body")
INVOICE_FIELDS = ("number", "amount", "due_date", "status")


def _value(instance, name: str):
    field = instance._meta.get_field(name)
    value = getattr(instance, name)
    if field.choices:
        return str(getattr(instance, f"get_{name}_display")()) if value else ""
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, datetime.datetime):
        return formats.date_format(timezone.localtime(value), "SHORT_DATETIME_FORMAT")
    if isinstance(value, datetime.date):
        return formats.date_format(value, "SHORT_DATE_FORMAT")
    return "" if value is None else str(value)


def machine_value(instance, name: str) -> str:
    """Return a field's value as the machine-readable text of the GDPR API: ISO dates, "true"/"false", codes' labels."""
    field = instance._meta.get_field(name)
    value = getattr(instance, name)
    if field.choices:
        return str(getattr(instance, f"get_{name}_display")()) if value else ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    return "" if value is None else str(value)


def _fields(instance, names, value_of: Callable = _value) -> list[dict]:
    rows = []
    for name in names:
        value = value_of(instance, name)
        if value != "":
            rows.append({"name": name, "label": str(instance._meta.get_field(name).verbose_name), "value": value})
    return rows


def _withheld(reason_note: str) -> str:
    return _("[withheld: %(reason)s]") % {"reason": reason_note}


# Where the answer finds a record's consents and objections with their evidence (GDPR 7(1), 21): privacy.rights adds
# its history at start-up (PrivacyConfig.ready), as it does the disclosure ledger below. Each source takes (customer
# or contact person, value_of) and returns {"consents": [...], "objections": [...]}, rows of text.
CONSENT_SOURCES: list[Callable[[Customer | ContactPerson, Callable], dict]] = []


class Collector:
    """Builds the records of one register and notes what was withheld.

    The access answer and the Helsinki-profile GDPR API (api.gdpr) both build a person's records here, so they
    always show the same data; `value_of` formats a field (the letter's localised dates by default).
    """

    def __init__(self, *, matched_people: set[int], value_of: Callable = _value):
        self.matched_people = matched_people
        self.value_of = value_of
        self.redactions: list[dict] = []
        self.counted = 0

    def fields(self, instance, names) -> list[dict]:
        return _fields(instance, names, self.value_of)

    def redact(self, *, item: str, note: str) -> None:
        self.redactions.append({"item": item, "reason": Redaction.Reason.OTHERS_RIGHTS.value, "note": note})

    def interactions(self, queryset) -> list[dict]:
        rows = []
        # The kinds' names once per list, not per row: Django's get_FOO_display hashes every choice on each call,
        # which was most of the time of a person with thousands of interactions (bench/gdpr_api.py).
        kinds = {value: str(label) for value, label in Interaction.Kind.choices}
        for interaction in queryset.select_related("contact_person").order_by("occurred_at", "id"):
            rows.append(
                {
                    "date": self.value_of(interaction, "occurred_at"),
                    "kind": kinds.get(interaction.kind, interaction.kind),
                    "subject": interaction.subject,
                    "text": interaction.text,
                    "contact_person": self._contact_of(
                        f"interaction:{interaction.code}:contact_person", interaction.contact_person
                    ),
                }
            )
        self.counted += len(rows)
        return rows

    def _contact_of(self, item: str, person: ContactPerson | None) -> str:
        if person is None:
            return ""
        if person.pk in self.matched_people:
            return person.display_name
        others_note = _("another person's data")
        self.redact(item=item, note=str(others_note))
        return _withheld(others_note)

    def followups(self, queryset) -> list[dict]:
        """The follow-ups about the person, open and done: what was to be done and when (never who did it)."""
        rows = []
        for followup in queryset.select_related("contact_person").order_by("due_on", "id"):
            rows.append(
                {
                    "due": self.value_of(followup, "due_on"),
                    "note": followup.note,
                    "done": self.value_of(followup, "done_at"),
                    "contact_person": self._contact_of(
                        f"followup:{followup.code}:contact_person", followup.contact_person
                    ),
                }
            )
        self.counted += len(rows)
        return rows

    @staticmethod
    def tags(links) -> list[dict]:
        """The register's labels put on the person, as one more field of the record (empty when there are none)."""
        names = sorted(set(links.values_list("tag__name", flat=True)), key=str.casefold)
        if not names:
            return []
        return [{"name": "tags", "label": str(Tag._meta.verbose_name_plural), "value": ", ".join(names)}]

    def consent_history(self, record: Customer | ContactPerson) -> dict:
        """The record's consents and objections, each with the notice text shown, from every source."""
        history: dict[str, list] = {"consents": [], "objections": []}
        for source in CONSENT_SOURCES:
            for key, rows in source(record, self.value_of).items():
                history[key] += rows
        self.counted += len(history["consents"]) + len(history["objections"])
        return history

    def customer(self, customer: Customer) -> dict:
        record = {
            "type": "customer",
            "title": str(Customer._meta.verbose_name),
            "name": customer.display_name,
            "fields": [
                *self.fields(customer, CUSTOMER_FIELDS),
                *self.tags(CustomerTag.objects.filter(customer=customer)),
            ],
            "interactions": self.interactions(Interaction.objects.filter(customer=customer)),
            "followups": self.followups(FollowUp.objects.filter(customer=customer)),
            "invoices": [self.fields(invoice, INVOICE_FIELDS) for invoice in Invoice.objects.filter(customer=customer)],
            "contact_persons": [],
            "withheld_contact_persons": 0,
            **self.consent_history(customer),
        }
        for person in ContactPerson.objects.filter(customer=customer):
            if person.pk in self.matched_people:
                tags = self.tags(ContactPersonTag.objects.filter(contact_person=person))
                record["contact_persons"].append([*self.fields(person, CONTACT_PERSON_FIELDS), *tags])
            else:
                record["withheld_contact_persons"] += 1
                self.redact(item=f"contact_person:{person.code}", note=_("contact person of the organisation"))
        self.counted += 1 + len(record["invoices"])
        return record

    def contact_person(self, person: ContactPerson) -> dict:
        self.counted += 1
        return {
            "type": "contact_person",
            "title": str(ContactPerson._meta.verbose_name),
            "name": person.display_name,
            "organisation": person.customer.organisation_name,
            "fields": [
                *self.fields(person, CONTACT_PERSON_FIELDS),
                *self.tags(ContactPersonTag.objects.filter(contact_person=person)),
            ],
            "interactions": self.interactions(Interaction.objects.filter(contact_person=person)),
            "followups": self.followups(FollowUp.objects.filter(contact_person=person)),
            **self.consent_history(person),
        }

    def message(self, message: ContactCentreMessage) -> dict:
        self.counted += 1
        return {
            "type": "message",
            "title": str(ContactCentreMessage._meta.verbose_name),
            "name": message.subject,
            "organisation": message.ordering_client.department,
            "fields": self.fields(message, MESSAGE_FIELDS),
        }


def processing_dates(matches: list[SubjectMatch]) -> list[str]:
    """Return the distinct days (ISO dates, Finnish time) on which the person's records were viewed."""
    by_model: dict[type, set[str]] = {}
    for match in matches:
        if match.customer_id:
            by_model.setdefault(Customer, set()).add(str(match.customer_id))
        if match.contact_person_id:
            by_model.setdefault(ContactPerson, set()).add(str(match.contact_person_id))
            # The organisation's page shows its contact persons: viewing it
            # processed this person's data too.
            by_model.setdefault(Customer, set()).add(str(match.contact_person.customer_id))
        if match.message_id:
            by_model.setdefault(ContactCentreMessage, set()).add(str(match.message_id))
    if not by_model:
        return []
    condition = Q()
    for model, pks in by_model.items():
        condition |= Q(content_type=ContentType.objects.get_for_model(model), object_pk__in=pks)
    tz = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    days = (
        LogEntry.objects.filter(condition, action=LogEntry.Action.ACCESS)
        .annotate(day=TruncDate("timestamp", tzinfo=tz))
        .values_list("day", flat=True)
        .distinct()
        .order_by("day")
    )
    return [day.isoformat() for day in days]


# Where the answer finds the recipients of the person's data (art. 15(1)(c)):
# the disclosure ledger of privacy.rights adds itself at start-up (PrivacyConfig.ready),
# so that request handling does not import the rights it carries. Each source
# takes (matches, register) and returns rows with date, recipient, data, legal_basis.
DISCLOSURE_SOURCES: list[Callable[[list[SubjectMatch], object], list[dict]]] = []


def disclosures_of(matches: list[SubjectMatch], register) -> list[dict]:
    """Return the recipients the person's data in this register was disclosed to, from every source."""
    return [row for source in DISCLOSURE_SOURCES for row in source(matches, register)]


def package_content(*, request: DataSubjectRequest) -> dict:
    """Gather the answer to an access request in the requester's language."""
    with translation.override(request.language):
        matches = list(
            request.matches.select_related(
                "register", "customer", "contact_person__customer", "message__ordering_client"
            )
        )
        collector = Collector(matched_people={m.contact_person_id for m in matches if m.contact_person_id})
        registers = []
        for part in request.register_parts.select_related("register__organisation").order_by("register__name_fi"):
            register = part.register
            content, _version = description_content_on(register)
            sections = [
                {"key": s.key, "heading": s.heading, "paragraphs": s.paragraphs, "items": s.items}
                for s in description_sections(content, request.language)
                if s.key in ARTICLE_15_SECTIONS
            ]
            records = []
            for match in (m for m in matches if m.register_id == register.pk):
                if match.customer_id:
                    records.append(collector.customer(match.customer))
                elif match.contact_person_id:
                    records.append(collector.contact_person(match.contact_person))
                else:
                    records.append(collector.message(match.message))
            registers.append(
                {
                    "slug": register.slug,
                    "name": register.name,
                    "records": records,
                    "disclosures": disclosures_of(matches, register),
                    "description": sections,
                }
            )
        return {
            "reference": request.reference,
            "language": request.language,
            "generated_on": timezone.localdate().isoformat(),
            "controller": {
                "name": request.organisation.name,
                "address": request.organisation.address,
                "email": request.organisation.registry_email,
            },
            "requester": {"name": request.requester_name},
            # The register owner's note to the answer, written at approval (services._package_note_add).
            "note": request.decision_text,
            "received_on": timezone.localdate(request.received_at).isoformat() if request.received_at else "",
            "found": any(r["records"] for r in registers),
            "registers": registers,
            "processing_dates": processing_dates(matches),
            "redactions": collector.redactions,
            "record_count": collector.counted,
        }


def person_content(customers: list[Customer]) -> list[dict]:
    """What a signed-in person's own records hold, register by register, in the active language: the same records,
    recipients, processing dates and art. 15 items as an access answer gives (the "my data" pages, selfservice)."""
    language = (translation.get_language() or settings.LANGUAGE_CODE)[:2]
    collector = Collector(matched_people=set())
    by_register: dict[int, list[Customer]] = {}
    for customer in customers:
        by_register.setdefault(customer.register_id, []).append(customer)
    parts = []
    for rows in by_register.values():
        register = rows[0].register
        # The records as an access request's confirmed matches (unsaved): the answer's sources read them so.
        matches = [SubjectMatch(register=register, customer=customer) for customer in rows]
        content, _version = description_content_on(register)
        parts.append(
            {
                "register": register,
                "controller": register.organisation.name,
                "records": [collector.customer(customer) for customer in rows],
                "disclosures": disclosures_of(matches, register),
                "processing_dates": processing_dates(matches),
                "description": [
                    {"key": s.key, "heading": s.heading, "paragraphs": s.paragraphs, "items": s.items}
                    for s in description_sections(content, language)
                    if s.key in ARTICLE_15_SECTIONS
                ],
            }
        )
    return sorted(parts, key=lambda part: (part["controller"], part["register"].name))


def render_html(content: dict) -> str:
    """Render the answer letter as a stand-alone HTML document."""
    with translation.override(content["language"]):
        return render_to_string("privacy/access_package.html", {"package": content})


def render_pdf(html: str, *, compress: bool = True) -> bytes:
    """Render the letter to PDF (WeasyPrint; nothing outside the document is fetched)."""
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    # Nothing outside the document is fetched, whatever the records contain.
    fetcher = URLFetcher(allowed_protocols={"data"})
    return HTML(string=html, base_url=None, url_fetcher=fetcher).write_pdf(uncompressed_pdf=not compress)


def render_json(content: dict) -> bytes:
    """Return the machine-readable copy (GDPR 15(3): a commonly used electronic form)."""
    return json.dumps(content, ensure_ascii=False, indent=2, sort_keys=True).encode()
