"""One client-address rule for rate limits, sign-in throttling and the audit trail.

X-Forwarded-For is believed only as far as TRUSTED_PROXY_COUNT proxies vouch for it, and, where
TRUSTED_PROXY_ADDRESSES names them, only on a connection from one of them.
"""

import random

import pytest
from auditlog.models import LogEntry
from axes.models import AccessAttempt
from django.test import Client, RequestFactory

from crm.models import Customer
from registers.client_address import client_address

from ..factories import CustomerFactory
from ..privacy.requests.test_views_public import form_data, form_url

pytestmark = pytest.mark.django_db


def forged() -> str:
    return f"198.51.100.{random.randint(1, 254)}"


def address_of(**meta) -> str | None:
    return client_address(RequestFactory().get("/", **meta))


def test_forty_posts_with_rotated_forwarded_for_meet_the_address_limit(register_a):
    peer = f"10.77.{random.randint(0, 255)}.{random.randint(1, 254)}"
    client = Client(REMOTE_ADDR=peer, HTTP_ACCEPT_LANGUAGE="en")
    statuses = [
        client.post(form_url(register_a), form_data(register_a), HTTP_X_FORWARDED_FOR=forged()).status_code
        for _ in range(40)
    ]
    # The per-address limit is 20 an hour: the forged header buys nothing.
    assert statuses.count(302) == 20
    assert statuses.count(429) == 20


def test_access_and_change_entries_record_the_peer_not_the_forged_header(client, staff_a, register_a):
    customer = CustomerFactory(register=register_a, organisation_name="Merituuli Oy")
    client.force_login(staff_a)
    headers = {"REMOTE_ADDR": "192.0.2.10", "HTTP_X_FORWARDED_FOR": "203.0.113.66"}
    assert client.get(customer.get_absolute_url(), **headers).status_code == 200
    edit = customer.get_absolute_url() + "edit/"
    data = {"version": customer.version, "organisation_name": "Merituuli Ab", "business_id": customer.business_id}
    response = client.post(edit, data, **headers)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Customer.objects.get(pk=customer.pk).organisation_name == "Merituuli Ab"
    entries = LogEntry.objects.filter(object_pk=str(customer.pk))
    access = entries.get(action=LogEntry.Action.ACCESS)
    change = entries.get(action=LogEntry.Action.UPDATE)
    assert access.remote_addr == change.remote_addr == "192.0.2.10"


def test_sign_in_failures_are_counted_for_the_peer(client, staff_a):
    client.post(
        "/accounts/login/",
        {"username": "staff_a", "password": "wrong"},
        **{
            "REMOTE_ADDR": "192.0.2.11",
            "HTTP_X_FORWARDED_FOR": "203.0.113.67",
        },
    )
    assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == ["192.0.2.11"]


def test_without_trusted_proxies_the_header_is_ignored():
    assert address_of(REMOTE_ADDR="192.0.2.1", HTTP_X_FORWARDED_FOR="203.0.113.9") == "192.0.2.1"


def test_with_one_trusted_proxy_the_rightmost_entry_is_the_client(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    meta = {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "203.0.113.9, 198.51.100.4"}
    assert address_of(**meta) == "198.51.100.4"


def test_with_two_trusted_proxies_the_second_entry_from_the_right_is_the_client(settings):
    settings.TRUSTED_PROXY_COUNT = 2
    meta = {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "203.0.113.9, 198.51.100.4, 10.0.0.1"}
    assert address_of(**meta) == "198.51.100.4"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("", "10.0.0.2"),  # Not through the proxy at all.
        ("not-an-address", "10.0.0.2"),
        ("198.51.100.4:5555", "198.51.100.4"),
        ("[2001:db8::1]:443", "2001:db8::1"),
        ("2001:db8::2", "2001:db8::2"),
    ],
)
def test_a_malformed_or_missing_proxy_entry_falls_back_to_the_peer(settings, header, expected):
    settings.TRUSTED_PROXY_COUNT = 1
    assert address_of(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=header) == expected


def test_with_a_trusted_proxy_the_audit_entry_records_the_client(client, staff_a, register_a, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    customer = CustomerFactory(register=register_a)
    client.force_login(staff_a)
    headers = {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "203.0.113.9, 198.51.100.4"}
    client.get(customer.get_absolute_url(), **headers)
    entry = LogEntry.objects.get(object_pk=str(customer.pk), action=LogEntry.Action.ACCESS)
    assert entry.remote_addr == "198.51.100.4"


@pytest.mark.parametrize(
    ("peer", "expected"),
    [
        ("10.0.0.5", "198.51.100.4"),  # The load balancer itself.
        ("10.0.1.77", "198.51.100.4"),  # One of the trusted network's.
        ("192.0.2.50", "192.0.2.50"),  # Somebody who reached the node past the load balancer.
        ("2001:db8::9", "2001:db8::9"),
    ],
)
def test_the_header_is_believed_only_on_a_connection_from_a_trusted_proxy(settings, peer, expected):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.TRUSTED_PROXY_ADDRESSES = ["10.0.0.5", "10.0.1.0/24"]
    assert address_of(REMOTE_ADDR=peer, HTTP_X_FORWARDED_FOR="203.0.113.9, 198.51.100.4") == expected


def test_sign_in_failures_past_the_load_balancer_are_counted_for_the_peer(client, staff_a, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.TRUSTED_PROXY_ADDRESSES = ["10.0.0.5"]
    for peer, header in (("10.0.0.5", "198.51.100.4"), ("192.0.2.12", "198.51.100.5")):
        client.post(
            "/accounts/login/",
            {"username": "staff_a", "password": "wrong"},
            REMOTE_ADDR=peer,
            HTTP_X_FORWARDED_FOR=header,
        )
    assert sorted(AccessAttempt.objects.values_list("ip_address", flat=True)) == ["192.0.2.12", "198.51.100.4"]
