"""Actions on data-subject requests: intake, identification, finding the
person's records, the access answer and its delivery.

State changes go through `workflow.request_transition`; letters through the
outbox in `emails`. Every function is one user-visible action.
"""

import datetime
import functools
import hashlib
import json
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _

from crm.models import ContactCentreMessage, ContactPerson, Customer
from registers import roles
from registers.access_log import log_access
from registers.audit_context import set_actor
from registers.models import Organisation, Register
from registers.year_counters import year_counter_next

from . import access_package, selectors
from .models import (
    Correspondence,
    DataSubjectRequest,
    PackageDownload,
    Redaction,
    ReferenceCounter,
    RequestEvent,
    RequestRegister,
    ResponsePackage,
    SubjectMatch,
)
from .outbox import correspondence_queue, package_pdf_wanted
from .ratelimit import rate_limit_exceeded
from .workflow import request_actor_may_act, request_event_add, request_instance_sync, request_transition

State = DataSubjectRequest.State
Note = RequestEvent.Note

ERROR_RATE_LIMITED = _(
    "Too many requests have been sent from this address or for this e-mail address in a short time. "
    "Your request has not been sent yet: please try again in an hour. Nothing you typed has been lost."
)
ERROR_REGISTERS_OF_ONE_CONTROLLER = _("Choose registers of one controller only.")
ERROR_NOT_IN_REGISTER = _("A chosen record does not belong to this register.")
ERROR_WRONG_STATE = _("This cannot be done while the request is “%(state)s”.")
ERROR_NO_DUPLICATE_TARGET = _("No other request with this reference number was found among your requests.")
ERROR_PACKAGE_EXPIRED = _("The download link has expired.")
ERROR_NOT_ACCESS = _("Only an access request has an answer package.")
ERROR_PACKAGE_TAMPERED = _("The stored answer letter does not match the one that was built.")
ERROR_ANSWER_NOW = _("Only an access request made in person by a person identified on site can be answered at once.")

# Repeated submissions of the same request within this time are one request.
DUPLICATE_WINDOW = datetime.timedelta(minutes=10)
DEFAULT_DOWNLOAD_DAYS = 14


class RateLimitedError(Exception):
    """The requester or their address has sent too many requests; nothing was stored."""


class EmailRateLimitedError(RateLimitedError):
    """Too many requests were sent for one e-mail address; nothing was stored or sent."""


def _reference_next(*, year: int) -> str:
    return f"DSR-{year}-{year_counter_next(ReferenceCounter, year=year):06d}"


def _dedupe_key(*, organisation: Organisation, email: str, kind: str, registers, all_registers: bool) -> str:
    ids = ",".join(str(pk) for pk in sorted(r.pk for r in registers))
    raw = f"{organisation.pk}|{email.strip().casefold()}|{kind}|{ids}|{int(all_registers)}"
    return hashlib.sha256(raw.encode()).hexdigest()


def _lock(key: str) -> None:
    # Serialises submissions with the same key so two parallel posts of one
    # form cannot both miss each other (a transaction-scoped advisory lock).
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [int(key[:15], 16)])


def _create(*, organisation: Organisation, registers, data: dict[str, Any], actor, channel: str) -> DataSubjectRequest:
    mandate = data.pop("mandate", None)
    received_at = data.pop("received_at", None)
    request = DataSubjectRequest(
        organisation=organisation,
        channel=channel,
        reference=_reference_next(year=timezone.localdate().year),
        created_by=actor,
        received_at=received_at,
        **data,
    )
    if mandate:
        request.mandate.save(mandate.name, mandate, save=False)
    request.full_clean()
    with set_actor(actor):
        request.save()
    for register in registers:
        RequestRegister.objects.create(request=request, register=register)
    RequestEvent.objects.create(
        request=request,
        at=timezone.now(),
        actor=actor,
        from_state="",
        to_state=request.state,
        # The channel as a code: its name is worded in the reader's language.
        payload={"registers": sorted(r.slug for r in registers), "channel": channel},
    )
    return request


# What the requester typed: a submission equal in all of it to an earlier one is the same submission sent twice.
_SUBMITTED_FIELDS = (
    "requester_name",
    "requester_phone",
    "requester_address",
    "acting_for",
    "details",
    "correction_what",
    "correction_why",
    "language",
    "delivery",
)


def _same_submission(request: DataSubjectRequest, data: dict[str, Any]) -> bool:
    if data.get("mandate") or request.mandate:
        return False
    if request.requester_email.casefold() != data["requester_email"].strip().casefold():
        return False
    for name in _SUBMITTED_FIELDS:
        submitted = data[name] if name in data else DataSubjectRequest._meta.get_field(name).get_default()
        if (submitted or "") != (getattr(request, name) or ""):
            return False
    return True


@transaction.atomic
def request_submit(
    *, organisation: Organisation, registers, all_registers: bool, data: dict[str, Any]
) -> tuple[DataSubjectRequest, bool]:
    """File a request from the public form; return (request, created).

    Whatever happens, the submitter learns nothing but "check your e-mail":
    an answer that differs for a known address would tell anyone whether that
    address filed a request, and a link handed to the browser would give a
    stranger who typed someone's address their request. So a repeat is never
    folded here into a request of somebody who may not be the submitter: only
    an exact copy of an open request sent within minutes (a double click)
    returns it, and its links go again to the address, never to the browser.
    Repeats that differ are folded when their e-mail is confirmed
    (`request_confirm_email`).

    Raises EmailRateLimitedError when this e-mail address has filed too many requests.
    """
    if rate_limit_exceeded(scope="email", value=data["requester_email"]):
        raise EmailRateLimitedError
    if all_registers:
        registers = list(selectors.public_register_list(organisation=organisation))
    key = _dedupe_key(
        organisation=organisation,
        email=data["requester_email"],
        kind=data["kind"],
        registers=registers,
        all_registers=all_registers,
    )
    _lock(key)
    earlier = [
        request
        for request in DataSubjectRequest.objects.filter(
            dedupe_key=key, created_at__gte=timezone.now() - DUPLICATE_WINDOW
        ).order_by("created_at")
        if (request.state == State.RECEIVED or request.is_open) and _same_submission(request, data)
    ]
    if earlier:
        _links_resend(request=earlier[0])
        return earlier[0], False
    request = _create(
        organisation=organisation,
        registers=registers,
        data={**data, "all_registers": all_registers, "dedupe_key": key},
        actor=None,
        channel=DataSubjectRequest.Channel.WEB,
    )
    correspondence_queue(request=request, kind=Correspondence.Kind.CONFIRM_EMAIL)
    return request, True


@transaction.atomic
def request_confirmation_remind(*, request: DataSubjectRequest) -> Correspondence | None:
    """Send the requester the one reminder to confirm their e-mail address, with a fresh link.

    Returns None, and sends nothing, once the address is confirmed, the request has left the state of
    waiting for it, or a reminder has been sent already: a request gets at most one.
    """
    current = DataSubjectRequest.objects.select_for_update().get(pk=request.pk)
    if current.state != State.RECEIVED or current.email_confirmed_at is not None:
        return None
    if current.correspondence.filter(kind=Correspondence.Kind.CONFIRM_REMINDER).exists():
        return None
    return correspondence_queue(request=current, kind=Correspondence.Kind.CONFIRM_REMINDER)


def _links_resend(*, request: DataSubjectRequest) -> None:
    # The letter goes to the address the request was filed with: only its
    # owner receives the links, however many times the form is sent.
    if request.state == State.RECEIVED:
        correspondence_queue(request=request, kind=Correspondence.Kind.CONFIRM_EMAIL)
    else:
        correspondence_queue(request=request, kind=Correspondence.Kind.ACKNOWLEDGEMENT)


def _confirmed_original(request: DataSubjectRequest) -> DataSubjectRequest | None:
    """Return the open, confirmed request this one repeats (same address, kind and registers, sent within minutes)."""
    if not request.dedupe_key:
        return None
    candidates = (
        DataSubjectRequest.objects.filter(
            dedupe_key=request.dedupe_key,
            email_confirmed_at__isnull=False,
            state__in=DataSubjectRequest.OPEN_STATES,
            created_at__gte=request.created_at - DUPLICATE_WINDOW,
            created_at__lte=request.created_at + DUPLICATE_WINDOW,
        )
        .exclude(pk=request.pk)
        .order_by("email_confirmed_at", "created_at")
    )
    return candidates.first()


@transaction.atomic
def request_confirm_email(*, request: DataSubjectRequest) -> DataSubjectRequest:
    """Confirm the requester's e-mail address: the request enters the queue and its clock starts.

    A repeat of a request already confirmed from the same address is folded
    into it here, once the address has been proven: it closes as a duplicate
    and the earlier request's link is sent to the address.
    """
    _lock(request.dedupe_key or hashlib.sha256(str(request.code).encode()).hexdigest())
    current = DataSubjectRequest.objects.select_for_update().get(pk=request.pk)
    if current.state != State.RECEIVED or current.email_confirmed_at is not None:
        # A second click on the link changes nothing.
        return current
    current.email_confirmed_at = timezone.now()
    original = _confirmed_original(current) if current.channel == DataSubjectRequest.Channel.WEB else None
    current.duplicate_of = original
    current.save(update_fields=["email_confirmed_at", "duplicate_of", "updated_at"])
    if original is not None:
        current = request_transition(
            request=current,
            to=State.DUPLICATE,
            actor=None,
            payload={"note": Note.REPEAT, "original": original.reference},
        )
        correspondence_queue(request=original, kind=Correspondence.Kind.ACKNOWLEDGEMENT)
        return current
    current = request_transition(
        request=current, to=State.VERIFYING, actor=None, payload={"note": Note.EMAIL_CONFIRMED}
    )
    correspondence_queue(request=current, kind=Correspondence.Kind.ACKNOWLEDGEMENT)
    return current


@transaction.atomic
def request_intake(*, actor, registers: list[Register], data: dict[str, Any]) -> DataSubjectRequest:
    """Record a request received in person, by letter, phone or e-mail, with how the person was identified.

    An access request made in person by someone identified on site can go
    straight to processing (`answer_now`): the same transitions, one after another.
    """
    organisations = {r.organisation_id for r in registers}
    if len(organisations) != 1:
        raise ValidationError({"registers": ERROR_REGISTERS_OF_ONE_CONTROLLER})
    handled = selectors.request_register_ids(user=actor, perms=(roles.HANDLE_REQUESTS,))
    if not {r.pk for r in registers} <= handled:
        raise PermissionDenied(selectors.ERROR_NO_REQUEST_RIGHTS)
    data = dict(data)
    method = data.pop("identity_method", "")
    note = data.pop("identity_note", "")
    answer_now = data.pop("answer_now", False)
    received_on = data.pop("received_on", None) or timezone.localdate()
    if answer_now and not (
        data.get("kind") == DataSubjectRequest.Kind.ACCESS
        and data.get("channel") == DataSubjectRequest.Channel.IN_PERSON
        and method == DataSubjectRequest.IdentityMethod.IN_PERSON_ID
    ):
        raise ValidationError(ERROR_ANSWER_NOW)
    now = timezone.now()
    received_at = now
    if received_on != timezone.localdate():
        received_at = timezone.make_aware(datetime.datetime.combine(received_on, datetime.time(12)))
    channel = data.pop("channel")
    request = _create(
        organisation=registers[0].organisation,
        registers=registers,
        data={**data, "received_at": received_at},
        actor=actor,
        channel=channel,
    )
    request = request_transition(
        request=request, to=State.VERIFYING, actor=actor, payload={"note": Note.RECORDED_BY_STAFF}
    )
    if request.requester_email:
        correspondence_queue(request=request, kind=Correspondence.Kind.ACKNOWLEDGEMENT)
    if method:
        request = request_verify_identity(request=request, actor=actor, method=method, note=note)
    if answer_now:
        request = request_transition(
            request=request, to=State.IN_PROGRESS, actor=actor, payload={"note": Note.ANSWERED_ON_SITE}
        )
    return request


@transaction.atomic
def request_record_from_profile(
    *, organisation: Organisation, registers: list[Register], kind: str, requester_name: str, requester_email: str = ""
) -> DataSubjectRequest:
    """Put on record a request the city's customer profile carries out at once (the GDPR API's deletion, api.gdpr).

    The person signed in to the profile, so the request arrives identified; it waits in the queue, with its
    deadlines, for what remains a person's work: telling the recipients of disclosed data (GDPR 19) and closing it.
    No letter goes out: the profile has already told the person.
    """
    now = timezone.now()
    request = _create(
        organisation=organisation,
        registers=registers,
        data={
            "kind": kind,
            "requester_name": requester_name[:200],
            "requester_email": requester_email,
            "received_at": now,
            "identity_method": DataSubjectRequest.IdentityMethod.PROFILE_SIGN_IN,
            "verified_at": now,
        },
        actor=None,
        channel=DataSubjectRequest.Channel.PROFILE,
    )
    request_event_add(
        request=request,
        actor=None,
        action=RequestEvent.Action.IDENTITY_VERIFIED,
        payload={"method": DataSubjectRequest.IdentityMethod.PROFILE_SIGN_IN},
    )
    return request_transition(
        request=request, to=State.VERIFYING, actor=None, payload={"note": Note.CARRIED_OUT_BY_PROFILE}
    )


@transaction.atomic
def request_record_identified(
    *,
    organisation: Organisation,
    registers: list[Register],
    all_registers: bool,
    data: dict[str, Any],
    assurance: str,
) -> DataSubjectRequest:
    """Record a request of a person signed in with strong electronic identification (the "my data" pages).

    The sign-in proved who the person is: there is no e-mail address to confirm and no identity step for a
    handler, so the request starts its deadlines at once and waits in triage. It records how the identity was
    verified and at which level of assurance.
    """
    now = timezone.now()
    request = _create(
        organisation=organisation,
        registers=registers,
        data={
            **data,
            "all_registers": all_registers,
            "received_at": now,
            "identity_method": DataSubjectRequest.IdentityMethod.STRONG_EID,
            # The eIDAS level of assurance, as a code: read by handlers of every language.
            "identity_note": f"eIDAS LoA: {assurance}",
            "verified_at": now,
        },
        actor=None,
        channel=DataSubjectRequest.Channel.MY_DATA,
    )
    request = request_transition(request=request, to=State.VERIFYING, actor=None)
    request_event_add(
        request=request,
        actor=None,
        action=RequestEvent.Action.IDENTITY_VERIFIED,
        payload={"method": DataSubjectRequest.IdentityMethod.STRONG_EID, "assurance": assurance},
    )
    return request_transition(
        request=request, to=State.TRIAGE, actor=None, payload={"method": DataSubjectRequest.IdentityMethod.STRONG_EID}
    )


def _require_state(request: DataSubjectRequest, *states: str) -> None:
    if request.state not in states:
        raise ValidationError(
            ERROR_WRONG_STATE, code="wrong_state", params={"state": DataSubjectRequest.State(request.state).label}
        )


@transaction.atomic
def request_verify_identity(*, request: DataSubjectRequest, actor, method: str, note: str = "") -> DataSubjectRequest:
    """Record how the requester was identified (GDPR 12(6)) and move the request to triage."""
    current = DataSubjectRequest.objects.select_for_update().get(pk=request.pk)
    _require_state(current, State.VERIFYING)
    current.identity_method = method
    current.identity_note = note
    current.verified_at = timezone.now()
    current.verified_by = actor
    current.full_clean()
    with set_actor(actor):
        current.save(update_fields=["identity_method", "identity_note", "verified_at", "verified_by", "updated_at"])
    request_event_add(
        request=current, actor=actor, action=RequestEvent.Action.IDENTITY_VERIFIED, payload={"method": method}
    )
    return request_transition(request=current, to=State.TRIAGE, actor=actor, payload={"method": method})


@transaction.atomic
def request_ask_for_information(*, request: DataSubjectRequest, actor, message: str) -> Correspondence | None:
    """Ask the requester for more information (identity doubts, unclear request); the deadline keeps running."""
    _require_state(request, *DataSubjectRequest.OPEN_STATES)
    if not request_actor_may_act(actor=actor, request=request):
        raise PermissionDenied(selectors.ERROR_NO_REQUEST_RIGHTS)
    if not message.strip():
        raise ValidationError({"message": _("Write what you need to know.")})
    request_event_add(request=request, actor=actor, action=RequestEvent.Action.INFO_REQUESTED, reason=message.strip())
    return correspondence_queue(request=request, kind=Correspondence.Kind.INFO_REQUEST, message=message.strip())


@transaction.atomic
def request_cannot_identify(*, request: DataSubjectRequest, actor, reason: str) -> DataSubjectRequest:
    """Answer that the person could not be identified, inviting more information (GDPR 11(2), 12(2))."""
    request = request_transition(request=request, to=State.CANNOT_IDENTIFY, actor=actor, reason=reason)
    correspondence_queue(request=request, kind=Correspondence.Kind.CANNOT_IDENTIFY, message=reason.strip())
    return request


@transaction.atomic
def request_mark_duplicate(*, request: DataSubjectRequest, actor, reference: str) -> DataSubjectRequest:
    """Close a request as a duplicate of another request of the same controller."""
    original = (
        selectors.request_list(user=actor)
        .filter(reference=reference.strip().upper(), organisation=request.organisation)
        .exclude(pk=request.pk)
        .first()
    )
    if original is None:
        raise ValidationError({"reference": ERROR_NO_DUPLICATE_TARGET})
    current = DataSubjectRequest.objects.select_for_update().get(pk=request.pk)
    current.duplicate_of = original
    with set_actor(actor):
        current.save(update_fields=["duplicate_of", "updated_at"])
    return request_transition(
        request=current, to=State.DUPLICATE, actor=actor, payload={"original": original.reference}
    )


@transaction.atomic
def request_withdraw_by_requester(*, request: DataSubjectRequest) -> DataSubjectRequest:
    """Withdraw the request on the requester's own word (through the status link)."""
    return request_transition(
        request=request, to=State.WITHDRAWN, actor=None, payload={"note": Note.WITHDRAWN_BY_REQUESTER}
    )


@transaction.atomic
def subject_matches_confirm(
    *, request: DataSubjectRequest, actor, register: Register, records: list[str]
) -> list[SubjectMatch]:
    """Record which records of one register are the person's, and mark that register checked.

    `records` holds "customer:<code>", "contact_person:<code>" or
    "message:<code>" items; an empty list states that the register holds
    nothing of the person.
    """
    _require_state(request, State.IN_PROGRESS)
    part = RequestRegister.objects.select_for_update().filter(request=request, register=register).first()
    handled = selectors.request_register_ids(user=actor, perms=(roles.HANDLE_REQUESTS,))
    if part is None or register.pk not in handled:
        raise PermissionDenied(selectors.ERROR_NO_REQUEST_RIGHTS)
    wanted: dict[str, set[str]] = {"customer": set(), "contact_person": set(), "message": set()}
    for item in records:
        kind, _sep, code = item.partition(":")
        if kind not in wanted:
            raise ValidationError(ERROR_NOT_IN_REGISTER)
        wanted[kind].add(code)
    try:
        found = {
            "customer": list(Customer.objects.filter(register=register, code__in=wanted["customer"])),
            "contact_person": list(
                ContactPerson.objects.filter(customer__register=register, code__in=wanted["contact_person"])
            ),
            "message": list(ContactCentreMessage.objects.filter(register=register, code__in=wanted["message"])),
        }
    except ValidationError:
        raise ValidationError(ERROR_NOT_IN_REGISTER) from None
    if any(len(found[kind]) != len(codes) for kind, codes in wanted.items()):
        raise ValidationError(ERROR_NOT_IN_REGISTER)
    request.matches.filter(register=register).delete()
    now = timezone.now()
    matches = []
    for kind, rows in found.items():
        for row in rows:
            match = SubjectMatch(
                request=request, register=register, confirmed_by=actor, confirmed_at=now, **{kind: row}
            )
            match.full_clean()
            match.save()
            matches.append(match)
    part.checked_by = actor
    part.checked_at = now
    part.save(update_fields=["checked_by", "checked_at"])
    request_event_add(
        request=request,
        actor=actor,
        action=RequestEvent.Action.MATCHES_CONFIRMED,
        payload={"register": register.slug, "records": [f"{k}:{r.code}" for k, rows in found.items() for r in rows]},
    )
    return matches


@transaction.atomic
def package_build(*, request: DataSubjectRequest, actor) -> ResponsePackage:
    """Build the access answer (letter as HTML, data as JSON) from the confirmed records; the PDF follows.

    The PDF of a long answer takes WeasyPrint seconds per dozen pages, so it is
    rendered by a task after commit from the stored, hashed HTML (the letter
    the approver reads); `package_pdf_sweep` renders any the task missed.
    """
    if request.kind != DataSubjectRequest.Kind.ACCESS:
        raise ValidationError(ERROR_NOT_ACCESS)
    # The answer holds the person's data from every register of the request.
    if not request_actor_may_act(actor=actor, request=request):
        raise PermissionDenied(selectors.ERROR_NO_REQUEST_RIGHTS)
    content = access_package.package_content(request=request)
    html = access_package.render_html(content).encode()
    document = access_package.render_json(content)
    package = ResponsePackage(
        request=request, generated_at=timezone.now(), generated_by=actor, record_count=content["record_count"]
    )
    package.files_set(stem="answer", html=html, document=document)
    package.save()
    for redaction in content["redactions"]:
        Redaction.objects.create(
            request=request,
            package=package,
            item=redaction["item"],
            reason=redaction["reason"],
            note=redaction["note"],
            at=package.generated_at,
        )
    request_event_add(
        request=request,
        actor=actor,
        action=RequestEvent.Action.PACKAGE_BUILT,
        payload={"package": str(package.code), "sha256": package.sha256, "records": package.record_count},
    )
    transaction.on_commit(functools.partial(_enqueue_pdf, package.pk))
    return package


def _enqueue_pdf(package_id: int) -> None:
    package_pdf_wanted.send(sender=ResponsePackage, package_id=package_id)


def _package_pdf_name(package: ResponsePackage, html_sha256: str) -> str:
    # The same name for every try at the same letter, keyed so that the package's code does not give it away.
    key = salted_hmac("privacy.package-pdf", f"{package.code}:{html_sha256}").hexdigest()
    return f"privacy/packages/{key[:32]}.pdf"


def package_pdf_render(*, package_id: int) -> bool:
    """Render the PDF of a package from its stored HTML; return whether it was rendered now.

    Safe to run again, at once or after a worker was killed mid-way (the task's message comes back): the PDF is
    stored under the package's row lock, only if it is still missing and the letter is still the one rendered,
    and under a name of that letter's own, so a try killed between writing the file and committing leaves a
    file that the next try replaces rather than a second PDF.
    """
    package = ResponsePackage.objects.filter(pk=package_id, files_deleted_at__isnull=True).first()
    if package is None or package.pdf:
        return False
    with package.html.open("rb") as stored:
        html = stored.read()
    html_sha256 = hashlib.sha256(html).hexdigest()
    if html_sha256 != package.file_sha256.get("html"):
        # The letter on disk is not the one that was built and reviewed.
        raise ValidationError(ERROR_PACKAGE_TAMPERED)
    pdf = access_package.render_pdf(html.decode())
    with transaction.atomic():
        locked = ResponsePackage.objects.select_for_update().get(pk=package.pk)
        if locked.pdf or locked.files_deleted_at or locked.file_sha256.get("html") != html_sha256:
            # Rendered by another try, expired, or the letter was replaced meanwhile (the approver's note): the
            # new letter's own task renders that one.
            return False
        storage, name = locked.pdf.storage, _package_pdf_name(locked, html_sha256)
        if storage.exists(name):
            # Left by a try killed before its commit: no row names it.
            storage.delete(name)
        locked.pdf = storage.save(name, ContentFile(pdf))
        locked.file_sha256 = {**locked.file_sha256, "pdf": hashlib.sha256(pdf).hexdigest()}
        locked.save(update_fields=["pdf", "file_sha256"])
    return True


@transaction.atomic
def request_prepare(*, request: DataSubjectRequest, actor) -> DataSubjectRequest:
    """Build the answer and hand the request to an approver (the preparer cannot approve it)."""
    _require_state(request, State.IN_PROGRESS)
    if request.kind == DataSubjectRequest.Kind.ACCESS:
        package_build(request=request, actor=actor)
    return request_transition(request=request, to=State.REVIEW, actor=actor, payload={"note": Note.ANSWER_PREPARED})


@transaction.atomic
def request_approve(*, request: DataSubjectRequest, actor, decision_text: str = "") -> DataSubjectRequest:
    """Approve the prepared answer (four eyes) and release it to the requester."""
    current = DataSubjectRequest.objects.select_for_update().get(pk=request.pk)
    if decision_text:
        current.decision_text = decision_text
        with set_actor(actor):
            current.save(update_fields=["decision_text", "updated_at"])
    current = request_transition(
        request=current, to=State.RESPONDED, actor=actor, payload={"note": Note.ANSWER_APPROVED}
    )
    package = current.packages.order_by("-generated_at").first()
    if package is not None:
        if decision_text:
            package = _package_note_add(package=package, note=decision_text, actor=actor)
        package.released_at = timezone.now()
        if current.delivery == DataSubjectRequest.Delivery.ELECTRONIC:
            days = getattr(settings, "PRIVACY_DOWNLOAD_DAYS", DEFAULT_DOWNLOAD_DAYS)
            package.expires_at = package.released_at + datetime.timedelta(days=days)
        package.save(update_fields=["released_at", "expires_at"])
        if current.delivery == DataSubjectRequest.Delivery.ELECTRONIC:
            correspondence_queue(request=current, kind=Correspondence.Kind.ANSWER_READY, package=package)
    request_instance_sync(request, current)
    return current


def _package_note_add(*, package: ResponsePackage, note: str, actor) -> ResponsePackage:
    """Write the approver's note into the reviewed answer: the same content plus the note, hashed anew.

    The note is written at approval, after the package was built and
    reviewed, so the letter and the JSON are re-rendered from the stored,
    hash-checked JSON (not rebuilt from the registers, which may have
    changed since) and the PDF is rendered again from the new letter.
    """
    locked = ResponsePackage.objects.select_for_update().get(pk=package.pk)
    with locked.json.open("rb") as stored:
        document = stored.read()
    if hashlib.sha256(document).hexdigest() != locked.file_sha256.get("json"):
        raise ValidationError(ERROR_PACKAGE_TAMPERED)
    content = json.loads(document)
    content["note"] = note
    html = access_package.render_html(content).encode()
    document = access_package.render_json(content)
    replaced = locked.sha256
    old_files = [f.name for f in (locked.html, locked.pdf, locked.json) if f]
    storage = locked.json.storage
    locked.pdf = ""
    locked.files_set(stem="answer", html=html, document=document)
    locked.save(update_fields=["html", "pdf", "json", "sha256", "file_sha256"])
    request_event_add(
        request=locked.request,
        actor=actor,
        action=RequestEvent.Action.PACKAGE_BUILT,
        payload={
            "package": str(locked.code),
            "sha256": locked.sha256,
            "replaces": replaced,
            "note": Note.APPROVER_NOTE_ADDED,
        },
    )
    # The reviewed files go once the new ones are committed; a rollback keeps them.
    transaction.on_commit(functools.partial(_files_delete, storage, old_files))
    transaction.on_commit(functools.partial(_enqueue_pdf, locked.pk))
    return locked


def _files_delete(storage, names: list[str]) -> None:
    for name in names:
        storage.delete(name)


@transaction.atomic
def package_download_record(*, package: ResponsePackage, fmt: str, http_request, by_requester: bool) -> None:
    """Log one download of an answer package: a download row, a request event and an access-log entry."""
    locked = ResponsePackage.objects.select_for_update().get(pk=package.pk)
    now = timezone.now()
    if by_requester and (locked.expires_at is None or locked.expires_at <= now):
        raise PermissionDenied(ERROR_PACKAGE_EXPIRED)
    actor = http_request.user if http_request.user.is_authenticated else None
    PackageDownload.objects.create(package=locked, at=now, fmt=fmt, by_requester=by_requester, actor=actor)
    ResponsePackage.objects.filter(pk=locked.pk).update(download_count=F("download_count") + 1)
    request_event_add(
        request=locked.request,
        actor=actor,
        action=RequestEvent.Action.PACKAGE_DOWNLOADED,
        payload={"package": str(locked.code), "fmt": fmt, "by": "requester" if by_requester else "staff"},
    )
    for register_id in locked.request.register_parts.values_list("register_id", flat=True):
        log_access(http_request, locked, {"register": register_id, "purpose": "access_request_answer", "fmt": fmt})


@transaction.atomic
def mandate_view_record(*, request: DataSubjectRequest, http_request) -> None:
    """Log that staff opened the mandate document of a request."""
    request_event_add(request=request, actor=http_request.user, action=RequestEvent.Action.MANDATE_VIEWED)
    for register_id in request.register_parts.values_list("register_id", flat=True):
        log_access(http_request, request, {"register": register_id, "purpose": "mandate"})


def packages_expire() -> int:
    """Delete the files of answer packages whose download link has expired; return how many."""
    count = 0
    now = timezone.now()
    for package in ResponsePackage.objects.filter(expires_at__lte=now, files_deleted_at__isnull=True):
        with transaction.atomic():
            for fmt in ("html", "pdf", "json"):
                package.file_for(fmt).delete(save=False)
            package.files_deleted_at = now
            package.save(update_fields=["html", "pdf", "json", "files_deleted_at"])
        count += 1
    return count
