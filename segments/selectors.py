"""Permission-aware reads of tags, saved views (segments) and bulk actions.

A segment's customers are always the customer list's own query (`crm.selectors.customer_list`) run with the
saved view's filters, so whoever runs it sees only what the list would show them.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q, QuerySet
from django.http import Http404, QueryDict
from django.utils.translation import gettext_lazy as _

from crm import exports
from crm import selectors as crm_selectors
from crm.forms import CustomerFilterForm
from crm.models import Customer, CustomerTag, Tag
from registers import roles
from registers.models import Membership, Register, Role
from registers.selectors import user_can

from .models import BulkAction, SavedView

ERROR_NOT_YOUR_VIEW = _("Only the user who saved this view may change or delete it.")
# The customer list's parameters a saved view keeps (crm.forms.CustomerFilterForm's fields).
QUERY_FIELDS = ("q", "kind", "language", "marketing", "inactive_months", "tag", "sort")
# Roles whose holders may be given a follow-up (they change the register's data).
ASSIGNEE_ROLES = (Role.OWNER, Role.HANDLER, Role.STAFF)


def tag_list(*, user, register: Register) -> QuerySet[Tag]:
    """Return the register's tags by name; 404 for a register the user may not read."""
    if not user_can(user=user, register=register, perm=roles.VIEW_DATA):
        raise Http404
    return Tag.objects.filter(register=register).order_by("name", "id")


def tag_list_with_usage(*, user, register: Register) -> QuerySet[Tag]:
    """The register's tags, each with how many customers and contact persons carry it (`customer_count`,
    `person_count`): one query, for the holders of MANAGE_TAGS (the owner and the handlers)."""
    return tag_list(user=user, register=register).annotate(
        customer_count=Count("customer_links__customer", distinct=True),
        person_count=Count("contact_person_links__contact_person", distinct=True),
    )


def tag_get_for_user(*, user, register: Register, code) -> Tag:
    try:
        return tag_list(user=user, register=register).get(code=code)
    except (Tag.DoesNotExist, ValueError, ValidationError):
        raise Http404 from None


def customer_tags(*, customer: Customer) -> list[Tag]:
    """The tags on a customer the caller already read through a selector, by name, each once."""
    return list(Tag.objects.filter(customer_links__customer=customer).distinct().order_by("name", "id"))


def saved_views_for(*, user, register: Register) -> QuerySet[SavedView]:
    """The user's own saved views of the register and those shared with it, by name."""
    if not user_can(user=user, register=register, perm=roles.VIEW_DATA):
        return SavedView.objects.none()
    return (
        SavedView.objects.filter(register=register)
        .filter(Q(owner=user) | Q(shared=True))
        .select_related("owner")
        .order_by("name", "id")
    )


def saved_view_get_for_user(*, user, register: Register, code) -> SavedView:
    """Return a saved view the user may apply: their own or a shared one; 404 otherwise (a private one too)."""
    try:
        return saved_views_for(user=user, register=register).get(code=code)
    except (SavedView.DoesNotExist, ValueError, ValidationError):
        raise Http404 from None


def saved_view_get_own(*, user, register: Register, code) -> SavedView:
    """Return a saved view for a change: 404 as for applying it, 403 for a colleague's shared view."""
    view = saved_view_get_for_user(user=user, register=register, code=code)
    if view.owner_id != user.pk:
        raise PermissionDenied(ERROR_NOT_YOUR_VIEW)
    return view


def query_from(data) -> dict:
    """Return the customer list's parameters in `data` (a QueryDict, a dict or a query string), others dropped."""
    if isinstance(data, str):
        data = QueryDict(data.lstrip("?"))
    get = data.get
    return {name: str(get(name)) for name in QUERY_FIELDS if get(name) not in (None, "")}


def filter_form(register: Register, query: dict) -> CustomerFilterForm:
    form = CustomerFilterForm(query or None, register=register)
    form.is_valid()
    return form


def customers_for_form(*, user, register: Register, form: CustomerFilterForm) -> QuerySet[Customer]:
    """The customers the list shows the user for a (validated) filter form: `crm.selectors.customer_list`.

    The tag filter is applied here by the tag's key: a tag named by its code joins the tag table inside the
    EXISTS, and PostgreSQL then plans 20,000 of 100,000 customers as if they were a handful (54 ms for the
    list's first page with its count, against 10 ms by key). One query more, of the tag's key.
    """
    kwargs = form.selector_kwargs()
    code = kwargs.pop("tag", "")
    customers = crm_selectors.customer_list(user=user, register=register, **kwargs)
    if code:
        key = Tag.objects.filter(register=register, code=code).values_list("pk", flat=True).first()
        links = CustomerTag.objects.filter(tag_id=key).values("customer_id")
        customers = customers.filter(pk__in=links) if key is not None else customers.none()
    return customers


def customers_for_query(*, user, register: Register, query: dict) -> QuerySet[Customer]:
    """The customers the list shows the user for these parameters (invalid ones ignored, as the list does)."""
    return customers_for_form(user=user, register=register, form=filter_form(register, query))


def segment_customers(*, user, saved_view: SavedView) -> QuerySet[Customer]:
    """The customers of a saved view, as the user's customer list shows them now; 404 for a view they may not use."""
    register = saved_view.register
    if not (saved_view.shared or saved_view.owner_id == user.pk):
        raise Http404
    return customers_for_query(user=user, register=register, query=saved_view.query)


def assignee_list(*, register: Register):
    """The users who hold a role in the register that changes its data today (a follow-up's possible assignees)."""
    from django.contrib.auth import get_user_model

    holders = Membership.objects.active().filter(register=register, role__in=ASSIGNEE_ROLES).values("user_id")
    return get_user_model().objects.filter(pk__in=holders, is_active=True).order_by("last_name", "first_name", "id")


def bulk_action_get_for_user(*, user, register: Register, code) -> BulkAction:
    """Return a bulk action of the register that the user started; 404 otherwise."""
    if not user_can(user=user, register=register, perm=roles.VIEW_DATA):
        raise Http404
    try:
        return BulkAction.objects.get(register=register, actor=user, code=code)
    except (BulkAction.DoesNotExist, ValueError, ValidationError):
        raise Http404 from None


def list_columns_for(register: Register, saved_view: SavedView | None) -> list[exports.Column]:
    """The optional columns the list shows: the saved view's choice, else every column the register collects."""
    columns = exports.list_columns(register)
    if saved_view is not None and saved_view.columns:
        chosen = set(saved_view.columns)
        columns = [column for column in columns if column.name in chosen]
    return columns
