"""The register owner's audit screens: changes, access entries and logins, with CSV export.

Owners of a register and main users reach them (`register_get_for_owner`).
Personal data in change and access entries is shown only to viewers who may
see the register's data; a main user outside the register sees it redacted.
"""

from urllib.parse import urlencode

from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import formats, timezone
from django.utils.translation import gettext, ngettext

from . import audit, replica, roles
from .access_log import log_access
from .forms import AuditFilterForm, LoginFilterForm
from .selectors import register_get_for_owner, user_can
from .services import is_main_user

PAGE_SIZE = 50
# The lists are counted up to this many entries and no further: a count of a million entries
# takes longer than the page itself, and "more than 1,000" tells the reader as much.
COUNT_LIMIT = 1000
# The query parameter of the link to older entries: the key of the last entry shown.
CURSOR = "before"


class KeysetPage:
    """One page of a long list, newest first, found without counting or skipping over the list.

    A later page continues from the key of the last entry shown (`cursor`,
    read by `parse`), so page 100 costs what page 1 costs; the link is built
    from `key` of the last row. The rows are read with one more than a page,
    which tells whether older entries exist; the count stops at `COUNT_LIMIT`.
    A cursor that cannot be read gives the first page.
    """

    def __init__(self, queryset, cursor: str | None, *, continue_from, key, parts: int, per_page: int | None = None):
        per_page = per_page or PAGE_SIZE
        self.cursor = parse_cursor(cursor, parts)
        listed = continue_from(self.cursor) if self.cursor is not None else queryset
        rows = list(listed[: per_page + 1])
        # A short first page is the whole list; otherwise count, but not past the limit.
        first_and_short = self.cursor is None and len(rows) <= per_page
        count = len(rows) if first_and_short else queryset[: COUNT_LIMIT + 1].count()
        self.capped = count > COUNT_LIMIT
        self.count = min(count, COUNT_LIMIT)
        self.object_list = rows[:per_page]
        self.has_next = len(rows) > per_page
        self.has_previous = self.cursor is not None
        self.next_cursor = format_cursor(key(self.object_list[-1])) if self.has_next else ""

    def has_other_pages(self) -> bool:
        return self.has_previous or self.has_next

    def count_text(self) -> str:
        if self.capped:
            return gettext("More than %(count)s entries") % {
                "count": formats.number_format(COUNT_LIMIT, force_grouping=True)
            }
        return ngettext("%(count)s entry", "%(count)s entries", self.count) % {
            "count": formats.number_format(self.count, force_grouping=True)
        }


def format_cursor(key: tuple) -> str:
    """Write a list key (a time, then whole numbers) as a cursor: microseconds since 1970, then the numbers."""
    at, *numbers = key
    return ".".join(str(n) for n in (audit.microseconds(at), *numbers))


def parse_cursor(text, parts: int) -> tuple | None:
    """Read a cursor of `parts` numbers back into a key, or None for anything else (garbage, out of range)."""
    if not isinstance(text, str) or len(text) > 100:
        return None
    numbers = text.split(".")
    if len(numbers) != parts or not all(n.isascii() and n.isdigit() and len(n) <= 18 for n in numbers):
        return None
    at = audit.from_microseconds(int(numbers[0]))
    if at is None:
        return None
    return (at, *(int(n) for n in numbers[1:]))


# Filters whose values are typed text and may name anyone: the access log keeps only that they were used.
TYPED_FILTERS = frozenset({"username"})


def filters_for_log(filters: dict) -> dict:
    """Return a screen's valid filters as the access log keeps them: codes, dates and ids, never typed names."""
    logged = {}
    for name, value in filters.items():
        if value in (None, ""):
            continue
        if name in TYPED_FILTERS:
            logged[name] = True
        elif name == "object_type":
            logged[name] = f"{value.app_label}.{value.model}"
        else:
            # A user is logged as its id (registers.access_log turns model instances into their keys).
            logged[name] = value
    return logged


def _csv_response(request, text: str, name: str) -> HttpResponse:
    response = HttpResponse(text, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}-{timezone.localdate():%Y-%m-%d}.csv"'
    return response


def _query_without_page(request) -> str:
    # The filters stay in the paging links; the page (a cursor, or a page number of old links) does not.
    return urlencode([(k, v) for k, v in request.GET.items() if k not in (CURSOR, "page", "format")])


def _entries_screen(request, register, *, kind: str):
    register = register_get_for_owner(user=request.user, slug=register)
    form = AuditFilterForm(request.GET or None, with_action=(kind == "changes"))
    filters = form.cleaned_data if form.is_valid() else {}
    common = {
        "register": register,
        "actor": filters.get("user"),
        "content_type": filters.get("object_type"),
        "since": filters.get("since"),
        "until": filters.get("until"),
    }
    if kind == "changes":
        entries = audit.change_list(**common, action=filters.get("action"))
    else:
        entries = audit.access_list(**common)
    reveal = user_can(user=request.user, register=register, perm=roles.VIEW_DATA)
    if request.GET.get("format") == "csv":
        rows = audit.entry_rows(entries, reveal_personal_data=reveal)
        # An export is an access of its own: log the filter and the count, not the rows.
        log_access(
            request, register, {"export": f"audit_{kind}", "filter": filters_for_log(filters), "rows": len(rows)}
        )
        return _csv_response(request, audit.entry_rows_csv(rows), f"{kind}-{register.slug}")
    page = KeysetPage(
        entries,
        request.GET.get(CURSOR),
        continue_from=lambda cursor: audit.entries_before(entries, *cursor),
        key=lambda entry: (entry.timestamp, entry.pk),
        parts=2,
    )
    # Reading the trail is itself an access to what it shows (who did what to whose data): one entry per page.
    log_access(
        request,
        register,
        {"view": f"audit_{kind}", "filter": filters_for_log(filters), "rows": len(page.object_list)},
    )
    return render(
        request,
        f"registers/audit_{kind}.html",
        {
            "register": register,
            "form": form,
            "page": page,
            "rows": audit.entry_rows(page.object_list, reveal_personal_data=reveal),
            "redacted": not reveal,
            "query": _query_without_page(request),
            "tab": kind,
        },
    )


# The audit trail is a report: its entries may come from the replica; the owner check and the rights are read on the
# primary (registers.replica.PRIMARY_APPS). The sign-in log is not: it is the lockouts' own record (axes).
@replica.reads_from_replica
def audit_changes(request, register):
    return _entries_screen(request, register, kind="changes")


@replica.reads_from_replica
def audit_access(request, register):
    return _entries_screen(request, register, kind="access")


def _logins_screen(request, register):
    form = LoginFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    criteria = {
        "register": register,
        "username": filters.get("username", ""),
        "kind": filters.get("kind", ""),
        "since": filters.get("since"),
        "until": filters.get("until"),
    }
    events = audit.login_list(**criteria)
    if request.GET.get("format") == "csv":
        events = list(events)
        # The export is logged against the register, or the exporting main user's own account.
        log_access(
            request,
            register or request.user,
            {"export": "logins", "filter": filters_for_log(filters), "rows": len(events)},
        )
        name = f"logins-{register.slug}" if register else "logins"
        return _csv_response(request, audit.login_rows_csv(events), name)
    page = KeysetPage(
        events,
        request.GET.get(CURSOR),
        continue_from=lambda cursor: audit.login_list(**criteria, before=cursor),
        key=audit.login_key,
        parts=3,
    )
    for event in page.object_list:
        event["label"] = audit.LoginKind.labels.get(event["event"], event["event"])
    # Logged against the register, or the main user's own account for the log of every sign-in.
    log_access(
        request,
        register or request.user,
        {"view": "logins", "filter": filters_for_log(filters), "rows": len(page.object_list)},
    )
    return render(
        request,
        "registers/audit_logins.html",
        {
            "register": register,
            "form": form,
            "page": page,
            "query": _query_without_page(request),
            "tab": "logins",
        },
    )


def audit_logins(request, register):
    return _logins_screen(request, register_get_for_owner(user=request.user, slug=register))


def login_log(request):
    """Every sign-in event, unknown usernames included: for main users only."""
    if not is_main_user(request.user):
        raise PermissionDenied
    return _logins_screen(request, None)
