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

The register is found from the object's foreign keys (`registers.audit_scope`);
pass `extra={"register": register}` when it cannot be. Values in `extra` must
be JSON-serialisable after `str()` of dates, UUIDs and model instances.

The path is stored without its secrets: the links sent to data subjects (an
answer package, a request's status page, a consent withdrawal) carry a signed
token that opens the data to whoever holds it, and the audit trail is read by
owners, main users and auditors who must not be able to follow those links.
"""

import datetime
import decimal
import re
import uuid
from urllib.parse import unquote

from auditlog.models import LogEntry
from django.db import models, transaction
from django.urls import Resolver404, resolve

# The same rule as the change entries (registers.middleware.AuditlogMiddleware),
# so one user's access and change entries show the same address.
from .audit_scope import register_pk_of
from .client_address import client_address

__all__ = ["REDACTION_MARK", "client_address", "log_access", "redact_path", "redact_secrets"]

REDACTION_MARK = "[redacted]"
# URL keyword arguments that carry a secret: the signed links of privacy/requests
# and privacy/rights (`<str:token>`) and Django's password-reset link.
SECRET_URL_KWARGS = frozenset({"token", "uidb64"})
# A Django signed value ("value:signature" or "value:timestamp:signature",
# base64url): caught even where the URL no longer resolves (a route renamed
# since the entry was written).
SIGNED_SEGMENT = re.compile(r"^[^/:]+(?::[A-Za-z0-9_-]+)*:[A-Za-z0-9_-]{20,}$")


def redact_path(path: str, url_kwargs: dict | None = None) -> str:
    """Return the path with every secret token segment replaced by `REDACTION_MARK`.

    `url_kwargs` are the view's keyword arguments when known (the request's
    resolver match); otherwise the path is resolved here.
    """
    if not isinstance(path, str) or not path:
        return path
    if url_kwargs is None:
        try:
            url_kwargs = resolve(path).kwargs
        except (Resolver404, ValueError):
            url_kwargs = {}
    secrets = {str(v) for k, v in url_kwargs.items() if k in SECRET_URL_KWARGS or k.endswith("_token")}
    return "/".join(
        REDACTION_MARK if segment and (segment in secrets or SIGNED_SEGMENT.match(unquote(segment))) else segment
        for segment in path.split("/")
    )


def redact_secrets(data):
    """Return an entry's additional data with the secrets of every path in it redacted (entries stored before)."""
    if isinstance(data, dict):
        return {k: redact_secrets(v) for k, v in data.items()}
    if isinstance(data, list):
        return [redact_secrets(v) for v in data]
    if isinstance(data, str) and data.startswith("/"):
        return redact_path(data)
    return data


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
    register_pk = register.pk if isinstance(register, models.Model) else register
    if register_pk is None:
        register_pk = register_pk_of(obj)
    match = getattr(request, "resolver_match", None)
    data = {"register": register_pk, "path": redact_path(request.path, match.kwargs if match is not None else None)}
    data.update(redact_secrets(_jsonable(extra)))
    user = getattr(request, "user", None)
    actor = user if user is not None and user.is_authenticated else None
    # The entry and its link in the audit chain commit together (registers.audit_chain).
    with transaction.atomic(savepoint=False):
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
