"""The audit lists page by continuing from the last entry shown, not by skipping entries.

A page number meant OFFSET: page 100 of a million entries read and threw away 4,950 rows (about a second).
The link to older entries now carries the time and id of the last entry shown ("before"), with the filters;
the next page reads the entries below it through the same index as the first page. Entries of the same time
are told apart by their id, so none is skipped or shown twice. A link back leads to the newest entries.
"""

import datetime
import re
from html import unescape

import pytest
from auditlog.models import LogEntry
from axes.models import AccessFailureLog, AccessLog
from django.db import connection
from django.utils import timezone

from registers import audit, views_audit
from registers.audit_chain import chained_update

from .test_audit_scale import _fill, _plan, postgresql_only

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

OLDER = re.compile(r'href="\?([^"]*before=[^"]*)"')


@pytest.fixture
def small_pages(monkeypatch):
    monkeypatch.setattr(views_audit, "PAGE_SIZE", 3)


BASE = timezone.now().replace(microsecond=0) - datetime.timedelta(hours=1)


def _same_times(queryset, field: str, groups: int) -> None:
    """Give the rows a few shared times, so that many rows of a page boundary have the same time."""
    base = BASE
    for n, pk in enumerate(queryset.order_by("pk").values_list("pk", flat=True)):
        chained_update(queryset.model.objects.filter(pk=pk), **{field: base + datetime.timedelta(seconds=n % groups)})


def _walk(client, url: str, params: dict | None = None) -> list:
    """Follow the links to older entries from the first page; return each page's response."""
    responses = [client.get(url, params or {})]
    while True:
        response = responses[-1]
        assert response.status_code == 200
        link = OLDER.search(response.content.decode())
        if not link:
            return responses
        assert len(responses) < 100, "the links go round in circles"
        responses.append(client.get(f"{url}?{unescape(link.group(1))}"))


def _entry_pks(response) -> list[int]:
    return [row.pk for row in response.context["rows"]]


@pytest.mark.parametrize("screen", ["changes", "access"])
def test_paging_shows_every_entry_once_even_among_entries_of_the_same_time(
    client, owner_a, register_a, screen, small_pages
):
    _fill(register_a, owner_a, 10)
    listed = audit.change_list if screen == "changes" else audit.access_list
    _same_times(listed(register=register_a), "timestamp", groups=3)
    expected = list(listed(register=register_a).values_list("pk", flat=True))
    assert len(expected) >= 10
    client.force_login(owner_a)
    pages = _walk(client, f"/registers/{register_a.slug}/audit/{screen}/")
    shown = [pk for response in pages for pk in _entry_pks(response)]
    assert shown == expected
    assert [len(_entry_pks(response)) for response in pages[:-1]] == [3] * (len(pages) - 1)


def test_the_links_keep_the_filters_and_lead_back_to_the_newest(client, owner_a, register_a, small_pages):
    _fill(register_a, owner_a, 8)
    client.force_login(owner_a)
    url = f"/registers/{register_a.slug}/audit/changes/"
    pages = _walk(client, url, {"action": LogEntry.Action.UPDATE})
    assert len(pages) >= 3
    expected = list(audit.change_list(register=register_a, action=LogEntry.Action.UPDATE).values_list("pk", flat=True))
    assert [pk for response in pages for pk in _entry_pks(response)] == expected
    first, second = pages[0].content.decode(), pages[1].content.decode()
    assert re.search(r'href="\?action=1&amp;before=\d+\.\d+"', first)
    assert "Newest entries" not in first
    # Back to the newest entries, with the same filter.
    assert 'href="?action=1">Newest entries</a>' in second
    assert all("page=" not in response.content.decode() for response in pages)


def test_logins_page_the_same_way(client, owner_a, staff_a, register_a, small_pages):
    for username in ("owner_a", "staff_a"):
        for _ in range(3):
            AccessLog.objects.create(username=username, user_agent="x", ip_address="192.0.2.1")
        AccessFailureLog.objects.create(username=username, user_agent="x", ip_address="192.0.2.1")
        AccessFailureLog.objects.create(username=username, user_agent="x", ip_address="192.0.2.1", locked_out=True)
    _same_times(AccessLog.objects.all(), "attempt_time", groups=2)
    _same_times(AccessFailureLog.objects.all(), "attempt_time", groups=2)
    # Sign-outs at the very time of sign-ins and failures.
    chained_update(AccessLog.objects.filter(pk__in=AccessLog.objects.order_by("pk").values("pk")[:3]), logout_time=BASE)
    client.force_login(owner_a)  # a sign-in of its own
    expected = [audit.login_key(event) for event in audit.login_list(register=register_a)]
    assert len(expected) == 6 + 4 + 3 + 1
    pages = _walk(client, f"/registers/{register_a.slug}/audit/logins/")
    shown = [audit.login_key(event) for response in pages for event in response.context["page"].object_list]
    assert shown == expected


# Not numbers; a time no clock reaches; too many parts; too few; digits of another script; an empty cursor;
# a time before every entry; a value past the bound of its kind.
GARBAGE = ["abc", "999999999999999999.1", "1.2.3", "12", "١٢٣.4", "", "0.0", "-5.3", "1e9.1", "1." + "9" * 30]


@pytest.mark.parametrize("cursor", GARBAGE)
def test_a_cursor_that_cannot_be_read_gives_a_page_never_an_error(client, owner_a, register_a, cursor):
    _fill(register_a, owner_a, 2)
    client.force_login(owner_a)
    for screen in ("changes", "access", "logins"):
        url = f"/registers/{register_a.slug}/audit/{screen}/"
        response = client.get(url, {"before": cursor})
        assert response.status_code == 200, screen
        if screen != "logins" and cursor != "0.0":
            # Anything unreadable is the first page.
            assert response.context["page"].has_previous is False
            shown = _entry_pks(response)
            # The entry the first view wrote of itself (reading the trail is logged) is new on the second.
            assert shown == [pk for pk in _entry_pks(client.get(url)) if pk <= max(shown)]


def test_a_cursor_of_an_entry_since_removed_still_continues_below_it(client, owner_a, register_a, small_pages):
    _fill(register_a, owner_a, 4)
    client.force_login(owner_a)
    url = f"/registers/{register_a.slug}/audit/changes/"
    first = client.get(url)
    cursor = first.context["page"].next_cursor
    expected = _entry_pks(client.get(url, {"before": cursor}))
    LogEntry.objects.filter(pk=_entry_pks(first)[-1]).delete()
    assert _entry_pks(client.get(url, {"before": cursor})) == expected


@postgresql_only
def test_a_later_page_reads_the_register_index_from_the_cursor_without_sorting(register_a, owner_a):
    _fill(register_a, owner_a, 5)
    last = audit.change_list(register=register_a)[2]
    for queryset, index in (
        (audit.change_list(register=register_a), "auditlog_logentry_change_register_idx"),
        (audit.access_list(register=register_a), "auditlog_logentry_access_register_idx"),
    ):
        plan = _plan(audit.entries_before(queryset, last.timestamp, last.pk)[:50])
        assert index in plan, plan
        assert "Sort" not in plan, plan
        # The cursor's time bounds the index scan; it is not a filter over the register's every entry.
        assert re.search(r'Index Cond: .*"timestamp" <=', plan), plan
    assert connection.vendor == "postgresql"
