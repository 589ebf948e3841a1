"""Permission-aware reads of tags and bulk actions, and the saved views' reads (`crm.saved_views`) they use."""

from django.core.exceptions import ValidationError
from django.db.models import Count, QuerySet
from django.http import Http404

from crm import saved_views
from crm.models import Customer, Tag
from registers import roles
from registers.models import Membership, Register, Role
from registers.selectors import user_can

from .models import BulkAction

# The saved views' reads live with the customer list that applies them; segments' pages and services use them.
saved_views_for = saved_views.saved_views_for
saved_view_get_for_user = saved_views.saved_view_get_for_user
saved_view_get_own = saved_views.saved_view_get_own
query_from = saved_views.query_from
segment_customers = saved_views.segment_customers
QUERY_FIELDS = saved_views.QUERY_FIELDS

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
