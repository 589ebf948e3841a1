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
import decimal
import io
import json
from dataclasses import dataclass, field

from auditlog.models import LogEntry
from auditlog.registry import auditlog
from axes.models import AccessFailureLog, AccessLog
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import models
from django.db.models import Case, F, Q, QuerySet, Value, When
from django.utils import formats, timezone
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .access_log import REDACTION_MARK, redact_secrets
from .models import Register
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


def _day_start(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def _time_filter(queryset, field: str, since: datetime.date | None, until: datetime.date | None):
    # Days in the reader's time zone, as a range of the stored time (not `__date`): the indexes stay usable.
    # A day at either end of the calendar bounds nothing, and its start has no time in UTC: left out.
    if since and since > datetime.date.min + datetime.timedelta(days=1):
        queryset = queryset.filter(**{f"{field}__gte": _day_start(since)})
    if until and until < datetime.date.max - datetime.timedelta(days=1):
        queryset = queryset.filter(**{f"{field}__lt": _day_start(until + datetime.timedelta(days=1))})
    return queryset


def _newest_first(entries: QuerySet[LogEntry]) -> QuerySet[LogEntry]:
    # The screens never show a row's serialized copy or auditlog's change text: not read.
    # Of the actor only the name is shown: read as a column, not as a whole user row per entry.
    return (
        entries.select_related("content_type")
        .annotate(actor_username=F(f"actor__{get_user_model().USERNAME_FIELD}"))
        .defer("serialized_data", "changes_text")
        .order_by("-timestamp", "-pk")
    )


EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)


def microseconds(at: datetime.datetime) -> int:
    """Return a time as whole microseconds since 1970 (UTC): the time part of a list cursor."""
    return (at - EPOCH) // datetime.timedelta(microseconds=1)


def from_microseconds(value: int) -> datetime.datetime | None:
    """Return the time of `microseconds`, or None for a number no time has."""
    try:
        return EPOCH + datetime.timedelta(microseconds=value)
    except OverflowError:
        return None


def entries_before(entries: QuerySet[LogEntry], at: datetime.datetime, pk: int) -> QuerySet[LogEntry]:
    """Return the entries of a newest-first list that come after the entry (at, pk): (timestamp, id) < (at, pk).

    The bound on the time alone lets the register index start at the cursor; entries of the same
    time are told apart by their id, so none is shown twice or skipped.
    """
    return entries.filter(Q(timestamp__lt=at) | Q(timestamp=at, pk__lt=pk), timestamp__lte=at)


def change_list(
    *,
    register: Register,
    actor=None,
    content_type: ContentType | None = None,
    action: int | None = None,
    since: datetime.date | None = None,
    until: datetime.date | None = None,
) -> QuerySet[LogEntry]:
    """Return the change entries of rows that belong (or belonged) to the register, newest first.

    Each entry carries its register from when it was written (`registers.audit_scope`), so a deleted row's
    entries stay on its register's list.
    """
    entries = LogEntry.objects.filter(action__in=CHANGE_ACTIONS, additional_data__register=register.pk)
    if content_type is not None:
        entries = entries.filter(content_type=content_type)
    if action is not None:
        entries = entries.filter(action=action)
    if actor is not None:
        entries = entries.filter(actor=actor)
    return _newest_first(_time_filter(entries, "timestamp", since, until))


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
    return _newest_first(_time_filter(entries, "timestamp", since, until))


def register_user_list(*, register: Register) -> QuerySet:
    """Return every user who holds or has held a role in the register."""
    return (
        get_user_model()
        .objects.filter(memberships__register=register)
        .distinct()
        .order_by("last_name", "first_name", "username")
    )


# The parts of the login log, in the order they hold between events of the same time (see `login_key`).
LOGIN_SOURCES = {LoginKind.LOGIN: 0, LoginKind.LOGOUT: 1, LoginKind.FAILURE: 2}


def login_key(event: dict) -> tuple:
    """Return the key a login event is listed by, newest first: its time, its part, its row's id."""
    return (event["at"], event["source"], event["row_id"])


def _login_events_before(part, source: int, time_field: str, before: tuple):
    # (at, source, row id) < before, for a part whose source is fixed.
    at, before_source, row_id = before
    if source < before_source:
        return part.filter(**{f"{time_field}__lte": at})
    if source > before_source:
        return part.filter(**{f"{time_field}__lt": at})
    return part.filter(
        Q(**{f"{time_field}__lt": at}) | Q(**{time_field: at, "pk__lt": row_id}), **{f"{time_field}__lte": at}
    )


def login_list(
    *,
    register: Register | None,
    username: str = "",
    kind: str = "",
    since: datetime.date | None = None,
    until: datetime.date | None = None,
    before: tuple | None = None,
) -> QuerySet:
    """Return sign-ins, sign-outs, failures and lockouts as rows (at, kind, username, address, agent), newest first.

    With a register only the events of its present and former users are
    returned; without one (main users) every event, unknown usernames included.
    With `before` (a `login_key`) only the events listed after that one.
    """
    columns = ("at", "event", "username", "ip_address", "user_agent", "source", "row_id")
    logins = AccessLog.objects.annotate(
        at=F("attempt_time"), event=Value(LoginKind.LOGIN), source=Value(LOGIN_SOURCES[LoginKind.LOGIN]), row_id=F("pk")
    ).values(*columns)
    logouts = (
        AccessLog.objects.filter(logout_time__isnull=False)
        .annotate(
            at=F("logout_time"),
            event=Value(LoginKind.LOGOUT),
            source=Value(LOGIN_SOURCES[LoginKind.LOGOUT]),
            row_id=F("pk"),
        )
        .values(*columns)
    )
    failures = AccessFailureLog.objects.annotate(
        at=F("attempt_time"),
        event=Case(When(locked_out=True, then=Value(LoginKind.LOCKOUT)), default=Value(LoginKind.FAILURE)),
        source=Value(LOGIN_SOURCES[LoginKind.FAILURE]),
        row_id=F("pk"),
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
        if before is not None:
            part = _login_events_before(part, LOGIN_SOURCES[part_kind], time_field, before)
        selected.append(_time_filter(part, time_field, since, until))
    first, *rest = selected
    listed = first.union(*rest, all=True) if rest else first
    return listed.order_by("-at", "-source", "-row_id")


# What the codes in access entries mean to a register owner. The codes are
# written by the views that call `log_access` (crm, privacy); an unknown code
# is shown as it is.
PURPOSE_LABELS = {
    "access_request": _("answering an access request"),
    "access_request_answer": _("download of the answer to an access request"),
    "consents": _("the customer's consents"),
    "data_subject_request": _("handling a data subject request"),
    "decision_letter": _("the decision letter of a data subject request"),
    "disclosure_ledger": _("the disclosure ledger"),
    "mandate": _("the mandate of a data subject request"),
    "subject_search": _("searching for the data subject of a request"),
}
EXPORT_LABELS = {
    "audit_access": _("access log"),
    "audit_changes": _("change log"),
    "customers": _("customer list"),
    "customers_csv": _("customer list (CSV)"),
    "labels_csv": _("address labels (CSV)"),
    "labels_pdf": _("address labels (PDF)"),
    "logins": _("login log"),
    "statistics": _("statistics"),
}
# Keys of the additional data of entries: access entries (`log_access`) and
# the markers erasure and the retention purge leave on change entries.
DETAIL_LABELS = {
    "erasure_plan": _("erasure plan"),
    "erasure_request": _("erasure request"),
    "export": _("export"),
    "filter": _("filter"),
    "fmt": _("format"),
    "granularity": _("granularity"),
    "path": _("page"),
    "purge_run": _("retention purge run"),
    "purpose": _("purpose"),
    "reason": _("reason"),
    "redacted": _("values removed"),
    "rows": _("rows"),
}
# Keys of an access entry that hold no personal data: the ones a viewer outside the register still sees.
PUBLIC_DETAIL_KEYS = ("path", "export", "rows", "purpose", "fmt", "granularity")
# Shown in the description or the purpose column of an access entry, so not again among its details.
DESCRIBED_KEYS = ("path", "export", "rows", "purpose", "fmt")
ACTION_CODES = {
    LogEntry.Action.CREATE: "create",
    LogEntry.Action.UPDATE: "update",
    LogEntry.Action.DELETE: "delete",
    LogEntry.Action.ACCESS: "access",
}
EMPTY = "\N{EN DASH}"


@dataclass
class ChangeRow:
    """One changed field: its name and stored values (for the export) and what the owner reads."""

    field: str
    label: str
    old: str
    new: str
    old_display: str
    new_display: str


@dataclass
class EntryRow:
    """One audit entry as the screens and the CSV export show it.

    The screens show the display fields (labels, local time, names); the CSV
    keeps the machine values (`at` in ISO form, codes, stored values).
    """

    pk: int
    at: datetime.datetime
    actor: str
    action: str
    action_code: str
    object_type: str
    object_type_code: str
    object_pk: str
    object_repr: str
    object_deleted: bool
    changes: list[ChangeRow]
    address: str
    extra: dict
    details: list[tuple[str, str]] = field(default_factory=list)
    purpose: str = ""
    description: str = ""
    raw: str = ""

    @property
    def at_iso(self) -> str:
        """The time in the reader's time zone as ISO 8601 (what the `date:'c'` filter gives)."""
        return timezone.localtime(self.at).isoformat()

    @property
    def at_text(self) -> str:
        """The time in the reader's time zone and date format (what `date:"SHORT_DATETIME_FORMAT"` gives)."""
        return formats.date_format(timezone.localtime(self.at), "SHORT_DATETIME_FORMAT")


# The related rows whose names (`__str__`) are made of another row's: read in the same query.
# tests/registers/test_audit_queries.py checks that naming any row a change can point to reads nothing more.
NAMED_WITH = {"registers.AccessReview": ("register",)}


class _ValueFormatter:
    """Turn the text django-auditlog stored for a field into what the owner reads.

    auditlog stores every value as text: `None` as "None", a foreign key as
    the related row's id, a choice as its code, a time as naive UTC with
    microseconds. The names of related rows are read in one query per model
    for a whole page (`want`, then `fetch`); what a field's choices mean is
    worked out once per page.
    """

    def __init__(self):
        self._names: dict[tuple[type, str], str | None] = {}
        self._wanted: dict[type, set[str]] = {}
        self._choices: dict[object, dict[str, str]] = {}

    @staticmethod
    def _names_a_row(field) -> bool:
        return field is not None and field.is_relation and (field.many_to_one or field.one_to_one)

    def want(self, field, raw) -> None:
        """Note a stored value whose related row's name `display` will show."""
        if not self._names_a_row(field) or raw is None or raw in ("", "None") or raw == REDACTION_MARK:
            return
        raw = str(raw)
        if (field.related_model, raw) not in self._names:
            self._wanted.setdefault(field.related_model, set()).add(raw)

    def fetch(self) -> None:
        """Read the names of the related rows wanted so far: one query per model (per 500 rows)."""
        for model, raws in self._wanted.items():
            keys: dict[object, list[str]] = {}
            for raw in raws:
                self._names[(model, raw)] = None
                try:
                    # What `filter(pk=raw)` would compare: a value that is no key names no row.
                    keys.setdefault(model._meta.pk.get_prep_value(raw), []).append(raw)
                except (ValueError, TypeError, ValidationError):
                    continue
            manager = model._base_manager.order_by()
            if model._meta.label in NAMED_WITH:
                # Not `select_related()` without names: that would join every foreign key.
                manager = manager.select_related(*NAMED_WITH[model._meta.label])
            key_list = sorted(keys, key=str)
            for start in range(0, len(key_list), 500):
                try:
                    found = manager.in_bulk(key_list[start : start + 500])
                except (ValueError, TypeError, ValidationError):
                    continue
                for key, obj in found.items():
                    for raw in keys.get(key, ()):
                        self._names[(model, raw)] = str(obj)
        self._wanted = {}

    def related_name(self, model, pk: str) -> str | None:
        key = (model, pk)
        if key not in self._names:
            # Not announced with `want`: read on its own.
            try:
                obj = model._base_manager.filter(pk=pk).first()
            except (ValueError, TypeError, ValidationError):
                obj = None
            self._names[key] = str(obj) if obj is not None else None
        return self._names[key]

    def _choice_labels(self, field) -> dict[str, str] | None:
        if field not in self._choices:
            choices = getattr(field, "flatchoices", None)
            self._choices[field] = {str(key): str(label) for key, label in choices} if choices else None
        return self._choices[field]

    def display(self, field, raw) -> str:
        if raw is None or raw in ("", "None"):
            return EMPTY
        raw = str(raw)
        if field is None or raw == REDACTION_MARK:
            return raw
        if self._names_a_row(field):
            name = self.related_name(field.related_model, raw)
            return name if name is not None else str(_("deleted"))
        labels = self._choice_labels(field)
        if labels:
            return labels.get(raw, raw)
        if isinstance(field, models.BooleanField):
            return {"True": str(_("yes")), "False": str(_("no"))}.get(raw, raw)
        if isinstance(field, models.JSONField):
            return _json_display(field, raw)
        try:
            if isinstance(field, models.DateTimeField):
                value = datetime.datetime.fromisoformat(raw)
                if timezone.is_naive(value):
                    value = timezone.make_aware(value, datetime.UTC)
                return formats.date_format(timezone.localtime(value), "SHORT_DATETIME_FORMAT")
            if isinstance(field, models.DateField):
                return formats.date_format(datetime.date.fromisoformat(raw[:10]), "SHORT_DATE_FORMAT")
            if isinstance(field, models.DecimalField):
                return formats.number_format(decimal.Decimal(raw), decimal_pos=field.decimal_places)
        except (ValueError, decimal.InvalidOperation):
            return raw
        return raw


def _json_display(field, raw: str) -> str:
    """Show a list kept as JSON by the labels of its codes (the model's AUDIT_JSON_CHOICES), not as JSON text."""
    try:
        value = json.loads(raw)
    except ValueError:
        return raw
    if not isinstance(value, list):
        return raw
    if not value:
        return EMPTY
    choices, key = getattr(field.model, "AUDIT_JSON_CHOICES", {}).get(field.name, (None, None))
    labels = []
    for item in value:
        code = item.get(key) if key and isinstance(item, dict) else item
        try:
            labels.append(str(choices(code).label) if choices else str(code))
        except ValueError:
            labels.append(str(code))
    return ", ".join(labels)


def _model_field(model, name: str):
    if model is None:
        return None
    try:
        return model._meta.get_field(name)
    except FieldDoesNotExist:
        return None


def _says_nothing(model_field) -> bool:
    # auditlog's create entry also lists reverse relations ("crm.ContactPerson.None"),
    # the row's internal id and its generated public code: none tells the owner anything.
    if model_field is None:
        return False
    if not hasattr(model_field, "verbose_name"):
        return True
    if isinstance(model_field, models.AutoField):
        return True
    return isinstance(model_field, models.UUIDField) and not model_field.editable


class _FieldLabels:
    """Each changed field of a page once: the model field (None if the model has no such field) and its label.

    Fields that say nothing to a reader (see `_says_nothing`) are None.
    """

    def __init__(self):
        self._known: dict[tuple[type | None, str], tuple | None] = {}

    def get(self, model, name: str) -> tuple | None:
        key = (model, name)
        if key not in self._known:
            model_field = _model_field(model, name)
            if _says_nothing(model_field):
                self._known[key] = None
            else:
                label = capfirst(str(model_field.verbose_name)) if model_field is not None else name
                self._known[key] = (model_field, label)
        return self._known[key]


def _stored_pair(values) -> tuple:
    return tuple(values) if isinstance(values, list) and len(values) == 2 else (None, values)


def _is_m2m(values) -> bool:
    return isinstance(values, dict) and values.get("type") == "m2m"


def _want_names(changes: dict, model, fields: _FieldLabels, formatter: _ValueFormatter) -> None:
    """Note the related rows whose names the entry's changes will show."""
    for name, values in changes.items():
        known = fields.get(model, name)
        if known is None or _is_m2m(values):
            continue
        old, new = _stored_pair(values)
        formatter.want(known[0], old)
        formatter.want(known[0], new)


def _change_rows(
    changes: dict, model, reveal: bool, formatter: _ValueFormatter, fields: _FieldLabels | None = None
) -> list[ChangeRow]:
    fields = fields or _FieldLabels()
    rows = []
    for name, values in changes.items():
        known = fields.get(model, name)
        if known is None:
            continue
        model_field, label = known
        if not reveal:
            # Nothing stored is shown (nor looked up): every changed field reads as redacted.
            rows.append(ChangeRow(name, label, REDACTED, REDACTED, REDACTED, REDACTED))
            continue
        if _is_m2m(values):
            # A many-to-many change lists the related rows added or removed.
            objects = ", ".join(str(v) for v in values.get("objects", []))
            removed = values.get("operation") == "delete"
            old, new = (objects, "") if removed else ("", objects)
            old_display, new_display = (old or EMPTY, new or EMPTY)
        else:
            old, new = _stored_pair(values)
            old_display, new_display = formatter.display(model_field, old), formatter.display(model_field, new)
            old, new = str(old) if old is not None else "", str(new) if new is not None else ""
        if old_display == EMPTY and new_display == EMPTY:
            continue
        rows.append(ChangeRow(name, label, old, new, old_display, new_display))
    return rows


_encode_value = json.JSONEncoder(ensure_ascii=False, default=str).encode
_encode_key = json.encoder.encode_basestring


def pretty_json(value, indent: str = "") -> str:
    """Return `json.dumps(value, indent=2, ensure_ascii=False, default=str)`, several times faster.

    With an indent the json module encodes in Python, one generator per value; here only the
    nesting is Python and each single value is encoded by the C encoder.
    """
    if isinstance(value, dict) and value:
        if not all(isinstance(key, str) for key in value):
            return json.dumps(value, indent=2, ensure_ascii=False, default=str).replace("\n", "\n" + indent)
        inner = indent + "  "
        items = ",\n".join(f"{inner}{_encode_key(key)}: {pretty_json(item, inner)}" for key, item in value.items())
        return f"{{\n{items}\n{indent}}}"
    if isinstance(value, list | tuple) and value:
        inner = indent + "  "
        items = ",\n".join(f"{inner}{pretty_json(item, inner)}" for item in value)
        return f"[\n{items}\n{indent}]"
    return _encode_value(value)


def _detail_value(value) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_detail_value(v)}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(_detail_value(v) for v in value)
    return EMPTY if value is None or value == "" else str(value)


def _access_description(extra: dict, object_type: str, object_repr: str, deleted: bool) -> str:
    export = extra.get("export")
    if export:
        what = EXPORT_LABELS.get(export, export)
        rows = extra.get("rows")
        if isinstance(rows, int):
            return ngettext("Export of the %(what)s: %(rows)d row", "Export of the %(what)s: %(rows)d rows", rows) % {
                "what": what,
                "rows": rows,
            }
        return _("Export of the %(what)s") % {"what": what}
    if deleted:
        name = _("%(name)s (deleted)") % {"name": object_repr} if object_repr else str(_("deleted"))
    else:
        name = object_repr
    text = f"{capfirst(object_type)}: {name}"
    if extra.get("fmt"):
        text += f" ({str(extra['fmt']).upper()})"
    return text


def _existing_pks(entries: list[LogEntry]) -> set[tuple[int, str]]:
    """Return (content type id, pk) of the entries' objects that still exist."""
    wanted: dict[int, set[str]] = {}
    for entry in entries:
        wanted.setdefault(entry.content_type_id, set()).add(entry.object_pk)
    found = set()
    for content_type_id, pks in wanted.items():
        model = ContentType.objects.get_for_id(content_type_id).model_class()
        if model is None:
            continue
        pk_list = sorted(pks)
        for start in range(0, len(pk_list), 500):
            try:
                present = model._base_manager.filter(pk__in=pk_list[start : start + 500]).values_list("pk", flat=True)
                found.update((content_type_id, str(pk)) for pk in present)
            except (ValueError, TypeError, ValidationError):
                continue
    return found


def _actor_name(entry: LogEntry) -> str:
    if not hasattr(entry, "actor_username"):  # entries not read through `change_list` / `access_list`
        return entry.actor.get_username() if entry.actor else (entry.actor_email or "")
    if entry.actor_id is not None and entry.actor_username is not None:
        return entry.actor_username
    return entry.actor_email or ""


def entry_rows(entries, *, reveal_personal_data: bool) -> list[EntryRow]:
    """Turn log entries into display rows, hiding personal data from viewers who may not see the record.

    Secret tokens in stored paths are redacted here too, for entries written
    before `log_access` redacted them. The names of the rows the changes point
    to are read in one query per model for all the entries; labels, types and
    actions once each.
    """
    entries = list(entries)
    formatter = _ValueFormatter()
    fields = _FieldLabels()
    accesses = [entry for entry in entries if entry.action == LogEntry.Action.ACCESS]
    existing = _existing_pks(accesses) if accesses else set()
    # The content type of each entry (ContentType's own cache), its model and its readable name.
    types: dict[int, tuple[ContentType, type | None, str, str]] = {}
    actions: dict[int, str] = {}
    prepared = []
    for entry in entries:
        if entry.content_type_id not in types:
            content_type = ContentType.objects.get_for_id(entry.content_type_id)
            model = content_type.model_class()
            types[entry.content_type_id] = (
                content_type,
                model,
                str(model._meta.verbose_name) if model else content_type.model,
                f"{content_type.app_label}.{content_type.model}",
            )
        content_type, model, _name, _code = types[entry.content_type_id]
        # Accounts, roles and reviews are about staff, whom main users administer;
        # rows of other apps hold data subjects' personal data.
        reveal = reveal_personal_data or content_type.app_label in ("registers", "auth")
        changes = entry.changes_dict or {}
        if reveal:
            _want_names(changes, model, fields, formatter)
        prepared.append((entry, reveal, changes))
    formatter.fetch()
    rows = []
    for entry, reveal, changes in prepared:
        _content_type, model, object_type, object_type_code = types[entry.content_type_id]
        is_access = entry.action == LogEntry.Action.ACCESS
        extra = redact_secrets({k: v for k, v in (entry.additional_data or {}).items() if k != "register"})
        # An export of the register is logged on the register row, but its filter holds the words searched for.
        if not (reveal_personal_data if is_access else reveal):
            extra = {k: v for k, v in extra.items() if k in PUBLIC_DETAIL_KEYS}
        object_repr = entry.object_repr if reveal else REDACTED
        deleted = is_access and (entry.content_type_id, entry.object_pk) not in existing
        change_rows = _change_rows(changes, model, reveal, formatter, fields)
        actor = _actor_name(entry)
        action_code = ACTION_CODES.get(entry.action, str(entry.action))
        if entry.action not in actions:
            actions[entry.action] = capfirst(str(entry.get_action_display()))
        purpose = extra.get("purpose")
        raw = {
            "id": entry.pk,
            "timestamp": entry.timestamp.isoformat(),
            "action": action_code,
            "actor": actor,
            "content_type": object_type_code,
            "object_pk": entry.object_pk,
            "object_repr": object_repr,
            "changes": {change.field: [change.old, change.new] for change in change_rows},
            "remote_addr": entry.remote_addr or "",
            "additional_data": extra,
        }
        hidden = DESCRIBED_KEYS if is_access else ()
        rows.append(
            EntryRow(
                pk=entry.pk,
                at=entry.timestamp,
                actor=actor,
                action=actions[entry.action],
                action_code=action_code,
                object_type=object_type,
                object_type_code=object_type_code,
                object_pk=entry.object_pk,
                object_repr=object_repr,
                object_deleted=deleted,
                changes=change_rows,
                address=entry.remote_addr or "",
                extra=extra,
                details=[
                    (capfirst(str(DETAIL_LABELS.get(k, k))), _detail_value(v))
                    for k, v in extra.items()
                    if k not in hidden
                ],
                purpose=str(PURPOSE_LABELS.get(purpose, purpose)) if purpose else "",
                description=_access_description(extra, object_type, object_repr, deleted) if is_access else "",
                raw=pretty_json(raw),
            )
        )
    return rows


def entry_rows_csv(rows: list[EntryRow]) -> str:
    """Return the rows as CSV text with a header: machine values (ISO time, codes, stored values), no tokens."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["time", "user", "action", "object type", "object id", "object", "changes", "address", "details"])
    for row in rows:
        changes = "; ".join(f"{change.field}: {change.old} -> {change.new}" for change in row.changes)
        details = "; ".join(
            f"{k}={json.dumps(v, ensure_ascii=False) if isinstance(v, dict | list) else v}"
            for k, v in row.extra.items()
        )
        writer.writerow(
            spreadsheet_row(
                row.at.isoformat(),
                row.actor,
                row.action_code,
                row.object_type_code,
                row.object_pk,
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
