"""Every URL of the staff workspace: 404 for another register's user, 403 on POST for read-only roles."""

import pytest
from django.urls import reverse

from registers.models import Role

from ..conftest import grant
from ..factories import (
    CallRecordingFactory,
    ContactCentreMessageFactory,
    ContactCentreRegisterFactory,
    ContactPersonFactory,
    CustomerFactory,
    InteractionFactory,
    OrderingClientFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def records(register_a):
    customer = CustomerFactory(register=register_a, organisation_name="Merituuli Oy", street_address="Satamatie 1")
    return {
        "customer": customer,
        "person": ContactPersonFactory(customer=customer),
        "interaction": InteractionFactory(customer=customer),
    }


def customer_urls(register, records) -> dict[str, str]:
    slug = register.slug
    code = records["customer"].code
    person = records["person"].code
    interaction = records["interaction"].code
    return {
        "customer-list": reverse("crm:customer-list", kwargs={"register": slug}),
        "customer-export": reverse("crm:customer-export", kwargs={"register": slug}),
        "customer-labels-csv": reverse("crm:customer-labels-csv", kwargs={"register": slug}),
        "customer-labels-pdf": reverse("crm:customer-labels-pdf", kwargs={"register": slug}),
        "customer-create": reverse("crm:customer-create", kwargs={"register": slug, "kind": "organisation"}),
        "customer-detail": reverse("crm:customer-detail", kwargs={"register": slug, "code": code}),
        "customer-update": reverse("crm:customer-update", kwargs={"register": slug, "code": code}),
        "customer-delete": reverse("crm:customer-delete", kwargs={"register": slug, "code": code}),
        "contact-person-create": reverse("crm:contact-person-create", kwargs={"register": slug, "code": code}),
        "contact-person-update": reverse(
            "crm:contact-person-update", kwargs={"register": slug, "code": code, "person": person}
        ),
        "contact-person-delete": reverse(
            "crm:contact-person-delete", kwargs={"register": slug, "code": code, "person": person}
        ),
        "interaction-create": reverse("crm:interaction-create", kwargs={"register": slug, "code": code}),
        "interaction-update": reverse(
            "crm:interaction-update", kwargs={"register": slug, "code": code, "interaction": interaction}
        ),
        "interaction-delete": reverse(
            "crm:interaction-delete", kwargs={"register": slug, "code": code, "interaction": interaction}
        ),
    }


CHANGE_URLS = [
    "customer-create",
    "customer-update",
    "customer-delete",
    "contact-person-create",
    "contact-person-update",
    "contact-person-delete",
    "interaction-create",
    "interaction-update",
    "interaction-delete",
]
ALL_CUSTOMER_URLS = [
    "customer-list",
    "customer-export",
    "customer-labels-csv",
    "customer-labels-pdf",
    "customer-detail",
    *CHANGE_URLS,
]


@pytest.mark.parametrize("name", ALL_CUSTOMER_URLS)
def test_a_user_of_another_register_gets_404_on_every_customer_url(client, register_a, staff_b, records, name):
    url = customer_urls(register_a, records)[name]
    client.force_login(staff_b)
    assert client.get(url).status_code == 404
    assert client.post(url, {"organisation_name": "Kaapattu Oy", "version": 1}).status_code in {404, 405}


@pytest.mark.parametrize("name", ALL_CUSTOMER_URLS)
def test_the_other_registers_slug_does_not_reach_this_registers_records(
    client, register_a, register_b, staff_b, records, name
):
    # Register B's slug with register A's record codes: the user holds register B.
    url = customer_urls(register_b, records)[name]
    client.force_login(staff_b)
    response = client.get(url)
    if name in {"customer-list", "customer-export", "customer-labels-csv", "customer-labels-pdf", "customer-create"}:
        body = b"".join(response.streaming_content) if response.streaming else response.content
        assert records["customer"].organisation_name not in body.decode("utf-8", "replace")
    else:
        assert response.status_code == 404


@pytest.mark.parametrize("name", CHANGE_URLS)
def test_a_read_only_role_gets_403_on_post(client, register_a, readonly_a, records, name):
    url = customer_urls(register_a, records)[name]
    client.force_login(readonly_a)
    assert client.post(url, {"organisation_name": "Muutettu Oy", "version": 1, "subject": "x"}).status_code == 403
    records["customer"].refresh_from_db()
    assert records["customer"].organisation_name == "Merituuli Oy"
    assert records["customer"].interactions.count() == 1


@pytest.mark.parametrize("name", CHANGE_URLS)
def test_a_read_only_role_gets_403_on_the_forms_too(client, register_a, readonly_a, records, name):
    client.force_login(readonly_a)
    assert client.get(customer_urls(register_a, records)[name]).status_code == 403


@pytest.mark.parametrize("name", ["customer-list", "customer-detail", "customer-export", "customer-labels-csv"])
def test_a_read_only_role_may_read(client, register_a, readonly_a, records, name):
    client.force_login(readonly_a)
    assert client.get(customer_urls(register_a, records)[name]).status_code == 200


def test_a_read_only_role_sees_no_edit_controls(client, register_a, readonly_a, records):
    client.force_login(readonly_a)
    urls = customer_urls(register_a, records)
    for page in ("customer-list", "customer-detail"):
        html = client.get(urls[page]).content.decode()
        for change in CHANGE_URLS:
            assert urls[change] not in html, (page, change)
        assert 'method="post"' not in html.split("</header>", 1)[1]


def test_staff_sees_the_edit_controls_but_not_delete_or_colleagues_entries(client, register_a, staff_a, records):
    client.force_login(staff_a)
    urls = customer_urls(register_a, records)
    html = client.get(urls["customer-detail"]).content.decode()
    for change in ("customer-update", "interaction-create", "contact-person-create"):
        assert urls[change] in html
    # Deleting a customer is the owner's; the entry on the timeline was not recorded by this user.
    for change in ("customer-delete", "interaction-update", "interaction-delete"):
        assert urls[change] not in html


def test_the_owner_sees_every_control(client, register_a, owner_a, records):
    client.force_login(owner_a)
    urls = customer_urls(register_a, records)
    html = client.get(urls["customer-detail"]).content.decode()
    for change in (
        "customer-update",
        "customer-delete",
        "interaction-create",
        "interaction-update",
        "interaction-delete",
    ):
        assert urls[change] in html


@pytest.mark.parametrize("name", ALL_CUSTOMER_URLS)
def test_anonymous_visitors_are_sent_to_sign_in(client, register_a, records, name):
    response = client.get(customer_urls(register_a, records)[name])
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.fixture
def archive():
    register = ContactCentreRegisterFactory(slug="contact-centre")
    client = OrderingClientFactory(register=register, department="Kasvatuksen toimiala")
    return {
        "register": register,
        "message": ContactCentreMessageFactory(ordering_client=client),
        "recording": CallRecordingFactory(ordering_client=client),
    }


def archive_urls(register, archive) -> dict[str, str]:
    slug = register.slug
    return {
        "message-list": reverse("crm:message-list", kwargs={"register": slug}),
        "message-detail": reverse("crm:message-detail", kwargs={"register": slug, "code": archive["message"].code}),
        "call-recording-list": reverse("crm:call-recording-list", kwargs={"register": slug}),
    }


@pytest.mark.parametrize("name", ["message-list", "message-detail", "call-recording-list"])
def test_a_user_of_another_register_gets_404_on_every_archive_url(client, staff_b, archive, name):
    client.force_login(staff_b)
    assert client.get(archive_urls(archive["register"], archive)[name]).status_code == 404


@pytest.mark.parametrize("name", ["message-list", "message-detail", "call-recording-list"])
def test_archive_urls_accept_no_post(client, archive, name):
    expert = UserFactory(username="cc_expert")
    grant(expert, archive["register"], Role.CONTACT_CENTRE_EXPERT)
    client.force_login(expert)
    assert client.post(archive_urls(archive["register"], archive)[name]).status_code == 405


def test_a_customer_registers_slug_does_not_open_an_archive(client, register_a, staff_a, archive):
    client.force_login(staff_a)
    for url in archive_urls(register_a, archive).values():
        assert client.get(url).status_code == 404
