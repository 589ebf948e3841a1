"""The data rules reach API clients as problem details naming the field, and nothing is stored: no identity code
in any free-text field, no field the register does not collect, no change to a restricted customer, no blind or
stale overwrite (428, 412), and bad input is 400 or 404, never 500."""

import pytest

from crm.models import ContactPerson, Customer, Interaction
from crm.services import customer_restriction_set
from registers.models import CustomerField

from ...factories import ContactPersonFactory, CustomerFactory, PersonCustomerFactory, UserFactory

pytestmark = pytest.mark.django_db

CODE = "131052-308T"
CUSTOMER_TEXT = [
    "first_name",
    "last_name",
    "organisation_name",
    "street_address",
    "postal_code",
    "city",
    "country",
    "occupation",
    "education",
    "extra_info",
    "email",
    "landline",
    "mobile",
    "fax",
    "business_id",
]
PERSON_TEXT = ["first_name", "last_name", "title", "responsibility", "email", "phone", "interests"]
INTERACTION_TEXT = ["subject", "text"]


def with_code(field: str) -> str:
    return f"{CODE}@example.fi" if field == "email" else CODE


def assert_problem(response, status, field=None):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    if field is not None:
        assert field in body["errors"], body
    return body


def stored_codes() -> bool:
    """Whether the identity code reached any row, in any form."""
    rows = [
        *Customer.objects.values_list(*CUSTOMER_TEXT),
        *ContactPerson.objects.values_list(*PERSON_TEXT),
        *Interaction.objects.values_list(*INTERACTION_TEXT),
    ]
    return any(CODE in str(value) or CODE.replace("-", "") in str(value) for row in rows for value in row)


@pytest.mark.parametrize("field", CUSTOMER_TEXT)
def test_an_identity_code_in_any_customer_field_is_refused(a, writer, field):
    created = writer.post(f"{a.base}/customers/", {"organisation_name": "Oy Ab", field: with_code(field)})
    assert_problem(created, 400, field)
    changed = writer.patch(a.customer_url, {field: with_code(field)}, HTTP_IF_MATCH='"1"')
    assert_problem(changed, 400, field)
    assert Customer.objects.count() == 1
    assert not stored_codes()


@pytest.mark.parametrize("field", PERSON_TEXT)
def test_an_identity_code_in_any_contact_person_field_is_refused(a, writer, field):
    created = writer.post(f"{a.customer_url}contact-persons/", {"last_name": "Virtanen", field: with_code(field)})
    assert_problem(created, 400, field)
    assert_problem(writer.patch(a.person_url, {field: with_code(field)}, HTTP_IF_MATCH='"1"'), 400, field)
    assert ContactPerson.objects.count() == 1
    assert not stored_codes()


@pytest.mark.parametrize("field", INTERACTION_TEXT)
def test_an_identity_code_in_any_interaction_field_is_refused(a, writer, own_interaction, field):
    body = {"kind": "note", "subject": "Soitto", field: CODE}
    assert_problem(writer.post(f"{a.customer_url}interactions/", body), 400, field)
    own = f"{a.customer_url}interactions/{own_interaction.code}/"
    assert_problem(writer.patch(own, {field: CODE}, HTTP_IF_MATCH='"1"'), 400, field)
    assert Interaction.objects.count() == 2
    assert not stored_codes()


# A valid value for every optional field, so that the only reason to refuse one is that it is not collected.
OPTIONAL_VALUES = {
    "date_of_birth": "1980-05-04",
    "business_id": "0112038-9",
    "street_address": "Mannerheimintie 1",
    "postal_code": "00100",
    "city": "Helsinki",
    "country": "Suomi",
    "occupation": "Insinööri",
    "education": "Diplomi-insinööri",
    "landline": "09 123 4567",
    "mobile": "040 123 4567",
    "fax": "09 765 4321",
    "email": "info@example.fi",
    "language": "fi",
    "extra_info": "Lisätietoa",
}
OPTIONAL = [name for fields in Customer.OPTIONAL_FIELDS.values() for name in fields]


def test_the_optional_value_table_covers_every_optional_field():
    assert sorted(OPTIONAL) == sorted(OPTIONAL_VALUES)


@pytest.mark.parametrize("field", OPTIONAL)
def test_a_field_the_register_does_not_collect_is_refused(writer, a, field):
    a.register.collected_fields = [item for item in CustomerField.values if field not in Customer.OPTIONAL_FIELDS[item]]
    a.register.save()
    person = field == "date_of_birth"
    base = {"kind": "person", "last_name": "Virtanen"} if person else {"organisation_name": "Oy Ab"}
    existing = (PersonCustomerFactory if person else CustomerFactory)(register=a.register, email="", language="")

    assert_problem(writer.post(f"{a.base}/customers/", {**base, field: OPTIONAL_VALUES[field]}), 400, field)
    url = f"{a.base}/customers/{existing.code}/"
    assert_problem(writer.patch(url, {field: OPTIONAL_VALUES[field]}, HTTP_IF_MATCH='"1"'), 400, field)
    assert Customer.objects.filter(register=a.register).count() == 2
    existing.refresh_from_db()
    assert existing.version == 1


@pytest.mark.parametrize("field", OPTIONAL)
def test_a_collected_field_is_accepted(writer, a, field):
    person = field == "date_of_birth"
    base = {"kind": "person", "last_name": "Virtanen"} if person else {"organisation_name": "Oy Ab"}
    response = writer.post(f"{a.base}/customers/", {**base, field: OPTIONAL_VALUES[field]})
    assert response.status_code == 201, response.content


def test_a_restricted_customer_refuses_every_change(a, writer, own_interaction):
    customer_restriction_set(actor=UserFactory(), customer=a.customer, restricted=True)
    a.customer.refresh_from_db()
    etag = f'"{a.customer.version}"'
    own = f"{a.customer_url}interactions/{own_interaction.code}/"
    refused = [
        writer.patch(a.customer_url, {"city": "Espoo"}, HTTP_IF_MATCH=etag),
        writer.post(f"{a.customer_url}contact-persons/", {"last_name": "Uusi"}),
        writer.patch(a.person_url, {"title": "Johtaja"}, HTTP_IF_MATCH='"1"'),
        writer.delete(a.person_url),
        writer.post(f"{a.customer_url}interactions/", {"kind": "note", "subject": "Soitto"}),
        writer.patch(own, {"subject": "Korjattu"}, HTTP_IF_MATCH='"1"'),
        writer.delete(own),
    ]
    for response in refused:
        body = assert_problem(response, 400)
        assert "restricted" in str(body["errors"])
    assert ContactPerson.objects.filter(customer=a.customer).count() == 1
    assert Interaction.objects.filter(customer=a.customer).count() == 2
    a.customer.refresh_from_db()
    assert a.customer.city != "Espoo"


def test_the_rights_flags_cannot_be_set_through_the_api(a, writer):
    customer_restriction_set(actor=UserFactory(), customer=a.customer, restricted=True)
    for field, value in (("processing_restricted", False), ("marketing_objection", True)):
        assert_problem(writer.patch(a.customer_url, {field: value}, HTTP_IF_MATCH='"2"'), 400, field)
    a.customer.refresh_from_db()
    assert a.customer.processing_restricted
    assert not a.customer.marketing_objection


@pytest.mark.parametrize("target", ["customer_url", "person_url", "own"])
def test_a_change_needs_a_current_if_match(a, writer, own_interaction, target):
    url = f"{a.customer_url}interactions/{own_interaction.code}/" if target == "own" else getattr(a, target)
    field = {"customer_url": "city", "person_url": "title", "own": "subject"}[target]
    whole = {"customer_url": {}, "person_url": {"last_name": "Virtanen"}, "own": {"kind": "note"}}[target]

    read = writer.get(url)
    etag = read["ETag"]
    assert etag == '"1"'
    assert_problem(writer.patch(url, {field: "Ensin"}), 428)
    assert_problem(writer.patch(url, {field: "Ensin"}, HTTP_IF_MATCH="*"), 412)
    changed = writer.patch(url, {field: "Ensin"}, HTTP_IF_MATCH=etag)
    assert changed.status_code == 200, changed.content
    assert changed["ETag"] == '"2"'
    assert changed.json()["version"] == 2
    # A second client that read version 1 is told its copy is stale, and its change is not made.
    assert_problem(writer.patch(url, {field: "Toinen"}, HTTP_IF_MATCH=etag), 412)
    assert_problem(writer.put(url, {**whole, field: "Toinen"}, HTTP_IF_MATCH=etag), 412)
    if target != "customer_url":  # a customer is never deleted by a client (403, tested with the scopes)
        assert_problem(writer.delete(url, HTTP_IF_MATCH=etag), 412)
    assert writer.get(url).json()[field] == "Ensin"


def test_a_created_customer_answers_201_with_its_etag_and_location(a, writer):
    response = writer.post(f"{a.base}/customers/", {"kind": "person", "first_name": "Aino", "last_name": "Laine"})
    assert response.status_code == 201
    body = response.json()
    assert response["ETag"] == '"1"'
    assert response["Location"].endswith(f"{a.base}/customers/{body['code']}/")
    assert writer.get(response["Location"]).json()["last_name"] == "Laine"


BAD_BODIES = [
    ("customers", {"kind": "robot", "organisation_name": "X"}, "kind"),
    ("customers", {"kind": 5, "organisation_name": "X"}, "kind"),
    ("customers", {"organisation_name": ["X"]}, "organisation_name"),
    ("customers", {"organisation_name": None}, "organisation_name"),
    ("customers", {"organisation_name": "X" * 201}, "organisation_name"),
    ("customers", {"organisation_name": "X", "date_of_birth": "yesterday"}, "date_of_birth"),
    ("customers", {"organisation_name": "X", "mobile": "not a number"}, "mobile"),
    ("customers", {"organisation_name": "X", "business_id": "1234567-2"}, "business_id"),
    ("customers", {"kind": "person", "last_name": "X", "organisation_name": "Y"}, "organisation_name"),
    ("customers", {"organisation_name": "X", "code": "2b8c5f4e-0000-4000-8000-000000000000"}, "code"),
    ("customers", {"organisation_name": "X", "register": 1}, "register"),
    ("contact-persons", {"last_name": "X" * 101}, "last_name"),
    ("contact-persons", {"last_name": "X", "email": "not-an-address"}, "email"),
    ("interactions", {"kind": "séance", "subject": "X"}, "kind"),
    ("interactions", {"kind": "note", "subject": "X", "occurred_at": "soon"}, "occurred_at"),
    ("interactions", {"kind": "note", "subject": "X", "contact_person": "not-a-uuid"}, "contact_person"),
    ("interactions", {"kind": "note", "subject": "X", "contact_person": 7}, "contact_person"),
    ("interactions", {"kind": "call_in", "subject": "X", "occurred_at": "2999-01-01T10:00:00Z"}, "occurred_at"),
]


@pytest.mark.parametrize(("kind", "body", "field"), BAD_BODIES)
def test_bad_values_are_400_naming_the_field(a, writer, kind, body, field):
    url = f"{a.base}/customers/" if kind == "customers" else f"{a.customer_url}{kind}/"
    before = (Customer.objects.count(), ContactPerson.objects.count(), Interaction.objects.count())
    assert_problem(writer.post(url, body), 400, field)
    assert (Customer.objects.count(), ContactPerson.objects.count(), Interaction.objects.count()) == before


def test_another_customers_contact_person_cannot_be_linked(a, b, writer):
    mine_elsewhere = ContactPersonFactory(customer=CustomerFactory(register=a.register))
    for person in (b.person, mine_elsewhere):
        body = {"kind": "note", "subject": "X", "contact_person": str(person.code)}
        assert_problem(writer.post(f"{a.customer_url}interactions/", body), 400, "contact_person")
    linked = writer.post(
        f"{a.customer_url}interactions/", {"kind": "note", "subject": "X", "contact_person": str(a.person.code)}
    )
    assert linked.status_code == 201
    assert linked.json()["contact_person"] == str(a.person.code)


def test_a_contact_person_is_refused_for_a_person_customer(a, writer):
    person = PersonCustomerFactory(register=a.register)
    response = writer.post(f"{a.base}/customers/{person.code}/contact-persons/", {"last_name": "X"})
    assert_problem(response, 400, "customer")


@pytest.mark.parametrize(
    "payload", [b"{not json", b"[]", b'"text"', b"null", b"\xff\xfe", b'{"organisation_name": "X"'], ids=repr
)
def test_a_body_that_is_not_a_json_object_is_400(a, writer, payload):
    response = writer.generic("POST", f"{a.base}/customers/", payload, content_type="application/json")
    assert_problem(response, 400)
    assert Customer.objects.count() == 1


def test_a_body_that_is_not_json_is_415(a, writer):
    response = writer.generic("POST", f"{a.base}/customers/", b"organisation_name=X", content_type="text/plain")
    assert_problem(response, 415)


@pytest.mark.parametrize(
    "path",
    [
        "customers/not-a-uuid/",
        "customers/12/",
        "customers/{customer}/contact-persons/not-a-uuid/",
        "customers/{customer}/interactions/1/",
        "customers/00000000-0000-0000-0000-000000000000/",
    ],
)
def test_a_code_that_is_not_a_known_uuid_is_404(a, writer, path):
    url = f"{a.base}/" + path.format(customer=a.customer.code)
    assert writer.get(url).status_code == 404
    assert writer.patch(url, {"city": "X"}, HTTP_IF_MATCH='"1"').status_code == 404


# As the other lists answer them (tests/api/records/test_reads.py): a time without its offset names two moments
# or none when summer time begins or ends, and a moment at the calendar's edge has no UTC time.
@pytest.mark.parametrize(
    "value",
    [
        "yesterday",
        "2026-13-01",
        "1",
        "2026-01-01T25:00",
        "2026-01-01T12:00:00",
        "2026-03-29T03:30:00",
        "0001-01-01T00:00:00+14:00",
        "9999-12-31T23:59:59-14:00",
        "\x00",
    ],
)
def test_a_bad_modified_since_is_400_naming_it(a, reader, value):
    for url in (f"{a.base}/customers/", f"{a.base}/contact-persons/", f"{a.base}/interactions/"):
        assert_problem(reader.get(url, {"modified_since": value}), 400, "modified_since")


def test_an_unknown_register_slug_is_404(reader):
    assert_problem(reader.get("/api/v1/registers/ei-ole/customers/"), 404)
