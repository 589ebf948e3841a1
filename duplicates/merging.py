"""Moving whole histories from one record to another, and back: the engine under a merge and its undo.

One general mechanism rather than a list of tables: every foreign key that points at the merged model
(`_meta.related_objects`) is moved to the survivor, so a table added next year (a follow-up, a tag) is
merged without a line here. Each move is two statements whatever the row count: the ids are read
(they are the undo's before-image: only the reference changed), then one UPDATE moves them.

The records merged away are deleted with Django's deletion collector, and everything the collector
would delete with them (rows that are not moved on purpose, such as duplicate candidates) is first
serialised, so that the undo can put back exactly what was there.

django-auditlog's entries about a merged record (its changes and who viewed it) are moved too: the
survivor's history then shows both records' past, and an access or erasure request for the survivor
covers it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core import serializers
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connections, models, router, transaction
from django.db.models.deletion import Collector
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from registers.audit_chain import Reason, chained_update, links_append

ERROR_CONFLICT = _(
    "The records cannot be merged: their %(records)s clash (for example the same invoice number, or a "
    "consent in force for the same purpose on both). Correct or remove one of them first."
)
ERROR_RESTORE_CONFLICT = _(
    "The merge cannot be undone: a record added since the merge clashes with one it would bring back "
    "(for example a customer with the same business ID)."
)

LOG_KEY = "auditlog.logentry"


@dataclass
class Moves:
    """{model label: {field name: {old target pk: [row pks]}}}: what a merge moved, as stored on the merge."""

    rows: dict = field(default_factory=dict)

    def add(self, label: str, field_name: str, pairs) -> int:
        count = 0
        for row_pk, old in pairs:
            self.rows.setdefault(label, {}).setdefault(field_name, {}).setdefault(str(old), []).append(row_pk)
            count += 1
        return count


def references_to(model) -> list:
    """Every foreign-key relation that points at `model`, hidden ones (related_name="+") included."""
    return [
        relation
        for relation in model._meta.get_fields(include_hidden=True)
        if relation.auto_created and not relation.concrete and (relation.one_to_many or relation.one_to_one)
    ]


def _relations(model, *, kept_in_place: frozenset):
    """(related model, foreign key) of every reference to `model` the merge moves."""
    for relation in references_to(model):
        related = relation.related_model
        if (related._meta.label, relation.field.name) in kept_in_place:
            continue
        yield related, relation.field


def move_references(
    *, model, survivor_pk: int, merged_pks: list[int], kept_in_place: frozenset, moves: Moves
) -> dict[str, int]:
    """Point every row that references one of `merged_pks` at `survivor_pk`; return counts per model."""
    counts: dict[str, int] = {}
    for related, fk in _relations(model, kept_in_place=kept_in_place):
        manager = related._base_manager
        pairs = list(manager.filter(**{f"{fk.name}__in": merged_pks}).values_list("pk", fk.attname))
        if not pairs:
            continue
        label = related._meta.label
        moved = moves.add(label, fk.name, pairs)
        try:
            with transaction.atomic():
                # QuerySet.update bypasses the archive's "never change" rule; no archive row points at a customer.
                models.QuerySet(related).filter(pk__in=[pk for pk, _old in pairs]).update(**{fk.attname: survivor_pk})
                # A request event that names the record is part of the tamper-evident trail: the move is linked.
                links_append(related, [pk for pk, _old in pairs], Reason.CHANGE, only_changed=True)
        except IntegrityError:
            raise ValidationError(ERROR_CONFLICT, params={"records": related._meta.verbose_name_plural}) from None
        counts[label] = counts.get(label, 0) + moved
    content_type = ContentType.objects.get_for_model(model)
    entries = LogEntry.objects.filter(content_type=content_type, object_id__in=merged_pks)
    pairs = list(entries.values_list("pk", "object_id"))
    if pairs:
        moves.add(LOG_KEY, "object_id", pairs)
        chained_update(
            LogEntry.objects.filter(pk__in=[pk for pk, _old in pairs]),
            object_id=survivor_pk,
            object_pk=str(survivor_pk),
        )
        counts[LOG_KEY] = len(pairs)
    return counts


def move_back(*, model, survivor_pk: int, moves: dict) -> dict[str, int]:
    """Undo `move_references`: rows still pointing at the survivor go back to the record they came from.

    Rows deleted since the merge are gone and stay gone; rows added to the survivor since stay with it.
    """
    from django.apps import apps

    counts: dict[str, int] = {}
    for label, fields in moves.items():
        if label == LOG_KEY:
            continue
        related = apps.get_model(label)
        for field_name, by_old in fields.items():
            attname = related._meta.get_field(field_name).attname
            for old, pks in by_old.items():
                changed = (
                    models.QuerySet(related).filter(pk__in=pks, **{attname: survivor_pk}).update(**{attname: int(old)})
                )
                links_append(related, pks, Reason.CHANGE, only_changed=True)
                counts[label] = counts.get(label, 0) + changed
    for old, pks in moves.get(LOG_KEY, {}).get("object_id", {}).items():
        content_type = ContentType.objects.get_for_model(model)
        chained_update(
            LogEntry.objects.filter(pk__in=pks, content_type=content_type, object_id=survivor_pk),
            object_id=int(old),
            object_pk=str(old),
        )
    return counts


def delete_keeping_images(objs: list[models.Model]) -> list[dict]:
    """Delete `objs` and whatever cascades with them; return every deleted row serialised."""
    if not objs:
        return []
    collector = Collector(using=router.db_for_write(type(objs[0])))
    collector.collect(objs)
    rows: list[models.Model] = []
    for queryset in collector.fast_deletes:
        rows.extend(queryset)
    collector.sort()
    for instances in collector.data.values():
        rows.extend(instances)
    images = json.loads(serializers.serialize("json", rows))
    collector.delete()
    return images


def _still_fits(obj: models.Model) -> bool:
    """Tell whether a row can come back: what it pointed at still exists, or the reference may be emptied.

    A row whose parent went since the merge (a candidate pair's other customer, merged away or deleted)
    is treated as the parent's deletion would have treated it: CASCADE leaves it out, SET_NULL empties it.
    """
    for reference in obj._meta.concrete_fields:
        value = getattr(obj, reference.attname) if reference.is_relation else None
        if value is None or reference.remote_field.model._base_manager.filter(pk=value).exists():
            continue
        if reference.remote_field.on_delete is models.SET_NULL:
            setattr(obj, reference.attname, None)
        else:
            return False
    return True


def _parents_first(rows: list) -> list:
    """Order deserialised rows so that a row comes after the rows of the models it points at."""
    models_left = list(dict.fromkeys(type(row.object) for row in rows))
    ordered_models = []
    while models_left:
        for model in models_left:
            parents = {field.remote_field.model for field in model._meta.concrete_fields if field.is_relation}
            if not (parents - {model}) & set(models_left):
                break
        else:  # a cycle: keep the stored order for the rest
            model = models_left[0]
        ordered_models.append(model)
        models_left.remove(model)
    rank = {model: index for index, model in enumerate(ordered_models)}
    return sorted(rows, key=lambda row: rank[type(row.object)])


def restore_images(images: list[dict]) -> int:
    """Put back rows serialised by `delete_keeping_images`, with their own primary keys; return how many."""
    restored = 0
    try:
        with transaction.atomic():
            for row in _parents_first(list(serializers.deserialize("python", images))):
                if _still_fits(row.object):
                    row.save()
                    restored += 1
    except IntegrityError:
        raise ValidationError(ERROR_RESTORE_CONFLICT) from None
    return restored


def check_constraints_now(using: str = "default") -> None:
    """Check the deferred foreign keys of the transaction now, so that a clash is refused, not a 500 at commit."""
    connection = connections[using]
    try:
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        else:
            connection.check_constraints()
    except IntegrityError:
        raise ValidationError(ERROR_RESTORE_CONFLICT) from None


def image_of(obj: models.Model) -> dict:
    """The row as a serialised dict of its fields (JSON-ready)."""
    return json.loads(serializers.serialize("json", [obj]))[0]["fields"]


def field_label(model, name: str) -> str:
    return capfirst(model._meta.get_field(name).verbose_name)
