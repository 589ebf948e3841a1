"""Removing erased values from the audit trail, shared by the retention purge and erasure on request.

The trail must go on showing who did what and when (the seeds: everything is logged), but not the values of data
that was destroyed: a deleted customer whose name and e-mail still sit in django-auditlog `changes` or in the admin's
`LogEntry.object_repr` has not been erased (GDPR 17, PRIVACY.md §4 item 11). So, for each destroyed or anonymised
row, every audit entry keeps its action, time, actor and the names of the fields that changed, and loses the values
and the object's name; a deletion entry without values is written in place of the one auditlog would write.
"""

import json
from collections import Counter

from auditlog.context import disable_auditlog
from auditlog.models import LogEntry
from auditlog.registry import auditlog
from django.contrib.admin.models import LogEntry as AdminLogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import connection, router
from django.db.models.deletion import Collector
from django.utils import timezone

REDACTED_VALUE = "[redacted]"


def _fast_path() -> bool:
    # The SQL below names the two log tables; any other table layout (or database) takes the ORM path.
    return (
        connection.vendor == "postgresql"
        and LogEntry._meta.db_table == "auditlog_logentry"
        and AdminLogEntry._meta.db_table == "django_admin_log"
    )


def _redacted_pair() -> str:
    return json.dumps([REDACTED_VALUE, REDACTED_VALUE])


def audit_trail_redact(*, model, pks: list, object_repr: str, additional: dict) -> None:
    """Blank the values and names in every audit entry of the given rows; keep action, time, actor and field names."""
    if not pks:
        return
    content_type = ContentType.objects.get_for_model(model, for_concrete_model=False)
    if _fast_path():
        # One statement per model and batch, the ids as one typed array (so the object_id index is used).
        # Field names stay (they are not personal data and show what had changed); old and new values go.
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE auditlog_logentry SET object_repr = %s, changes_text = '', "
                "serialized_data = NULL, additional_data = %s::jsonb, changes = CASE "
                "WHEN jsonb_typeof(changes) = 'object' THEN "
                "(SELECT jsonb_object_agg(key, %s::jsonb) FROM jsonb_object_keys(changes) AS key) END "
                "WHERE content_type_id = %s AND object_id = ANY(%s::bigint[])",
                [object_repr, json.dumps(additional), _redacted_pair(), content_type.pk, list(pks)],
            )
            cursor.execute(
                "UPDATE django_admin_log SET object_repr = %s, change_message = '' "
                "WHERE content_type_id = %s AND object_id = ANY(%s::text[])",
                [object_repr, content_type.pk, [str(pk) for pk in pks]],
            )
        return
    LogEntry.objects.filter(content_type=content_type, object_id__in=pks).update(
        object_repr=object_repr, changes_text="", serialized_data=None, additional_data=additional, changes=None
    )
    AdminLogEntry.objects.filter(content_type=content_type, object_id__in=[str(pk) for pk in pks]).update(
        object_repr=object_repr, change_message=""
    )


def audit_trail_log_deleted(*, model, pks: list, actor_id: int | None, object_repr: str, additional: dict) -> None:
    """Write one DELETE entry per destroyed row: the trail shows the deletion, by whom and when, with no values."""
    if not pks:
        return
    content_type = ContentType.objects.get_for_model(model, for_concrete_model=False)
    now = timezone.now()
    if _fast_path():
        # INSERT ... SELECT over an id array: one statement however many rows, no per-row Python objects.
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO auditlog_logentry "
                "(content_type_id, object_pk, object_id, object_repr, action, changes_text, actor_id, "
                "timestamp, additional_data) "
                "SELECT %s, id::text, id, %s, %s, '', %s, %s, %s::jsonb FROM unnest(%s::bigint[]) AS id",
                [
                    content_type.pk,
                    object_repr,
                    LogEntry.Action.DELETE,
                    actor_id,
                    now,
                    json.dumps(additional),
                    list(pks),
                ],
            )
        return
    LogEntry.objects.bulk_create(
        [
            LogEntry(
                content_type=content_type,
                object_pk=str(pk),
                object_id=pk,
                object_repr=object_repr,
                action=LogEntry.Action.DELETE,
                changes=None,
                changes_text="",
                actor_id=actor_id,
                timestamp=now,
                additional_data=additional,
            )
            for pk in pks
        ],
        batch_size=500,
    )


def delete_with_redacted_trail(queryset, *, actor_id: int | None, object_repr: str, additional: dict) -> Counter:
    """Delete the rows with everything that cascades from them, redacting and logging each audited row.

    Return the number of rows deleted per model label. Raises ProtectedError/RestrictedError like `delete()`.
    """
    using = router.db_for_write(queryset.model)
    collector = Collector(using=using, origin=queryset)
    collector.collect(queryset)
    deleted = {model: [obj.pk for obj in instances] for model, instances in collector.data.items()}
    for model, pks in deleted.items():
        if pks and auditlog.contains(model):
            audit_trail_redact(model=model, pks=pks, object_repr=object_repr, additional=additional)
    with disable_auditlog():
        _total, per_model = collector.delete()
    for model, pks in deleted.items():
        if pks and auditlog.contains(model):
            audit_trail_log_deleted(
                model=model, pks=pks, actor_id=actor_id, object_repr=object_repr, additional=additional
            )
    return Counter(per_model)
