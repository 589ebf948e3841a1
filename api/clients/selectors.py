"""Reads of integration clients for the main user's screens: nobody else sees them."""

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404

from registers.models import Membership
from registers.services import is_main_user

from ..models import APIClient


def _require_main_user(user) -> None:
    if not (user.is_authenticated and is_main_user(user)):
        raise PermissionDenied


def api_client_list(*, user) -> QuerySet[APIClient]:
    """Every client, active ones first, for a main user; PermissionDenied for anyone else."""
    _require_main_user(user)
    clients = APIClient.objects.select_related("owner", "user", "revoked_by", "created_by")
    return clients.order_by("revoked", "name", "pk")


def api_client_get(*, user, code) -> APIClient:
    """One client by its code for a main user; 404 if there is none, PermissionDenied for anyone else."""
    try:
        return api_client_list(user=user).get(code=code)
    except (APIClient.DoesNotExist, ValueError):
        raise Http404 from None


def api_client_scope_rows(clients) -> dict[int, list]:
    """Client pk → its scopes in force, as (register, role label) sorted by register name."""
    by_user = {client.user_id: client.pk for client in clients}
    rows: dict[int, list] = {pk: [] for pk in by_user.values()}
    memberships = (
        Membership.objects.active()
        .filter(user_id__in=list(by_user))
        .select_related("register")
        .order_by("register__name_fi", "register_id")
    )
    for membership in memberships:
        rows[by_user[membership.user_id]].append((membership.register, membership.get_role_display()))
    return rows
