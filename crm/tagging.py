"""Tags: a register's keepers name them, staff put them on customers and contact persons (issue 18).

Each function is one user-visible action. Putting a tag on or taking it off audits as a change of the customer
(`{"tags": [before, after]}`, written by hand: a link row is not an audited model); the bulk variant is audited
once, by the bulk action that runs it (segments.services), and writes its links with a constant number of queries.
"""

from auditlog.models import LogEntry
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from registers import roles
from registers.audit_context import set_actor
from registers.audit_scope import REGISTER_KEY
from registers.models import Register
from registers.selectors import user_can

from .models import ContactPerson, ContactPersonTag, Customer, CustomerTag, Tag
from .selectors import ERROR_READ_ONLY, user_holds_right
from .services import ERROR_RESTRICTED

ERROR_NO_TAG_RIGHT = _("Only the register's owner or handler may create, rename or delete its tags.")
ERROR_TAG_OF_OTHER_REGISTER = _("The tag belongs to another register.")
# Rows written per INSERT of a bulk tag: 20,000 customers are 20 statements.
BULK_CHUNK = 1000


def _require_manage(actor, register: Register) -> None:
    if not (
        user_can(user=actor, register=register, perm=roles.CHANGE_DATA)
        and user_holds_right(user=actor, register=register, right=roles.MANAGE_TAGS)
    ):
        raise PermissionDenied(ERROR_NO_TAG_RIGHT)


def _require_change(actor, register: Register) -> None:
    if not user_can(user=actor, register=register, perm=roles.CHANGE_DATA):
        raise PermissionDenied(ERROR_READ_ONLY)


def _save(actor, tag: Tag) -> Tag:
    tag.full_clean()
    with set_actor(actor):
        tag.save()
    return tag


@transaction.atomic
def tag_create(*, actor, register: Register, name: str) -> Tag:
    """Add a tag to the register's vocabulary (MANAGE_TAGS: the owner and the handlers)."""
    _require_manage(actor, register)
    return _save(actor, Tag(register=register, name=name.strip(), created_by=actor))


@transaction.atomic
def tag_rename(*, actor, tag: Tag, name: str) -> Tag:
    """Rename a tag; the customers carrying it keep it."""
    _require_manage(actor, tag.register)
    tag.name = name.strip()
    return _save(actor, tag)


@transaction.atomic
def tag_delete(*, actor, tag: Tag) -> None:
    """Delete a tag and take it off every customer and contact person."""
    _require_manage(actor, tag.register)
    with set_actor(actor):
        tag.delete()


def _customer_tag_names(customer: Customer) -> str:
    names = Tag.objects.filter(customer_links__customer=customer).values_list("name", flat=True)
    return ", ".join(sorted(set(names), key=str.casefold))


def _person_tag_names(person: ContactPerson) -> str:
    names = Tag.objects.filter(contact_person_links__contact_person=person).values_list("name", flat=True)
    return ", ".join(sorted(set(names), key=str.casefold))


def _locked_customer(customer: Customer) -> Customer:
    # The stored flag, locked: a restriction applied after the page was loaded still stops the change.
    current = Customer.objects.select_for_update().get(pk=customer.pk)
    if current.processing_restricted:
        raise ValidationError(ERROR_RESTRICTED, code="restricted")
    return current


def _check(actor, tag: Tag, customer: Customer) -> Customer:
    _require_change(actor, customer.register)
    if tag.register_id != customer.register_id:
        raise ValidationError(ERROR_TAG_OF_OTHER_REGISTER, code="other_register")
    return _locked_customer(customer)


def _audit(actor, customer: Customer, field: str, before: str, after: str, extra: dict | None = None) -> None:
    with set_actor(actor):
        LogEntry.objects.log_create(
            customer,
            force_log=True,
            action=LogEntry.Action.UPDATE,
            changes={field: [before, after]},
            actor=actor,
            actor_email=getattr(actor, "email", None),
            additional_data={REGISTER_KEY: customer.register_id, **(extra or {})},
        )


@transaction.atomic
def tag_apply(
    *, actor, tag: Tag, customer: Customer | None = None, contact_person: ContactPerson | None = None
) -> bool:
    """Put the tag on a customer or one of its contact persons; return False when it was there already."""
    if contact_person is not None:
        customer = contact_person.customer
        current = _check(actor, tag, customer)
        links = ContactPersonTag.objects.filter(tag=tag, contact_person=contact_person)
        if links.exists():
            return False
        before = _person_tag_names(contact_person)
        ContactPersonTag.objects.create(tag=tag, contact_person=contact_person, added_by=actor)
        after = _person_tag_names(contact_person)
        _audit(actor, current, "contact_person_tags", before, after, {"contact_person": str(contact_person.code)})
        return True
    current = _check(actor, tag, customer)
    if CustomerTag.objects.filter(tag=tag, customer=current).exists():
        return False
    before = _customer_tag_names(current)
    CustomerTag.objects.create(tag=tag, customer=current, added_by=actor)
    _audit(actor, current, "tags", before, _customer_tag_names(current))
    return True


@transaction.atomic
def tag_remove(
    *, actor, tag: Tag, customer: Customer | None = None, contact_person: ContactPerson | None = None
) -> bool:
    """Take the tag off a customer or a contact person (every link of it); return False when it was not there."""
    if contact_person is not None:
        customer = contact_person.customer
        current = _check(actor, tag, customer)
        before = _person_tag_names(contact_person)
        deleted, _rows = ContactPersonTag.objects.filter(tag=tag, contact_person=contact_person).delete()
        if not deleted:
            return False
        after = _person_tag_names(contact_person)
        _audit(actor, current, "contact_person_tags", before, after, {"contact_person": str(contact_person.code)})
        return True
    current = _check(actor, tag, customer)
    before = _customer_tag_names(current)
    deleted, _rows = CustomerTag.objects.filter(tag=tag, customer=current).delete()
    if not deleted:
        return False
    _audit(actor, current, "tags", before, _customer_tag_names(current))
    return True


def _bulk_targets(tag: Tag, customer_ids) -> QuerySet[Customer]:
    """The customers of the tag's register among the ids (a list or a values("pk") queryset), not restricted."""
    return Customer.objects.filter(pk__in=customer_ids, register_id=tag.register_id, processing_restricted=False)


def _chunks(customer_ids):
    # A queryset is one subquery, whatever its size; a list goes in chunks of parameters.
    if isinstance(customer_ids, QuerySet):
        yield customer_ids
        return
    ids = list(customer_ids)
    for start in range(0, len(ids), BULK_CHUNK):
        yield ids[start : start + BULK_CHUNK]


def _insert_links(*, actor, tag: Tag, customer_ids) -> int:
    """Link the tag to those customers that lack it with one INSERT .. SELECT; return how many rows it wrote."""
    # The links already there are looked up among the chunk's customers only (a hashed NOT IN of at most a chunk):
    # an anti-join against every link of the tag would scan the links written by the earlier chunks of the same
    # transaction, which the planner has no statistics of, once per customer (1 s a chunk at 20,000 customers).
    linked = CustomerTag.objects.filter(tag=tag, customer_id__in=customer_ids).values("customer_id")
    source = (
        _bulk_targets(tag, customer_ids)
        .exclude(pk__in=linked)
        .order_by()
        .annotate(picked_id=F("pk"))
        .values_list("picked_id", flat=True)
    )
    select, params = source.query.sql_with_params()
    quote = connection.ops.quote_name
    opts = CustomerTag._meta
    columns = ", ".join(quote(opts.get_field(name).column) for name in ("tag", "customer", "added_at", "added_by"))
    now = CustomerTag._meta.get_field("added_at").get_db_prep_value(timezone.now(), connection)
    # Only quoted names and Django's own compiled SELECT go into the text; every value is a parameter.
    sql = f"INSERT INTO {quote(opts.db_table)} ({columns}) SELECT %s, picked.picked_id, %s, %s FROM ({select}) picked"  # noqa: S608  # nosec B608
    with connection.cursor() as cursor:
        cursor.execute(sql, [tag.pk, now, getattr(actor, "pk", None), *params])
        return max(cursor.rowcount, 0)


@transaction.atomic
def tags_apply_bulk(*, actor, tag: Tag, customer_ids) -> int:
    """Put the tag on the customers that lack it; return how many got it.

    Restricted customers and customers of other registers are left out. One INSERT .. SELECT per chunk of ids
    (one in all for a queryset of ids), never a query per customer: 20,000 customers cost the same few queries.
    """
    _require_change(actor, tag.register)
    return sum(_insert_links(actor=actor, tag=tag, customer_ids=chunk) for chunk in _chunks(customer_ids))


@transaction.atomic
def tags_remove_bulk(*, actor, tag: Tag, customer_ids) -> int:
    """Take the tag off the customers; return how many lost it. Restricted customers keep their tags."""
    _require_change(actor, tag.register)
    changed = 0
    for chunk in _chunks(customer_ids):
        links = CustomerTag.objects.filter(tag=tag, customer__in=_bulk_targets(tag, chunk).values("pk"))
        changed += links.values("customer_id").distinct().count()
        links.delete()  # one DELETE: nothing cascades from a link and no signal listens to it
    return changed
