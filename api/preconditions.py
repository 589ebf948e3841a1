"""Optimistic locking over HTTP: every writable resource has an ETag, and a change must send it as If-Match.

The ETag is the row's version where it has one (customers, contact persons, interactions: the services refuse
a stale version themselves, inside their transaction), else its last change time.
"""

from .problems import PreconditionFailed, PreconditionRequired


def etag_of(obj) -> str:
    version = getattr(obj, "version", None)
    if version is None:
        version = int(obj.updated_at.timestamp() * 1_000_000)
    return f'"{version}"'


def if_match(request) -> str:
    """The If-Match value as sent (a missing header is 428: a blind overwrite is never what a client means)."""
    value = request.headers.get("If-Match", "").strip()
    if not value:
        raise PreconditionRequired()
    return value.removeprefix("W/")


def version_from_if_match(request) -> int:
    """The version the client read, for the services' own optimistic locking."""
    value = if_match(request).strip('"')
    if not value.isdigit():
        raise PreconditionFailed()
    return int(value)


def require_current(request, obj) -> None:
    """412 unless If-Match names the object's current ETag (for rows without a version of their own)."""
    if if_match(request) not in (etag_of(obj), "*"):
        raise PreconditionFailed()
