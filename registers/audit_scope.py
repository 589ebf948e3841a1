"""The register of every change entry, stored on the entry when it is written.

The owner's change screen lists the create, update and delete entries of the
rows that belong (or belonged) to a register. Finding them afterwards from the
rows meant comparing every entry with every row id of the register, deleted
rows through their delete entries: a plan that goes quadratic once the ids no
longer fit in memory. So each entry carries its register in
`additional_data["register"]`, like the access entries `log_access` writes, and
the screens filter on that key through a partial index (registers migration 0012).

django-auditlog asks the audited row for `get_additional_data()` when it writes
an entry; `RegisterAuditMixin` answers with the row's register, found along the
foreign-key chain of `registers.scoping.register_path` (`<fk>_id` where the
chain is one hop, so no query). Entries written by hand (the retention purge,
erasure) use `register_pk_of` / `register_pks_of` and merge the key themselves.

This module imports no models at import time: `registers.models` uses the mixin.
"""

import contextlib
import contextvars
import json

from django.core.exceptions import ValidationError
from django.db import models

REGISTER_KEY = "register"
CHANGE_ACTIONS = (0, 1, 2)  # auditlog's CREATE, UPDATE, DELETE
BATCH = 500

# Register pks of parent rows already looked up, while a delete cascades (see `RegisterAuditMixin.delete`).
_known: contextvars.ContextVar[dict | None] = contextvars.ContextVar("register_pks_known", default=None)


def _path(model_or_row) -> tuple[str, ...] | None:
    from .scoping import register_path

    return register_path(model_or_row._meta.concrete_model)


@contextlib.contextmanager
def register_lookups_shared():
    """Within the block, look up each parent row's register once (a cascade deleting many children)."""
    if _known.get() is not None:
        yield _known.get()
        return
    token = _known.set({})
    try:
        yield _known.get()
    finally:
        _known.reset(token)


def _follow(obj: models.Model, path: tuple[str, ...]):
    field = obj._meta.get_field(path[0])
    key = getattr(obj, field.attname)
    if key is None or len(path) == 1:
        return key
    if field.is_cached(obj):
        parent = field.get_cached_value(obj)
        return _follow(parent, path[1:]) if parent is not None else None
    known = _known.get()
    lookup = (field.related_model._meta.concrete_model, key)
    if known is not None and lookup in known:
        return known[lookup]
    found = field.related_model._base_manager.filter(pk=key).values_list("__".join(path[1:]), flat=True).first()
    if known is not None:
        known[lookup] = found
    return found


def register_pk_of(obj: models.Model) -> int | None:
    """Return the pk of the register the row belongs to (a register: its own), or None."""
    path = _path(obj)
    if path is None:
        return None
    if not path:
        return obj.pk
    return _follow(obj, path)


def register_pks_of(model, objs) -> dict:
    """Return {row pk: register pk} for rows of one model, with one query per batch of parents at most."""
    path = _path(model)
    objs = list(objs)
    if path is None:
        return {}
    if not path:
        return {obj.pk: obj.pk for obj in objs}
    field = model._meta.get_field(path[0])
    keys = {obj.pk: getattr(obj, field.attname) for obj in objs}
    if len(path) == 1:
        return {pk: key for pk, key in keys.items() if key is not None}
    parents = sorted({key for key in keys.values() if key is not None})
    found = {}
    for start in range(0, len(parents), BATCH):
        found.update(
            field.related_model._base_manager.filter(pk__in=parents[start : start + BATCH]).values_list(
                "pk", "__".join(path[1:])
            )
        )
    return {pk: found[key] for pk, key in keys.items() if found.get(key) is not None}


def with_register(data, register_pk) -> dict | None:
    """Return the entry's additional data with the register merged in (other keys kept)."""
    if register_pk is None:
        return data
    merged = dict(data) if isinstance(data, dict) else {}
    merged[REGISTER_KEY] = register_pk
    return merged


class RegisterAuditMixin:
    """Give the audited row's change entries its register (`additional_data["register"]`)."""

    def get_additional_data(self):
        register_pk = register_pk_of(self)
        return None if register_pk is None else {REGISTER_KEY: register_pk}

    def delete(self, *args, **kwargs):
        # The rows the delete cascades to reach their register through this row: look it up once, not per row.
        with register_lookups_shared() as known:
            known[(self._meta.concrete_model, self.pk)] = register_pk_of(self)
            return super().delete(*args, **kwargs)


def backfill_entry_registers(apps, paths: dict[str, tuple[str, ...]], *, batch: int = 2000) -> int:
    """Store the register on the change entries of the given models that lack it; return how many were set.

    For data migrations, with the historical models of `apps`: `paths` maps a
    model label ("crm.Customer") to its foreign-key chain to the register, as
    `register_path` gave it when the migration was written (the current models
    may differ later). A live row gives its register through the chain; a
    deleted row through its delete entry, whose change set holds the foreign
    key it had (the same rule the change screen followed before the key was
    stored). Other keys of the entry's additional data stay.
    """
    LogEntry = apps.get_model("auditlog", "LogEntry")
    ContentType = apps.get_model("contenttypes", "ContentType")
    resolver = _Resolver(apps, LogEntry, ContentType, paths)
    updated = 0
    for label in paths:
        app_label, model_name = label.split(".")
        content_type = ContentType.objects.filter(app_label=app_label, model=model_name.lower()).first()
        if content_type is None:
            continue
        entries = LogEntry.objects.filter(content_type=content_type, action__in=CHANGE_ACTIONS).order_by("pk")
        last = 0
        while True:
            chunk = list(entries.filter(pk__gt=last).values_list("pk", "object_pk", "additional_data")[:batch])
            if not chunk:
                break
            last = chunk[-1][0]
            missing = [row for row in chunk if not (isinstance(row[2], dict) and REGISTER_KEY in row[2])]
            registers = resolver.resolve(label, {row[1] for row in missing})
            plain: dict[int, list[int]] = {}
            for pk, object_pk, data in missing:
                register_pk = registers.get(object_pk)
                if register_pk is None:
                    continue
                if data in (None, {}):
                    plain.setdefault(register_pk, []).append(pk)
                else:
                    LogEntry.objects.filter(pk=pk).update(additional_data=with_register(data, register_pk))
                    updated += 1
            for register_pk, pks in plain.items():
                updated += LogEntry.objects.filter(pk__in=pks).update(additional_data={REGISTER_KEY: register_pk})
    return updated


class _Resolver:
    """Find the register pk of rows (live or deleted) of historical models, by their pk as text."""

    def __init__(self, apps, log_entry, content_type, paths):
        self.apps = apps
        self.LogEntry = log_entry
        self.ContentType = content_type
        self.paths = paths

    def _content_type(self, model):
        return self.ContentType.objects.filter(app_label=model._meta.app_label, model=model._meta.model_name).first()

    def resolve(self, label: str, pks: set[str]) -> dict[str, int]:
        return self._resolve(self.apps.get_model(label), self.paths[label], pks)

    def _resolve(self, model, path, pks: set[str]) -> dict[str, int]:
        pks = {pk for pk in pks if pk not in (None, "", "None")}
        if not pks:
            return {}
        if not path:
            return {pk: int(pk) for pk in pks if pk.isdigit()}
        field = model._meta.get_field(path[0])
        parent_model = field.related_model
        parent_keys: dict[str, str] = {}
        valid = []
        for pk in pks:
            try:
                valid.append(model._meta.pk.to_python(pk))
            except (ValidationError, ValueError, TypeError):  # a stored pk of another type names no row
                continue
        for start in range(0, len(valid), BATCH):
            rows = model._base_manager.filter(pk__in=valid[start : start + BATCH]).values_list("pk", field.attname)
            parent_keys.update((str(pk), str(key)) for pk, key in rows if key is not None)
        deleted = sorted(pks - parent_keys.keys())
        content_type = self._content_type(model) if deleted else None
        if content_type is not None:
            for start in range(0, len(deleted), BATCH):
                entries = self.LogEntry.objects.filter(
                    content_type=content_type, action=2, object_pk__in=deleted[start : start + BATCH]
                ).values_list("object_pk", "changes")
                for object_pk, changes in entries:
                    key = _old_value(changes, path[0])
                    if key is not None:
                        parent_keys.setdefault(object_pk, key)
        parents = self._resolve(parent_model, path[1:], set(parent_keys.values()))
        return {pk: parents[key] for pk, key in parent_keys.items() if key in parents}


def _old_value(changes, name: str) -> str | None:
    """Return the value a delete entry recorded for the field before the deletion (as text)."""
    if isinstance(changes, str):
        try:
            changes = json.loads(changes)
        except ValueError:
            return None
    if not isinstance(changes, dict):
        return None
    values = changes.get(name)
    if isinstance(values, list) and values:
        value = values[0]
    else:
        return None
    return None if value in (None, "None", "") else str(value)
