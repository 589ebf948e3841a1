"""Permission-aware reads of data-subject requests and of the person's records.

A request is visible to staff who may handle or approve requests in at least
one register it concerns. Someone with another role in one of those
registers gets 403; anybody else gets 404, as if the request did not exist.
"""

import datetime

import phonenumbers
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, F, Max, Prefetch, Q, QuerySet, Window
from django.db.models.functions import RowNumber, TruncMonth
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.models import ContactCentreMessage, ContactPerson, Customer
from crm.selectors import keeper_record_register_ids
from crm.validators import normalise_business_id
from registers import roles
from registers.models import Organisation, Register
from registers.selectors import register_ids

from . import tokens
from .models import Correspondence, DataSubjectRequest, RequestRegister, ResponsePackage, SubjectMatch

ERROR_NO_REQUEST_RIGHTS = _("You may not handle data-subject requests of this register.")
STAFF_PERMS = (roles.HANDLE_REQUESTS, roles.APPROVE_REQUESTS)
CANDIDATE_LIMIT = 50
NEAR_DUE_DAYS = 2


def request_register_ids(*, user, perms=STAFF_PERMS) -> set[int]:
    """Return the ids of the registers where the user holds any of `perms` (no query of its own)."""
    return register_ids(user=user, perms=perms)


def request_register_list(*, user, perms=STAFF_PERMS) -> QuerySet[Register]:
    """Return the registers where the user holds any of `perms`."""
    ids = request_register_ids(user=user, perms=perms)
    return Register.objects.filter(pk__in=sorted(ids)).select_related("organisation").order_by("name_fi", "pk")


def actor_holds(*, actor, request: DataSubjectRequest, perm: str, every: bool = False) -> bool:
    """Tell whether the actor holds `perm` in one (or, with `every`, each) register of the request."""
    wanted = set(request.register_parts.values_list("register_id", flat=True))
    if not wanted:
        return False
    held = request_register_ids(user=actor, perms=(perm,)) & wanted
    return held == wanted if every else bool(held)


def request_reader_register_ids(*, user) -> set[int]:
    """Return the registers whose requests the user may read: where they handle or approve requests, or (an
    integration client with the keeper's scope) read the keepers' records without handling them."""
    return request_register_ids(user=user) | keeper_record_register_ids(user=user)


def request_list(*, user) -> QuerySet[DataSubjectRequest]:
    """Return the requests concerning a register whose requests the user may read (request_reader_register_ids)."""
    ids = sorted(request_reader_register_ids(user=user))
    request_ids = RequestRegister.objects.filter(register_id__in=ids).values("request_id")
    return DataSubjectRequest.objects.filter(pk__in=request_ids).select_related("organisation")


def request_get_for_user(*, user, code) -> DataSubjectRequest:
    """Return the request, 404 if it concerns none of the user's registers, 403 if the user may not handle it."""
    try:
        request = DataSubjectRequest.objects.select_related("organisation").get(code=code)
    except (DataSubjectRequest.DoesNotExist, ValueError, ValidationError):
        raise Http404 from None
    concerned = set(request.register_parts.values_list("register_id", flat=True))
    if concerned & request_reader_register_ids(user=user):
        return request
    if concerned & request_register_ids(user=user, perms=(roles.VIEW_DATA,)):
        raise PermissionDenied(ERROR_NO_REQUEST_RIGHTS)
    raise Http404


def request_get_for_user_rw(*, user, code, perm: str = roles.HANDLE_REQUESTS) -> DataSubjectRequest:
    """Return the request for an action on the whole request: `perm` in every one of its registers, else 403.

    The one rule for requests that span registers: whatever reads or changes
    the request as a whole (its answer, its steps, its files) needs the right
    in every register it concerns. A handler of only some of them sees the
    request page with their registers' part and checks those registers
    (`request_registers_for_checking`); nothing more.
    """
    request = request_get_for_user(user=user, code=code)
    if not actor_holds(actor=user, request=request, perm=perm, every=True):
        raise PermissionDenied(ERROR_NO_REQUEST_RIGHTS)
    return request


def request_match_list(*, request: DataSubjectRequest, user) -> QuerySet[SubjectMatch]:
    """Return the request's confirmed records in the registers where the user handles or approves requests."""
    return request.matches.filter(register_id__in=request_register_ids(user=user)).select_related(
        "register", "customer", "contact_person", "message"
    )


# What a queue row shows (privacy.requests.queue_pages.queue_rows), and what orders the rows.
QUEUE_COLUMNS = (
    "code",
    "reference",
    "kind",
    "state",
    "received_at",
    "service_due_at",
    "legal_due_at",
    "created_at",
)


def _queue_base(*, user, register: Register | None, kind: str) -> QuerySet[DataSubjectRequest]:
    queryset = request_list(user=user).select_related(None)
    if register is not None:
        queryset = queryset.filter(pk__in=RequestRegister.objects.filter(register=register).values("request_id"))
    if kind:
        queryset = queryset.filter(kind=kind)
    return queryset


def request_queue(
    *, user, closed: bool = False, unconfirmed: bool = False, register: Register | None = None, kind: str = ""
) -> QuerySet[DataSubjectRequest]:
    """Return the user's open (or finished, or unconfirmed) requests, the earliest deadline (overdue) first.

    `register` (one of the user's request registers) and `kind` narrow the
    list. The order ends in the primary key, so that pages never overlap.
    Requests whose e-mail address is not confirmed yet have no deadline and
    no step a handler can take: they have a list of their own, newest first.
    """
    # The queue shows a few columns of each row and names its registers; the rest (the request's
    # text, the registers' descriptions) stays unread.
    names = Register.objects.only("pk", "name_fi", "name_sv", "name_en")
    queryset = (
        _queue_base(user=user, register=register, kind=kind)
        .only(*QUEUE_COLUMNS)
        .prefetch_related(Prefetch("registers", queryset=names))
    )
    if closed:
        return queryset.exclude(
            Q(state__in=DataSubjectRequest.OPEN_STATES) | Q(state=DataSubjectRequest.State.RECEIVED)
        ).order_by("-created_at", "-id")
    if unconfirmed:
        return queryset.filter(state=DataSubjectRequest.State.RECEIVED).order_by("-created_at", "-id")
    return queryset.filter(state__in=DataSubjectRequest.OPEN_STATES).order_by(
        "service_due_at", "legal_due_at", "created_at", "id"
    )


def request_queue_counts(*, user, cap: int, register: Register | None = None, kind: str = "") -> dict[str, int]:
    """Return how many of the user's requests are open and how many wait for the e-mail confirmation, each counted
    up to `cap` + 1 (more than `cap` reads as "more than"), so that neither count scans a register's history."""
    base = _queue_base(user=user, register=register, kind=kind).order_by()
    return {
        "open": base.filter(state__in=DataSubjectRequest.OPEN_STATES)[: cap + 1].count(),
        "unconfirmed": base.filter(state=DataSubjectRequest.State.RECEIVED)[: cap + 1].count(),
    }


def request_confirmation_reminder_due() -> QuerySet[DataSubjectRequest]:
    """Return the unconfirmed requests whose latest confirmation letter went out at least CONFIRM_REMINDER_AFTER
    ago, whose link still works, and that have not been reminded yet."""
    now = timezone.now()
    reminded = Correspondence.objects.filter(kind=Correspondence.Kind.CONFIRM_REMINDER).values("request_id")
    sent = Max("correspondence__sent_at", filter=Q(correspondence__kind=Correspondence.Kind.CONFIRM_EMAIL))
    return (
        DataSubjectRequest.objects.filter(state=DataSubjectRequest.State.RECEIVED, email_confirmed_at__isnull=True)
        .exclude(pk__in=reminded)
        .annotate(confirm_sent_at=sent)
        .filter(
            confirm_sent_at__lte=now - tokens.CONFIRM_REMINDER_AFTER,
            confirm_sent_at__gt=now - tokens.CONFIRM_MAX_AGE,
        )
        .order_by("pk")
    )


def request_due_soon(*, user, days: int = NEAR_DUE_DAYS) -> QuerySet[DataSubjectRequest]:
    """Return open requests of the user that are overdue or due within `days` days."""
    horizon = timezone.now() + datetime.timedelta(days=days)
    return (
        request_list(user=user)
        .open()
        .filter(Q(service_due_at__lte=horizon) | Q(legal_due_at__lte=horizon))
        .order_by("service_due_at")
    )


def request_registers_for_checking(*, request: DataSubjectRequest, user) -> QuerySet[RequestRegister]:
    """Return the request's registers the user may search for the person's records (one query)."""
    handled = sorted(request_register_ids(user=user, perms=(roles.HANDLE_REQUESTS,)))
    return (
        request.register_parts.filter(register_id__in=handled).select_related("register", "checked_by").order_by("pk")
    )


def _name_q(field: str, name: str) -> Q:
    query = Q()
    for token in name.casefold().split():
        query &= Q(**{f"{field}__contains": token})
    return query


def _phone_values(phone: str) -> list[str]:
    try:
        parsed = phonenumbers.parse(phone, "FI")
    except phonenumbers.NumberParseException:
        return []
    return [phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)]


def _any(alternatives: list[Q]) -> Q:
    combined = alternatives[0]
    for alternative in alternatives[1:]:
        combined |= alternative
    return combined


def _first_per_register(queryset: QuerySet, *, register: str, order: tuple[str, ...]) -> list:
    """Return the first CANDIDATE_LIMIT rows of `queryset` in each register, in one query."""
    ranked = queryset.annotate(
        candidate_rank=Window(RowNumber(), partition_by=F(register), order_by=list(order))
    ).filter(candidate_rank__lte=CANDIDATE_LIMIT)
    return list(ranked.order_by(register, *order))


def subject_candidates(
    *, request: DataSubjectRequest, user, query: dict, parts: list[RequestRegister] | None = None
) -> dict[int, dict[str, list]]:
    """Return, per register the user may check, the records that may belong to the person.

    `query` holds name, email, phone, date_of_birth and business_id; any one
    of them is enough to list a record, and the handler confirms which are
    really the person's. `parts` are the request's registers the user may
    check (`request_registers_for_checking`), when the caller has them
    already. One query per kind of record, however many registers.
    """
    if parts is None:
        parts = list(request_registers_for_checking(request=request, user=user))
    name = (query.get("name") or "").strip()
    email = (query.get("email") or "").strip()
    phones = _phone_values(query.get("phone") or "") if query.get("phone") else []
    birth = query.get("date_of_birth")
    business_id = normalise_business_id(query.get("business_id") or "")
    results: dict[int, dict[str, list]] = {
        part.register_id: {"customers": [], "contact_persons": [], "messages": []} for part in parts
    }
    customer_registers = [p.register_id for p in parts if p.register.kind == Register.Kind.CUSTOMER]
    centre_registers = [p.register_id for p in parts if p.register.kind == Register.Kind.CONTACT_CENTRE]
    if customer_registers:
        customer_q = []
        if name:
            customer_q.append(_name_q("sort_name", name) & Q(kind=Customer.Kind.PERSON))
        if email:
            customer_q.append(Q(email__iexact=email))
        if phones:
            customer_q.append(Q(mobile__in=phones) | Q(landline__in=phones))
        if birth:
            customer_q.append(Q(date_of_birth=birth))
        if business_id:
            customer_q.append(Q(business_id=business_id))
        if customer_q:
            customers = Customer.objects.filter(_any(customer_q), register_id__in=customer_registers)
            for customer in _first_per_register(customers, register="register_id", order=("sort_name", "id")):
                results[customer.register_id]["customers"].append(customer)
        person_q = []
        if name:
            tokens_q = Q()
            for token in name.split():
                tokens_q &= Q(first_name__icontains=token) | Q(last_name__icontains=token)
            person_q.append(tokens_q)
        if email:
            person_q.append(Q(email__iexact=email))
        if phones:
            person_q.append(Q(phone__in=phones))
        if person_q:
            persons = ContactPerson.objects.filter(
                _any(person_q), customer__register_id__in=customer_registers
            ).select_related("customer")
            for person in _first_per_register(
                persons, register="customer__register_id", order=("last_name", "first_name", "id")
            ):
                results[person.customer.register_id]["contact_persons"].append(person)
    if centre_registers and email:
        messages = ContactCentreMessage.objects.filter(
            Q(sender__iexact=email) | Q(recipient__iexact=email), register_id__in=centre_registers
        ).select_related("ordering_client")
        for message in _first_per_register(messages, register="register_id", order=("-sent_at", "-id")):
            results[message.register_id]["messages"].append(message)
    return results


def request_monthly_figures(*, user) -> list[dict]:
    """Return per register and month: received, answered in time, late and refused (counts only)."""
    ids = request_register_ids(user=user, perms=(*STAFF_PERMS, roles.REVIEW_ACCESS))
    now = timezone.now()
    answered = Q(request__responded_at__isnull=False)
    in_time = answered & Q(request__responded_at__lte=F("request__legal_due_at"))
    late = (answered & Q(request__responded_at__gt=F("request__legal_due_at"))) | Q(
        request__responded_at__isnull=True,
        request__legal_due_at__lt=now,
        request__state__in=DataSubjectRequest.OPEN_STATES,
    )
    refused = Q(request__outcome__in=[DataSubjectRequest.State.REFUSED, DataSubjectRequest.State.PARTLY_REFUSED])
    rows = (
        RequestRegister.objects.filter(register_id__in=ids, request__received_at__isnull=False)
        .annotate(month=TruncMonth("request__received_at"))
        .values("register_id", "register__slug", "month")
        .annotate(
            received=Count("id"),
            answered_in_time=Count("id", filter=in_time),
            late=Count("id", filter=late),
            refused=Count("id", filter=refused),
        )
        .order_by("-month", "register__slug")
    )
    registers = {r.pk: r for r in Register.objects.filter(pk__in=ids)}
    return [{**row, "register": registers[row["register_id"]]} for row in rows]


class StatusLinkExpiredError(Http404):
    """The status link is genuine, but its request ended longer ago than the link lives (a 404 to other callers)."""


# States after which nothing happens to a request but closing it.
_ANSWERED_STATES = frozenset(
    {DataSubjectRequest.State.RESPONDED, DataSubjectRequest.State.REFUSED, DataSubjectRequest.State.PARTLY_REFUSED}
)


def status_link_ends_at(request: DataSubjectRequest) -> datetime.datetime | None:
    """Return when the request's status link stops working, or None while the request is still open."""
    ended_at = request.closed_at
    if ended_at is None and request.state in _ANSWERED_STATES:
        ended_at = request.responded_at
    if ended_at is None:
        return None
    return ended_at + datetime.timedelta(days=tokens.STATUS_LINK_DAYS_AFTER_END)


def request_by_status_token(*, token: str) -> DataSubjectRequest:
    """Return the request a status link was issued for, or 404 for a tampered, foreign or expired link."""
    try:
        code = tokens.status_token_read(token)
        request = DataSubjectRequest.objects.select_related("organisation", "duplicate_of").get(code=code)
    except (tokens.TokenInvalidError, DataSubjectRequest.DoesNotExist, ValueError, ValidationError):
        raise Http404 from None
    ends_at = status_link_ends_at(request)
    if ends_at is not None and ends_at <= timezone.now():
        # The link was sent by e-mail and may be found in a mailbox years later:
        # a request that ended long ago is nobody's business any more.
        raise StatusLinkExpiredError
    return request


def request_by_confirm_token(*, token: str) -> DataSubjectRequest:
    """Return the request of an e-mail confirmation link; raise TokenExpiredError/TokenInvalidError or 404."""
    code = tokens.confirm_token_read(token)
    try:
        return DataSubjectRequest.objects.select_related("organisation").get(code=code)
    except (DataSubjectRequest.DoesNotExist, ValueError, ValidationError):
        raise Http404 from None


def package_by_download_token(*, token: str) -> ResponsePackage:
    """Return the released, unexpired package a download link was issued for, or 404."""
    try:
        code = tokens.download_token_read(token)
        package = ResponsePackage.objects.select_related("request__organisation").get(code=code)
    except (tokens.TokenInvalidError, ResponsePackage.DoesNotExist, ValueError, ValidationError):
        raise Http404 from None
    if package.released_at is None or package.files_deleted_at is not None:
        raise Http404
    return package


def public_organisation_list() -> QuerySet[Organisation]:
    """Return the controllers that keep at least one register, for the public request form."""
    return Organisation.objects.filter(registers__isnull=False).distinct().order_by("name_fi")


def public_register_list(*, organisation: Organisation) -> QuerySet[Register]:
    """Return the registers a request can name: those without parts (a whole register is its parts)."""
    return Register.objects.filter(organisation=organisation, parts__isnull=True).order_by("name_fi")
