"""Access entries for one object seen in several registers at once, written in one INSERT.

A request's page and its subject search show the request's part of every
register the user may check, and each register's owner must find the view
in their own audit trail: one ACCESS entry per register. `log_access` writes
one entry per call (an INSERT each); `access_entries_create` writes the same
entries, field for field, in a single bulk INSERT, so that a request over ten
registers costs what a request over one does. Nothing is audited on
`LogEntry` itself, so a bulk insert leaves no hole in the trail.
"""

from collections.abc import Iterable

from auditlog.cid import get_cid
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from django.utils.encoding import smart_str

# The serialisation of `extra` is log_access's own, so both paths store the same JSON.
from registers.access_log import _jsonable, client_address, redact_path, redact_secrets
from registers.audit_chain import chained_bulk_create


def access_entries_create(request, obj: models.Model, *, registers: Iterable, extra: dict | None = None) -> list:
    """Record that the request's user viewed `obj` in each of `registers` (one ACCESS entry each, one INSERT)."""
    register_pks = [register.pk if isinstance(register, models.Model) else register for register in registers]
    if not register_pks:
        return []
    match = getattr(request, "resolver_match", None)
    path = redact_path(request.path, match.kwargs if match is not None else None)
    extra = dict(extra or {})
    extra.pop("register", None)
    details = redact_secrets(_jsonable(extra))
    user = getattr(request, "user", None)
    actor = user if user is not None and user.is_authenticated else None
    common = {
        "content_type": ContentType.objects.get_for_model(obj),
        "object_pk": obj.pk,
        "object_id": obj.pk if isinstance(obj.pk, int) else None,
        "object_repr": smart_str(obj),
        "serialized_data": LogEntry.objects._get_serialized_data_or_none(obj),
        "action": LogEntry.Action.ACCESS,
        "changes": None,
        "actor": actor,
        "actor_email": getattr(actor, "email", None) if actor else None,
        "remote_addr": client_address(request),
        "cid": get_cid(),
        "timestamp": timezone.now(),
    }
    entries = [
        LogEntry(**common, additional_data={"register": register_pk, "path": path, **details})
        for register_pk in register_pks
    ]
    return chained_bulk_create(LogEntry, entries)
