"""The one rule for a request's client address.

Rate limits (privacy/requests/ratelimit.py), sign-in throttling (django-axes) and the
audit trail (django-auditlog, registers/access_log.py) all use it, so an
address that is throttled is also the address the audit entries record.

`X-Forwarded-For` is written by whoever sends the request: anybody can put
any address there. Only the entries appended by the deployment's own proxies
can be trusted, so the header is read only when `TRUSTED_PROXY_COUNT` says
how many proxies stand in front of the app, and then only the entry the
outermost trusted proxy appended (the N-th from the right). With the default
0 the address is the TCP peer, `REMOTE_ADDR`.

Written here rather than taken from python-ipware: ipware reads a list of
headers that any client can set (X-Real-IP, CF-Connecting-IP and others) and
prefers public addresses over private ones, which is right for analytics but
not for a rule whose whole point is to trust nothing a client writes; the rule
needed is the dozen lines below.
"""

import ipaddress

from django.conf import settings


def _parse(value: str) -> str | None:
    value = value.strip()
    if value.startswith("[") and "]" in value:  # [IPv6]:port
        value = value[1 : value.index("]")]
    elif value.count(":") == 1:  # IPv4:port
        value = value.split(":", 1)[0]
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def client_address(request) -> str | None:
    """Return the client's address: REMOTE_ADDR, or the entry the trusted proxies vouch for."""
    remote = _parse(request.META.get("REMOTE_ADDR", "") or "")
    count = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    if count <= 0:
        return remote
    entries = [entry for entry in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if entry.strip()]
    # A shorter header means the request did not pass through every trusted
    # proxy (or a proxy is misconfigured): the peer is then all that is known.
    if len(entries) < count:
        return remote
    return _parse(entries[-count]) or remote


def client_port(request) -> int | None:
    """Return the client's source port when a trusted proxy reports it, else the peer's port."""
    if getattr(settings, "TRUSTED_PROXY_COUNT", 0) > 0:
        value = request.META.get("HTTP_X_FORWARDED_PORT", "")
    else:
        value = request.META.get("REMOTE_PORT", "")
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
