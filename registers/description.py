"""The public register description (tietosuojaseloste / registerbeskrivning / privacy notice).

A description is generated from the `Register` row: `description_snapshot` freezes the fields into JSON,
`description_publish` stores the snapshot as a numbered `RegisterDescriptionVersion`, and
`description_sections` turns any snapshot into the headings of DOMAIN.md's list, in the active language.
Free-text fields are kept in Finnish, Swedish and English and shown as the controller wrote them, in the reader's
language when written in it, else in another language with an "only available in ..." note; headings and generated
sentences are translated. `description_missing` lists what the law requires a description to state and the register
does not: publishing refuses such a description.
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
from .models import (
    DESCRIPTION_TEXTS,
    TEXT_LANGUAGES,
    CustomerField,
    LegalBasis,
    Register,
    RegisterDescriptionVersion,
    pick_language,
)

# Register fields that make up the description; each text of DESCRIPTION_TEXTS in its three languages.
DESCRIPTION_FIELDS = [
    "name_fi",
    "name_sv",
    "name_en",
    "kind",
    *(f"{base}_{language}" for base in DESCRIPTION_TEXTS for language in TEXT_LANGUAGES),
    "legal_bases",
    "automated_decision_making",
    "collected_fields",
    "direct_marketing",
    "marketing_disclosures",
    "retention_months",
    "audit_retention_months",
    "access_answer_days",
    "description_created_on",
    "description_updated_on",
]
ORGANISATION_FIELDS = ["name_fi", "name_sv", "name_en", "public_authority", "address", "phone", "registry_email"]

# The note beside a text shown in another language than the reader's; whole sentences, since Finnish
# inflects the language name ("vain ruotsiksi").
ONLY_IN = {
    "fi": gettext_lazy("Only available in Finnish"),
    "sv": gettext_lazy("Only available in Swedish"),
    "en": gettext_lazy("Only available in English"),
}

# The Data Protection Ombudsman's public contact details (tietosuoja.fi, checked 2025).
OMBUDSMAN_CONTACT = "Tietosuojavaltuutetun toimisto / Dataombudsmannens byrå, PL 800, 00531 Helsinki, tietosuoja@om.fi"
OMBUDSMAN_URL = "https://tietosuoja.fi"

ERROR_NOTHING_CHANGED = gettext_lazy("The description has not changed since the last published version.")
ERROR_INCOMPLETE = gettext_lazy("The description was not published because it does not state: %(items)s.")


class DescriptionIncompleteError(ValidationError):
    """Publishing refused: the description lacks items the law requires. `missing` lists them, translated."""

    def __init__(self, missing: list[str]):
        self.missing = missing
        super().__init__(ERROR_INCOMPLETE, code="incomplete", params={"items": "; ".join(missing)})


@dataclasses.dataclass(frozen=True)
class Section:
    number: int
    key: str
    heading: str
    paragraphs: list[str]
    items: list[str] = dataclasses.field(default_factory=list)
    link_url: str = ""
    link_text: str = ""
    # "Only available in Finnish" when a text of the section is not written in the reader's language.
    note: str = ""
    # The language of the paragraphs when they are such a text, for the page's lang attribute.
    lang: str = ""


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
    missing = description_missing(content)
    if missing:
        raise DescriptionIncompleteError(missing)
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


@dataclasses.dataclass(frozen=True)
class _Shown:
    """A text of a snapshot as the reader sees it: the text and the language it is written in."""

    text: str
    language: str
    fallback: bool  # written in another language than the reader's


def _localized(values: dict, key: str, language: str) -> _Shown:
    """Return the `key` text of a snapshot (or of its organisation) in `language`, else in another language.

    A version published before the texts became trilingual holds one value under `key`, in whatever language
    the controller wrote it: it is shown as it is, without a note that could name the wrong language.
    """
    texts = {code: values.get(f"{key}_{code}") or "" for code in TEXT_LANGUAGES}
    if not any(texts.values()):
        return _Shown(values.get(key) or "", language, False)
    text, shown = pick_language(texts, language)
    return _Shown(text, shown, shown != language)


def _note(shown: list[_Shown]) -> str:
    languages = list(dict.fromkeys(s.language for s in shown if s.fallback and s.text))
    return " ".join(str(ONLY_IN.get(code, "")) for code in languages)


def _name(content: dict, language: str) -> str:
    return content.get(f"name_{language}") or content.get("name_fi", "")


def description_title(content: dict, language: str) -> str:
    """Return the register's name in the given language (Finnish when missing)."""
    return _name(content, language)


def organisation_name(content: dict, language: str) -> str:
    """Return the controller's name in a snapshot, in the given language when it has one."""
    return _localized(content.get("organisation", {}), "name", language).text


def description_missing(content: dict) -> list[str]:
    """Return, translated, the items GDPR arts. 13, 30 and 37 require a description to state and this one lacks."""
    organisation = content.get("organisation", {})

    def stated(key: str) -> bool:
        return bool(_localized(content, key, "fi").text.strip())

    missing = []
    if not (organisation.get("address") or "").strip():
        missing.append(_("the controller's postal address"))
    if not (organisation.get("registry_email") or "").strip():
        missing.append(_("the controller's e-mail address"))
    if organisation.get("public_authority", True) and not stated("dpo_contact"):
        missing.append(_("the data protection officer's contact details (required of a public authority)"))
    if not content.get("legal_bases"):
        missing.append(_("the legal basis of processing"))
    # A contact centre's periods are the system's own rules, stated in every description.
    if (
        content.get("retention_months") is None
        and not stated("retention_text")
        and content.get("kind") != Register.Kind.CONTACT_CENTRE
    ):
        missing.append(_("the retention period or the criteria for it"))
    return missing


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
    if content.get("audit_retention_months"):
        sentences.append(
            ngettext(
                "The log of who viewed and changed the data is kept for %(months)s month and then deleted.",
                "The log of who viewed and changed the data is kept for %(months)s months and then deleted.",
                content["audit_retention_months"],
            )
            % {"months": content["audit_retention_months"]}
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


def _contacts(content: dict, language: str) -> tuple[list[str], list[_Shown]]:
    items, shown = [], []
    for key, label in (
        ("owner", _("Register owner")),
        ("handlers", _("Register handlers")),
        ("contact_person", _("Contact person in register matters")),
        ("dpo_contact", _("Data protection officer")),
    ):
        text = _localized(content, key, language)
        if text.text:
            items.append(f"{label}: {text.text}")
            shown.append(text)
    return items, shown


def _controller(content: dict, language: str) -> tuple[list[str], _Shown]:
    organisation = content.get("organisation", {})
    name = _localized(organisation, "name", language)
    lines = [name.text]
    lines += [organisation[key] for key in ("address", "phone", "registry_email") if organisation.get(key)]
    return [line for line in lines if line], name


def description_sections(content: dict, language: str) -> list[Section]:
    """Render a snapshot into the numbered headings of a register description, in the given language.

    Each free text is shown in `language` when written in it, else in the first language it is written in
    (Finnish, Swedish, English), and its section carries the "only available in ..." note.
    """
    legal_labels = dict(LegalBasis.choices)
    field_labels = dict(CustomerField.choices)
    adm = content.get("automated_decision_making")
    request_url = _request_form_url()
    answer_days = content.get("access_answer_days") or 30

    def text(key: str) -> _Shown:
        return _localized(content, key, language)

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
    controller_lines, controller_name = _controller(content, language)
    contact_items, contact_texts = _contacts(content, language)
    processors, purposes, national = text("processors"), text("purposes"), text("national_basis")
    adm_details, categories, sources = (
        text("automated_decision_details"),
        text("data_categories"),
        text("regular_sources"),
    )
    recipients, openness = text("recipients"), text("openness_act_disclosures")
    transfers, retention, protection = (
        text("transfers_outside_eea"),
        text("retention_text"),
        text("protection_principles"),
    )
    # key, heading, paragraphs, items, the free texts shown, whether the paragraphs are those texts alone
    raw = [
        (
            "name",
            _("Name of the register"),
            [_name(content, language)],
            [_name(p, language) for p in content.get("parts", [])],
            [],
            False,
        ),
        ("controller", _("Controller"), controller_lines, [], [controller_name], False),
        ("contacts", _("Persons in charge and contact details"), [], contact_items, contact_texts, False),
        (
            "processors",
            _("Processors and outsourced services"),
            _text(processors.text) or [_("None.")],
            [],
            [processors],
            True,
        ),
        (
            "purposes",
            _("Purposes of processing"),
            _text(purposes.text),
            # Campaign e-mail is offered only where this is published (issue 18).
            [_("Direct marketing to the register's customers; every message has a link to forbid it.")]
            if content.get("direct_marketing")
            else [],
            [purposes],
            True,
        ),
        (
            "legal_basis",
            _("Legal basis of processing"),
            _text(national.text),
            [str(legal_labels.get(code, code)) for code in content.get("legal_bases", [])],
            [national],
            True,
        ),
        (
            "automated_decisions",
            _("Automated decision-making and profiling"),
            [
                _("Yes.") if adm else _("No automated decisions or profiling are made."),
                *_text(adm_details.text),
            ],
            [],
            [adm_details],
            False,
        ),
        (
            "data_categories",
            _("Categories of personal data"),
            _text(categories.text),
            [str(field_labels.get(f, f)) for f in content.get("collected_fields", [])],
            [categories],
            True,
        ),
        ("sources", _("Regular sources of data"), _text(sources.text) or [_("None.")], [], [sources], True),
        (
            "recipients",
            _("Regular disclosures and recipients"),
            _text(recipients.text) or [_("None.")],
            [],
            [recipients],
            True,
        ),
        (
            "openness_act",
            _("Disclosures under the Act on the Openness of Government Activities (621/1999)"),
            _text(openness.text) or [_("None.")],
            [
                _("Personal data may be disclosed for direct marketing, opinion or market research or address use.")
                if content.get("marketing_disclosures")
                else _(
                    "Personal data is not disclosed for direct marketing, opinion or market research or address use."
                )
            ],
            [openness],
            True,
        ),
        (
            "transfers",
            _("Transfers outside the EU/EEA"),
            _text(transfers.text) or [_("Personal data is not transferred outside the EU/EEA.")],
            [],
            [transfers],
            True,
        ),
        (
            "retention",
            _("Retention periods"),
            _text(retention.text),
            _retention_sentences(content),
            [retention],
            True,
        ),
        (
            "protection",
            _("Principles of protecting the register"),
            _text(protection.text) or [_("Not stated.")],
            [],
            [protection],
            True,
        ),
        ("rights", _("Rights of the data subject and how to use them"), how, rights, [], False),
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
            [],
            False,
        ),
    ]
    sections = []
    for number, (key, heading, paragraphs, items, shown, paragraphs_are_text) in enumerate(raw, start=1):
        fallback = [s for s in shown if s.fallback and s.text]
        lang = fallback[0].language if paragraphs_are_text and fallback else ""
        sections.append(
            Section(
                number=number,
                key=key,
                heading=heading,
                paragraphs=paragraphs,
                items=items,
                note=_note(shown),
                lang=lang,
            )
        )
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
