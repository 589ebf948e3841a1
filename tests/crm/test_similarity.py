"""Normalisation and scoring of likely duplicates (crm.similarity), and the new-customer form's look-up."""

import pytest
from django.db import connection
from django.utils import translation

from crm.models import Customer
from crm.similarity import (
    COMPANY_FORMS,
    Record,
    customer_likely_duplicates,
    is_likely,
    match_name,
    reason_labels,
    reasons_of,
    score_of,
    trigram_similarity,
)
from tests.conftest import grant
from tests.factories import CustomerFactory, PersonCustomerFactory, RegisterFactory, UserFactory


def org(name: str) -> str:
    return match_name("organisation", name, "", "")


@pytest.mark.parametrize("form", COMPANY_FORMS)
@pytest.mark.parametrize("template", ["Kivinen {form}", "{form} Kivinen", "Kivinen {form} Helsinki"])
def test_every_company_form_word_is_dropped_anywhere(form, template):
    expected = "kivinen helsinki" if "Helsinki" in template else "kivinen"
    assert org(template.format(form=form)) == expected
    assert org(template.format(form=form.upper())) == expected


@pytest.mark.parametrize(
    ("typed", "other"),
    [
        ("Mäkelä Oy", "Makela"),
        ("Mäkelä Oy", "Maekelae Ab"),
        ("Kööpenhamina Ky", "Koopenhamina"),
        ("Köö Oy", "Koeoe"),
        ("Åkerlund Ab", "Akerlund"),
        ("Åkerlund Ab", "Aakerlund"),
        ("Wirtanen Oy", "Virtanen"),
        ("Lindqvist & Co", "Lindkvist"),
        ("Carlsson Kb", "Karlsson"),
        ("Alexander Tmi", "T:mi Aleksander"),
        ("Matsson Hb", "Mattsson"),
        ("Thomas Oy", "Tomas"),
        ("Kalastajat r.y.", "Kalastajat ry"),
        ("Kalastajat rekisteröity yhdistys", "KALASTAJAT"),
        ("Fiskarna registrerad förening", "Fiskarna rf"),
        ("Oy Virta Ab", "Virta Osakeyhtiö"),
        ("Virta Aktiebolag", "Virta"),
        ("Virta Kommandiittiyhtiö", "Virta Ky"),
        ("Virta Toiminimi", "Virta"),
        ("Mäki-Ranta Oy", "Mäki Ranta"),
        ("Café Müller", "Cafe Muller"),
        ("Stephan's Bar", "Stefans bar"),
    ],
)
def test_finnish_and_swedish_variants_fold_to_one_name(typed, other):
    assert org(typed) == org(other)


@pytest.mark.parametrize(
    ("first", "second"),
    [("Virta Oy", "Virtanen Oy"), ("Kivi Ab", "Kuusi Ab"), ("Lahti Oy", "Lahden Ky")],
)
def test_different_names_stay_different(first, second):
    assert org(first) != org(second)


def test_a_name_of_only_company_forms_keeps_them():
    assert org("Oy Ab") == "oy ab"


def test_a_persons_names_are_in_a_stable_order():
    assert match_name("person", "", "Maija", "Virtanen") == match_name("person", "", "Virtanen", "Maija") != ""
    assert match_name("person", "", "Mäijä", "WIRTANEN") == match_name("person", "", "Maija", "Virtanen")


def test_trigram_similarity_matches_pg_trgm_on_known_values():
    assert trigram_similarity("virtanen", "virtanen") == 1.0
    assert trigram_similarity("", "virtanen") == 0.0
    # pg_trgm: similarity('word', 'two words') = 0.363636
    assert trigram_similarity("word", "two words") == pytest.approx(4 / 11)


def record(**values) -> Record:
    return Record.from_values({"kind": "organisation", **values})


def codes(reasons) -> list[str]:
    return [reason["code"] for reason in reasons]


def test_reasons_name_what_two_records_share():
    a = record(
        organisation_name="Mäkelä Oy",
        business_id="1234567-1",
        email="Info@Makela.fi",
        mobile="+358401234567",
        postal_code="00100",
        city="Helsinki",
    )
    b = record(
        organisation_name="Makela",
        business_id="1234567-1",
        email="info@makela.fi",
        landline="+358401234567",
        postal_code="00100",
        city="HELSINKI",
    )
    reasons = reasons_of(a, b)
    assert codes(reasons) == [
        "same_business_id",
        "same_email",
        "same_phone",
        "similar_name",
        "same_postal_code",
        "same_city",
    ]
    assert reasons[3]["similarity"] == 1.0
    assert score_of(reasons) == 1.0


@pytest.mark.parametrize(
    ("a", "b", "likely"),
    [
        ({"organisation_name": "Virta Oy", "city": "Oulu"}, {"organisation_name": "Virta", "city": "Oulu"}, True),
        ({"organisation_name": "Virta Oy", "city": "Oulu"}, {"organisation_name": "Virta", "city": "Kemi"}, False),
        ({"organisation_name": "Virta", "email": "a@b.fi"}, {"organisation_name": "Kivi", "email": "A@B.fi"}, True),
        (
            {"organisation_name": "Virta", "postal_code": "90100"},
            {"organisation_name": "Kivi", "postal_code": "90100"},
            False,
        ),
    ],
)
def test_a_pair_is_likely_with_an_identifier_or_a_name_and_a_place(a, b, likely):
    assert is_likely(reasons_of(record(**a), record(**b))) is likely


def test_the_score_ranks_an_identifier_above_a_name_alone():
    name_and_city = score_of([{"code": "similar_name", "similarity": 0.9}, {"code": "same_city"}])
    business_id = score_of([{"code": "same_business_id"}, {"code": "similar_name", "similarity": 0.6}])
    assert business_id > name_and_city > 0


def test_reason_labels_are_translated():
    reasons = [{"code": "same_email"}, {"code": "similar_name", "similarity": 0.87}, {"code": "unknown"}]
    with translation.override("en"):
        assert reason_labels(reasons) == ["same e-mail", "name 0.87 similar"]


# -- The form's look-up -----------------------------------------------------------------------------------------


@pytest.fixture
def staff(register_a):
    user = UserFactory(username="similar_staff")
    from registers.models import Role

    grant(user, register_a, Role.STAFF)
    return user


def test_match_name_is_stored_on_every_save_path(register_a):
    saved = CustomerFactory(register=register_a, organisation_name="Wirtanen Oy")
    Customer.objects.bulk_create([Customer(register=register_a, organisation_name="Maekelae Ab")])
    assert saved.match_name == "virtanen"
    assert Customer.objects.get(organisation_name="Maekelae Ab").match_name == "makela"


def test_the_look_up_finds_a_variant_of_the_name_in_the_same_city(staff, register_a):
    existing = CustomerFactory(register=register_a, organisation_name="Mäkelä Oy", city="Oulu", email="a@x.fi")
    CustomerFactory(register=register_a, organisation_name="Kivinen Oy", city="Oulu", email="b@x.fi")
    hits = customer_likely_duplicates(
        user=staff, register=register_a, kind="organisation", data={"organisation_name": "Maekelae Ab", "city": "oulu"}
    )
    assert [hit.customer.pk for hit in hits] == [existing.pk]
    assert "same_city" in codes(hits[0].reasons)


def test_the_look_up_finds_the_same_email_and_business_id(staff, register_a):
    by_email = CustomerFactory(register=register_a, organisation_name="Alfa Oy", email="info@alfa.fi")
    by_id = CustomerFactory(register=register_a, organisation_name="Beta Oy", business_id="1234567-1")
    hits = customer_likely_duplicates(
        user=staff,
        register=register_a,
        kind="organisation",
        data={"organisation_name": "Gamma", "email": "INFO@alfa.fi", "business_id": "1234567-1"},
    )
    assert {hit.customer.pk for hit in hits} == {by_email.pk, by_id.pk}
    assert hits[0].customer.pk == by_id.pk  # a business ID weighs more than an e-mail


def test_the_look_up_leaves_out_the_customer_itself_and_other_kinds(staff, register_a):
    existing = CustomerFactory(register=register_a, organisation_name="Alfa Oy", email="info@alfa.fi")
    PersonCustomerFactory(register=register_a, first_name="Alfa", last_name="Oy", email="info@alfa.fi")
    data = {"organisation_name": "Alfa", "email": "info@alfa.fi"}
    assert (
        customer_likely_duplicates(
            user=staff, register=register_a, kind="organisation", data=data, exclude_pk=existing.pk
        )
        == []
    )


def test_a_persons_namesake_alone_is_not_a_duplicate(staff, register_a):
    PersonCustomerFactory(register=register_a, first_name="Matti", last_name="Virtanen", city="Oulu", email="")
    data = {"first_name": "Matti", "last_name": "Virtanen", "city": "Kemi"}
    assert customer_likely_duplicates(user=staff, register=register_a, kind="person", data=data) == []
    data["city"] = "Oulu"
    assert len(customer_likely_duplicates(user=staff, register=register_a, kind="person", data=data)) == 1


def test_a_user_never_sees_customers_of_a_register_without_access(staff, register_a, register_b):
    CustomerFactory(register=register_b, organisation_name="Alfa Oy", email="info@alfa.fi", city="Oulu")
    data = {"organisation_name": "Alfa", "email": "info@alfa.fi", "city": "Oulu"}
    assert customer_likely_duplicates(user=staff, register=register_b, kind="organisation", data=data) == []
    assert customer_likely_duplicates(user=staff, register=register_a, kind="organisation", data=data) == []


def test_nothing_typed_finds_nothing(staff, register_a):
    CustomerFactory(register=register_a, organisation_name="Alfa Oy")
    assert customer_likely_duplicates(user=staff, register=register_a, kind="organisation", data={}) == []


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigram index is PostgreSQL's (pg_trgm)")
def test_on_postgresql_the_look_up_uses_the_trigram_index(staff, register_a, django_assert_max_num_queries):
    existing = CustomerFactory(register=register_a, organisation_name="Wirtanen Oy", city="Oulu", email="")
    RegisterFactory()
    # The right, then the names: SAVEPOINT, SET LOCAL of the trigram threshold, SELECT, RELEASE.
    with django_assert_max_num_queries(5):
        hits = customer_likely_duplicates(
            user=staff, register=register_a, kind="organisation", data={"organisation_name": "Virtasen Oy"}
        )
    # "virtanen" / "virtasen": 0.5 similar, below the name-alone warning, above the index's threshold.
    assert trigram_similarity("virtanen", "virtasen") < 0.8
    assert hits == []
    hits = customer_likely_duplicates(
        user=staff, register=register_a, kind="organisation", data={"organisation_name": "Virtanen Ab", "city": "Oulu"}
    )
    assert [hit.customer.pk for hit in hits] == [existing.pk]


def test_the_migration_fills_the_match_names_of_existing_customers(register_a):
    from importlib import import_module

    from django.apps import apps

    migration = import_module("crm.migrations.0015_customer_match_name")
    customers = [CustomerFactory(register=register_a, organisation_name=f"Wirtanen {n} Oy") for n in range(3)]
    Customer.objects.update(match_name="")
    migration.BATCH_SIZE = 2
    migration.fill_match_names(apps, None)
    assert sorted(Customer.objects.values_list("match_name", flat=True)) == [
        f"virtanen {n}" for n in range(len(customers))
    ]


def test_doubled_digits_stay_doubled():
    assert org("Yritys 33 Oy") != org("Yritys 3 Oy")
