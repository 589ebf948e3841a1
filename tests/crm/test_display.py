"""The customer list shows a customer's legal flags in the name's cell, not in a column at the far right."""

import re

import pytest
from django.urls import reverse

from ..factories import CustomerFactory, PersonCustomerFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


def name_cells(html: str) -> dict[str, str]:
    """Map each customer's name to the inner HTML of the first cell of its row."""
    cells = re.findall(r"<tr>\s*<td>(.*?)</td>", html, flags=re.S)
    return {re.search(r"<a [^>]*>(.*?)</a>", cell).group(1): cell for cell in cells if "<a " in cell}


def test_legal_flags_sit_next_to_the_customers_name(client, staff_a, register_a):
    CustomerFactory(register=register_a, organisation_name="Rajoitettu Oy", processing_restricted=True)
    CustomerFactory(register=register_a, organisation_name="Kielto Oy", marketing_objection=True)
    PersonCustomerFactory(register=register_a, first_name="Aino", last_name="Laine")
    client.force_login(staff_a)
    html = client.get(reverse("crm:customer-list", kwargs={"register": register_a.slug})).content.decode()
    cells = name_cells(html)
    assert "processing restricted" in cells["Rajoitettu Oy"]
    assert "badge-danger" in cells["Rajoitettu Oy"]
    assert "no marketing" not in cells["Rajoitettu Oy"]
    assert "no marketing" in cells["Kielto Oy"]
    (person,) = (cell for name, cell in cells.items() if "Aino" in name)
    assert "badge" not in person
    # No column is left for the flags alone: every header names a column of data.
    assert ">Notes<" not in html
    headers = re.findall(r'<th scope="col">', html)
    first_row = re.search(r"<tbody>\s*<tr>(.*?)</tr>", html, flags=re.S).group(1)
    assert len(re.findall(r"<td", first_row)) == len(headers)
