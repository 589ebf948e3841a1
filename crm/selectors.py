"""Permission-aware reads of customer and archive data.

Every query of personal data in views, exports and tasks goes through these
functions, which scope by the registers the user holds a role in first.
"""

import datetime
import decimal
import re
import uuid
from dataclasses import dataclass

from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.contrib.postgres.aggregates import JSONBAgg
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import connection
from django.db.models import (
    Aggregate,
    CharField,
    Count,
    DateField,
    DecimalField,
    F,
    IntegerField,
    JSONField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    TextField,
    Value,
)
from django.db.models.functions import Coalesce, JSONObject
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from registers import roles
from registers.access import user_access
from registers.models import Register, Role
from registers.selectors import register_ids, register_list, user_can, user_roles

from . import archive_search, timeline
from .models import (
    CallRecording,
    ContactCentreMessage,
    ContactPerson,
    Customer,
    CustomerAlias,
    CustomerTag,
    Interaction,
    Invoice,
    MessageAttachment,
    OrderingClient,
    Tag,
)
from .validators import normalise_business_id

ERROR_READ_ONLY = _("You have read-only access to this register.")
ERROR_NO_DELETE_RIGHT = _("Only the register's owner may delete a customer.")
ERROR_NO_HISTORY_RIGHT = _("Only the register's owner may read a customer's history.")
ERROR_OTHERS_ENTRY = _("A colleague recorded this entry: only the register's owner may change or remove it.")


# Sort keys offered by the list; each one is served by an index on (register, key).
CUSTOMER_ORDERINGS: dict[str, tuple[str, ...]] = {
    "name": ("sort_name", "id"),
    "-name": ("-sort_name", "-id"),
    "activity": ("last_activity_at", "id"),
    "-activity": ("-last_activity_at", "-id"),
}
_BUSINESS_ID_LIKE = re.compile(r"^[\d-]+$")
_PHONE_LIKE = re.compile(r"^[\d\s()+-]+$")


def _is_email_address(search: str) -> bool:
    try:
        validate_email(search)
    except ValidationError:
        return False
    return True


def _phone_digits(search: str) -> str:
    """Return the digits of a phone-like search to look for in E.164 numbers, or "" when too few."""
    if not _PHONE_LIKE.match(search):
        return ""
    # Phones are stored as E.164 (+358401234567): a national number typed
    # with its trunk zero (040 123) matches without the zero.
    digits = re.sub(r"\D", "", search).removeprefix("0")
    return digits if len(digits) >= 3 else ""


def _search_q(search: str) -> Q:
    # Each branch matches an expression that a pg_trgm GIN index covers
    # (crm/migrations/0003_customer_search_indexes), so a substring search is
    # a bitmap index scan, not a sequential scan.
    if _is_email_address(search):
        # A whole address is looked up whole, through the b-tree on UPPER(email): the trigram
        # index answers a long pattern by intersecting the posting lists of some thirty
        # trigrams, most shared by every address of the domain (20 ms at 100,000 customers).
        return Q(email__iexact=search)
    query = Q(sort_name__contains=search.casefold()) | Q(email__icontains=search)
    if _BUSINESS_ID_LIKE.match(search):
        query |= Q(business_id__contains=search)
        # Business IDs are stored printed (1234567-1); one typed whole without its hyphen
        # (12345671) or in the old six-digit form is looked up in that form.
        printed = normalise_business_id(search)
        if printed != search:
            query |= Q(business_id=printed)
    digits = _phone_digits(search)
    if digits:
        query |= Q(mobile__contains=digits) | Q(landline__contains=digits)
    return query


def _contact_person_q(search: str) -> Q:
    # Every word of the search is in the first or the last name ("Maija Virtanen", "virtanen maija");
    # the trigram indexes of crm/migrations/0005 cover each branch.
    words = Q()
    for word in search.split():
        words &= Q(first_name__icontains=word) | Q(last_name__icontains=word)
    query = words | (Q(email__iexact=search) if _is_email_address(search) else Q(email__icontains=search))
    digits = _phone_digits(search)
    if digits:
        query |= Q(phone__contains=digits)
    return query


def months_ago(months: int, *, now: datetime.datetime | None = None) -> datetime.datetime:
    """Return the moment `months` calendar months before now (day clamped to the month's end)."""
    now = now or timezone.now()
    month_index = now.year * 12 + now.month - 1 - months
    year, month = divmod(month_index, 12)
    month += 1
    next_month = datetime.date(year + month // 12, month % 12 + 1, 1)
    last_day = (next_month - datetime.timedelta(days=1)).day
    return now.replace(year=year, month=month, day=min(now.day, last_day))


def customer_list(
    *,
    user,
    register: Register | None = None,
    search: str = "",
    kind: str = "",
    language: str = "",
    marketing_objection: bool | None = None,
    inactive_months: int | None = None,
    tag: str = "",
    ordering: str = "name",
) -> QuerySet[Customer]:
    """Return the customers of the user's registers, optionally of one register, filtered and sorted."""
    if register is None:
        queryset = Customer.objects.filter(register__in=register_list(user=user).filter(kind=Register.Kind.CUSTOMER))
    elif register.kind == Register.Kind.CUSTOMER and user_can(user=user, register=register, perm=roles.VIEW_DATA):
        # The right is checked here, once, so the customer scan sees a plain equality
        # and a rare search term keeps its trigram bitmap scan.
        queryset = Customer.objects.filter(register=register)
    else:
        queryset = Customer.objects.none()
    search = search.strip()
    if search:
        query = _search_q(search)
        if register is not None:
            # A search that names one of the register's tags also finds the customers carrying it. The tag is
            # looked up first, so that an ordinary search keeps its plain index plan.
            named = Tag.objects.filter(register=register, name__iexact=search).values_list("pk", flat=True).first()
            if named is not None:
                query |= Q(pk__in=CustomerTag.objects.filter(tag_id=named).values("customer_id"))
        queryset = queryset.filter(query)
    if tag:
        # By the tag's key, looked up first: a tag named by its code joins the tag table inside the subquery, and
        # PostgreSQL then plans 20,000 of 100,000 customers as if they were a handful (54 ms for the list's first
        # page with its count, against 10 ms by key).
        key = Tag.objects.filter(register=register, code=tag).values_list("pk", flat=True).first()
        links = CustomerTag.objects.filter(tag_id=key).values("customer_id")
        queryset = queryset.filter(pk__in=links) if key is not None else queryset.none()
    if kind:
        queryset = queryset.filter(kind=kind)
    if language:
        queryset = queryset.filter(language=language)
    if marketing_objection is not None:
        queryset = queryset.filter(marketing_objection=marketing_objection)
    if inactive_months:
        queryset = queryset.inactive_since(months_ago(inactive_months))
    return queryset.select_related("register").order_by(*CUSTOMER_ORDERINGS.get(ordering, CUSTOMER_ORDERINGS["name"]))


def contact_person_search(*, user, search: str, register: Register | None = None) -> QuerySet[ContactPerson]:
    """Return the contact persons whose name, e-mail or phone matches, in the user's registers (or one of them).

    A hit leads to the organisation: each row carries its customer and the customer's register.
    """
    search = search.strip()
    if not search:
        return ContactPerson.objects.none()
    customers = customer_list(user=user, register=register).order_by()
    return (
        ContactPerson.objects.filter(_contact_person_q(search), customer__in=customers.values("pk"))
        .select_related("customer__register")
        .order_by("last_name", "first_name", "id")
    )


CONTACT_SEARCH_MIN_LENGTH = 3
# What a hit shows (crm/_contact_person_hits.html): the person's name, the organisation's name and link,
# and the register's name; the rest of the three rows stays unread.
_CONTACT_HIT_COLUMNS = (
    "first_name",
    "last_name",
    "customer__code",
    "customer__kind",
    "customer__organisation_name",
    "customer__first_name",
    "customer__last_name",
    "customer__register__slug",
    "customer__register__name_fi",
    "customer__register__name_sv",
    "customer__register__name_en",
)


def contact_person_hits(
    *, user, search: str, limit: int, register: Register | None = None
) -> tuple[list[ContactPerson], bool]:
    """Return up to `limit` contact persons the search finds, by name, and whether there are more.

    The newest matches are taken, then sorted by name. Taking the first by name would make
    PostgreSQL walk the name index until enough match: a surname late in the alphabet
    ("Virtanen") is found only after most of the index, 250 ms at 130,000 contact persons.
    The key order is independent of the search, so the walk stops after a few rows for a
    common term, and a rare term is read through the trigram indexes. Terms shorter than
    three characters find customers only.
    """
    if len(search.strip()) < CONTACT_SEARCH_MIN_LENGTH:
        # Shorter than a trigram: no index can answer it, and "oy" would read every contact person.
        return [], False
    shown = contact_person_search(user=user, search=search, register=register).only(*_CONTACT_HIT_COLUMNS)
    found = list(shown.order_by("-id")[: limit + 1])
    hits = sorted(found[:limit], key=lambda person: (person.last_name, person.first_name, person.pk))
    return hits, len(found) > limit


def customer_get_for_user(*, user, register: Register, code, annotations: dict | None = None) -> Customer:
    """Return the customer or raise 404, also when it belongs to a register the user may not see.

    `annotations` are columns the caller reads with the row (the API's tag names), in the same query.
    """
    try:
        return customer_list(user=user, register=register).annotate(**(annotations or {})).get(code=code)
    except (Customer.DoesNotExist, ValueError):
        raise Http404 from None


def customer_get_for_user_rw(*, user, register: Register, code) -> Customer:
    """Return the customer for a change, raising 403 for read-only roles."""
    customer = customer_get_for_user(user=user, register=register, code=code)
    if not user_can(user=user, register=register, perm=roles.CHANGE_DATA):
        raise PermissionDenied(ERROR_READ_ONLY)
    return customer


def user_holds_right(*, user, register: Register, right: str) -> bool:
    """Tell whether a role the user holds in the register today carries `right` (roles.ROLE_DATA_RIGHTS)."""
    return _holds_right(user, register.pk, right)


def _holds_right(user, register_pk: int, right: str) -> bool:
    held = user_access(user).roles_in(register_pk)
    return any(right in roles.ROLE_DATA_RIGHTS.get(role, frozenset()) for role in held)


def user_may_read_keeper_records(*, user, register: Register) -> bool:
    """Tell whether the user may read, and only read, the register's requests, import batches and duplicates.

    An integration client with the keeper's scope (roles.READ_KEEPER_RECORDS); VIEW_DATA first, as for every read.
    """
    return register.pk in keeper_record_register_ids(user=user)


def keeper_record_register_ids(*, user) -> set[int]:
    """Return the registers where the user may read the keepers' records (user_may_read_keeper_records)."""
    readable = register_ids(user=user, perms=(roles.VIEW_DATA,))
    return {pk for pk in readable if _holds_right(user, pk, roles.READ_KEEPER_RECORDS)}


def user_may_import(*, user, register: Register) -> bool:
    """Tell whether the user may bring customers in from files or the company register, and undo such imports.

    CHANGE_DATA first: a role that ended, or a register the user cannot write, never receives a row.
    """
    return user_can(user=user, register=register, perm=roles.CHANGE_DATA) and user_holds_right(
        user=user, register=register, right=roles.IMPORT_CUSTOMERS
    )


def user_may_change_interaction(*, user, interaction: Interaction, register: Register) -> bool:
    """Tell whether the user may correct or remove the entry: their own, or anybody's with CHANGE_OTHERS_ENTRIES."""
    if interaction.staff_user_id is not None and interaction.staff_user_id == user.pk:
        return True
    return user_holds_right(user=user, register=register, right=roles.CHANGE_OTHERS_ENTRIES)


def customer_get_for_delete(*, user, register: Register, code) -> Customer:
    """Return the customer for deletion: 404 as for reading, 403 without the right to delete."""
    customer = customer_get_for_user_rw(user=user, register=register, code=code)
    if not user_holds_right(user=user, register=register, right=roles.DELETE_CUSTOMERS):
        raise PermissionDenied(ERROR_NO_DELETE_RIGHT)
    return customer


def contact_person_get_for_user(*, user, customer: Customer, code) -> ContactPerson:
    try:
        return customer.contact_persons.get(code=code)
    except (ContactPerson.DoesNotExist, ValueError):
        raise Http404 from None


def interaction_get_for_user(*, user, customer: Customer, code) -> Interaction:
    try:
        return customer.interactions.get(code=code)
    except (Interaction.DoesNotExist, ValueError):
        raise Http404 from None


def contact_person_list(*, user, register: Register) -> QuerySet[ContactPerson]:
    """Return the contact persons of all of the register's customers (the integration API's sync), with their
    customer; none unless the user may read the register."""
    customers = customer_list(user=user, register=register).order_by()
    return ContactPerson.objects.filter(customer__in=customers.values("pk")).select_related("customer")


def interaction_list(*, user, register: Register) -> QuerySet[Interaction]:
    """Return the interactions of all of the register's customers (the integration API's sync), with their
    customer and contact person; none unless the user may read the register."""
    customers = customer_list(user=user, register=register).order_by()
    return Interaction.objects.filter(customer__in=customers.values("pk")).select_related("customer", "contact_person")


def interaction_get_for_user_rw(*, user, customer: Customer, code) -> Interaction:
    """Return the interaction for a change: 403 when a colleague recorded it and the user's role does not allow it."""
    interaction = interaction_get_for_user(user=user, customer=customer, code=code)
    if not user_may_change_interaction(user=user, interaction=interaction, register=customer.register):
        raise PermissionDenied(ERROR_OTHERS_ENTRY)
    return interaction


@dataclass(frozen=True)
class TimelineEntry:
    """One row of a customer's timeline: an interaction, an invoice or a row of a `crm.timeline` source."""

    is_invoice: bool
    code: uuid.UUID
    at: datetime.datetime
    kind: str
    title: str
    text: str = ""
    amount: decimal.Decimal | None = None
    due_date: datetime.date | None = None
    contact_person: str = ""
    staff_user: str = ""
    staff_user_id: int | None = None
    # "i" an interaction, "v" an invoice, or the letter of a crm.timeline source.
    entry: str = "i"


# The columns every branch of the timeline's UNION selects, in this order (crm.timeline sources too).
TIMELINE_COLUMNS = (
    "entry",
    "ref",
    "at",
    "type",
    "title",
    "body",
    "money",
    "due",
    "person_first",
    "person_last",
    "staff_first",
    "staff_last",
    "staff_username",
    "staff_id",
    "row",
)


@dataclass(frozen=True)
class TimelinePage:
    entries: list[TimelineEntry]
    number: int
    has_previous: bool
    has_next: bool


def _timeline_union(customer: Customer):
    # Both branches select the same columns in the same order; the UNION is
    # sorted and sliced in SQL, so one query serves any page of any length.
    interactions = (
        Interaction.objects.filter(customer=customer)
        .order_by()
        .values(
            entry=Value("i"),
            ref=F("code"),
            at=F("occurred_at"),
            type=F("kind"),
            title=F("subject"),
            body=F("text"),
            money=Value(None, output_field=DecimalField()),
            due=Value(None, output_field=DateField()),
            person_first=F("contact_person__first_name"),
            person_last=F("contact_person__last_name"),
            staff_first=F("staff_user__first_name"),
            staff_last=F("staff_user__last_name"),
            staff_username=F("staff_user__username"),
            staff_id=F("staff_user_id"),
            row=F("id"),
        )
    )
    # An invoice enters the timeline when it was recorded.
    invoices = (
        Invoice.objects.filter(customer=customer)
        .order_by()
        .values(
            entry=Value("v"),
            ref=F("code"),
            at=F("created_at"),
            type=F("status"),
            title=F("number"),
            body=Value("", output_field=TextField()),
            money=F("amount"),
            due=F("due_date"),
            person_first=Value("", output_field=CharField()),
            person_last=Value("", output_field=CharField()),
            staff_first=Value("", output_field=CharField()),
            staff_last=Value("", output_field=CharField()),
            staff_username=Value("", output_field=CharField()),
            staff_id=Value(None, output_field=IntegerField()),
            row=F("id"),
        )
    )
    others = [source.rows(customer) for source in timeline.SOURCES.values()]
    return interactions.union(invoices, *others, all=True).order_by("-at", "-row")


def _timeline_entry(row: dict) -> TimelineEntry:
    staff = f"{row['staff_first'] or ''} {row['staff_last'] or ''}".strip() or (row["staff_username"] or "")
    return TimelineEntry(
        is_invoice=row["entry"] == "v",
        code=row["ref"],
        at=row["at"],
        kind=row["type"],
        title=row["title"],
        text=row["body"] or "",
        amount=row["money"],
        due_date=row["due"],
        contact_person=f"{row['person_first'] or ''} {row['person_last'] or ''}".strip(),
        staff_user=staff,
        staff_user_id=row["staff_id"],
        entry=row["entry"],
    )


def customer_timeline_page(*, customer: Customer, page: int = 1, per_page: int = 50) -> TimelinePage:
    """Return one page of the customer's interactions and invoices, newest first, in one query.

    No count is taken: the page asks for one row more than it shows to know
    whether an older page exists.
    """
    page = max(1, page)
    offset = (page - 1) * per_page
    rows = list(_timeline_union(customer)[offset : offset + per_page + 1])
    entries = [_timeline_entry(row) for row in rows[:per_page]]
    return TimelinePage(entries=entries, number=page, has_previous=page > 1, has_next=len(rows) > per_page)


def register_list_with_access(*, user) -> list[Register]:
    """Return the registers the user may see, each marked with what the user may do there (one query).

    `can_change` (CHANGE_DATA), `can_delete_customers` and `can_change_others_entries` (roles.ROLE_DATA_RIGHTS),
    all read from the request's `user_access`.
    """
    registers = list(register_list(user=user))
    for register in registers:
        _mark_access(user, register)
    return registers


def register_get_with_access(*, user, slug: str, kind: str | None = None) -> Register:
    """Return one of the user's registers by slug (and kind), marked as `register_list_with_access` marks it.

    404 when the user may not see it, or when it is of another kind.
    """
    queryset = register_list(user=user).filter(slug=slug)
    if kind is not None:
        queryset = queryset.filter(kind=kind)
    register = queryset.first()
    if register is None:
        raise Http404
    return _mark_access(user, register)


def _mark_access(user, register: Register) -> Register:
    register.can_change = user_can(user=user, register=register, perm=roles.CHANGE_DATA)
    register.can_delete_customers = user_holds_right(user=user, register=register, right=roles.DELETE_CUSTOMERS)
    register.can_change_others_entries = user_holds_right(
        user=user, register=register, right=roles.CHANGE_OTHERS_ENTRIES
    )
    register.can_read_history = user_can(user=user, register=register, perm=roles.REVIEW_ACCESS)
    register.can_merge = register.can_change and user_holds_right(
        user=user, register=register, right=roles.MERGE_CUSTOMERS
    )
    return register


class JSONGroupArray(Aggregate):
    """The group's values as one JSON array, on SQLite (PostgreSQL has JSONBAgg and ARRAY of a subquery)."""

    function = "JSON_GROUP_ARRAY"
    output_field = JSONField()


# The page's badges read the contact person's own objection and bounce mark too (issue 18).
_CONTACT_PERSON_COLUMNS = (
    "id",
    "code",
    "customer_id",
    *ContactPerson.DATA_FIELDS,
    "marketing_objection",
    "email_bounced_at",
)


def _contact_person_rows() -> Subquery:
    """The customer's contact persons as a JSON array of their shown columns (NULL when there are none)."""
    row = JSONObject(**{name: name for name in _CONTACT_PERSON_COLUMNS})
    if connection.vendor == "postgresql":
        rows = JSONBAgg(row, order_by=ContactPerson._meta.ordering)
    else:
        rows = JSONGroupArray(row)
    people = ContactPerson.objects.filter(customer=OuterRef("pk")).order_by().values("customer")
    return Subquery(people.annotate(rows=rows).values("rows"), output_field=JSONField())


def _contact_persons_from_rows(customer: Customer, rows) -> list[ContactPerson]:
    fields = [ContactPerson._meta.get_field(name) for name in _CONTACT_PERSON_COLUMNS]
    people = []
    for row in rows or ():
        values = [field.to_python(row[field.attname]) for field in fields]
        person = ContactPerson.from_db(Customer.objects.db, [field.attname for field in fields], values)
        person.customer = customer
        people.append(person)
    if connection.vendor != "postgresql":
        # SQLite's aggregate keeps no order; its BINARY collation is Python's string order.
        people.sort(key=lambda person: (person.last_name, person.first_name, person.pk))
    return people


def customer_get_with_register(*, user, register_slug: str, code) -> Customer:
    """Return the customer with its register and contact persons in one query.

    The register is marked as `register_list_with_access` marks it; an
    organisation's contact persons are in `customer.contact_person_list`.
    404 when the register is not one of the user's customer registers or the customer is not in it.
    """
    visible = sorted(register_ids(user=user))
    try:
        customer = (
            Customer.objects.select_related("register__organisation")
            .annotate(contact_person_rows=_contact_person_rows())
            .get(
                register__slug=register_slug, register__kind=Register.Kind.CUSTOMER, register_id__in=visible, code=code
            )
        )
    except (Customer.DoesNotExist, ValueError, ValidationError):
        raise Http404 from None
    customer.contact_person_list = _contact_persons_from_rows(customer, customer.contact_person_rows)
    _mark_access(user, customer.register)
    return customer


def customer_merged_into(*, user, register_slug: str, code) -> Customer | None:
    """Return the customer that the customer `code` was merged into, if the user may see it; else None.

    The old code's links lead to the survivor (duplicates.services.customer_merge); a user who may not
    see the survivor learns nothing, not even that the code was merged.
    """
    try:
        alias = CustomerAlias.objects.select_related("customer__register").get(
            code=code,
            customer__register__slug=register_slug,
            customer__register_id__in=register_ids(user=user),
        )
    except (CustomerAlias.DoesNotExist, ValueError, ValidationError):
        return None
    return alias.customer


def customer_history(*, user, customer: Customer) -> QuerySet[LogEntry]:
    """The customer's own change and access entries, newest first, for those who read the register's audit trail.

    A merge moves the entries of the records merged into the customer onto it (duplicates.merging), so
    their history reads here too. 403 without REVIEW_ACCESS (the register's owners).
    """
    if not user_can(user=user, register=customer.register, perm=roles.REVIEW_ACCESS):
        raise PermissionDenied(ERROR_NO_HISTORY_RIGHT)
    return LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Customer), object_id=customer.pk
    ).order_by("-timestamp", "-pk")


def ordering_client_list(*, user, register: Register) -> QuerySet[OrderingClient]:
    """Return the ordering clients whose archive items the user may read in a contact-centre register."""
    queryset = OrderingClient.objects.filter(register=register)
    if user_roles(user=user, register=register) == {Role.CLIENT_MANAGER}:
        queryset = queryset.filter(managers=user)
    return queryset


def _archive_scope(*, user, register: Register, model):
    readable = user_can(user=user, register=register, perm=roles.VIEW_DATA)
    if register.kind != Register.Kind.CONTACT_CENTRE or not readable:
        raise Http404
    queryset = model.objects.filter(register=register).select_related("ordering_client")
    held = user_roles(user=user, register=register)
    # An ordering client's manager sees only the own department's items;
    # any other role in the register sees the whole archive.
    if held == {Role.CLIENT_MANAGER}:
        queryset = queryset.filter(ordering_client__managers=user)
    return queryset


def message_list(
    *,
    user,
    register: Register,
    search: str = "",
    direction: str = "",
    sent_from: datetime.date | None = None,
    sent_to: datetime.date | None = None,
    ordering_client: OrderingClient | None = None,
    unreadable_only: bool = False,
) -> QuerySet[ContactCentreMessage]:
    """Return the archived messages of a contact-centre register that the user may read, newest first.

    The filters narrow the user's scope and never widen it: an ordering client outside a manager's own
    matches nothing. Each row carries `attachment_count`.
    """
    queryset = _archive_scope(user=user, register=register, model=ContactCentreMessage)
    if ordering_client is not None:
        queryset = queryset.filter(ordering_client=ordering_client)
    if direction:
        queryset = queryset.filter(direction=direction)
    zone = timezone.get_current_timezone()
    if sent_from is not None:
        start = datetime.datetime.combine(sent_from, datetime.time.min, tzinfo=zone)
        queryset = queryset.filter(sent_at__gte=start)
    if sent_to is not None:
        end = datetime.datetime.combine(sent_to + datetime.timedelta(days=1), datetime.time.min, tzinfo=zone)
        queryset = queryset.filter(sent_at__lt=end)
    if unreadable_only:
        queryset = queryset.filter(unreadable=True)
    queryset = archive_search.message_search(queryset, search)
    # A correlated count, computed only for the rows of the page (PostgreSQL evaluates it after the LIMIT).
    attachments = (
        MessageAttachment.objects.filter(message=OuterRef("pk"))
        .order_by()
        .values("message")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return queryset.annotate(attachment_count=Coalesce(Subquery(attachments), 0)).order_by("-sent_at", "-id")


def message_attachment_list(*, message: ContactCentreMessage) -> QuerySet[MessageAttachment]:
    """Return the attachments of a message the caller already read through `message_get_for_user`."""
    return MessageAttachment.objects.filter(message=message).order_by("id")


def message_thread(*, user, register: Register, message: ContactCentreMessage) -> QuerySet[ContactCentreMessage]:
    """Return the conversation of a message, oldest first: the same thread key and ordering client, in scope."""
    if not message.thread_key:
        return ContactCentreMessage.objects.none()
    return (
        _archive_scope(user=user, register=register, model=ContactCentreMessage)
        .filter(ordering_client_id=message.ordering_client_id, thread_key=message.thread_key)
        .order_by("sent_at", "id")
    )


def message_attachment_get_for_user(*, user, register: Register, code, attachment) -> MessageAttachment:
    """Return one attachment of a message the user may read, or raise 404 (also for another message's file)."""
    message = message_get_for_user(user=user, register=register, code=code)
    try:
        return MessageAttachment.objects.select_related("message").get(message=message, code=attachment)
    except (MessageAttachment.DoesNotExist, ValueError, ValidationError):
        raise Http404 from None


def message_export_values(messages: QuerySet[ContactCentreMessage]) -> QuerySet:
    """Return the rows of the archive's CSV: masked header fields and counts, never a body."""
    return messages.values_list(
        "sent_at",
        "direction",
        "ordering_client__department",
        "sender",
        "recipient",
        "subject",
        "attachment_count",
        "unreadable",
    )


def call_recording_list(*, user, register: Register) -> QuerySet[CallRecording]:
    """Return the call-recording metadata of a contact-centre register that the user may read."""
    return _archive_scope(user=user, register=register, model=CallRecording)


def message_get_for_user(*, user, register: Register, code) -> ContactCentreMessage:
    """Return one archived message or raise 404, also for another department's message."""
    try:
        return _archive_scope(user=user, register=register, model=ContactCentreMessage).get(code=code)
    except (ContactCentreMessage.DoesNotExist, ValueError, ValidationError):
        raise Http404 from None


def customer_recent_list(*, user, limit: int = 8) -> list[Customer]:
    """Return the customers the user opened most recently, newest first, from the access log."""
    # The access log already records every opened customer page; a user's
    # recent entries are few, and deleted or no longer permitted customers
    # drop out through the permission-scoped query below.
    recent = (
        LogEntry.objects.filter(
            actor=user, action=LogEntry.Action.ACCESS, content_type=ContentType.objects.get_for_model(Customer)
        )
        .order_by("-timestamp")
        .values_list("object_id", flat=True)[: limit * 10]
    )
    ids = list(dict.fromkeys(pk for pk in recent if pk is not None))[: limit * 2]
    customers = customer_list(user=user).filter(pk__in=ids).in_bulk()
    return [customers[pk] for pk in ids if pk in customers][:limit]
