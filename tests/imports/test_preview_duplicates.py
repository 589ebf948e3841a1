"""The import preview names new rows that look like existing customers (issue 16), in bulk per chunk."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from imports import selectors, services
from imports.models import ImportBatch

from ..factories import CustomerFactory
from .factories import table
from .helpers import HEADERS, MAPPING, business_id, english, previewed_batch

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures(english.__name__)]


def preview(actor, register, rows):
    return services.import_preview(
        actor=actor,
        register=register,
        table=table(HEADERS, rows),
        mapping=MAPPING,
        match_mode=ImportBatch.MatchMode.SKIP,
    )


def test_a_new_row_like_an_existing_customer_is_named_with_the_reasons(handler_a, register_a):
    existing = CustomerFactory(register=register_a, organisation_name="Mäkelä Oy", city="Kemi", email="")
    CustomerFactory(register=register_a, organisation_name="Mäkelä Oy", city="Oulu", email="")  # another town
    rows = [
        ["MAEKELAE AB", business_id(1), "", "Kemi"],  # row 2: the same company written another way
        ["Kivinen Oy", business_id(2), "", "Kemi"],  # row 3: new
    ]
    result = preview(handler_a, register_a, rows)
    assert result.new == 2  # a warning: both rows are still imported
    assert result.likely_rows == 1
    assert result.likely == [
        [2, str(existing.code), [{"code": "similar_name", "similarity": 1.0}, {"code": "same_city"}]]
    ]


def test_a_register_never_shows_another_registers_customers(handler_a, register_a, register_b):
    CustomerFactory(register=register_b, organisation_name="Mäkelä Oy", city="Kemi", email="")
    result = preview(handler_a, register_a, [["Mäkelä Oy", business_id(1), "", "Kemi"]])
    assert (result.likely_rows, result.likely) == (0, [])


def test_the_look_up_is_one_query_per_chunk(handler_a, register_a):
    CustomerFactory(register=register_a, organisation_name="Yritys 3 Oy", city="Kemi", email="")
    few = [[f"Yritys {n} Ab", business_id(n), "", "Kemi"] for n in range(5)]
    many = [[f"Yritys {n} Ab", business_id(n), "", "Kemi"] for n in range(60)]
    with CaptureQueriesContext(connection) as small:
        assert preview(handler_a, register_a, few).likely_rows == 1
    with CaptureQueriesContext(connection) as large:
        assert preview(handler_a, register_a, many).likely_rows == 1
    assert len(large) == len(small)


def test_the_stored_preview_shows_the_rows_with_links(client, handler_a, register_a):
    existing = CustomerFactory(register=register_a, organisation_name="Mäkelä Oy", city="Kemi", email="")
    batch = previewed_batch(actor=handler_a, register=register_a, rows=[["Makela", business_id(1), "", "Kemi"]])
    rows, count = selectors.preview_likely_duplicates(user=handler_a, batch=batch)
    assert count == 1
    assert [(row.row, row.customer.pk, row.labels) for row in rows] == [
        (2, existing.pk, ["name 1.00 similar", "same city"])
    ]
    client.force_login(handler_a)
    page = client.get(reverse("imports:batch-preview", kwargs={"register": register_a.slug, "code": batch.code})).text
    assert existing.get_absolute_url() in page
    assert "Mäkelä Oy" in page
    event = batch.events.filter(new=ImportBatch.State.PREVIEWED).last()
    assert "Mäkelä" not in str(event.payload)  # codes, no names, in the batch's events


def test_a_customer_gone_since_the_preview_is_left_out(handler_a, register_a):
    existing = CustomerFactory(register=register_a, organisation_name="Mäkelä Oy", city="Kemi", email="")
    batch = previewed_batch(actor=handler_a, register=register_a, rows=[["Makela", business_id(1), "", "Kemi"]])
    existing.delete()
    assert selectors.preview_likely_duplicates(user=handler_a, batch=batch)[0] == []
