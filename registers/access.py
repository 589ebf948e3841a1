"""What a user may do, answered in one query per request.

Every signed-in page asks the same questions before it does its own work: is
the user a main user or an owner somewhere (both need a second factor), is a
confidentiality commitment still unaccepted, which registers may they see,
change or administer, which roles do they hold. Asked one by one through the
ORM these were four queries and about 15 ms of query building per request.

`user_access` answers all of them from one constant SQL statement, so nothing
is compiled per request. Within a request (`RequestAccessMiddleware`) the
answer is kept for the request's users and dropped whenever a row it was read
from is written, so a role granted or ended in the request is seen at once;
outside a request (tasks, commands, tests calling selectors) every call reads
afresh. Nothing is kept between requests: a revoked role is gone on the next one.
"""

import contextvars
import datetime
from dataclasses import dataclass, field
from functools import cache

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.utils import timezone

from . import roles
from .models import (
    CommitmentAcceptance,
    ConfidentialityCommitment,
    Membership,
    Organisation,
    Register,
    RegisterGroupObjectPermission,
    RegisterUserObjectPermission,
)

_request_cache: contextvars.ContextVar[dict | None] = contextvars.ContextVar("rekisteri_user_access", default=None)


@dataclass(frozen=True)
class RegisterLink:
    """A register as the navigation shows it: enough to name it and link to it."""

    pk: int
    slug: str
    name_fi: str
    name_sv: str
    name_en: str

    @property
    def name(self) -> str:
        return Register.name.fget(self)


@dataclass
class UserAccess:
    in_main_users_group: bool = False
    owner: bool = False
    pending_all: bool = False
    pending_own: bool = False
    # register pk -> [(role, starts_on, ends_on)] of the roles not ended by hand.
    memberships: dict[int, list[tuple[str, datetime.date, datetime.date | None]]] = field(default_factory=dict)
    # register pk -> codenames guardian grants the user (through groups or directly).
    granted: dict[int, set[str]] = field(default_factory=dict)
    links: dict[int, RegisterLink] = field(default_factory=dict)
    today: datetime.date | None = None

    def register_pks(self, perm: str) -> set[int]:
        """Registers on which the user holds `perm`: guardian grants it and a role in force carries it.

        A role past its end date keeps its group until the hourly sync runs and must not give
        access meanwhile; a role that has not started yet gets its group only from the sync.
        """
        found = set()
        for pk, held in self.memberships.items():
            if perm not in self.granted.get(pk, ()):
                continue
            if any(
                perm in roles.ROLE_PERMISSIONS.get(role, ()) and (ends_on is None or ends_on >= self.today)
                for role, _starts_on, ends_on in held
            ):
                found.add(pk)
        return found

    def roles_in(self, register_pk: int) -> set[str]:
        """Roles the user holds in the register today (started, not ended)."""
        return {
            role
            for role, starts_on, ends_on in self.memberships.get(register_pk, ())
            if starts_on <= self.today and (ends_on is None or ends_on >= self.today)
        }

    def links_for(self, perm: str) -> list[RegisterLink]:
        pks = self.register_pks(perm)
        return sorted((link for pk, link in self.links.items() if pk in pks), key=lambda link: link.name_fi)


# A row per kind of fact, the columns padded to one layout; only table names are formatted in.
# 'main': the user is in the main users' group. 'role': a role not ended by hand and not past
# its end date (the start date is left to the caller: the owner flag and `roles_in` want started
# roles, access follows the group), with its register's names for the navigation and its
# organisation for the commitments. 'perm': a guardian permission. 'pending': an organisation
# whose current commitment the user has not accepted. Flat branches: the planner's time, not the
# execution, was the cost of the first version's EXISTS flags.
_STATEMENT = """
    SELECT 'main', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
    FROM {user_groups} ug JOIN {group} g ON g.id = ug.group_id
    WHERE ug.user_id = %s AND g.name = %s
    UNION ALL
    SELECT 'role', r.id, m.role, m.starts_on, m.ends_on, r.slug, r.name_fi, r.name_sv, r.name_en, r.organisation_id
    FROM {membership} m JOIN {register} r ON r.id = m.register_id
    WHERE m.user_id = %s AND m.ended_at IS NULL AND (m.ends_on IS NULL OR m.ends_on >= %s)
    UNION ALL
    SELECT 'perm', gp.content_object_id, p.codename, NULL, NULL, NULL, NULL, NULL, NULL, NULL
    FROM {group_perm} gp JOIN {permission} p ON p.id = gp.permission_id
    JOIN {user_groups} ug ON ug.group_id = gp.group_id
    WHERE ug.user_id = %s
    UNION ALL
    SELECT 'perm', up.content_object_id, p.codename, NULL, NULL, NULL, NULL, NULL, NULL, NULL
    FROM {user_perm} up JOIN {permission} p ON p.id = up.permission_id
    WHERE up.user_id = %s
    UNION ALL
    SELECT 'pending', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, c.organisation_id
    FROM {commitment} c
    WHERE c.version = (SELECT MAX(c2.version) FROM {commitment} c2 WHERE c2.organisation_id = c.organisation_id)
    AND NOT EXISTS (SELECT 1 FROM {acceptance} a WHERE a.commitment_id = c.id AND a.user_id = %s)
"""


@cache
def _statement() -> str:
    tables = {
        "user_groups": get_user_model().groups.through._meta.db_table,
        "membership": Membership._meta.db_table,
        "register": Register._meta.db_table,
        "commitment": ConfidentialityCommitment._meta.db_table,
        "acceptance": CommitmentAcceptance._meta.db_table,
        "group_perm": RegisterGroupObjectPermission._meta.db_table,
        "user_perm": RegisterUserObjectPermission._meta.db_table,
        "permission": Permission._meta.db_table,
        "group": Group._meta.db_table,
    }
    return _STATEMENT.format(**tables)


def _read(user) -> UserAccess:
    today = timezone.localdate()
    uid = user.pk
    params = [uid, roles.MAIN_USERS_GROUP, uid, today, uid, uid, uid]
    access = UserAccess(today=today)
    pending = set()
    organisations_in_force = set()
    with connection.cursor() as cursor:
        cursor.execute(_statement(), params)
        rows = cursor.fetchall()
    for kind, register_pk, value, starts_on, ends_on, slug, name_fi, name_sv, name_en, organisation_pk in rows:
        if kind == "main":
            access.in_main_users_group = True
        elif kind == "role":
            starts_on, ends_on = _date(starts_on), _date(ends_on) if ends_on is not None else None
            access.memberships.setdefault(register_pk, []).append((value, starts_on, ends_on))
            access.links[register_pk] = RegisterLink(register_pk, slug, name_fi, name_sv, name_en)
            if starts_on <= today:
                organisations_in_force.add(organisation_pk)
                access.owner = access.owner or value == roles.Role.OWNER
        elif kind == "perm":
            access.granted.setdefault(register_pk, set()).add(value)
        else:
            pending.add(organisation_pk)
    access.pending_all = bool(pending)
    access.pending_own = bool(pending & organisations_in_force)
    return access


def _date(value) -> datetime.date:
    # SQLite answers dates as text through a raw cursor.
    return value if isinstance(value, datetime.date) else datetime.date.fromisoformat(value)


def user_access(user) -> UserAccess:
    """Return what the user may do, read once per request (see the module's docstring)."""
    if not user.is_authenticated or not user.is_active:
        return UserAccess(today=timezone.localdate())
    cache = _request_cache.get()
    if cache is None:
        return _read(user)
    access = cache.get(user.pk)
    if access is None or access.today != timezone.localdate():
        access = cache[user.pk] = _read(user)
    return access


def forget_access(**kwargs) -> None:
    """Drop the request's answers: a row they were read from has changed."""
    cache = _request_cache.get()
    if cache:
        cache.clear()


class RequestAccessMiddleware:
    """Keep `user_access` answers for the length of one request, never longer."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _request_cache.set({})
        try:
            return self.get_response(request)
        finally:
            _request_cache.reset(token)


ACCESS_SOURCES = (
    Membership,
    Register,
    Organisation,
    ConfidentialityCommitment,
    CommitmentAcceptance,
    RegisterGroupObjectPermission,
    RegisterUserObjectPermission,
    Group,
)


def connect_signals() -> None:
    for model in ACCESS_SOURCES:
        post_save.connect(forget_access, sender=model, dispatch_uid=f"forget_access_save_{model._meta.label}")
        post_delete.connect(forget_access, sender=model, dispatch_uid=f"forget_access_delete_{model._meta.label}")
    m2m_changed.connect(forget_access, sender=get_user_model().groups.through, dispatch_uid="forget_access_groups")
