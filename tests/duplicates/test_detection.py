"""The duplicate scan of a register and the refresh of its open candidates (duplicates.detection)."""

import pytest
from django.db import connection

from duplicates.detection import (
    _customer_pairs_postgresql,
    _customer_pairs_python,
    duplicate_candidates_refresh,
    duplicate_pairs,
)
from duplicates.models import DuplicateCandidate, RecordKind
from duplicates.services import candidate_dismiss
from duplicates.tasks import duplicate_candidates_refresh_nightly
from registers.models import Role
from tests.conftest import grant
from tests.factories import (
    ContactCentreRegisterFactory,
    ContactPersonFactory,
    CustomerFactory,
    PersonCustomerFactory,
    UserFactory,
)

ON_POSTGRES = connection.vendor == "postgresql"


def org(register, name, **fields):
    fields.setdefault("email", "")
    return CustomerFactory(register=register, organisation_name=name, **fields)


def pairs_of(register) -> set[tuple[int, int]]:
    return {(pair.first, pair.second) for pair in duplicate_pairs(register=register) if pair.kind == "customer"}


def ordered(a, b) -> tuple[int, int]:
    return (a.pk, b.pk) if a.pk < b.pk else (b.pk, a.pk)


def open_pairs(register) -> set[tuple[int, int]]:
    return set(
        DuplicateCandidate.objects.filter(
            register=register, kind=RecordKind.CUSTOMER, state=DuplicateCandidate.State.OPEN
        ).values_list("first_id", "second_id")
    )


@pytest.fixture
def handler(register_a):
    user = UserFactory(username="detection_handler")
    grant(user, register_a, Role.HANDLER)
    return user


def test_the_scan_finds_a_name_variant_in_the_same_city_or_postal_code(register_a):
    a = org(register_a, "Mäkelä Oy", city="Oulu", postal_code="90100")
    b = org(register_a, "Maekelae Ab", city="OULU", postal_code="90500")
    c = org(register_a, "Kivinen Oy", postal_code="00100")
    d = org(register_a, "Kivinen Ky", postal_code="00100", city="Helsinki")
    org(register_a, "Mäkelä Oy", city="Kemi", postal_code="94100")  # the same name elsewhere: another company
    org(register_a, "Lahtinen Oy", city="Oulu", postal_code="90100")
    assert pairs_of(register_a) == {ordered(a, b), ordered(c, d)}


def test_the_scan_finds_a_typo_in_the_same_city(register_a):
    a = org(register_a, "Rakennuspalvelu Virtanen Oy", city="Tampere")
    b = org(register_a, "Rakennuspalvelu Virtamen", city="Tampere")
    assert pairs_of(register_a) == {ordered(a, b)}


def test_the_scan_finds_the_same_email_and_phone_whatever_the_name(register_a):
    a = org(register_a, "Alfa Oy", email="Info@Alfa.fi")
    b = org(register_a, "Beta Oy", email="info@alfa.fi")
    c = PersonCustomerFactory(register=register_a, email="", mobile="+358401234567")
    d = PersonCustomerFactory(register=register_a, email="", landline="+358401234567")
    found = {pair.first: pair for pair in duplicate_pairs(register=register_a)}
    assert set(pairs_of(register_a)) == {ordered(a, b), ordered(c, d)}
    assert [reason["code"] for reason in found[min(a.pk, b.pk)].reasons] == ["same_email"]


def test_a_person_and_an_organisation_are_never_a_pair(register_a):
    org(register_a, "Matti Virtanen", email="matti@virtanen.fi")
    PersonCustomerFactory(register=register_a, first_name="Matti", last_name="Virtanen", email="matti@virtanen.fi")
    assert pairs_of(register_a) == set()


def test_candidates_never_cross_registers(register_a, register_b):
    org(register_a, "Alfa Oy", email="info@alfa.fi", city="Oulu")
    org(register_b, "Alfa Oy", email="info@alfa.fi", city="Oulu")
    duplicate_candidates_refresh(register=register_a)
    duplicate_candidates_refresh(register=register_b)
    assert not DuplicateCandidate.objects.exists()


def test_contact_persons_of_one_organisation_with_the_same_email_or_name_are_pairs(register_a):
    company, other = org(register_a, "Alfa Oy"), org(register_a, "Beta Oy")
    a = ContactPersonFactory(customer=company, first_name="Maija", last_name="Virtanen", email="maija@alfa.fi")
    b = ContactPersonFactory(customer=company, first_name="Maija", last_name="Wirtanen", email="")
    c = ContactPersonFactory(customer=company, first_name="Pekka", last_name="Kivi", email="MAIJA@alfa.fi")
    ContactPersonFactory(customer=company, first_name="Liisa", last_name="Kivi", email="liisa@alfa.fi")
    ContactPersonFactory(customer=other, first_name="Maija", last_name="Virtanen", email="maija@alfa.fi")
    found = {(p.first, p.second) for p in duplicate_pairs(register=register_a) if p.kind == "contact_person"}
    assert found == {ordered(a, b), ordered(a, c)}


def test_the_refresh_writes_open_candidates_with_score_and_reasons(register_a):
    a = org(register_a, "Mäkelä Oy", city="Oulu", email="info@makela.fi")
    b = org(register_a, "Makela", city="Oulu", email="INFO@makela.fi")
    result = duplicate_candidates_refresh(register=register_a)
    candidate = DuplicateCandidate.objects.get()
    assert (result.customers, result.created) == (1, 1)
    assert (candidate.first_id, candidate.second_id) == ordered(a, b)
    assert [reason["code"] for reason in candidate.reasons] == ["same_email", "similar_name", "same_city"]
    assert candidate.score == 1.0  # 0.45 (e-mail) + 0.6 (name) + 0.05 (city), capped


def test_the_refresh_keeps_a_pair_found_again_and_removes_one_gone(register_a):
    a = org(register_a, "Alfa Oy", email="info@alfa.fi")
    b = org(register_a, "Beta Oy", email="info@alfa.fi")
    c = org(register_a, "Gamma Oy", email="info@gamma.fi")
    d = org(register_a, "Delta Oy", email="info@gamma.fi")
    duplicate_candidates_refresh(register=register_a)
    kept = DuplicateCandidate.objects.get(first=min(a.pk, b.pk))
    d.email = "info@delta.fi"
    d.save()
    result = duplicate_candidates_refresh(register=register_a)
    assert (result.updated, result.removed, result.created) == (1, 1, 0)
    assert open_pairs(register_a) == {ordered(a, b)}
    assert DuplicateCandidate.objects.get().code == kept.code
    assert c.pk not in DuplicateCandidate.objects.values_list("first_id", flat=True)


def test_a_dismissed_pair_stays_dismissed_across_refreshes(register_a, handler):
    org(register_a, "Alfa Oy", email="info@alfa.fi")
    org(register_a, "Beta Oy", email="info@alfa.fi")
    duplicate_candidates_refresh(register=register_a)
    dismissed = candidate_dismiss(actor=handler, candidate=DuplicateCandidate.objects.get())
    for _ in range(2):
        result = duplicate_candidates_refresh(register=register_a)
        assert (result.customers, result.dismissed, result.created, result.removed) == (1, 1, 0, 0)
    candidate = DuplicateCandidate.objects.get()
    assert candidate.pk == dismissed.pk
    assert candidate.state == DuplicateCandidate.State.DISMISSED
    assert candidate.dismissed_by == handler


def test_a_dismissed_pair_no_longer_found_keeps_its_row(register_a, handler):
    org(register_a, "Alfa Oy", email="info@alfa.fi")
    b = org(register_a, "Beta Oy", email="info@alfa.fi")
    duplicate_candidates_refresh(register=register_a)
    candidate_dismiss(actor=handler, candidate=DuplicateCandidate.objects.get())
    b.email = "info@beta.fi"
    b.save()
    duplicate_candidates_refresh(register=register_a)
    assert DuplicateCandidate.objects.get().state == DuplicateCandidate.State.DISMISSED


def test_the_nightly_task_refreshes_every_customer_register(register_a, register_b, celery_eager):
    ContactCentreRegisterFactory()
    for register in (register_a, register_b):
        org(register, "Alfa Oy", email="info@alfa.fi")
        org(register, "Beta Oy", email="info@alfa.fi")
    results = duplicate_candidates_refresh_nightly.delay().get()
    assert {slug: result["created"] for slug, result in results.items()} == {"register-a": 1, "register-b": 1}
    assert DuplicateCandidate.objects.count() == 2


@pytest.mark.skipif(not ON_POSTGRES, reason="compares the pg_trgm scan with the Python one (set DATABASE_URL=postgres)")
def test_on_postgresql_the_sql_scan_finds_what_the_python_scan_finds(register_a):
    names = ["Mäkelä Oy", "Maekelae Ab", "Makela Ky", "Rakennus Virtanen", "Rakennus Virtamen Oy", "Kivi", "Kivi Oy"]
    for index, name in enumerate(names):
        org(register_a, name, city="Oulu" if index % 2 else "Kemi", postal_code="90100" if index < 3 else "")
    org(register_a, "Alfa", email="a@alfa.fi")
    org(register_a, "Beta", email="A@ALFA.FI")
    sql = {(p.first, p.second, p.score) for p in _customer_pairs_postgresql(register_a)}
    python = {(p.first, p.second, p.score) for p in _customer_pairs_python(register_a)}
    assert sql == python
    assert len(sql) >= 4
