"""Keyset pages: a sync walks every changed row exactly once, even when thousands share one change time."""

import datetime

import pytest
from django.utils import timezone, translation

from crm.models import Customer

from ..factories import CustomerFactory, RegisterFactory
from .factories import READ, key_client

pytestmark = pytest.mark.django_db


def walk(http, url, params):
    seen, pages = [], 0
    while url:
        response = http.get(url, params)
        assert response.status_code == 200, response.content
        page = response.json()
        seen.extend(row["code"] for row in page["results"])
        url, params, pages = page["next"], None, pages + 1
        assert pages < 100, "the walk does not end"
    return seen, pages


def test_rows_sharing_one_change_time_are_each_served_once():
    register = RegisterFactory()
    Customer.objects.bulk_create(
        CustomerFactory.build(register=register, organisation_name=f"Yritys {n} Oy") for n in range(1_600)
    )
    # One bulk UPDATE: every row now has the same updated_at, as after a mass change in the database.
    moment = timezone.now() - datetime.timedelta(minutes=5)
    Customer.objects.filter(register=register).update(updated_at=moment)
    http = key_client({register: READ})

    seen, pages = walk(
        http,
        f"/api/v1/registers/{register.slug}/customers/",
        {"page_size": 500, "modified_since": (moment - datetime.timedelta(seconds=1)).isoformat()},
    )

    assert pages == 4
    assert len(seen) == len(set(seen)) == 1_600


def test_a_row_changed_during_the_walk_comes_again_at_its_new_place_and_nothing_is_skipped():
    register = RegisterFactory()
    customers = CustomerFactory.create_batch(6, register=register)
    http = key_client({register: READ})
    url = f"/api/v1/registers/{register.slug}/customers/"
    first = http.get(url, {"page_size": 3}).json()
    # The first row of the first page changes before the client asks for the second page.
    Customer.objects.get(code=first["results"][0]["code"]).save()

    rest, _pages = walk(http, first["next"], None)

    assert {row["code"] for row in first["results"]} | set(rest) == {str(c.code) for c in customers}
    assert rest[-1] == first["results"][0]["code"]


@pytest.mark.parametrize(
    "params",
    [
        {"cursor": "not-a-cursor"},
        {"cursor": "WzEsIDJd"},
        {"cursor": "\u00e4"},
        {"page_size": "0"},
        {"page_size": "501"},
        {"page_size": "x"},
    ],
)
def test_a_bad_cursor_or_page_size_is_400_naming_it(params):
    register = RegisterFactory()
    http = key_client({register: READ})
    with translation.override("en"):
        response = http.get(f"/api/v1/registers/{register.slug}/customers/", params)
    assert response.status_code == 400
    assert set(response.json()["errors"]) == set(params)
