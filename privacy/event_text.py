"""The history of a data-subject request, worded in the reader's language.

A `RequestEvent` keeps codes and identifiers (action, states, `payload`) and,
in `reason`, only what a person typed. The sentences are made here, when the
page is read, so that a Swedish reader sees Swedish whoever caused the step
and in whatever language. It lives beside the two apps, not in
`privacy.requests`, because it also names the labels of the rights of
arts. 16-21, which request handling does not import.

Rows written before the codes existed hold English system text in `reason`
(or the intake channel and identification method in the language of the
moment); the known phrases are read back as their codes here, since the
trail itself is append-only evidence and is not rewritten.
"""

import datetime
import re

from django.core.exceptions import FieldDoesNotExist
from django.utils import formats, timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from crm.models import ContactPerson, Customer
from privacy.requests.models import Correspondence, DataSubjectRequest, RequestEvent
from privacy.rights.models import ErasureAction, NotificationTask, ObjectionWeighing, RefusalGround, RestrictionLift
from registers.models import Register

Action = RequestEvent.Action
Note = RequestEvent.Note
State = DataSubjectRequest.State

# What services.py wrote into `reason` before the notes were codes.
LEGACY_NOTES = {
    "e-mail confirmed": Note.EMAIL_CONFIRMED,
    "recorded by staff": Note.RECORDED_BY_STAFF,
    "oral access request answered on site": Note.ANSWERED_ON_SITE,
    "withdrawn by the requester": Note.WITHDRAWN_BY_REQUESTER,
    "answer prepared": Note.ANSWER_PREPARED,
    "answer approved": Note.ANSWER_APPROVED,
    "note of the approver added": Note.APPROVER_NOTE_ADDED,
    "decided": Note.DECIDED,
}
REFERENCE = r"DSR-\d{4}-\d+"
LEGACY_REPEAT = re.compile(rf"repeat of ({REFERENCE})")
NO_STATE = "\u2013"  # the arrival has no state before it


def _label(choices, code) -> str:
    """The translated label of a code, or the code itself when it is not (or no longer) a choice."""
    try:
        return str(choices(code).label)
    except ValueError:
        return str(code)


def _decoded(event: RequestEvent) -> tuple[dict, str]:
    """Return the event's payload and typed reason, reading the system text of old rows as codes."""
    payload = dict(event.payload or {})
    reason = (event.reason or "").strip()
    if not reason:
        return payload, reason
    if event.action == Action.TRANSITION:
        if not event.from_state and "channel" not in payload:
            # The intake channel was stored as its name in the language of the moment.
            return {**payload, "channel": event.request.channel}, ""
        if event.to_state == State.TRIAGE and "method" not in payload and event.request.identity_method:
            # So was the identification method on the move to triage (the only way there).
            return {**payload, "method": event.request.identity_method}, ""
        repeat = LEGACY_REPEAT.fullmatch(reason)
        if repeat:
            return {**payload, "note": Note.REPEAT, "original": repeat.group(1)}, ""
        if event.to_state == State.DUPLICATE and re.fullmatch(REFERENCE, reason):
            return {**payload, "original": reason}, ""
    if reason in LEGACY_NOTES and not isinstance(payload.get("note"), str):
        return {**payload, "note": LEGACY_NOTES[reason]}, ""
    return payload, reason


def _register_names(request: DataSubjectRequest) -> dict[str, str]:
    # One query per page: the events of a request share its instance.
    names = getattr(request, "_event_register_names", None)
    if names is None:
        names = {register.slug: register.name for register in request.registers.all()}
        request._event_register_names = names
    return names


def _registers(event: RequestEvent, slugs) -> str:
    names = _register_names(event.request)
    missing = [slug for slug in slugs if slug not in names]
    if missing:
        # An objection reaches the controller's other registers too (privacy.rights.services.objection_apply).
        names.update({register.slug: register.name for register in Register.objects.filter(slug__in=missing)})
    return ", ".join(names.get(slug, slug) for slug in slugs)


def _count(value) -> int:
    return len(value) if isinstance(value, list | tuple) else int(value or 0)


def _records(count: int) -> str:
    return ngettext("%(count)s record", "%(count)s records", count) % {"count": count}


def _date(value: str) -> str:
    moment = parse_datetime(value) if value else None
    if moment is None:
        return value
    if isinstance(moment, datetime.datetime) and timezone.is_aware(moment):
        moment = timezone.localtime(moment)
    return formats.date_format(moment, "SHORT_DATE_FORMAT")


def _field_label(field: str) -> str:
    for model in (Customer, ContactPerson):
        try:
            return str(model._meta.get_field(field).verbose_name)
        except FieldDoesNotExist:
            continue
    return field


def _note(payload: dict) -> list[str]:
    note, original = payload.get("note"), payload.get("original")
    if note == Note.REPEAT and original:
        return [_("repeat of request %(reference)s") % {"reference": original}]
    parts = [_label(Note, note)] if isinstance(note, str) and note else []
    if original:
        parts.append(_("duplicate of request %(reference)s") % {"reference": original})
    return parts


def _transition(event: RequestEvent, payload: dict) -> list[str]:
    parts = []
    if event.from_state != event.to_state:
        source = _label(State, event.from_state) if event.from_state else NO_STATE
        parts.append(f"{source} → {_label(State, event.to_state)}")
    if payload.get("channel"):
        parts.append(_label(DataSubjectRequest.Channel, payload["channel"]))
    if payload.get("method"):
        parts.append(_label(DataSubjectRequest.IdentityMethod, payload["method"]))
    return parts + _note(payload)


def _letter(event: RequestEvent, payload: dict) -> list[str]:
    # Letters are written in the requester's language (privacy.requests.emails).
    language = payload.get("language") or event.request.language
    return [f"{_label(Correspondence.Kind, payload.get('kind', ''))} ({_label(DataSubjectRequest.Language, language)})"]


def _erasure(payload: dict) -> list[str]:
    parts = []
    if payload.get("decision"):
        parts.append(_label(ErasureAction.Decision, payload["decision"]))
    actions = payload.get("actions") or {}
    if actions:
        parts.append(", ".join(f"{_label(ErasureAction.Action, code)} {count}" for code, count in actions.items()))
    return parts


LIFT_ACTIONS = frozenset(
    {
        Action.RESTRICTION_LIFT_ASKED,
        Action.RESTRICTION_LIFT_NOTICE_SENT,
        Action.RESTRICTION_LIFTED,
        Action.RESTRICTION_LIFT_CANCELLED,
    }
)


def _lift(event: RequestEvent, payload: dict) -> list[str]:
    parts = []
    if payload.get("channel"):
        parts.append(_label(RestrictionLift.NoticeChannel, payload["channel"]))
    if payload.get("lift_due_at"):
        parts.append(_("to be lifted on %(date)s") % {"date": _date(payload["lift_due_at"])})
    if "records" in payload:
        parts.append(_records(_count(payload.get("records"))))
    if payload.get("kept"):
        count = _count(payload["kept"])
        parts.append(
            ngettext(
                "%(count)s record stays restricted on another ground",
                "%(count)s records stay restricted on another ground",
                count,
            )
            % {"count": count}
        )
    return parts


def _details(event: RequestEvent, payload: dict) -> list[str]:
    action = event.action
    if action == Action.TRANSITION:
        return _transition(event, payload)
    if action == Action.LETTER_QUEUED:
        return _letter(event, payload)
    if action == Action.EXTENSION and payload.get("legal_due_at"):
        return [_("new deadline %(date)s") % {"date": _date(payload["legal_due_at"])}]
    if action == Action.IDENTITY_VERIFIED and payload.get("method"):
        return [_label(DataSubjectRequest.IdentityMethod, payload["method"])]
    if action == Action.MATCHES_CONFIRMED:
        register = _registers(event, [payload["register"]]) if payload.get("register") else ""
        return [f"{register}: {_records(_count(payload.get('records')))}" if register else ""]
    if action == Action.PACKAGE_BUILT:
        parts = [_records(payload["records"])] if "records" in payload else []
        return parts + _note(payload)
    if action == Action.PACKAGE_DOWNLOADED:
        parts = [str(payload.get("fmt", "")).upper()]
        if payload.get("by") == "requester":
            parts.append(_("by the requester"))
        return parts
    if action in {Action.RECORDS_MERGED, Action.RECORDS_UNMERGED}:
        register = _registers(event, [payload["register"]]) if payload.get("register") else ""
        records = _records(_count(payload.get("records")))
        return [f"{register}: {records}" if register else records]
    if action in {Action.RESTRICTION_APPLIED, Action.OBJECTION_APPLIED}:
        parts = [_records(_count(payload.get("records")))]
        if payload.get("registers"):
            parts.append(_registers(event, payload["registers"]))
        return parts
    if action == Action.OBJECTION_WEIGHING_OPENED:
        return [_registers(event, payload.get("registers") or [])]
    if action == Action.OBJECTION_WEIGHED:
        parts = [_label(ObjectionWeighing.State, payload.get("to", ""))]
        if "records" in payload:
            parts.append(_records(_count(payload.get("records"))))
        return parts
    if action in LIFT_ACTIONS:
        return _lift(event, payload)
    if action == Action.RECTIFICATION_PROPOSED and payload.get("field"):
        return [_field_label(payload["field"])]
    if action == Action.RECTIFICATION_REFUSED and payload.get("ground"):
        return [_label(RefusalGround, payload["ground"])]
    if action == Action.RECTIFICATION_APPLIED:
        count = _count(payload.get("items"))
        return [ngettext("%(count)s correction", "%(count)s corrections", count) % {"count": count}]
    if action in {Action.ERASURE_PLANNED, Action.ERASURE_EXECUTED}:
        return _erasure(payload)
    if action == Action.CONSENT_WITHDRAWN:
        count = _count(payload.get("consents"))
        return [ngettext("%(count)s consent", "%(count)s consents", count) % {"count": count}]
    if action == Action.NOTIFICATIONS_CREATED:
        count = _count(payload.get("tasks"))
        return [ngettext("%(count)s recipient", "%(count)s recipients", count) % {"count": count}]
    if action == Action.NOTIFICATION_RESOLVED:
        parts = [_label(NotificationTask.Status, payload["status"])] if payload.get("status") else []
        if payload.get("justification"):
            parts.append(_label(NotificationTask.Justification, payload["justification"]))
        return parts
    if action == Action.REFUSAL_DECIDED:
        parts = [_label(RefusalGround, ground) for ground in payload.get("grounds") or []]
        if payload.get("partial"):
            parts.insert(0, _label(State, State.PARTLY_REFUSED))
        return parts
    return []


def event_details(event: RequestEvent) -> list[str]:
    """Return what a history line says after the action's name: system facts worded now, then the typed reason."""
    payload, reason = _decoded(event)
    parts = [part for part in _details(event, payload) if part]
    if reason:
        parts.append(reason)
    return parts
