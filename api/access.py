"""The access log of API reads: the same entry a person's page view writes, the client's machine user as actor.

Every read through the API writes one entry per call (`api_access_log`): a detail names its object, a list its
register (or the client, for the list of registers), the number of rows it returned and its filters, as an export
does. The filters are logged by name and value where the value is a code, a date or a key, and only as "given"
where it is typed text that may name a person (a search); parameters the API does not know are not logged.
"""

from registers.access_log import log_access

from .authentication import request_client

# Query parameters of the lists, by what their values may hold.
CODED_FILTERS = frozenset({"modified_since", "direction", "sent_from", "sent_to", "ordering_client", "unreadable"})
TYPED_FILTERS = frozenset({"search", "q"})


def api_access_log(request, obj, extra: dict | None = None) -> None:
    client = request_client(request)
    details = {"api_client": client.name if client else "", **(extra or {})}
    # REST framework's request wraps Django's; the log reads the path, address and user from Django's.
    log_access(request._request, obj, details)


def filters_for_log(request) -> dict:
    """Return the call's list filters as the access log keeps them (never a typed value)."""
    logged = {}
    for name in sorted(CODED_FILTERS | TYPED_FILTERS):
        value = request.query_params.get(name, "")
        if value == "":
            continue
        logged[name] = True if name in TYPED_FILTERS else value[:64]
    return logged


def api_list_access_log(request, obj, *, api: str, rows: int, register=None) -> None:
    """Log one read of a list: what was listed, how many rows this call returned and with which filters."""
    extra = {"api": api, "rows": rows, "filter": filters_for_log(request)}
    if register is not None:
        extra["register"] = register
    api_access_log(request, obj, extra)
