"""Access logging: who looked at which personal data, when and from where.

The seeds require that use of a register is monitored (002), and KHO:2025:51
lets a data subject learn the dates and purposes of queries on their data, so
every view of a customer page, contact person, archived message, export or
data-subject report writes one django-auditlog `LogEntry` with action ACCESS.

Usage from a view, after the permission check has passed::

    from registers.access_log import log_access

    customer = selectors.customer_get_for_user(user=request.user, register=register, code=code)
    log_access(request, customer)

    # An export: log the filter and the row count, never the rows.
    log_access(request, register, {"export": "customers", "filter": form.cleaned_data, "rows": count})

    # An object that is not tied to one register (a data-subject report
    # covering several registers): call once per register.
    for reg in registers:
        log_access(request, dsr, {"register": reg, "purpose": "access_request"})

The register is found from the object's foreign keys (`registers.scoping`);
pass `extra={"register": register}` when it cannot be. Values in `extra` must
be JSON-serialisable after `str()` of dates, UUIDs and model instances.
"""

import datetime
import decimal
import uuid

from auditlog.models import LogEntry
from django.db import models

# The same rule as the change entries (registers.middleware.AuditlogMiddleware),
# so one user's access and change entries show the same address.
from .client_address import client_address
from .scoping import register_of

__all__ = ["client_address", "log_access"]


def _jsonable(value):
    if isinstance(value, models.Model):
        return str(value.pk)
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime.date | datetime.datetime | uuid.UUID | decimal.Decimal):
        return str(value)
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def log_access(request, obj: models.Model, extra: dict | None = None) -> LogEntry:
    """Record that the request's user viewed `obj` (an ACCESS entry with address and register)."""
    extra = dict(extra or {})
    register = extra.pop("register", None)
    if register is None:
        register = register_of(obj)
    register_pk = register.pk if isinstance(register, models.Model) else register
    data = {"register": register_pk, "path": request.path}
    data.update(_jsonable(extra))
    user = getattr(request, "user", None)
    actor = user if user is not None and user.is_authenticated else None
    return LogEntry.objects.log_create(
        obj,
        force_log=True,
        action=LogEntry.Action.ACCESS,
        changes=None,
        actor=actor,
        actor_email=getattr(actor, "email", None) if actor else None,
        remote_addr=client_address(request),
        additional_data=data,
    )
