"""The access log of API reads: the same entry a person's page view writes, the client's machine user as actor."""

from registers.access_log import log_access

from .authentication import request_client


def api_access_log(request, obj, extra: dict | None = None) -> None:
    client = request_client(request)
    details = {"api_client": client.name if client else "", **(extra or {})}
    # REST framework's request wraps Django's; the log reads the path, address and user from Django's.
    log_access(request._request, obj, details)
