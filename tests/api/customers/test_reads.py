"""What a client reads: the access log entry of every read (the machine user as actor), the change entry of every
write, the change-order sync with modified_since and cursor pages, the web list's search, and a query count per
page that does not grow with the rows."""

import datetime

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework import serializers as drf

from api.customers import serializers
from crm.models import ContactPerson, Customer, CustomerTag, Interaction, Tag

from ...factories import ContactPersonFactory, CustomerFactory, InteractionFactory, PersonCustomerFactory

pytestmark = pytest.mark.django_db


def entries(obj, action):
    content_type = ContentType.objects.get_for_model(obj)
    return LogEntry.objects.filter(content_type=content_type, object_pk=str(obj.pk), action=action)


@pytest.mark.parametrize("target", ["customer", "person", "interaction"])
def test_reading_an_object_writes_exactly_its_access_entry_with_the_machine_user(a, reader, target):
    obj = {"customer": a.customer, "person": a.person, "interaction": a.interaction}[target]
    url = {"customer": a.customer_url, "person": a.person_url, "interaction": a.interaction_url}[target]
    before = LogEntry.objects.count()

    assert reader.get(url).status_code == 200

    assert LogEntry.objects.count() == before + 1
    entry = entries(obj, LogEntry.Action.ACCESS).get()
    assert entry.actor == reader.machine
    assert entry.additional_data["register"] == a.register.pk
    assert entry.additional_data["api_client"] == "Lukija"


@pytest.mark.parametrize(
    ("path", "api"),
    [("customers/", "customers"), ("contact-persons/", "contact-persons"), ("interactions/", "interactions")],
)
def test_a_list_page_writes_one_access_entry_on_the_register_with_its_row_count(a, reader, path, api):
    CustomerFactory.create_batch(2, register=a.register)
    before = LogEntry.objects.count()

    rows = reader.get(f"{a.base}/{path}").json()["results"]

    assert LogEntry.objects.count() == before + 1
    entry = entries(a.register, LogEntry.Action.ACCESS).get()
    assert entry.actor == reader.machine
    assert entry.additional_data["api"] == api
    assert entry.additional_data["rows"] == len(rows) > 0


def test_a_customers_own_lists_log_the_customer(a, reader):
    for path in ("contact-persons/", "interactions/"):
        reader.get(f"{a.customer_url}{path}")
    logged = entries(a.customer, LogEntry.Action.ACCESS)
    assert sorted(entry.additional_data["api"] for entry in logged) == ["contact-persons", "interactions"]
    assert {entry.actor for entry in logged} == {reader.machine}


def test_a_refused_read_logs_no_access(a, b, reader):
    before = LogEntry.objects.count()
    assert reader.get(b.customer_url).status_code == 404
    assert reader.get(f"{a.base}/customers/", {"modified_since": "nonsense"}).status_code == 400
    assert LogEntry.objects.count() == before


def test_the_change_entries_name_the_clients_machine_user(a, writer):
    created = writer.post(f"{a.base}/customers/", {"organisation_name": "Uusi Oy"}).json()
    customer = Customer.objects.get(code=created["code"])
    writer.patch(a.customer_url, {"city": "Espoo"}, HTTP_IF_MATCH='"1"')
    person = writer.post(f"{a.customer_url}contact-persons/", {"last_name": "Laine"}).json()
    interaction = writer.post(f"{a.customer_url}interactions/", {"kind": "note", "subject": "Soitto"}).json()

    assert entries(customer, LogEntry.Action.CREATE).get().actor == writer.machine
    assert entries(a.customer, LogEntry.Action.UPDATE).get().actor == writer.machine
    assert entries(ContactPerson.objects.get(code=person["code"]), LogEntry.Action.CREATE).get().actor == writer.machine
    recorded = Interaction.objects.get(code=interaction["code"])
    assert entries(recorded, LogEntry.Action.CREATE).get().actor == writer.machine
    assert recorded.staff_user == writer.machine


def test_the_customer_shows_its_data_fields_flags_and_tags(a, reader):
    tag = Tag.objects.create(register=a.register, name="Kumppani")
    CustomerTag.objects.create(tag=tag, customer=a.customer)
    body = reader.get(a.customer_url).json()
    assert set(Customer.DATA_FIELDS) <= set(body)
    assert body["tags"] == ["Kumppani"]
    assert body["code"] == str(a.customer.code)
    assert body["processing_restricted"] is False
    assert "register" not in body
    assert "id" not in body


def test_modified_since_walks_the_changes_page_by_page_in_change_order(a, reader):
    old = timezone.now() - datetime.timedelta(days=3)
    Customer.objects.filter(pk=a.customer.pk).update(updated_at=old)
    changed = CustomerFactory.create_batch(5, register=a.register)
    since = (timezone.now() - datetime.timedelta(days=1)).isoformat()

    seen, url, params = [], f"{a.base}/customers/", {"modified_since": since, "page_size": 2}
    while url:
        page = reader.get(url, params).json()
        seen.extend(row["code"] for row in page["results"])
        url, params = page["next"], None

    assert seen == [str(customer.code) for customer in sorted(changed, key=lambda c: (c.updated_at, c.pk))]


@pytest.mark.parametrize("kind", ["contact-persons", "interactions"])
def test_the_register_wide_sync_lists_filter_by_modified_since(a, reader, kind):
    old = timezone.now() - datetime.timedelta(days=3)
    ContactPerson.objects.update(updated_at=old)
    Interaction.objects.update(updated_at=old)
    fresh = (
        ContactPersonFactory(customer=a.customer)
        if kind == "contact-persons"
        else InteractionFactory(customer=a.customer)
    )
    since = (timezone.now() - datetime.timedelta(days=1)).isoformat()

    rows = reader.get(f"{a.base}/{kind}/", {"modified_since": since}).json()["results"]

    assert [row["code"] for row in rows] == [str(fresh.code)]
    assert rows[0]["customer"] == str(a.customer.code)


def test_search_uses_the_web_lists_search(a, reader):
    wanted = CustomerFactory(register=a.register, organisation_name="Harvinainen Nimi Oy")
    rows = reader.get(f"{a.base}/customers/", {"search": "harvinainen"}).json()["results"]
    assert [row["code"] for row in rows] == [str(wanted.code)]


def _list_queries(reader, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = reader.get(url)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("path", ["customers/", "contact-persons/", "interactions/"])
def test_a_list_pages_query_count_does_not_grow_with_its_rows(a, reader, path):
    tag = Tag.objects.create(register=a.register, name="Kumppani")
    url = f"{a.base}/{path}"
    reader.get(url)  # the first call of a client also notes when its key was last used
    few = _list_queries(reader, url)
    for customer in CustomerFactory.create_batch(20, register=a.register):
        CustomerTag.objects.create(tag=tag, customer=customer)
        person = ContactPersonFactory(customer=customer)
        InteractionFactory(customer=customer, contact_person=person)
    assert len(reader.get(url).json()["results"]) > 20
    assert _list_queries(reader, url) == few


def test_a_list_row_is_the_same_as_the_detail(a, reader):
    """The lists read phone numbers as stored text, the detail parses them: a client sees the same values."""
    Customer.objects.filter(pk=a.customer.pk).update(landline="+35891234567", mobile="+358401234567", fax="")
    ContactPerson.objects.filter(pk=a.person.pk).update(phone="+358501234567")
    tag = Tag.objects.create(register=a.register, name="Kumppani")
    CustomerTag.objects.create(tag=tag, customer=a.customer)

    detail = reader.get(a.customer_url).json()
    assert (detail["landline"], detail["mobile"], detail["fax"]) == ("+35891234567", "+358401234567", "")
    assert reader.get(f"{a.base}/customers/").json()["results"] == [detail]
    person = reader.get(a.person_url).json()
    assert person["phone"] == "+358501234567"
    assert reader.get(f"{a.customer_url}contact-persons/").json()["results"] == [person]
    assert reader.get(f"{a.base}/contact-persons/").json()["results"] == [person]


def test_every_row_of_a_customer_page_is_the_same_as_the_detail(a, b, reader):
    """The list reads named tuples with the tag names aggregated in its own query, the detail models: each row is
    the customer's detail, tags sorted as Python sorts them (whatever the database's collation), none for none."""
    person = PersonCustomerFactory(register=a.register, date_of_birth=datetime.date(1980, 2, 29), mobile="")
    Customer.objects.filter(pk=person.pk).update(mobile="+358401234567", landline="+35891234567")
    bare = CustomerFactory(register=a.register, email="")
    tags = {name: Tag.objects.create(register=a.register, name=name) for name in ("b", "Ä", "a", "Z", "Öljy")}
    for name in ("b", "Ä", "a", "Z"):
        CustomerTag.objects.create(tag=tags[name], customer=person)
    CustomerTag.objects.create(tag=tags["Öljy"], customer=a.customer)
    CustomerTag.objects.create(tag=Tag.objects.create(register=b.register, name="Muualla"), customer=b.customer)

    rows = reader.get(f"{a.base}/customers/").json()["results"]

    customers = sorted([a.customer, person, bare], key=lambda c: (Customer.objects.get(pk=c.pk).updated_at, c.pk))
    assert rows == [reader.get(f"{a.base}/customers/{customer.code}/").json() for customer in customers]
    tags_by_code = {row["code"]: row["tags"] for row in rows}
    assert tags_by_code[str(person.code)] == ["Z", "a", "b", "Ä"]
    assert tags_by_code[str(a.customer.code)] == ["Öljy"]
    assert tags_by_code[str(bare.code)] == []


def test_serializers_of_one_class_do_not_share_fields(a, b):
    """The fields are built once per class and copied for each serializer: one's fields (an interaction's contact
    person choices, limited to its own customer's) are never another's."""
    one = serializers.InteractionSerializer(context={"customer": a.customer})
    other = serializers.InteractionSerializer(context={"customer": b.customer})

    assert list(one.fields["contact_person"].queryset) == [a.person]
    assert list(other.fields["contact_person"].queryset) == [b.person]
    assert one.fields["subject"] is not other.fields["subject"]
    assert one.fields["subject"].parent is one


@pytest.mark.parametrize("serializer_class", ["CustomerSerializer", "ContactPersonSerializer", "InteractionSerializer"])
def test_the_fast_read_writes_every_field_as_rest_framework_would(a, serializer_class):
    customer = PersonCustomerFactory(
        register=a.register, date_of_birth=datetime.date(1980, 2, 29), email="anna@example.fi", language="sv"
    )
    Customer.objects.filter(pk=customer.pk).update(mobile="+358401234567")
    instance = {
        "CustomerSerializer": lambda: Customer.objects.get(pk=customer.pk),
        "ContactPersonSerializer": lambda: ContactPersonFactory(customer=a.customer, email="pekka@example.fi"),
        "InteractionSerializer": lambda: InteractionFactory(customer=customer),
    }[serializer_class]()
    serializer = getattr(serializers, serializer_class)(instance)

    fast = serializer.data
    standard = drf.ModelSerializer.to_representation(serializer, instance)

    assert dict(fast) == dict(standard)
    # The comparison covers the plain fields: the fast path is taken for most of them.
    assert len(serializer._plain_fields()) >= 5
