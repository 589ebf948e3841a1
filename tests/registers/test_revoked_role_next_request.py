"""A role ended in the database is gone on the very next request of the same signed-in user or key, in the same
process and without a restart (issue 23): nothing keeps permissions between requests (registers.access keeps its
answer for one request only; guardian's and Django's permission caches live on the request's own user object).
So a web node never serves a revoked role from memory, whichever node revoked it."""

import pytest
from django.urls import reverse

from privacy.requests.models import DataSubjectRequest
from registers.models import Membership, Role
from registers.services import membership_end

from ..api.factories import READ, KeyClient, api_client, main_user
from ..conftest import grant
from ..factories import CustomerFactory, UserFactory
from ..privacy import steps

pytestmark = pytest.mark.django_db


def customer_url(name, customer) -> str:
    return reverse(f"crm:{name}", kwargs={"register": customer.register.slug, "code": customer.code})


def test_an_ended_role_is_gone_on_the_next_request_for_customer_pages(client, register_a):
    user = UserFactory()
    membership = grant(user, register_a, Role.STAFF)
    customer = CustomerFactory(register=register_a)
    client.force_login(user)
    assert client.get(customer_url("customer-detail", customer)).status_code == 200
    assert client.get(customer_url("customer-update", customer)).status_code == 200

    membership_end(actor=main_user(), membership=membership, reason="Left the team")

    assert client.get(customer_url("customer-detail", customer)).status_code == 404
    assert client.post(customer_url("customer-update", customer), {"city": "Kemi"}).status_code == 404


def test_ending_one_of_two_roles_takes_only_its_rights_on_the_next_request(client, register_a):
    user = UserFactory()
    owner = grant(user, register_a, Role.OWNER)
    grant(user, register_a, Role.STAFF)
    customer = CustomerFactory(register=register_a)
    request = steps.confirmed(register_a)
    request_page = reverse("privacy:request-detail", kwargs={"code": request.code})
    client.force_login(user)
    assert client.get(customer_url("customer-delete", customer)).status_code == 200
    assert client.get(request_page).status_code == 200

    membership_end(actor=main_user(), membership=owner, reason="Ownership moved")

    assert client.get(customer_url("customer-detail", customer)).status_code == 200, "staff still reads"
    assert client.get(customer_url("customer-delete", customer)).status_code == 403
    assert client.get(request_page).status_code == 403
    assert DataSubjectRequest.objects.filter(pk=request.pk).exists()


def test_an_ended_api_scope_is_gone_on_the_next_call_of_the_same_key(register_a):
    customer = CustomerFactory(register=register_a)
    client, key = api_client({register_a: READ})
    caller = KeyClient(key)
    address = f"/api/v1/registers/{register_a.slug}/customers/{customer.code}/"
    assert caller.get(address).status_code == 200

    scope = Membership.objects.get(user=client.user, register=register_a)
    membership_end(actor=main_user(), membership=scope, reason="Integration retired")

    assert caller.get(address).status_code == 404
    assert register_a.slug not in caller.get("/api/v1/registers/").content.decode()
