"""Saved views of the customer list (segments): which a user may apply, and the customers one names.

A segment's customers are always the customer list's own query (`crm.selectors.customer_list`) run with the
saved view's parameters, so whoever runs it sees only what their list would show them. The list applies a view
(`?view=<code>`), the exports and labels take one, and the apps above crm (bulk actions, campaigns) read their
input through `segment_customers`.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q, QuerySet
from django.http import Http404, QueryDict
from django.utils.translation import gettext_lazy as _

from registers import roles
from registers.models import Register
from registers.selectors import user_can

from . import exports
from .forms import CustomerFilterForm
from .models import Customer, SavedView
from .selectors import customer_list

ERROR_NOT_YOUR_VIEW = _("Only the user who saved this view may change or delete it.")
# The customer list's parameters a saved view keeps (crm.forms.CustomerFilterForm's fields).
QUERY_FIELDS = ("q", "kind", "language", "marketing", "inactive_months", "tag", "sort")


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
    """The customers the list shows the user for a (validated) filter form."""
    return customer_list(user=user, register=register, **form.selector_kwargs())


def customers_for_query(*, user, register: Register, query: dict) -> QuerySet[Customer]:
    """The customers the list shows the user for these parameters (invalid ones ignored, as the list does)."""
    return customers_for_form(user=user, register=register, form=filter_form(register, query))


def segment_customers(*, user, saved_view: SavedView) -> QuerySet[Customer]:
    """The customers of a saved view, as the user's customer list shows them now; 404 for a view they may not use."""
    if not (saved_view.shared or saved_view.owner_id == user.pk):
        raise Http404
    return customers_for_query(user=user, register=saved_view.register, query=saved_view.query)


def list_columns_for(register: Register, saved_view: SavedView | None) -> list[exports.Column]:
    """The optional columns the list shows: the saved view's choice, else every column the register collects."""
    columns = exports.list_columns(register)
    if saved_view is not None and saved_view.columns:
        chosen = set(saved_view.columns)
        columns = [column for column in columns if column.name in chosen]
    return columns
