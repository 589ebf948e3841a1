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

from . import audit, roles
from .access_log import log_access
from .forms import AuditFilterForm, LoginFilterForm
from .selectors import register_get_for_owner, user_can
from .services import is_main_user

PAGE_SIZE = 50
# The lists are counted up to this many entries and no further: a count of a million entries
# takes longer than the page itself, and "more than 1,000" tells the reader as much.
COUNT_LIMIT = 1000
MAX_PAGE = 100_000


class CappedPage:
    """One page of a long list, found without counting the whole list.

    The rows are read with one more than a page, which tells whether a next
    page exists; the count stops at `COUNT_LIMIT`. The template reads the same
    names as Django's `Page` (`number`, `has_next`, `previous_page_number`, ...).
    """

    def __init__(self, queryset, number, *, per_page: int | None = None):
        per_page = per_page or PAGE_SIZE
        try:
            number = min(max(int(number), 1), MAX_PAGE)
        except (TypeError, ValueError):
            number = 1
        start = (number - 1) * per_page
        rows = list(queryset[start : start + per_page + 1])
        # A short first page is the whole list; otherwise count, but not past the limit.
        count = len(rows) if number == 1 and len(rows) <= per_page else queryset[: COUNT_LIMIT + 1].count()
        self.capped = count > COUNT_LIMIT
        self.count = min(count, COUNT_LIMIT)
        self.num_pages = None if self.capped else max((count + per_page - 1) // per_page, 1)
        if not rows and self.num_pages is not None and number > self.num_pages:
            # Past the end of a list whose length is known: the last page, like Django's `get_page`.
            number = self.num_pages
            start = (number - 1) * per_page
            rows = list(queryset[start : start + per_page + 1])
        self.number = number
        self.object_list = rows[:per_page]
        self.has_next = len(rows) > per_page
        self.has_previous = number > 1

    def has_other_pages(self) -> bool:
        return self.has_previous or self.has_next

    def next_page_number(self) -> int:
        return self.number + 1

    def previous_page_number(self) -> int:
        return self.number - 1

    def count_text(self) -> str:
        if self.capped:
            return gettext("More than %(count)s entries") % {
                "count": formats.number_format(COUNT_LIMIT, force_grouping=True)
            }
        return ngettext("%(count)s entry", "%(count)s entries", self.count) % {
            "count": formats.number_format(self.count, force_grouping=True)
        }


def _csv_response(request, text: str, name: str) -> HttpResponse:
    response = HttpResponse(text, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}-{timezone.localdate():%Y-%m-%d}.csv"'
    return response


def _query_without_page(request) -> str:
    return urlencode([(k, v) for k, v in request.GET.items() if k not in ("page", "format")])


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
            request,
            register,
            {"export": f"audit_{kind}", "filter": {k: v for k, v in filters.items() if v}, "rows": len(rows)},
        )
        return _csv_response(request, audit.entry_rows_csv(rows), f"{kind}-{register.slug}")
    page = CappedPage(entries, request.GET.get("page"))
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


def audit_changes(request, register):
    return _entries_screen(request, register, kind="changes")


def audit_access(request, register):
    return _entries_screen(request, register, kind="access")


def _logins_screen(request, register):
    form = LoginFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    events = audit.login_list(
        register=register,
        username=filters.get("username", ""),
        kind=filters.get("kind", ""),
        since=filters.get("since"),
        until=filters.get("until"),
    )
    if request.GET.get("format") == "csv":
        events = list(events)
        # The export is logged against the register, or the exporting main user's own account.
        log_access(
            request,
            register or request.user,
            {"export": "logins", "filter": {k: v for k, v in filters.items() if v}, "rows": len(events)},
        )
        name = f"logins-{register.slug}" if register else "logins"
        return _csv_response(request, audit.login_rows_csv(events), name)
    page = CappedPage(events, request.GET.get("page"))
    return render(
        request,
        "registers/audit_logins.html",
        {
            "register": register,
            "form": form,
            "page": page,
            "labels": audit.LoginKind.labels,
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
