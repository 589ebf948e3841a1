"""The access review's page and facts read a fixed number of queries whatever the number of users (issue 14)."""

import datetime

import pytest
from auditlog.models import LogEntry
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from registers import access_review as ar
from registers.access_log import log_access
from registers.audit_chain import chained_update
from registers.models import Role

from ..conftest import grant
from ..factories import CustomerFactory, UserFactory

pytestmark = pytest.mark.django_db


def users_with_access(register, count: int, prefix: str) -> list:
    users = []
    for n in range(count):
        user = UserFactory(username=f"{prefix}{n}")
        grant(user, register, Role.STAFF)
        request = RequestFactory().get("/")
        request.user = user
        log_access(request, CustomerFactory(register=register))
        users.append(user)
    return users


def page_queries(client, owner, register, users) -> int:
    review = ar.access_review_open(register=register, actor=owner)
    client.force_login(owner)
    client.get(review.get_absolute_url())  # Session and the sign-in gates settle on the first request.
    with CaptureQueriesContext(connection) as captured:
        response = client.get(review.get_absolute_url())
    assert response.status_code == 200
    for user in users:
        assert user.username in response.content.decode()
    return len(captured.captured_queries)


def test_the_review_page_reads_as_many_queries_for_30_users_as_for_3(client, register_a, register_b, owner_a):
    few = page_queries(client, owner_a, register_a, users_with_access(register_a, 3, "few"))
    # The same page of another register with ten times the users.
    owner_b = UserFactory(username="owner_b")
    grant(owner_b, register_b, Role.OWNER)
    many = page_queries(client, owner_b, register_b, users_with_access(register_b, 30, "many"))
    assert many == few
    assert few <= 15


def test_the_facts_of_any_number_of_users_take_four_queries(register_a, owner_a, django_assert_num_queries):
    users = users_with_access(register_a, 12, "u")
    with django_assert_num_queries(4):
        facts = ar.user_access_facts(register=register_a, user_ids=[u.pk for u in users])
    assert all(facts[u.pk]["last_access"] is not None for u in users)


def test_last_access_is_the_newest_access_entry_of_the_register(register_a, register_b, owner_a, staff_a):
    grant(staff_a, register_b, Role.STAFF)
    request = RequestFactory().get("/")
    request.user = staff_a
    for register in (register_a, register_a, register_b):
        log_access(request, CustomerFactory(register=register))
    entries = LogEntry.objects.filter(actor=staff_a, action=LogEntry.Action.ACCESS).order_by("pk")
    now = timezone.now()
    # Written out of order: the newest by time is the middle one; the other register's is newer still.
    for entry, days_ago in zip(entries, (3, 1, 0), strict=True):
        chained_update(LogEntry.objects.filter(pk=entry.pk), timestamp=now - datetime.timedelta(days=days_ago))
    facts = ar.user_access_facts(register=register_a, user_ids=[staff_a.pk, owner_a.pk])
    assert facts[staff_a.pk]["last_access"] == now - datetime.timedelta(days=1)
    assert facts[owner_a.pk]["last_access"] is None
