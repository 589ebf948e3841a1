"""A person's consents and objections as they read them in an access answer, on the "my data" pages and through the
GDPR API: each with the text they were shown (GDPR 7(1)), how and when it was given and withdrawn, and whether they
acted themself or the controller's staff recorded it. Staff names are left out, as everywhere in an answer
(other people's data, GDPR 15(4)).

`history_for_answer` is a source of `privacy.requests.access_package.CONSENT_SOURCES`, added at start-up
(PrivacyConfig.ready), so that the answer's collector does not import the rights it shows.
"""

from collections.abc import Callable

from django.utils.translation import gettext as _

from crm.models import ContactPerson, Customer

from .models import ConsentRecord, ObjectionRecord


def _who(user) -> str:
    return _("the controller's staff") if user is not None else _("you yourself")


def _notice(prefix: str, notice, language_label: str, text: str) -> dict:
    if notice is None:
        return {f"{prefix}_version": _("not recorded")}
    return {f"{prefix}_version": notice.version, f"{prefix}_language": language_label, f"{prefix}_text": text}


def _consent_row(consent: ConsentRecord, value_of: Callable) -> dict:
    row = {
        "purpose": value_of(consent, "purpose"),
        "given": value_of(consent, "given_at"),
        "given_through": value_of(consent, "given_channel"),
        "given_by": _who(consent.recorded_by),
        **_notice("notice", consent.notice, value_of(consent, "notice_language"), consent.notice_text),
    }
    if consent.withdrawn_at is not None:
        row |= {
            "withdrawn": value_of(consent, "withdrawn_at"),
            "withdrawn_through": value_of(consent, "withdrawn_channel"),
            "withdrawn_by": _who(consent.withdrawn_by),
        }
        if consent.withdrawn_notice is not None:
            row |= _notice(
                "withdrawal_notice",
                consent.withdrawn_notice,
                value_of(consent, "withdrawn_notice_language"),
                consent.withdrawn_notice_text,
            )
    return row


def _objection_row(objection: ObjectionRecord, value_of: Callable) -> dict:
    row = {
        "purpose": value_of(objection, "purpose"),
        "given": value_of(objection, "given_at"),
        "given_through": value_of(objection, "channel"),
        "given_by": _who(objection.recorded_by),
        **_notice("notice", objection.notice, value_of(objection, "notice_language"), objection.notice_text),
    }
    if objection.withdrawn_at is not None:
        row |= {
            "withdrawn": value_of(objection, "withdrawn_at"),
            "withdrawn_through": value_of(objection, "withdrawn_channel"),
            "withdrawn_by": _who(objection.withdrawn_by),
        }
    return row


def history_for_answer(record: Customer | ContactPerson, value_of: Callable) -> dict:
    """Return {"consents": [...], "objections": [...]} of a customer or a contact person, oldest first."""
    evidence = ("notice", "recorded_by", "withdrawn_by")
    if isinstance(record, Customer):
        consents = ConsentRecord.objects.filter(customer=record).select_related(*evidence, "withdrawn_notice")
        # A contact person's own objection is theirs, not the organisation's.
        objections = ObjectionRecord.objects.filter(customer=record, contact_person=None)
    else:
        consents = ConsentRecord.objects.none()
        objections = ObjectionRecord.objects.filter(contact_person=record)
    return {
        "consents": [_consent_row(c, value_of) for c in consents.order_by("given_at", "id")],
        "objections": [
            _objection_row(o, value_of) for o in objections.select_related(*evidence).order_by("given_at", "id")
        ],
    }
