"""DATABASE_POOL: Django's psycopg pool (OPTIONS["pool"], CONN_MAX_AGE 0) lends each request a connection and gets it
back when the request ends.

The requests go through Django's WSGI handler itself, whose request_finished closes (returns) the connection; the
test client leaves connections open between requests. The page is the public request form, which reads the database
and needs nothing the test would have to commit.
"""

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.test import RequestFactory
from django.urls import reverse

from ..databases import database_settings, default_replaced

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def wsgi_get(path: str) -> tuple[str, bytes]:
    answered = []
    response = WSGIHandler()(
        RequestFactory()._base_environ(PATH_INFO=path), lambda status, headers: answered.append(status)
    )
    try:
        body = b"".join(response)
    finally:
        response.close()  # what a WSGI server does when the body is sent: request_finished
    return answered[0], body


def test_requests_borrow_a_pooled_connection_and_give_it_back():
    pooled = database_settings(CONN_MAX_AGE=0, OPTIONS={"pool": {"min_size": 1, "max_size": 2, "timeout": 5}})
    with default_replaced(pooled) as connection:
        answers = [wsgi_get(reverse("privacy:request-create")) for _ in range(3)]
        assert connection.connection is None, "the request's connection went back to the pool"
        stats = connection.pool.get_stats()
    assert [status for status, _body in answers] == ["200 OK"] * 3
    assert stats["requests_num"] == 3
    # Three requests, one connection at a time: none opened past the pool's first, none left lent.
    assert stats.get("connections_num", 0) <= 2
    assert stats["pool_available"] == stats["pool_size"]
