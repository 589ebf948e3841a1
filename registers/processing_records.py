"""The record of processing activities (GDPR art. 30(1)) built from the same data as the public descriptions."""

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from .description import description_content_on, description_snapshot
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
        "controller": current["organisation"],
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
