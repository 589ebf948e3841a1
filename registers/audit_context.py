"""Name the actor of the change entries a service writes, keeping the request's address.

django-auditlog's own `set_actor(actor)` replaces the request's audit context
(set by registers.middleware.AuditlogMiddleware) with one whose address is
empty, and does not put the request's context back when it ends: every change
entry a service wrote, and every entry after it in the same request, lost the
client's address. Services import `set_actor` from here instead.
"""

import contextlib

from auditlog.context import auditlog_value
from auditlog.context import set_actor as auditlog_set_actor


@contextlib.contextmanager
def set_actor(actor):
    """Attribute the change entries written inside the block to `actor`, from the request's address."""
    outer = auditlog_value.get(None)
    address = outer.get("remote_addr") if outer else None
    port = outer.get("remote_port") if outer else None
    try:
        with auditlog_set_actor(actor, remote_addr=address, remote_port=port):
            yield
    finally:
        if outer is not None:
            auditlog_value.set(outer)
