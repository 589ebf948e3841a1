"""The public register description (tietosuojaseloste / registerbeskrivning / privacy notice).

A description is generated from the `Register` row: `description_snapshot` freezes the fields into JSON,
`description_publish` stores the snapshot as a numbered `RegisterDescriptionVersion`, and
`description_sections` turns any snapshot into the headings of DOMAIN.md's list, in the active language.
Free-text fields are shown as the controller wrote them; headings and generated sentences are translated.
"""

import dataclasses
import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from .audit_context import set_actor
from .models import CustomerField, LegalBasis, Register, RegisterDescriptionVersion

# Register fields that make up the description, in the order of DOMAIN.md's list.
DESCRIPTION_FIELDS = [
    "name_fi",
    "name_sv",
    "name_en",
    "kind",
    "owner",
    "handlers",
    "contact_person",
    "dpo_contact",
    "processors",
    "purposes",
    "legal_bases",
    "national_basis",
    "automated_decision_making",
    "automated_decision_details",
    "data_categories",
    "collected_fields",
    "regular_sources",
    "recipients",
    "openness_act_disclosures",
    "transfers_outside_eea",
    "retention_months",
    "retention_text",
    "protection_principles",
    "access_answer_days",
    "description_created_on",
    "description_updated_on",
]
ORGANISATION_FIELDS = ["name", "address", "phone", "registry_email"]

# The Data Protection Ombudsman's public contact details (tietosuoja.fi, checked 2025).
OMBUDSMAN_CONTACT = "Tietosuojavaltuutetun toimisto / Dataombudsmannens byrå, PL 800, 00531 Helsinki, tietosuoja@om.fi"
OMBUDSMAN_URL = "https://tietosuoja.fi"

ERROR_NOTHING_CHANGED = gettext_lazy("The description has not changed since the last published version.")


@dataclasses.dataclass(frozen=True)
class Section:
    number: int
    key: str
    heading: str
    paragraphs: list[str]
    items: list[str] = dataclasses.field(default_factory=list)
    link_url: str = ""
    link_text: str = ""


def _jsonable(value):
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def description_snapshot(register: Register) -> dict:
    """Freeze the description fields of a register, its controller and the system-wide retention rules."""
    content = {name: _jsonable(getattr(register, name)) for name in DESCRIPTION_FIELDS}
    content["slug"] = register.slug
    # Until a description is published its dates are those of the register row itself.
    content["description_created_on"] = content["description_created_on"] or _jsonable(
        timezone.localdate(register.created_at)
    )
    content["description_updated_on"] = content["description_updated_on"] or _jsonable(
        timezone.localdate(register.updated_at)
    )
    content["organisation"] = {name: getattr(register.organisation, name) for name in ORGANISATION_FIELDS}
    content["parts"] = [
        {"name_fi": part.name_fi, "name_sv": part.name_sv, "name_en": part.name_en}
        for part in register.parts.order_by("name_fi")
    ]
    # The retention sentences quote these settings; freezing them keeps an old notice true to its day.
    content["system_retention"] = {
        "call_recording_months": settings.CALL_RECORDING_RETENTION_MONTHS,
        "message_grace_days": settings.CONTACT_CENTRE_MESSAGE_GRACE_DAYS,
        "backup_days": settings.BACKUP_RETENTION_DAYS,
    }
    return content


def description_changed_fields(old: dict | None, new: dict) -> list[str]:
    """Return the keys whose values differ between two snapshots."""
    if old is None:
        return sorted(new)
    return sorted(key for key in set(old) | set(new) if old.get(key) != new.get(key))


def description_versions(register: Register):
    """Return the published versions of a register, newest first."""
    return RegisterDescriptionVersion.objects.filter(register=register).select_related("published_by")


def description_version_on(register: Register, on: datetime.date) -> RegisterDescriptionVersion | None:
    """Return the version in force at the end of the given day, or None if none had been published."""
    end_of_day = timezone.make_aware(datetime.datetime.combine(on + datetime.timedelta(days=1), datetime.time()))
    return description_versions(register).filter(published_at__lt=end_of_day).order_by("-published_at").first()


def description_content_on(register: Register, on: datetime.date | None = None) -> tuple[dict | None, object]:
    """Return (content, version) of the description in force on `on` (default today).

    A register that has never been published shows its current data: until the first publication the
    stored fields are the description. Before the first version, or before the register existed, there
    was no notice, and (None, None) is returned.
    """
    if on is not None:
        version = description_version_on(register, on)
        if version is not None:
            return version.content, version
        first_published = description_versions(register).order_by("published_at").first()
        if first_published is not None or on < timezone.localdate(register.created_at):
            return None, None
        return description_snapshot(register), None
    version = description_versions(register).order_by("-published_at").first()
    if version is not None:
        return version.content, version
    return description_snapshot(register), None


@transaction.atomic
def description_publish(*, actor, register: Register, note: str = "") -> RegisterDescriptionVersion:
    """Publish the register's current description as a new version and stamp its updated date."""
    register = Register.objects.select_for_update().select_related("organisation").get(pk=register.pk)
    previous = description_versions(register).order_by("-number").first()
    today = timezone.localdate()
    if register.description_created_on is None:
        register.description_created_on = timezone.localdate(register.created_at)
    register.description_updated_on = today
    content = description_snapshot(register)
    changed = description_changed_fields(previous.content if previous else None, content)
    # The updated date alone is not a change worth a new version.
    if previous is not None and not set(changed) - {"description_updated_on"}:
        raise ValidationError(ERROR_NOTHING_CHANGED)
    register.full_clean()
    with set_actor(actor):
        register.save(update_fields=["description_created_on", "description_updated_on", "updated_at"])
    number = (description_versions(register).aggregate(n=Max("number"))["n"] or 0) + 1
    version = RegisterDescriptionVersion(
        register=register,
        number=number,
        content=content,
        changed_fields=changed,
        change_note=note,
        published_by=actor,
    )
    version.full_clean()
    version.save()
    return version


def _text(value: str | None) -> list[str]:
    return [p.strip() for p in (value or "").split("\n\n") if p.strip()]


def _name(content: dict, language: str) -> str:
    return content.get(f"name_{language}") or content.get("name_fi", "")


def description_title(content: dict, language: str) -> str:
    """Return the register's name in the given language (Finnish when missing)."""
    return _name(content, language)


def _request_form_url() -> str:
    # The public request form belongs to the privacy app; registers must not import it.
    for name in ("privacy:request-create", "privacy:public-request", "privacy:request-form"):
        try:
            return reverse(name)
        except NoReverseMatch:
            continue
    return ""


def _retention_sentences(content: dict) -> list[str]:
    system = content.get("system_retention", {})
    sentences = []
    months = content.get("retention_months")
    if content.get("kind") == Register.Kind.CONTACT_CENTRE:
        sentences.append(
            ngettext(
                "Call recordings are destroyed %(months)s month after the call.",
                "Call recordings are destroyed %(months)s months after the call.",
                system.get("call_recording_months", 6),
            )
            % {"months": system.get("call_recording_months", 6)}
        )
        sentences.append(
            ngettext(
                "Messages are kept as long as the ordering department is a client of the contact centre and are "
                "deleted %(days)s day after the client relationship has ended.",
                "Messages are kept as long as the ordering department is a client of the contact centre and are "
                "deleted %(days)s days after the client relationship has ended.",
                system.get("message_grace_days", 0),
            )
            % {"days": system.get("message_grace_days", 0)}
        )
    elif months:
        sentences.append(
            ngettext(
                "The data of a customer who has had no activity for %(months)s month is deleted automatically, "
                "together with the contact persons, history and invoices recorded for the customer.",
                "The data of a customer who has had no activity for %(months)s months is deleted automatically, "
                "together with the contact persons, history and invoices recorded for the customer.",
                months,
            )
            % {"months": months}
        )
    else:
        sentences.append(_("Customer data is not deleted automatically; it is kept until its erasure is requested."))
    sentences.append(
        _(
            "Deletion waits while an invoice is open or a debt is in collection, while a data-subject request "
            "concerning the data is open, or while a legal hold set by the register owner is in force."
        )
    )
    if system.get("backup_days"):
        sentences.append(
            ngettext(
                "Backups are kept for %(days)s day; deleted data disappears from the backups when they age out.",
                "Backups are kept for %(days)s days; deleted data disappears from the backups when they age out.",
                system["backup_days"],
            )
            % {"days": system["backup_days"]}
        )
    return sentences


def _contacts(content: dict) -> list[str]:
    items = []
    for key, label in (
        ("owner", _("Register owner")),
        ("handlers", _("Register handlers")),
        ("contact_person", _("Contact person in register matters")),
        ("dpo_contact", _("Data protection officer")),
    ):
        if content.get(key):
            items.append(f"{label}: {content[key]}")
    return items


def _controller(content: dict) -> list[str]:
    organisation = content.get("organisation", {})
    lines = [organisation.get("name", "")]
    lines += [organisation[key] for key in ("address", "phone", "registry_email") if organisation.get(key)]
    return [line for line in lines if line]


def description_sections(content: dict, language: str) -> list[Section]:
    """Render a snapshot into the numbered headings of a register description, in the active language."""
    legal_labels = dict(LegalBasis.choices)
    field_labels = dict(CustomerField.choices)
    adm = content.get("automated_decision_making")
    request_url = _request_form_url()
    answer_days = content.get("access_answer_days") or 30
    rights = [
        _("Right of access: you may ask what data about you is in the register."),
        _("Right to rectification: you may ask for wrong or outdated data to be corrected."),
        _("Right to erasure: you may ask for your data to be deleted where no law or open matter requires it."),
        _("Right to restriction of processing while the accuracy or lawfulness of the data is being checked."),
        _("Right to object to processing, and to forbid direct marketing, distance selling and opinion research."),
        _("Right to data portability where processing is based on consent or a contract."),
        _("Right to withdraw consent at any time where processing is based on consent."),
    ]
    how = [
        ngettext(
            "An access request is answered within %(days)s day.",
            "An access request is answered within %(days)s days.",
            answer_days,
        )
        % {"days": answer_days},
    ]
    if request_url:
        how.insert(0, _("Send your request with the online request form or in writing to the controller."))
    else:
        how.insert(0, _("Send your request in writing to the controller or visit its registry office."))
    raw = [
        (
            "name",
            _("Name of the register"),
            [_name(content, language)],
            [_name(p, language) for p in content.get("parts", [])],
        ),
        ("controller", _("Controller"), _controller(content), []),
        ("contacts", _("Persons in charge and contact details"), [], _contacts(content)),
        ("processors", _("Processors and outsourced services"), _text(content.get("processors")) or [_("None.")], []),
        ("purposes", _("Purposes of processing"), _text(content.get("purposes")), []),
        (
            "legal_basis",
            _("Legal basis of processing"),
            _text(content.get("national_basis")),
            [str(legal_labels.get(code, code)) for code in content.get("legal_bases", [])],
        ),
        (
            "automated_decisions",
            _("Automated decision-making and profiling"),
            [
                _("Yes.") if adm else _("No automated decisions or profiling are made."),
                *_text(content.get("automated_decision_details")),
            ],
            [],
        ),
        (
            "data_categories",
            _("Categories of personal data"),
            _text(content.get("data_categories")),
            [str(field_labels.get(f, f)) for f in content.get("collected_fields", [])],
        ),
        ("sources", _("Regular sources of data"), _text(content.get("regular_sources")) or [_("None.")], []),
        ("recipients", _("Regular disclosures and recipients"), _text(content.get("recipients")) or [_("None.")], []),
        (
            "openness_act",
            _("Disclosures under the Act on the Openness of Government Activities (621/1999)"),
            _text(content.get("openness_act_disclosures")) or [_("None.")],
            [],
        ),
        (
            "transfers",
            _("Transfers outside the EU/EEA"),
            _text(content.get("transfers_outside_eea")) or [_("Personal data is not transferred outside the EU/EEA.")],
            [],
        ),
        ("retention", _("Retention periods"), _text(content.get("retention_text")), _retention_sentences(content)),
        (
            "protection",
            _("Principles of protecting the register"),
            _text(content.get("protection_principles")) or [_("Not stated.")],
            [],
        ),
        ("rights", _("Rights of the data subject and how to use them"), how, rights),
        (
            "complaint",
            _("Right to lodge a complaint"),
            [
                _(
                    "If you consider that the processing of your personal data breaks the law, you have the right "
                    "to lodge a complaint with the Data Protection Ombudsman."
                ),
                f"{OMBUDSMAN_CONTACT}, {OMBUDSMAN_URL}",
            ],
            [],
        ),
    ]
    sections = [
        Section(number=i, key=key, heading=heading, paragraphs=paragraphs, items=items)
        for i, (key, heading, paragraphs, items) in enumerate(raw, start=1)
    ]
    if request_url:
        index = next(i for i, s in enumerate(sections) if s.key == "rights")
        sections[index] = dataclasses.replace(sections[index], link_url=request_url, link_text=_("Online request form"))
    return sections


def description_dates(content: dict) -> dict[str, datetime.date | None]:
    """Return the created and updated dates of a snapshot as dates."""
    return {
        "created": parse_date(content["description_created_on"]) if content.get("description_created_on") else None,
        "updated": parse_date(content["description_updated_on"]) if content.get("description_updated_on") else None,
    }
