"""Removing erased values from the audit trail, shared by the retention purge and erasure on request.

The trail must go on showing who did what and when (the seeds: everything is logged), but not the values of data
that was destroyed: a deleted customer whose name and e-mail still sit in django-auditlog `changes` or in the admin's
`LogEntry.object_repr` has not been erased (GDPR 17, PRIVACY.md §4 item 11). So, for each destroyed or anonymised
row, every audit entry keeps its action, time, actor and the names of the fields that changed, and loses the values
and the object's name; a deletion entry without values is written in place of the one auditlog would write.

Values also travel outside the erased rows' own entries: an export's access entry keeps the words searched for
(`additional_data.filter.q`). `access_log_redact` removes every string value of an access entry that names an erased
person (name, e-mail or phone, as `person_patterns` spells them); the entry itself, its time, actor and purpose stay.
"""

import json
import re
from collections import Counter

from auditlog.context import disable_auditlog
from auditlog.models import LogEntry
from auditlog.registry import auditlog
from django.contrib.admin.models import LogEntry as AdminLogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import connection, router
from django.db.models import Q, TextField
from django.db.models.deletion import Collector
from django.db.models.functions import Cast
from django.utils import timezone

from registers.audit_chain import Reason, chained_bulk_create, chained_update, links_append
from registers.audit_scope import REGISTER_KEY, register_pk_of, register_pks_of, with_register

REDACTED_VALUE = "[redacted]"


def _fast_path() -> bool:
    # The SQL below names the two log tables; any other table layout (or database) takes the ORM path.
    return (
        connection.vendor == "postgresql"
        and LogEntry._meta.db_table == "auditlog_logentry"
        and AdminLogEntry._meta.db_table == "django_admin_log"
    )


def _with_register(additional: dict, register_pk) -> dict:
    # The marker's keys, and the register the entry belongs to (`registers.audit_scope`).
    return with_register(additional, register_pk) or {}


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
        # The entry's register stays too: the entry stays on that register's change and access screens.
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE auditlog_logentry SET object_repr = %s, changes_text = '', "
                "serialized_data = NULL, "
                "additional_data = jsonb_strip_nulls(jsonb_build_object('register', additional_data -> 'register')) "
                "|| %s::jsonb, changes = CASE "
                "WHEN jsonb_typeof(changes) = 'object' THEN "
                "(SELECT jsonb_object_agg(key, %s::jsonb) FROM jsonb_object_keys(changes) AS key) END "
                "WHERE content_type_id = %s AND object_id = ANY(%s::bigint[]) RETURNING id",
                [object_repr, json.dumps(additional), _redacted_pair(), content_type.pk, list(pks)],
            )
            redacted = [row[0] for row in cursor.fetchall()]
            cursor.execute(
                "UPDATE django_admin_log SET object_repr = %s, change_message = '' "
                "WHERE content_type_id = %s AND object_id = ANY(%s::text[])",
                [object_repr, content_type.pk, [str(pk) for pk in pks]],
            )
        # The redaction is a change the application makes: each entry's new form is linked in the audit chain.
        links_append(LogEntry, redacted, Reason.CHANGE, only_changed=True)
        return
    # The same result as the SQL above: field names and register stay, values go. Entries are grouped by the set of
    # names they changed and their register, so one UPDATE serves every entry of a group.
    entries = LogEntry.objects.filter(content_type=content_type, object_id__in=pks)
    groups: dict[tuple, list[int]] = {}
    for pk, changes, data in entries.values_list("pk", "changes", "additional_data").iterator():
        if isinstance(changes, str):
            changes = json.loads(changes or "null")
        names = tuple(sorted(changes)) if isinstance(changes, dict) else None
        register_pk = data.get(REGISTER_KEY) if isinstance(data, dict) else None
        groups.setdefault((names, register_pk), []).append(pk)
    pair = [REDACTED_VALUE, REDACTED_VALUE]
    for (names, register_pk), group in groups.items():
        for start in range(0, len(group), 500):
            chained_update(
                LogEntry.objects.filter(pk__in=group[start : start + 500]),
                object_repr=object_repr,
                changes_text="",
                serialized_data=None,
                additional_data=_with_register(additional, register_pk),
                changes=None if names is None else dict.fromkeys(names, pair),
            )
    AdminLogEntry.objects.filter(content_type=content_type, object_id__in=[str(pk) for pk in pks]).update(
        object_repr=object_repr, change_message=""
    )


def audit_trail_log_deleted(
    *, model, pks: list, actor_id: int | None, object_repr: str, additional: dict, registers: dict | None = None
) -> None:
    """Write one DELETE entry per destroyed row: the trail shows the deletion, by whom and when, with no values.

    `registers` maps a row's pk to its register's (`registers.audit_scope.register_pks_of`, taken before the rows
    went): each entry carries its register like the entries auditlog writes.
    """
    if not pks:
        return
    registers = registers or {}
    content_type = ContentType.objects.get_for_model(model, for_concrete_model=False)
    now = timezone.now()
    if _fast_path():
        # INSERT ... SELECT over id arrays: one statement however many rows, no per-row Python objects.
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO auditlog_logentry "
                "(content_type_id, object_pk, object_id, object_repr, action, changes_text, actor_id, "
                "timestamp, additional_data) "
                "SELECT %s, id::text, id, %s, %s, '', %s, %s, "
                "%s::jsonb || jsonb_strip_nulls(jsonb_build_object('register', register_id)) "
                "FROM unnest(%s::bigint[], %s::bigint[]) AS t(id, register_id) RETURNING id",
                [
                    content_type.pk,
                    object_repr,
                    LogEntry.Action.DELETE,
                    actor_id,
                    now,
                    json.dumps(additional),
                    list(pks),
                    [registers.get(pk) for pk in pks],
                ],
            )
            written = [row[0] for row in cursor.fetchall()]
        links_append(LogEntry, written, Reason.WRITE)
        return
    chained_bulk_create(
        LogEntry,
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
                additional_data=_with_register(additional, registers.get(pk)),
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
    # The register of each row, while the rows (and the parents a chain runs through) are still there.
    registers = {
        model: register_pks_of(model, instances)
        for model, instances in collector.data.items()
        if instances and auditlog.contains(model)
    }
    for model, pks in deleted.items():
        if pks and auditlog.contains(model):
            audit_trail_redact(model=model, pks=pks, object_repr=object_repr, additional=additional)
    with disable_auditlog():
        _total, per_model = collector.delete()
    for model, pks in deleted.items():
        if pks and auditlog.contains(model):
            audit_trail_log_deleted(
                model=model,
                pks=pks,
                actor_id=actor_id,
                object_repr=object_repr,
                additional=additional,
                registers=registers.get(model),
            )
    return Counter(per_model)


# Between the digits of a phone number written by hand: nothing, a space, a hyphen, a dot or a slash.
_SEPARATOR = "[ ./-]?"


def _phone_pattern(number) -> str | None:
    national = str(getattr(number, "national_number", "") or "")
    country = getattr(number, "country_code", None)
    if len(national) < 5 or not country:
        return None
    # +358 40 123 4567, 00358401234567 or 040-123 4567: the country code or the trunk 0, then the digits.
    prefix = rf"(\+{country}|00{country}|0)"
    return prefix + _SEPARATOR + _SEPARATOR.join(national)


def _words_pattern(words: list[str]) -> str:
    return r"\s+".join(re.escape(word) for word in words)


def person_patterns(*, names=(), emails=(), phones=()) -> list[str]:
    """Return regular expressions (Python's and PostgreSQL's alike) for a person's name, e-mails and phones.

    A name counts only whole, first and last name in either order: a last name alone names no one in particular.
    """
    patterns: list[str] = []
    for first, last in names:
        first_words, last_words = (first or "").split(), (last or "").split()
        if first_words and last_words:
            patterns.append(_words_pattern(first_words + last_words))
            patterns.append(_words_pattern(last_words + first_words))
    patterns += [re.escape(email.strip()) for email in emails if email and email.strip()]
    patterns += [p for p in (_phone_pattern(phone) for phone in phones if phone) if p]
    return list(dict.fromkeys(patterns))


def _json_escaped(pattern: str) -> str:
    # SQLite stores JSON with non-ASCII letters escaped (\u00e4), so the stored text is searched for that form too.
    return "".join(re.escape(json.dumps(c)[1:-1]) if ord(c) > 127 else c for c in pattern)


def _redact_strings(value, compiled):
    if isinstance(value, str):
        return (REDACTED_VALUE, True) if compiled.search(value) else (value, False)
    if isinstance(value, dict):
        changed = False
        result = {}
        for key, item in value.items():
            result[key], hit = _redact_strings(item, compiled)
            changed |= hit
        return result, changed
    if isinstance(value, list):
        pairs = [_redact_strings(item, compiled) for item in value]
        return [item for item, _hit in pairs], any(hit for _item, hit in pairs)
    return value, False


def access_log_redact(*, patterns: list[str], register_ids: list[int], marker: dict) -> int:
    """Replace every string value of the registers' access entries that names the person; return how many changed.

    The rest of each entry stays (who, when, which export, how many rows), with `marker` saying why it changed.
    """
    if not patterns or not register_ids:
        return 0
    searched = Q()
    for pattern in patterns:
        searched |= Q(data_text__iregex=pattern)
        if _json_escaped(pattern) != pattern:
            searched |= Q(data_text__iregex=_json_escaped(pattern))
    entries = (
        LogEntry.objects.filter(action=LogEntry.Action.ACCESS, additional_data__register__in=register_ids)
        .annotate(data_text=Cast("additional_data", TextField()))
        .filter(searched)
    )
    compiled = re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)
    changed = 0
    for pk, data in entries.values_list("pk", "additional_data").iterator():
        if isinstance(data, str):
            data = json.loads(data)
        redacted, hit = _redact_strings(data, compiled)
        if hit:
            redacted["redacted"] = marker
            chained_update(LogEntry.objects.filter(pk=pk), additional_data=redacted)
            changed += 1
    return changed


def audit_trail_log_update(*, instance, fields: list[str], actor_id: int | None, additional: dict) -> None:
    """Write the UPDATE entry of a change that removed values: which fields changed, by whom and when, no values."""
    LogEntry.objects.create(
        content_type=ContentType.objects.get_for_model(type(instance), for_concrete_model=False),
        object_pk=str(instance.pk),
        object_id=instance.pk,
        object_repr=str(instance)[:255],
        action=LogEntry.Action.UPDATE,
        changes={name: [REDACTED_VALUE, REDACTED_VALUE] for name in fields},
        changes_text="",
        actor_id=actor_id,
        timestamp=timezone.now(),
        additional_data=_with_register(additional, register_pk_of(instance)),
    )
