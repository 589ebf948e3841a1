"""Decision letters of rectification, erasure, restriction, objection, consent withdrawal, portability and refusals.

A letter is rendered once, in the requester's language, from what the services recorded (corrections, the executed
erasure plan, objections, withdrawn consents, notified recipients, the refusal's grounds), stored as
`DecisionLetter` exactly as sent, and mailed through the request's outbox. Every letter names the Data Protection
Ombudsman and how to appeal (GDPR 12(4), 77, 79), whatever the outcome.
"""

import hashlib

from django.template.loader import render_to_string
from django.utils import timezone, translation

from crm.models import Customer
from privacy.requests.models import Correspondence, DataSubjectRequest, RequestEvent
from privacy.requests.outbox import correspondence_queue
from registers.models import Register

from .guards import portability_ineligible_registers, weighing_decided
from .models import (
    ConsentRecord,
    DecisionLetter,
    ErasureAction,
    ErasurePlan,
    NotificationTask,
    ObjectionRecord,
    ObjectionWeighing,
    RectificationItem,
    Refusal,
    RefusalGround,
)
from .objection_weighing import weighed_registers

Kind = DataSubjectRequest.Kind
State = DataSubjectRequest.State
Action = ErasureAction.Action


def _record_label(match) -> tuple[str, str]:
    record = match.record
    return str(record._meta.verbose_name), match.register.name


def _rectification(request: DataSubjectRequest) -> dict:
    applied, refused = [], []
    items = request.rectification_items.select_related(
        "match__register", "match__customer", "match__contact_person", "match__message"
    )
    for item in items:
        kind, register = _record_label(item.match)
        model = type(item.match.record)
        field = str(model._meta.get_field(item.field).verbose_name) if item.field else ""
        row = {"record": kind, "register": register, "field": field, "value": item.requested_value}
        if item.status == RectificationItem.Status.APPLIED:
            applied.append(row)
        elif item.status == RectificationItem.Status.REFUSED:
            refused.append({**row, "ground": item.get_ground_display(), "note": item.note})
    return {"applied": applied, "refused": refused}


def _field_labels(model, names) -> list[str]:
    return [str(model._meta.get_field(name).verbose_name) for name in names]


def _erasure(request: DataSubjectRequest) -> dict:
    plan = request.erasure_plans.filter(status=ErasurePlan.Status.EXECUTED).first()
    if plan is None:
        return {"executed": False}
    deleted: dict[tuple[str, str], int] = {}
    minimised, kept = [], []
    anonymised = mentions_redacted = mentions_kept = 0
    for action in plan.actions.select_related("register"):
        row = {
            "object": action.get_object_type_display(),
            "register": action.register.name,
            "grounds": action.ground_labels,
            "provisions": [str(RefusalGround(code).label) for code in action.provisions],
        }
        if action.action == Action.DELETE:
            key = (row["object"], row["register"])
            deleted[key] = deleted.get(key, 0) + 1
        elif action.action == Action.ANONYMISE:
            anonymised += 1
        elif action.action == Action.KEEP:
            kept.append(row)
        elif action.action == Action.MINIMISE:
            claim = ErasureAction.CLAIM_FIELDS
            erased = [n for n in Customer.DATA_FIELDS if n not in claim]
            row["kept_fields"] = _field_labels(Customer, [n for n in Customer.DATA_FIELDS if n in claim])
            row["erased_fields"] = _field_labels(Customer, [n for n in erased if n in action.fields])
            minimised.append(row)
        elif action.decision == ErasureAction.Decision.REDACT:
            mentions_redacted += 1
        else:
            mentions_kept += 1
    return {
        "executed": True,
        "deleted": [{"object": o, "register": r, "count": n} for (o, r), n in deleted.items()],
        "anonymised": anonymised,
        "minimised": minimised,
        "kept": kept,
        "mentions_redacted": mentions_redacted,
        "mentions_kept": mentions_kept,
    }


def _restriction(request: DataSubjectRequest) -> dict:
    applied = request.events.filter(action=RequestEvent.Action.RESTRICTION_APPLIED).last()
    registers = applied.payload.get("registers", []) if applied else []
    return {"registers": _register_names(request, registers)}


def _register_names(request: DataSubjectRequest, slugs: list[str]) -> list[str]:
    parts = request.register_parts.select_related("register")
    return [part.register.name for part in parts if part.register.slug in slugs]


def _objection(request: DataSubjectRequest) -> dict:
    # Every register where marketing stopped, the controller's other registers included (services.objection_apply).
    marketing = ObjectionRecord.objects.filter(request=request, purpose=ObjectionRecord.Purpose.DIRECT_MARKETING)
    registers = Register.objects.filter(pk__in=marketing.values("register_id")).order_by("slug")
    requested = set(request.register_parts.values_list("register_id", flat=True))
    return {
        "registers": [register.name for register in registers],
        "elsewhere": any(register.pk not in requested for register in registers),
        "weighing": _weighing(request),
    }


def _weighing(request: DataSubjectRequest) -> dict | None:
    """What the weighing of an objection to processing (art. 21(1)) decided, for the letter."""
    weighed = weighing_decided(request)
    if weighed is None:
        return None
    return {
        "stopped": weighed.state == ObjectionWeighing.State.PROCESSING_STOPPED,
        "registers": [register.name for register in weighed_registers(request)],
        "grounds": weighed.grounds_text,
        "decided_on": timezone.localdate(weighed.decided_at),
    }


def _consents(request: DataSubjectRequest) -> dict:
    consents = ConsentRecord.objects.filter(withdrawn_request=request).select_related("register")
    return {
        "withdrawn": [
            {"purpose": c.get_purpose_display(), "register": c.register.name, "given_on": c.given_at.date()}
            for c in consents
        ]
    }


def _portability(request: DataSubjectRequest) -> dict:
    ineligible = portability_ineligible_registers(request)
    eligible = [p.register for p in request.register_parts.select_related("register") if p.register not in ineligible]
    return {
        "eligible": [r.name for r in eligible],
        "ineligible": [r.name for r in ineligible],
        "package": request.packages.order_by("-generated_at").first() is not None,
    }


SECTIONS = {
    Kind.RECTIFICATION: _rectification,
    Kind.ERASURE: _erasure,
    Kind.RESTRICTION: _restriction,
    Kind.OBJECTION: _objection,
    Kind.CONSENT_WITHDRAWAL: _consents,
    Kind.PORTABILITY: _portability,
}


def letter_content(*, request: DataSubjectRequest, outcome: str, refusal: Refusal | None) -> dict:
    """Gather what the letter says, in the requester's language (call inside translation.override)."""
    section = SECTIONS.get(request.kind)
    return {
        "request": request,
        "organisation": request.organisation,
        "reference": request.reference,
        "date": timezone.localdate(),
        "received_on": timezone.localdate(request.received_at) if request.received_at else None,
        "kind": request.kind,
        "kind_label": request.get_kind_display(),
        "outcome": outcome,
        "refused": outcome == State.REFUSED,
        "partly_refused": outcome == State.PARTLY_REFUSED,
        "registers": [part.register.name for part in request.register_parts.select_related("register")],
        "found": request.matches.exists() or request.erasure_plans.filter(actions__isnull=False).exists(),
        "refusal": refusal,
        "grounds": refusal.ground_labels if refusal else [],
        "recipients": list(
            request.notification_tasks.exclude(status=NotificationTask.Status.JUSTIFIED).values_list(
                "recipient", flat=True
            )
        ),
        "section": section(request) if section else {},
    }


def _render(request: DataSubjectRequest, content: dict) -> tuple[str, str, str]:
    with translation.override(request.language):
        subject = " ".join(render_to_string("privacy/rights/letter_subject.txt", content).split())
        html = render_to_string("privacy/rights/letter.html", content)
        text = render_to_string("privacy/rights/letter.txt", content)
    return subject, html, text


def letter_create(*, request: DataSubjectRequest, actor, outcome: str, refusal: Refusal | None = None):
    """Render, store and mail the decision letter (call inside the service's transaction, before the move)."""
    with translation.override(request.language):
        content = letter_content(request=request, outcome=outcome, refusal=refusal)
    subject, html, text = _render(request, content)
    letter = DecisionLetter.objects.create(
        request=request,
        language=request.language,
        subject=subject[:300],
        html=html,
        text=text,
        sha256=hashlib.sha256(html.encode()).hexdigest(),
        created_at=timezone.now(),
        created_by=actor,
    )
    correspondence_queue(request=request, kind=Correspondence.Kind.DECISION, message=text)
    return letter
