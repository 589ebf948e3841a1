"""The Django admin shows personal data and never changes it (issue 11, C12): changes go through crm.services."""

import pytest
from auditlog.models import LogEntry

from crm.models import ContactPerson, Customer, Interaction, Invoice

from ..factories import ContactPersonFactory, CustomerFactory, InteractionFactory, InvoiceFactory

pytestmark = pytest.mark.django_db


def url(obj, action):
    meta = obj._meta
    return f"/admin/{meta.app_label}/{meta.model_name}/{obj.pk}/{action}/"


def test_the_admin_cannot_change_a_restricted_customer(admin_client, register_a):
    customer = CustomerFactory(register=register_a, organisation_name="Vanha Oy", processing_restricted=True)
    entries = LogEntry.objects.count()
    page = admin_client.get(url(customer, "change"))
    assert page.status_code == 200
    assert "Vanha Oy" in page.content.decode()
    assert b'name="_save"' not in page.content
    assert b'name="organisation_name"' not in page.content

    response = admin_client.post(
        url(customer, "change"),
        {
            "register": register_a.pk,
            "kind": "organisation",
            "organisation_name": "Uusi Oy",
            "processing_restricted": "",
            "_save": "Save",
        },
    )
    assert response.status_code == 403
    customer.refresh_from_db()
    assert customer.organisation_name == "Vanha Oy"
    assert customer.processing_restricted
    assert LogEntry.objects.count() == entries


def test_the_admin_cannot_undo_an_objection_or_delete_or_add_customers(admin_client, register_a):
    customer = CustomerFactory(register=register_a, marketing_objection=True)
    admin_client.post(url(customer, "change"), {"register": register_a.pk, "kind": "organisation", "_save": "1"})
    customer.refresh_from_db()
    assert customer.marketing_objection
    assert admin_client.post(url(customer, "delete"), {"post": "yes"}).status_code == 403
    assert admin_client.get("/admin/crm/customer/add/").status_code == 403
    assert Customer.objects.filter(pk=customer.pk).exists()


@pytest.mark.parametrize(
    ("factory", "model"),
    [(ContactPersonFactory, ContactPerson), (InteractionFactory, Interaction), (InvoiceFactory, Invoice)],
)
def test_the_rows_under_a_customer_are_read_only_in_the_admin(admin_client, register_a, factory, model):
    customer = CustomerFactory(register=register_a, processing_restricted=True)
    row = factory(customer=customer)
    page = admin_client.get(url(row, "change"))
    assert page.status_code == 200
    assert b'name="_save"' not in page.content
    assert admin_client.post(url(row, "change"), {"_save": "1"}).status_code == 403
    assert admin_client.post(url(row, "delete"), {"post": "yes"}).status_code == 403
    assert model.objects.filter(pk=row.pk).exists()
    assert admin_client.get(f"/admin/crm/{model._meta.model_name}/add/").status_code == 403
