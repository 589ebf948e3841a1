"""The handler's link of a customer to a Helsinki profile: only the owner or a request handler sets or clears it,
and the change is in the record's audit trail."""

import uuid

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import translation

from crm import services as crm_services

from ...factories import PersonCustomerFactory

pytestmark = pytest.mark.django_db

PROFILE = uuid.UUID("3c9a1f0e-5b7d-4e2a-9c8f-6d5e4b3a2f10")


@pytest.fixture
def customer(register_a):
    return PersonCustomerFactory(register=register_a)


def _link_url(customer):
    return reverse("crm:customer-profile-link", kwargs={"register": customer.register.slug, "code": customer.code})


@pytest.mark.parametrize("role", ["owner_a", "handler_a"])
def test_the_owner_or_a_handler_links_and_unlinks_with_an_audited_change(request, customer, role):
    actor = request.getfixturevalue(role)

    linked = crm_services.customer_profile_link(actor=actor, customer=customer, profile_id=PROFILE)

    assert linked.profile_id == PROFILE
    assert linked.version == customer.version + 1
    entry = LogEntry.objects.filter(object_id=customer.pk, content_type__model="customer").latest("timestamp")
    assert entry.actor == actor
    assert "profile_id" in entry.changes_dict
    unlinked = crm_services.customer_profile_link(actor=actor, customer=linked, profile_id=None)
    assert unlinked.profile_id is None


@pytest.mark.parametrize("role", ["staff_a", "readonly_a", "staff_b"])
def test_others_may_not_link(request, customer, role):
    actor = request.getfixturevalue(role)

    with pytest.raises(PermissionDenied):
        crm_services.customer_profile_link(actor=actor, customer=customer, profile_id=PROFILE)
    customer.refresh_from_db()
    assert customer.profile_id is None


def test_the_page_links_the_customer(client, handler_a, customer):
    client.force_login(handler_a)

    assert client.get(_link_url(customer)).status_code == 200
    response = client.post(_link_url(customer), {"profile_id": str(PROFILE)})

    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.profile_id == PROFILE


def test_the_page_refuses_a_bad_id_and_staff_without_request_rights(client, handler_a, staff_a, customer):
    client.force_login(handler_a)
    with translation.override("en"):
        response = client.post(_link_url(customer), {"profile_id": "not-a-uuid"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert response.context["form"].errors["profile_id"]
    client.force_login(staff_a)
    assert client.post(_link_url(customer), {"profile_id": str(PROFILE)}).status_code == 403
    customer.refresh_from_db()
    assert customer.profile_id is None
