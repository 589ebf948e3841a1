"""The record of processing activities (GDPR art. 30(1)) built from the same data as the public descriptions.

`processing_records` is the machine-readable export (JSON); `processing_record_rows` turns one register's record
into the rows of the readable table that the HTML page and its PDF show. Texts are in the reader's language when
the controller wrote them in it, else in the language they exist in, marked with the "only available in" note.
"""

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from .description import ONLY_IN, description_content_on, description_snapshot
from .models import CustomerField, LegalBasis, Register


def _subject_categories(kind: str) -> list[str]:
    if kind == Register.Kind.CONTACT_CENTRE:
        return [_("people who contact the contact centre by e-mail or phone")]
    return [_("customers: persons and organisations"), _("contact persons of customer organisations")]


def processing_record(register: Register, *, base_url: str) -> dict:
    """Return the art. 30(1) items (a)-(g) of one register, with the published description it matches."""
    current = description_snapshot(register)
    _published, version = description_content_on(register)
    legal = dict(LegalBasis.choices)
    fields = dict(CustomerField.choices)
    return {
        "register": {
            "code": str(register.code),
            "slug": register.slug,
            "name": {"fi": register.name_fi, "sv": register.name_sv, "en": register.name_en},
            "part_of": register.parent.slug if register.parent_id else None,
            "kind": register.kind,
        },
        # (a) controller, DPO and the persons in charge
        "controller": {"name": register.organisation.name, **current["organisation"]},
        "data_protection_officer": register.dpo_contact,
        "owner": register.owner,
        "handlers": register.handlers,
        "contact_person": register.contact_person,
        "processors": register.processors,
        # (b) purposes and their legal bases
        "purposes": register.purposes,
        "legal_bases": [{"point": code, "label": str(legal.get(code, code))} for code in register.legal_bases],
        "national_basis": register.national_basis,
        "automated_decision_making": {
            "used": register.automated_decision_making,
            "details": register.automated_decision_details,
        },
        # (c) categories of data subjects and of personal data
        "data_subject_categories": _subject_categories(register.kind),
        "personal_data_categories": register.data_categories,
        "collected_fields": [{"field": f, "label": str(fields.get(f, f))} for f in register.collected_fields],
        "sources": register.regular_sources,
        # (d) recipients, (e) transfers to third countries
        "recipients": register.recipients,
        "openness_act_disclosures": register.openness_act_disclosures,
        "transfers_outside_eea": register.transfers_outside_eea or _("none"),
        # (f) time limits for erasure
        "retention": {
            "inactivity_months": register.retention_months,
            "criteria": register.retention_text,
            **current["system_retention"],
        },
        # (g) technical and organisational security measures
        "security_measures": register.protection_principles,
        "description": {
            "url": base_url.rstrip("/") + reverse("descriptions:detail", kwargs={"slug": register.slug}),
            "published_version": version.number if version else None,
            "published_at": version.published_at.isoformat() if version else None,
            "created_on": current["description_created_on"],
            "updated_on": current["description_updated_on"],
        },
    }


def processing_records(*, registers, base_url: str) -> dict:
    """Return the record of processing activities of the given registers."""
    return {
        "generated_at": timezone.now().isoformat(),
        "gdpr_article": "30(1)",
        "processing_activities": [
            processing_record(register, base_url=base_url) for register in registers.select_related("parent")
        ],
    }


def _lines(register: Register, base: str) -> list[str]:
    text, language = register.text_in(base)
    if not text:
        return []
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    if language != _reader_language():
        lines.append(f"({ONLY_IN[language]})")
    return lines


def _reader_language() -> str:
    return (get_language() or "fi")[:2]


def processing_record_rows(register: Register) -> list[dict]:
    """Return the art. 30(1) items of one register as table rows: point, item and the lines stating it."""
    legal = dict(LegalBasis.choices)
    fields = dict(CustomerField.choices)
    organisation = register.organisation
    controller = [organisation.name, organisation.address, organisation.phone, organisation.registry_email]
    if organisation.text_in("name")[1] != _reader_language():
        controller.append(f"({ONLY_IN[organisation.text_in('name')[1]]})")
    retention = []
    if register.retention_months is not None:
        retention.append(_("Deleted after %(months)s months without activity.") % {"months": register.retention_months})
    retention += _lines(register, "retention_text")
    automated = [
        _("yes") if register.automated_decision_making else _("no"),
        *_lines(register, "automated_decision_details"),
    ]
    rows = [
        ("30(1)(a)", _("Controller"), [line for line in controller if line]),
        ("30(1)(a)", _("Data protection officer"), _lines(register, "dpo_contact")),
        ("30(1)(a)", _("Register owner"), _lines(register, "owner")),
        ("30(1)(a)", _("Register handlers"), _lines(register, "handlers")),
        ("30(1)(a)", _("Contact person in register matters"), _lines(register, "contact_person")),
        ("", _("Processors and outsourced services"), _lines(register, "processors")),
        ("30(1)(b)", _("Purposes of processing"), _lines(register, "purposes")),
        ("30(1)(b)", _("Legal bases (GDPR art. 6(1))"), [str(legal.get(c, c)) for c in register.legal_bases]),
        ("30(1)(b)", _("National legal basis"), _lines(register, "national_basis")),
        ("", _("Automated decision-making and profiling"), automated),
        ("30(1)(c)", _("Categories of data subjects"), _subject_categories(register.kind)),
        (
            "30(1)(c)",
            _("Categories of personal data"),
            [*_lines(register, "data_categories"), *(str(fields.get(f, f)) for f in register.collected_fields)],
        ),
        ("", _("Regular sources of data"), _lines(register, "regular_sources")),
        ("30(1)(d)", _("Recipients"), _lines(register, "recipients")),
        (
            "30(1)(d)",
            _("Disclosures under the Act on the Openness of Government Activities (621/1999)"),
            _lines(register, "openness_act_disclosures"),
        ),
        ("30(1)(e)", _("Transfers outside the EU/EEA"), _lines(register, "transfers_outside_eea") or [_("none")]),
        ("30(1)(f)", _("Time limits for erasure"), retention),
        ("30(1)(g)", _("Technical and organisational security measures"), _lines(register, "protection_principles")),
    ]
    return [{"point": point, "item": item, "lines": lines} for point, item, lines in rows]
