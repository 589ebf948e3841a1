"""The one rule for a request's client address.

Rate limits (privacy/requests/ratelimit.py), sign-in throttling (django-axes) and the
audit trail (django-auditlog, registers/access_log.py) all use it, so an
address that is throttled is also the address the audit entries record.

`X-Forwarded-For` is written by whoever sends the request: anybody can put
any address there. Only the entries appended by the deployment's own proxies
can be trusted, so the header is read only when `TRUSTED_PROXY_COUNT` says
how many proxies stand in front of the app, and then only the entry the
outermost trusted proxy appended (the N-th from the right). With the default
0 the address is the TCP peer, `REMOTE_ADDR`. Where `TRUSTED_PROXY_ADDRESSES`
names the load balancers' addresses (or networks), the header is read only on
a connection from one of them: a client that reaches a web node directly,
past the load balancer, is its own TCP peer however it fills the header.

Written here rather than taken from python-ipware: ipware reads a list of
headers that any client can set (X-Real-IP, CF-Connecting-IP and others) and
prefers public addresses over private ones, which is right for analytics but
not for a rule whose whole point is to trust nothing a client writes; the rule
needed is the dozen lines below.
"""

import ipaddress
from functools import cache

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


@cache
def _networks(addresses: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(address, strict=False) for address in addresses)


def _proxies_trusted(remote: str | None) -> int:
    """Return how many proxies' entries to believe for this connection: 0 unless it comes from a trusted proxy."""
    count = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    addresses = tuple(getattr(settings, "TRUSTED_PROXY_ADDRESSES", ()))
    if count <= 0 or not addresses:
        return max(count, 0)
    if remote is None:
        return 0
    peer = ipaddress.ip_address(remote)
    return count if any(peer in network for network in _networks(addresses)) else 0


def client_address(request) -> str | None:
    """Return the client's address: REMOTE_ADDR, or the entry the trusted proxies vouch for."""
    remote = _parse(request.META.get("REMOTE_ADDR", "") or "")
    count = _proxies_trusted(remote)
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
    remote = _parse(request.META.get("REMOTE_ADDR", "") or "")
    if _proxies_trusted(remote) > 0:
        value = request.META.get("HTTP_X_FORWARDED_PORT", "")
    else:
        value = request.META.get("REMOTE_PORT", "")
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
