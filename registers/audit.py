"""Reads of the audit trail for the register owner's screens and the access review.

Three sources, all scoped to one register (or, for main users, to everybody):
changes (django-auditlog create/update/delete entries of rows that belong to the
register), access entries (auditlog ACCESS entries written by `log_access`) and
logins (django-axes: successful logins with their logout time, failures and
lockouts). The caller checks the viewer's right to the register first
(`register_get_for_owner`); these functions only scope and filter.
"""

import csv
import datetime
import io
from dataclasses import dataclass

from auditlog.models import LogEntry
from auditlog.registry import auditlog
from axes.models import AccessFailureLog, AccessLog
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db.models import Case, CharField, F, Max, Q, QuerySet, Value, When
from django.db.models.fields.json import KT
from django.db.models.functions import Cast
from django.utils.translation import gettext_lazy as _

from .models import CommitmentAcceptance, ConfidentialityCommitment, Membership, Register
from .scoping import register_path
from .spreadsheet import spreadsheet_row

CHANGE_ACTIONS = (LogEntry.Action.CREATE, LogEntry.Action.UPDATE, LogEntry.Action.DELETE)
REDACTED = "•••"


class LoginKind:
    LOGIN = "login"
    LOGOUT = "logout"
    FAILURE = "failure"
    LOCKOUT = "lockout"

    choices = [
        (LOGIN, _("signed in")),
        (LOGOUT, _("signed out")),
        (FAILURE, _("failed sign-in")),
        (LOCKOUT, _("locked out")),
    ]
    labels = dict(choices)


def audited_models() -> list[tuple[type, tuple[str, ...]]]:
    """Return the audited models that belong to a register, with their path to it."""
    found = []
    for model in auditlog.get_models():
        path = register_path(model)
        if path is not None:
            found.append((model, path))
    return sorted(found, key=lambda item: str(item[0]._meta.verbose_name))


def audited_content_types() -> list[ContentType]:
    """Return the content types the change and access screens can filter by."""
    return [ContentType.objects.get_for_model(model) for model, _path in audited_models()]


def _pk_sets(model, path: tuple[str, ...], register: Register) -> list[QuerySet]:
    """Return querysets whose union is the text pks of the model's rows in the register, deleted rows too."""
    if not path:
        return [Register.objects.filter(pk=register.pk).annotate(pk_text=Cast("pk", CharField())).values("pk_text")]
    live = (
        model._default_manager.filter(**{"__".join(path): register})
        .annotate(pk_text=Cast("pk", CharField()))
        .values("pk_text")
    )
    # A deleted row is found through its delete entry, whose change set holds
    # the foreign key it had (as text): follow the same chain through the log.
    first = path[0]
    if len(path) == 1:
        parent_match = Q(fk_text=str(register.pk))
    else:
        parent_model = model._meta.get_field(first).related_model
        parent_match = Q()
        for parent_pks in _pk_sets(parent_model, path[1:], register):
            parent_match |= Q(fk_text__in=parent_pks)
    deleted = (
        LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(model), action=LogEntry.Action.DELETE)
        .annotate(fk_text=Cast(KT(f"changes__{first}__0"), output_field=CharField()))
        .filter(parent_match)
        .values("object_pk")
    )
    return [live, deleted]


def _scope(register: Register, content_type: ContentType | None) -> Q:
    scope = Q(pk__in=[])
    for model, path in audited_models():
        content = ContentType.objects.get_for_model(model)
        if content_type is not None and content != content_type:
            continue
        rows = Q()
        for pks in _pk_sets(model, path, register):
            rows |= Q(object_pk__in=pks)
        scope |= Q(content_type=content) & rows
    return scope


def _time_filter(queryset, field: str, since: datetime.date | None, until: datetime.date | None):
    if since:
        queryset = queryset.filter(**{f"{field}__date__gte": since})
    if until:
        queryset = queryset.filter(**{f"{field}__date__lte": until})
    return queryset


def change_list(
    *,
    register: Register,
    actor=None,
    content_type: ContentType | None = None,
    action: int | None = None,
    since: datetime.date | None = None,
    until: datetime.date | None = None,
) -> QuerySet[LogEntry]:
    """Return the change entries of rows that belong (or belonged) to the register, newest first."""
    entries = LogEntry.objects.filter(action__in=CHANGE_ACTIONS).filter(_scope(register, content_type))
    if action is not None:
        entries = entries.filter(action=action)
    if actor is not None:
        entries = entries.filter(actor=actor)
    entries = _time_filter(entries, "timestamp", since, until)
    return entries.select_related("actor", "content_type").order_by("-timestamp", "-pk")


def access_list(
    *,
    register: Register,
    actor=None,
    content_type: ContentType | None = None,
    since: datetime.date | None = None,
    until: datetime.date | None = None,
) -> QuerySet[LogEntry]:
    """Return the access entries written for the register, newest first."""
    entries = LogEntry.objects.filter(action=LogEntry.Action.ACCESS, additional_data__register=register.pk)
    if content_type is not None:
        entries = entries.filter(content_type=content_type)
    if actor is not None:
        entries = entries.filter(actor=actor)
    entries = _time_filter(entries, "timestamp", since, until)
    return entries.select_related("actor", "content_type").order_by("-timestamp", "-pk")


def register_user_list(*, register: Register) -> QuerySet:
    """Return every user who holds or has held a role in the register."""
    return (
        get_user_model()
        .objects.filter(memberships__register=register)
        .distinct()
        .order_by("last_name", "first_name", "username")
    )


def login_list(
    *,
    register: Register | None,
    username: str = "",
    kind: str = "",
    since: datetime.date | None = None,
    until: datetime.date | None = None,
) -> QuerySet:
    """Return sign-ins, sign-outs, failures and lockouts as rows (at, kind, username, address, agent).

    With a register only the events of its present and former users are
    returned; without one (main users) every event, unknown usernames included.
    """
    columns = ("at", "event", "username", "ip_address", "user_agent")
    logins = AccessLog.objects.annotate(at=F("attempt_time"), event=Value(LoginKind.LOGIN)).values(*columns)
    logouts = (
        AccessLog.objects.filter(logout_time__isnull=False)
        .annotate(at=F("logout_time"), event=Value(LoginKind.LOGOUT))
        .values(*columns)
    )
    failures = AccessFailureLog.objects.annotate(
        at=F("attempt_time"),
        event=Case(When(locked_out=True, then=Value(LoginKind.LOCKOUT)), default=Value(LoginKind.FAILURE)),
    ).values(*columns)
    parts = {LoginKind.LOGIN: logins, LoginKind.LOGOUT: logouts, LoginKind.FAILURE: failures}
    if kind in (LoginKind.FAILURE, LoginKind.LOCKOUT):
        parts = {LoginKind.FAILURE: failures.filter(locked_out=(kind == LoginKind.LOCKOUT))}
    elif kind:
        parts = {kind: parts[kind]}
    selected = []
    for part_kind, part in parts.items():
        time_field = "logout_time" if part_kind == LoginKind.LOGOUT else "attempt_time"
        if register is not None:
            part = part.filter(username__in=register_user_list(register=register).values("username"))
        if username:
            part = part.filter(username=username)
        selected.append(_time_filter(part, time_field, since, until))
    first, *rest = selected
    return first.union(*rest, all=True).order_by("-at") if rest else first.order_by("-at")


@dataclass
class EntryRow:
    """One audit entry as the screens and the CSV export show it."""

    at: datetime.datetime
    actor: str
    action: str
    object_type: str
    object_repr: str
    changes: list[tuple[str, str, str]]
    address: str
    extra: dict


def _reveal_for(entry: LogEntry, reveal_personal_data: bool) -> bool:
    # Accounts, roles and reviews are about staff, whom main users administer;
    # rows of other apps hold data subjects' personal data.
    return reveal_personal_data or entry.content_type.app_label in ("registers", "auth")


def entry_rows(entries, *, reveal_personal_data: bool) -> list[EntryRow]:
    """Turn log entries into display rows, hiding personal data from viewers who may not see the record."""
    rows = []
    for entry in entries:
        reveal = _reveal_for(entry, reveal_personal_data)
        changes = []
        for field, values in (entry.changes_dict or {}).items():
            if isinstance(values, list) and len(values) == 2:
                old, new = values
            else:
                old, new = "", str(values)
            changes.append((field, str(old) if reveal else REDACTED, str(new) if reveal else REDACTED))
        extra = {k: v for k, v in (entry.additional_data or {}).items() if k not in ("register",)}
        rows.append(
            EntryRow(
                at=entry.timestamp,
                actor=entry.actor.get_username() if entry.actor else (entry.actor_email or ""),
                action=entry.get_action_display(),
                object_type=str(entry.content_type.model_class()._meta.verbose_name)
                if entry.content_type.model_class()
                else entry.content_type.model,
                object_repr=entry.object_repr if reveal else REDACTED,
                changes=changes,
                address=entry.remote_addr or "",
                extra=extra if reveal else {k: v for k, v in extra.items() if k in ("path", "export", "rows")},
            )
        )
    return rows


def entry_rows_csv(rows: list[EntryRow]) -> str:
    """Return the rows as CSV text with a header."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["time", "user", "action", "object type", "object", "changes", "address", "details"])
    for row in rows:
        changes = "; ".join(f"{field}: {old} -> {new}" for field, old, new in row.changes)
        details = "; ".join(f"{k}={v}" for k, v in row.extra.items())
        writer.writerow(
            spreadsheet_row(
                row.at.isoformat(),
                row.actor,
                row.action,
                row.object_type,
                row.object_repr,
                changes,
                row.address,
                details,
            )
        )
    return buffer.getvalue()


def login_rows_csv(events) -> str:
    """Return login events as CSV text with a header."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["time", "event", "username", "address", "user agent"])
    for event in events:
        writer.writerow(
            spreadsheet_row(
                event["at"].isoformat(), event["event"], event["username"], event["ip_address"], event["user_agent"]
            )
        )
    return buffer.getvalue()


def user_access_facts(*, register: Register, user_ids) -> dict[int, dict]:
    """Return, per user, the facts an access review shows: roles, last login and access, commitment."""
    user_ids = list(user_ids)
    facts: dict[int, dict] = {
        user.pk: {"user": user, "roles": [], "last_login": user.last_login, "last_access": None, "commitment": None}
        for user in get_user_model().objects.filter(pk__in=user_ids)
    }
    memberships = (
        Membership.objects.active()
        .filter(register=register, user_id__in=user_ids)
        .select_related("granted_by")
        .order_by("role")
    )
    for membership in memberships:
        facts[membership.user_id]["roles"].append(
            {
                "role": membership.role,
                "role_label": str(membership.get_role_display()),
                "granted_by": membership.granted_by.get_username() if membership.granted_by else "",
                "granted_on": membership.starts_on.isoformat(),
                "granted_at": membership.created_at.isoformat(),
                "ends_on": membership.ends_on.isoformat() if membership.ends_on else "",
                "reason": membership.grant_reason,
            }
        )
    last_access = (
        LogEntry.objects.filter(
            action=LogEntry.Action.ACCESS, additional_data__register=register.pk, actor_id__in=user_ids
        )
        .values("actor_id")
        .annotate(last=Max("timestamp"))
    )
    for row in last_access:
        facts[row["actor_id"]]["last_access"] = row["last"]
    acceptances = (
        CommitmentAcceptance.objects.filter(user_id__in=user_ids, commitment__organisation_id=register.organisation_id)
        .select_related("commitment")
        .order_by("user_id", "-commitment__version")
    )
    current = ConfidentialityCommitment.objects.current().filter(organisation_id=register.organisation_id).first()
    for acceptance in acceptances:
        entry = facts[acceptance.user_id]
        if entry["commitment"] is None:
            entry["commitment"] = {
                "version": acceptance.commitment.version,
                "accepted_at": acceptance.accepted_at,
                "is_current": current is not None and acceptance.commitment_id == current.pk,
            }
    return facts
