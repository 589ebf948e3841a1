"""The request queue and the subject search at scale: pages, capped counts, flat query counts (issue 14)."""

import datetime
import re

import pytest
from auditlog.models import LogEntry
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from crm.models import ContactPerson
from privacy.requests import queue_pages, services
from privacy.requests.access_entries import access_entries_create
from privacy.requests.models import DataSubjectRequest
from registers.access_log import log_access
from registers.models import Role

from ...conftest import grant
from ...factories import (
    ContactCentreMessageFactory,
    ContactCentreRegisterFactory,
    ContactPersonFactory,
    CustomerFactory,
    OrderingClientFactory,
    PersonCustomerFactory,
    RegisterFactory,
    UserFactory,
)
from .. import steps

pytestmark = pytest.mark.django_db
State = DataSubjectRequest.State
QUEUE = reverse("privacy:queue")
# Queries of the queue page with the tab's rows and the "waiting for approval" rows, and of the
# subject search with candidates in every register: fixed, whatever the number of rows or registers.
QUEUE_QUERIES = {"": 11, "closed": 9, "unconfirmed": 9}
# The search logs its access: the entries and their links in the audit chain (4 queries, registers.audit_chain).
SEARCH_QUERIES = 14


@pytest.fixture
def staff_client(client):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def finished(register, **kwargs):
    """File a request and let the requester withdraw it: the shortest legal path to the finished tab."""
    return services.request_withdraw_by_requester(request=steps.confirmed(register, **kwargs))


def intake(handler, register, *, days_ago=0, kind="access"):
    return services.request_intake(
        actor=handler,
        registers=[register],
        data={
            "kind": kind,
            "channel": DataSubjectRequest.Channel.POST,
            "requester_name": "Pia Paperi",
            "received_on": timezone.localdate() - datetime.timedelta(days=days_ago),
        },
    )


def queries(client, url, data=None) -> int:
    client.get(url, data)  # once first, so that nothing done once per sign-in is counted
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, data)
    assert response.status_code == 200
    return len(captured)


def page_links(html: str) -> list[str]:
    nav = re.search(r'<nav class="pagination".*?</nav>', html, re.S)
    assert nav, "the page has no page links"
    return [link.replace("&amp;", "&") for link in re.findall(r'href="([^"]*)"', nav.group(0))]


# The queue --------------------------------------------------------------------------------------


def test_the_finished_tab_shows_fifty_a_page_and_the_fifty_first_on_page_two(staff_client, register_a, handler_a):
    requests = [finished(register_a) for _ in range(queue_pages.PAGE_SIZE + 1)]
    oldest = requests[0]  # the finished tab shows the newest first
    staff_client.force_login(handler_a)
    first = staff_client.get(QUEUE, {"show": "closed"}).content.decode()
    assert first.count('<td class="nowrap"><a href=') == queue_pages.PAGE_SIZE
    assert oldest.reference not in first
    assert requests[-1].reference in first
    assert "51 requests" in first
    assert "Page 1 of 2" in first
    second = staff_client.get(QUEUE, {"show": "closed", "page": 2}).content.decode()
    assert oldest.reference in second
    assert second.count('<td class="nowrap"><a href=') == 1


def test_the_page_links_keep_the_tab_and_the_filters(staff_client, register_a, handler_a, monkeypatch):
    monkeypatch.setattr(queue_pages, "PAGE_SIZE", 2)
    for _ in range(5):
        finished(register_a)
    staff_client.force_login(handler_a)
    html = staff_client.get(QUEUE, {"show": "closed", "kind": "access", "register": "register-a"}).content.decode()
    links = page_links(html)
    assert any("page=2" in link for link in links)
    for link in links:
        assert "show=closed" in link
        assert "kind=access" in link
        assert "register=register-a" in link
    # The tab links keep the filters and start again from the first page.
    assert 'href="/privacy/requests/?kind=access&amp;register=register-a"' in html
    last = staff_client.get(QUEUE, {"show": "closed", "kind": "access", "page": 3}).content.decode()
    assert "Page 3 of 3" in last
    assert all("show=closed" in link and "kind=access" in link for link in page_links(last))


def test_a_filter_narrows_the_queue_to_a_register_and_a_request_type(staff_client, register_a, handler_a):
    register_c = RegisterFactory(organisation=register_a.organisation, slug="register-c")
    grant(handler_a, register_c, Role.HANDLER)
    in_a = intake(handler_a, register_a)
    in_c = intake(handler_a, register_c)
    erasure = intake(handler_a, register_a, kind="erasure")
    staff_client.force_login(handler_a)
    html = staff_client.get(QUEUE, {"register": "register-c"}).content.decode()
    assert in_c.reference in html
    assert in_a.reference not in html
    html = staff_client.get(QUEUE, {"kind": "erasure"}).content.decode()
    assert erasure.reference in html
    assert in_a.reference not in html


def test_a_register_filter_never_shows_another_users_register(staff_client, register_a, register_b, handler_a):
    other = steps.confirmed(register_b)
    staff_client.force_login(handler_a)
    response = staff_client.get(QUEUE, {"register": register_b.slug})
    assert response.status_code == 200
    assert other.reference not in response.content.decode()


@pytest.mark.parametrize(
    ("page", "statuses"),
    [
        ("2", {404}),
        ("999999", {404}),
        ("99999999999999999999999", {404}),
        ("0", {200}),
        ("-3", {200}),
        ("abc", {200}),
        ("1.5", {200}),
        ("", {200}),
        ("\x00", {200}),
    ],
)
@pytest.mark.parametrize("show", ["", "closed", "nonsense"])
def test_a_page_number_out_of_range_or_garbage_gives_200_or_404(
    staff_client, register_a, handler_a, page, statuses, show
):
    finished(register_a)
    steps.confirmed(register_a)
    staff_client.force_login(handler_a)
    assert staff_client.get(QUEUE, {"show": show, "page": page}).status_code in statuses


@pytest.mark.parametrize(
    "params", [{"register": "nobody"}, {"kind": "x" * 500}, {"register": "\x00"}, {"show": "\x00"}]
)
def test_garbage_filters_are_ignored(staff_client, register_a, handler_a, params):
    request = steps.confirmed(register_a)
    staff_client.force_login(handler_a)
    response = staff_client.get(QUEUE, params)
    assert response.status_code == 200
    assert request.reference in response.content.decode()


def test_a_big_tab_is_counted_only_up_to_the_cap(staff_client, register_a, handler_a, monkeypatch):
    monkeypatch.setattr(queue_pages, "COUNT_CAP", 5)
    monkeypatch.setattr(queue_pages, "PAGE_SIZE", 2)
    requests = [finished(register_a) for _ in range(7)]
    staff_client.force_login(handler_a)
    with CaptureQueriesContext(connection) as captured:
        html = staff_client.get(QUEUE, {"show": "closed"}).content.decode()
    assert "More than 5 requests" in html
    assert re.search(r"Page 1\s*</span>", html)
    assert "Page 1 of" not in html
    counts = [q["sql"] for q in captured.captured_queries if "COUNT(" in q["sql"].upper()]
    # The tab's own count and the counts on the tabs (open, unconfirmed): each stops at the cap.
    assert len(counts) == 3
    assert all("LIMIT 6" in sql for sql in counts)
    # Past the cap the pages are still reachable, one "Next" at a time.
    last = staff_client.get(QUEUE, {"show": "closed", "page": 4}).content.decode()
    assert requests[0].reference in last
    assert not any("page=5" in link for link in page_links(last))
    assert staff_client.get(QUEUE, {"show": "closed", "page": 5}).status_code == 404


def test_the_count_is_exact_up_to_the_cap(staff_client, register_a, handler_a, monkeypatch):
    monkeypatch.setattr(queue_pages, "COUNT_CAP", 5)
    for _ in range(5):
        finished(register_a)
    staff_client.force_login(handler_a)
    html = staff_client.get(QUEUE, {"show": "closed"}).content.decode()
    assert "5 requests" in html
    assert "More than" not in html


def test_the_open_tab_runs_by_deadline_across_pages(staff_client, register_a, handler_a, monkeypatch):
    monkeypatch.setattr(queue_pages, "PAGE_SIZE", 2)
    newest = intake(handler_a, register_a, days_ago=0)
    oldest = intake(handler_a, register_a, days_ago=20)
    middle = intake(handler_a, register_a, days_ago=10)
    staff_client.force_login(handler_a)
    first = staff_client.get(QUEUE).content.decode()
    second = staff_client.get(QUEUE, {"page": 2}).content.decode()
    assert first.index(oldest.reference) < first.index(middle.reference)
    assert newest.reference not in first
    assert newest.reference in second
    assert "13 days overdue" in first


def test_answers_waiting_for_approval_are_listed_first(staff_client, register_a, handler_a, owner_a):
    waiting = steps.in_review(register_a, handler_a)
    staff_client.force_login(owner_a)
    html = staff_client.get(QUEUE).content.decode()
    assert "Waiting for approval" in html
    assert html.index(waiting.reference) < html.index("Open requests, earliest deadline first")


def test_more_answers_waiting_than_a_page_are_said_to_be_in_the_list(staff_client, register_a, handler_a, monkeypatch):
    monkeypatch.setattr(queue_pages, "PAGE_SIZE", 1)
    steps.in_review(register_a, handler_a)
    staff_client.force_login(handler_a)
    assert "More answers wait for approval" not in staff_client.get(QUEUE).content.decode()
    steps.in_review(register_a, handler_a)
    assert "More answers wait for approval" in staff_client.get(QUEUE).content.decode()


def _queue_data(handler, registers, count):
    for index in range(count):
        register = registers[index % len(registers)]
        steps.confirmed(register)
        finished(register)
        # And one waiting for its e-mail confirmation, for the tab of those.
        steps.submit(register)
    # One answer waits for approval, so that its list and its registers are read as well.
    steps.in_review(registers[0], handler)


@pytest.mark.parametrize("show", ["", "closed", "unconfirmed"])
def test_the_queue_runs_the_same_queries_for_3_and_30_requests(staff_client, register_a, handler_a, show):
    _queue_data(handler_a, [register_a], 3)
    staff_client.force_login(handler_a)
    few = queries(staff_client, QUEUE, {"show": show})
    _queue_data(handler_a, [register_a], 27)
    many = queries(staff_client, QUEUE, {"show": show})
    assert few == many <= QUEUE_QUERIES[show]


@pytest.mark.parametrize("show", ["", "closed", "unconfirmed"])
def test_the_queue_runs_the_same_queries_for_1_and_3_registers(staff_client, register_a, show):
    def handler_of(registers, name):
        user = UserFactory(username=name)
        for register in registers:
            grant(user, register, Role.HANDLER)
        _queue_data(user, registers, 6)
        return user

    more = [RegisterFactory(organisation=register_a.organisation, slug=f"more-{i}") for i in range(2)]
    staff_client.force_login(handler_of([register_a], "one"))
    one = queries(staff_client, QUEUE, {"show": show})
    staff_client.force_login(handler_of([register_a, *more], "three"))
    three = queries(staff_client, QUEUE, {"show": show})
    assert one == three <= QUEUE_QUERIES[show]


# The subject search -----------------------------------------------------------------------------


def request_over(registers, *, name="Anna Asiakas", email="anna.asiakas@example.fi"):
    request, _created = services.request_submit(
        organisation=registers[0].organisation,
        registers=registers,
        all_registers=False,
        data={"kind": "access", "requester_name": name, "requester_email": email, "language": "fi"},
    )
    return services.request_confirm_email(request=request)


def people_in(register, *, email="anna.asiakas@example.fi"):
    """A person customer and a contact person who both look like the requester."""
    customer = PersonCustomerFactory(register=register, first_name="Anna", last_name="Asiakas")
    company = CustomerFactory(register=register)
    contact = ContactPersonFactory(customer=company, first_name="Anna", last_name="Asiakas", email=email)
    return customer, contact


def search_url(request) -> str:
    return reverse("privacy:request-search", kwargs={"code": request.code})


def test_the_search_runs_the_same_queries_for_1_and_3_registers(staff_client, register_a):
    def searched(registers, name):
        user = UserFactory(username=name)
        for register in registers:
            grant(user, register, Role.HANDLER)
            people_in(register)
        request = request_over(registers)
        staff_client.force_login(user)
        return queries(staff_client, search_url(request))

    more = [RegisterFactory(organisation=register_a.organisation, slug=f"more-{i}") for i in range(2)]
    one = searched([register_a], "one")
    three = searched([register_a, *more], "three")
    assert one == three <= SEARCH_QUERIES


def test_the_search_finds_people_in_every_register_the_user_checks_and_nowhere_else(staff_client, register_a):
    register_c = RegisterFactory(organisation=register_a.organisation, slug="register-c")
    register_d = RegisterFactory(organisation=register_a.organisation, slug="register-d")
    handler = UserFactory(username="handler_ac")
    grant(handler, register_a, Role.HANDLER)
    grant(handler, register_c, Role.HANDLER)
    # Staff of D, not its request handler: D's people must stay out of the search.
    grant(handler, register_d, Role.STAFF)
    found = [*people_in(register_a), *people_in(register_c)]
    hidden = people_in(register_d)
    outside = people_in(RegisterFactory(slug="register-e"))  # not a register of the request at all
    request = request_over([register_a, register_c, register_d])
    staff_client.force_login(handler)
    html = staff_client.get(search_url(request)).content.decode()
    for record in found:
        assert str(record.code) in html
    for record in (*hidden, *outside):
        assert str(record.code) not in html
    assert f'value="{register_d.slug}"' not in html
    # Searching by e-mail alone finds the contact persons, again only in the registers checked.
    html = staff_client.get(search_url(request), {"name": "", "email": "ANNA.ASIAKAS@example.fi"}).content.decode()
    assert str(found[1].code) in html
    assert str(found[3].code) in html
    assert str(hidden[1].code) not in html


def test_a_handler_of_one_register_finds_nothing_of_the_other(staff_client, register_a, handler_a):
    register_c = RegisterFactory(organisation=register_a.organisation, slug="register-c")
    mine = people_in(register_a)
    theirs = people_in(register_c)
    request = request_over([register_a, register_c])
    staff_client.force_login(handler_a)
    html = staff_client.get(search_url(request)).content.decode()
    assert all(str(record.code) in html for record in mine)
    assert not any(str(record.code) in html for record in theirs)
    response = staff_client.post(
        search_url(request), {"register": register_c.slug, "record": [f"customer:{theirs[0].code}"]}
    )
    assert response.status_code == 404
    assert not request.matches.exists()


def test_the_search_finds_messages_only_in_the_contact_centre_registers_checked(staff_client, register_a):
    centre = ContactCentreRegisterFactory(organisation=register_a.organisation, slug="centre")
    other_centre = ContactCentreRegisterFactory(organisation=register_a.organisation, slug="other-centre")
    handler = UserFactory(username="centre_handler")
    grant(handler, register_a, Role.HANDLER)
    grant(handler, centre, Role.HANDLER)
    email = "anna.asiakas@example.fi"
    message = ContactCentreMessageFactory(ordering_client=OrderingClientFactory(register=centre), sender=email)
    elsewhere = ContactCentreMessageFactory(ordering_client=OrderingClientFactory(register=other_centre), sender=email)
    request = request_over([register_a, centre, other_centre])
    staff_client.force_login(handler)
    html = staff_client.get(search_url(request)).content.decode()
    assert f"message:{message.code}" in html
    assert str(elsewhere.code) not in html


def test_each_register_keeps_its_first_fifty_candidates(staff_client, register_a, monkeypatch):
    from privacy.requests import selectors

    monkeypatch.setattr(selectors, "CANDIDATE_LIMIT", 2)
    register_c = RegisterFactory(organisation=register_a.organisation, slug="register-c")
    handler = UserFactory(username="handler_ac")
    for register in (register_a, register_c):
        grant(handler, register, Role.HANDLER)
    in_a = [PersonCustomerFactory(register=register_a, first_name="Anna", last_name=f"Asiakas{i}") for i in range(3)]
    in_c = PersonCustomerFactory(register=register_c, first_name="Anna", last_name="Asiakas")
    request = request_over([register_a, register_c])
    staff_client.force_login(handler)
    html = staff_client.get(search_url(request), {"name": "anna asiakas"}).content.decode()
    assert sum(str(customer.code) in html for customer in in_a) == 2
    assert str(in_c.code) in html


def test_the_search_writes_one_access_entry_per_register_checked(staff_client, register_a):
    register_c = RegisterFactory(organisation=register_a.organisation, slug="register-c")
    register_d = RegisterFactory(organisation=register_a.organisation, slug="register-d")
    handler = UserFactory(username="handler_ac")
    grant(handler, register_a, Role.HANDLER)
    grant(handler, register_c, Role.HANDLER)
    request = request_over([register_a, register_c, register_d])
    staff_client.force_login(handler)
    staff_client.get(search_url(request))
    entries = LogEntry.objects.filter(
        action=LogEntry.Action.ACCESS, object_pk=str(request.pk), additional_data__purpose="subject_search"
    )
    assert sorted(entry.additional_data["register"] for entry in entries) == sorted([register_a.pk, register_c.pk])
    assert {entry.actor for entry in entries} == {handler}
    assert {entry.additional_data["path"] for entry in entries} == {search_url(request)}


def test_opening_a_request_writes_one_access_entry_per_register(staff_client, register_a):
    register_c = RegisterFactory(organisation=register_a.organisation, slug="register-c")
    handler = UserFactory(username="handler_ac")
    grant(handler, register_a, Role.HANDLER)
    request = request_over([register_a, register_c])
    staff_client.force_login(handler)
    staff_client.get(reverse("privacy:request-detail", kwargs={"code": request.code}))
    entries = LogEntry.objects.filter(action=LogEntry.Action.ACCESS, object_pk=str(request.pk))
    assert sorted(entry.additional_data["register"] for entry in entries) == sorted([register_a.pk, register_c.pk])


def test_the_bulk_entries_are_the_entries_log_access_writes(register_a, handler_a):
    request = steps.confirmed(register_a)
    http = RequestFactory().get(search_url(request), REMOTE_ADDR="192.0.2.7")
    http.user = handler_a
    one = log_access(http, request, {"register": register_a.pk, "purpose": "subject_search"})
    (bulk,) = access_entries_create(http, request, registers=[register_a], extra={"purpose": "subject_search"})
    one.refresh_from_db()
    bulk.refresh_from_db()
    fields = [
        "content_type",
        "object_pk",
        "object_id",
        "object_repr",
        "serialized_data",
        "action",
        "changes",
        "changes_text",
        "actor",
        "actor_email",
        "remote_addr",
        "additional_data",
    ]
    assert {name: getattr(bulk, name) for name in fields} == {name: getattr(one, name) for name in fields}
    assert access_entries_create(http, request, registers=[]) == []


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the plan is PostgreSQL's")
def test_the_exact_contact_person_lookups_use_their_b_tree_indexes(register_a):
    ContactPersonFactory(customer=CustomerFactory(register=register_a), email="anna@example.fi", phone="+358401234567")
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        email = ContactPerson.objects.filter(email__iexact="ANNA@example.fi").explain()
        phone = ContactPerson.objects.filter(phone__in=["+358401234567"]).explain()
    assert "contact_email_upper" in email
    assert re.search(r"\bcontact_phone\b", phone)


def test_a_requests_page_runs_the_same_queries_for_1_and_3_registers(staff_client, register_a):
    handler = UserFactory(username="handler_pages")
    registers = [register_a] + [
        RegisterFactory(organisation=register_a.organisation, slug=f"register-p{n}") for n in range(2)
    ]
    for register in registers:
        grant(handler, register, Role.HANDLER)
    staff_client.force_login(handler)
    one = queries(staff_client, reverse("privacy:request-detail", kwargs={"code": request_over(registers[:1]).code}))
    three = queries(staff_client, reverse("privacy:request-detail", kwargs={"code": request_over(registers).code}))
    assert one == three
