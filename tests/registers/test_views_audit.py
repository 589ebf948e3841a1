import csv
import io

import pytest
from auditlog.context import set_actor
from auditlog.models import LogEntry
from django.test import RequestFactory

from registers.access_log import log_access
from registers.audit import REDACTED

from ..conftest import grant
from ..factories import ContactPersonFactory, CustomerFactory, UserFactory

pytestmark = pytest.mark.django_db


def edit(customer, actor, **changes):
    with set_actor(actor):
        for field, value in changes.items():
            setattr(customer, field, value)
        customer.save()


def test_the_owner_sees_changes_of_their_register_only(client, owner_a, staff_a, register_a, register_b):
    mine = CustomerFactory(register=register_a, organisation_name="Kemin Kala Oy")
    CustomerFactory(register=register_b, organisation_name="Naantalin Nahka Oy")
    edit(mine, staff_a, email="myynti@kemikala.example.fi")
    client.force_login(owner_a)
    page = client.get(f"/registers/{register_a.slug}/audit/changes/").content.decode()
    assert "Kemin Kala Oy" in page
    assert "myynti@kemikala.example.fi" in page
    assert "Naantalin Nahka Oy" not in page


def test_changes_of_contact_persons_and_memberships_are_included(client, owner_a, register_a):
    person = ContactPersonFactory(customer=CustomerFactory(register=register_a), last_name="Kettunen")
    grant(UserFactory(username="uusi_kayttaja"), register_a, "staff")
    client.force_login(owner_a)
    page = client.get(f"/registers/{register_a.slug}/audit/changes/").content.decode()
    assert "Kettunen" in page
    assert "uusi_kayttaja" in page
    assert person


def test_a_deleted_customer_and_its_contact_person_stay_in_the_trail(client, owner_a, register_a, register_b):
    customer = CustomerFactory(register=register_a, organisation_name="Poistuva Oy")
    ContactPersonFactory(customer=customer, last_name="Lähtevä")
    other = CustomerFactory(register=register_b, organisation_name="Toinen Oy")
    other.delete()
    customer.contact_persons.all().delete()
    customer.delete()
    client.force_login(owner_a)
    page = client.get(f"/registers/{register_a.slug}/audit/changes/?action=2").content.decode()
    assert "Poistuva Oy" in page
    assert "Lähtevä" in page
    assert "Toinen Oy" not in page


def test_changes_filter_by_user_type_action_and_time(client, owner_a, staff_a, register_a):
    customer = CustomerFactory(register=register_a, organisation_name="Suodatin Oy")
    edit(customer, staff_a, email="a@suodatin.example.fi")
    client.force_login(owner_a)
    url = f"/registers/{register_a.slug}/audit/changes/"
    assert "a@suodatin.example.fi" in client.get(url, {"user": "staff_a", "action": 1}).content.decode()
    assert "a@suodatin.example.fi" not in client.get(url, {"user": "owner_a"}).content.decode()
    assert "a@suodatin.example.fi" not in client.get(url, {"since": "2099-01-01"}).content.decode()
    membership_type = LogEntry.objects.filter(content_type__model="membership").first().content_type_id
    assert "Suodatin Oy" not in client.get(url, {"object_type": membership_type}).content.decode()


def test_a_main_user_outside_the_register_sees_changes_redacted(client, main_user, staff_a, register_a):
    customer = CustomerFactory(register=register_a, organisation_name="Salainen Oy")
    edit(customer, staff_a, email="salainen@example.fi")
    client.force_login(main_user)
    page = client.get(f"/registers/{register_a.slug}/audit/changes/").content.decode()
    assert "Salainen Oy" not in page
    assert "salainen@example.fi" not in page
    assert REDACTED in page
    assert "staff_a" in page


def test_the_csv_export_has_the_rows_and_logs_filter_and_count(client, owner_a, staff_a, register_a):
    customer = CustomerFactory(register=register_a, organisation_name="=HYPERLINK(1)")
    edit(customer, staff_a, email="csv@example.fi")
    client.force_login(owner_a)
    response = client.get(f"/registers/{register_a.slug}/audit/changes/", {"user": "staff_a", "format": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:3] == ["time", "user", "action"]
    assert any("csv@example.fi" in cell for cell in rows[1])
    assert "'=HYPERLINK(1)" in rows[1]
    entry = LogEntry.objects.get(action=LogEntry.Action.ACCESS, actor=owner_a)
    assert entry.additional_data["export"] == "audit_changes"
    assert entry.additional_data["rows"] == len(rows) - 1
    assert entry.additional_data["filter"]["user"] == str(staff_a.pk)


def test_the_access_log_shows_who_viewed_what_and_from_where(client, owner_a, staff_a, register_a, register_b):
    request = RequestFactory().get("/crm/x/", REMOTE_ADDR="198.51.100.9")
    request.user = staff_a
    log_access(request, CustomerFactory(register=register_a, organisation_name="Katsottu Oy"))
    log_access(request, CustomerFactory(register=register_b, organisation_name="Muu Oy"))
    client.force_login(owner_a)
    page = client.get(f"/registers/{register_a.slug}/audit/access/").content.decode()
    assert "Katsottu Oy" in page
    assert "198.51.100.9" in page
    assert "Muu Oy" not in page


def test_the_owner_sees_logins_of_their_users_only(client, owner_a, staff_a, staff_b, register_a):
    for username in ("staff_a", "staff_b", "ghost"):
        client.post("/accounts/login/", {"username": username, "password": "wrong password"})
    client.force_login(owner_a)
    page = client.get(f"/registers/{register_a.slug}/audit/logins/").content.decode()
    assert "staff_a" in page
    assert "staff_b" not in page
    assert "ghost" not in page


def test_the_main_user_sees_every_login_event(client, main_user, staff_a):
    client.post("/accounts/login/", {"username": "ghost", "password": "wrong password"})
    client.force_login(main_user)
    page = client.get("/registers/logins/").content.decode()
    assert "ghost" in page
    response = client.get("/registers/logins/", {"username": "ghost", "format": "csv"})
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert [row[1:3] for row in rows[1:]] == [["failure", "ghost"]]
