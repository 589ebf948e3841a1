"""The nightly refresh from the company register's daily file, and the decisions on the changes it finds."""

import datetime
import io
import json
import logging
import zipfile

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from companies.client import CompanyRegisterUnavailable, all_companies
from crm import company_refresh
from crm.company_refresh import (
    ERROR_CHANGE_DECIDED,
    ERROR_NO_CHANGE_RIGHT,
    company_change_apply,
    company_change_dismiss,
    company_change_list,
    company_register_refresh,
)
from crm.models import CompanyChange, Customer
from crm.services import ERROR_RESTRICTED
from crm.tasks import company_register_refresh_nightly
from registers.models import CustomerField, Register

from ..companies.factories import CompanyJsonFactory, valid_business_ids
from ..factories import CustomerFactory, PersonCustomerFactory, RegisterFactory

pytestmark = pytest.mark.django_db

FETCHED = datetime.datetime(2026, 8, 4, 3, 0, tzinfo=datetime.UTC)
API = "/opendata-ytj-api/v3"


def company(business_id: str, name: str = "Merituuli Oy", **overrides) -> dict:
    data = CompanyJsonFactory.build(**overrides)
    data["businessId"] = {"value": business_id, "registrationDate": "2015-02-03", "source": "3"}
    data["names"] = [{"name": name, "type": "1", "registrationDate": "2015-02-03", "version": 1}]
    return data


def zip_of(companies: list[dict]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("data_20260804.json", json.dumps(companies))
    return buffer.getvalue()


def refresh(tmp_path, companies: list[dict]):
    path = tmp_path / "all_companies.zip"
    path.write_bytes(zip_of(companies))
    return company_register_refresh(companies=all_companies(path), fetched_at=FETCHED)


def organisation(register, business_id: str, **fields) -> Customer:
    defaults = {
        "organisation_name": "Merituuli Oy",
        "street_address": "Hämeenkatu 1",
        "postal_code": "20100",
        "city": "Turku",
    }
    return CustomerFactory(register=register, business_id=business_id, **{**defaults, **fields})


@pytest.fixture
def ids():
    return valid_business_ids(3_000_000)


def entries_of(obj) -> LogEntry:
    return LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(obj), object_id=obj.pk)


def test_it_keeps_the_status_and_facts_of_every_organisation_in_every_register(tmp_path, ids, register_a, register_b):
    first, second, third = next(ids), next(ids), next(ids)
    a = organisation(register_a, first)
    b = organisation(register_b, second)
    ceased = company(third, endDate="2024-05-31", tradeRegisterStatus="4")
    c = organisation(register_b, third)

    result = refresh(tmp_path, [company(first), company(second), ceased, company(next(ids))])

    for customer in (a, b, c):
        customer.refresh_from_db()
        assert customer.company_data_fetched_at == FETCHED
    assert (a.company_status, b.company_status, c.company_status) == ("active", "active", "ceased")
    assert a.company_facts["company_form"]["fi"] == "Osakeyhtiö"
    assert a.company_facts["business_line"]["code"] == "62100"
    assert c.company_facts["end_date"] == "2024-05-31"
    assert (result.companies, result.compared, result.updated, result.flagged, result.unknown) == (4, 3, 3, 1, 0)
    assert (result.proposed, result.applied) == (0, 0)


@pytest.mark.usefixtures("english")
def test_a_ceased_or_liquidated_organisation_is_flagged_on_the_list(tmp_path, ids, client, staff_a, register_a):
    first, second = next(ids), next(ids)
    organisation(register_a, first, organisation_name="Puuseppä Oy")
    organisation(register_a, second, organisation_name="Lopettanut Oy")
    situations = [{"type": "SELTILA", "registrationDate": "2026-01-01"}]
    liquidation = company(first, "Puuseppä Oy", companySituations=situations)
    refresh(tmp_path, [liquidation, company(second, "Lopettanut Oy", endDate="2025-01-01")])
    client.force_login(staff_a)
    page = client.get(reverse("crm:customer-list", kwargs={"register": register_a.slug})).content.decode()
    assert "in liquidation" in page
    assert "ceased" in page


def test_a_changed_name_and_address_are_proposed_and_the_customer_kept(tmp_path, ids, register_a):
    business_id = next(ids)
    customer = organisation(register_a, business_id, organisation_name="Vanha Nimi Oy")
    moved = company(business_id, "Uusi Nimi Oy")
    moved["addresses"][0]["street"] = "Linnankatu"

    result = refresh(tmp_path, [moved])

    customer.refresh_from_db()
    assert customer.organisation_name == "Vanha Nimi Oy"
    assert customer.street_address == "Hämeenkatu 1"
    changes = {c.field: (c.old_value, c.new_value, c.state) for c in CompanyChange.objects.filter(customer=customer)}
    assert changes == {
        "organisation_name": ("Vanha Nimi Oy", "Uusi Nimi Oy", "proposed"),
        "street_address": ("Hämeenkatu 1", "Linnankatu 1", "proposed"),
    }
    assert (result.proposed, result.applied, result.updated) == (2, 0, 1)
    # Auditors see who wrote them (the system: no actor) and in which register.
    for change in CompanyChange.objects.filter(customer=customer):
        entry = entries_of(change).get()
        assert entry.action == LogEntry.Action.CREATE
        assert entry.actor is None
        assert entry.additional_data == {"register": register_a.pk, "source": "company register refresh"}


def test_a_register_that_applies_changes_gets_the_new_name_and_address_at_once(tmp_path, ids, register_a):
    register_a.company_updates = Register.CompanyUpdates.APPLY
    register_a.save()
    business_id = next(ids)
    customer = organisation(register_a, business_id, organisation_name="Vanha Nimi Oy", city="Helsinki")
    version = customer.version

    result = refresh(tmp_path, [company(business_id, "Uusi Nimi Oy")])

    customer.refresh_from_db()
    assert (customer.organisation_name, customer.city) == ("Uusi Nimi Oy", "Turku")
    assert customer.sort_name == "uusi nimi oy"
    assert customer.version == version + 1
    assert set(CompanyChange.objects.filter(customer=customer).values_list("field", "state")) == {
        ("organisation_name", "applied"),
        ("city", "applied"),
    }
    assert (result.applied, result.proposed) == (2, 0)
    entry = entries_of(customer).filter(actor=None).latest("pk")
    assert entry.changes["organisation_name"] == ["Vanha Nimi Oy", "Uusi Nimi Oy"]
    assert entry.additional_data["register"] == register_a.pk


def test_the_same_change_is_not_proposed_again(tmp_path, ids, register_a):
    business_id = next(ids)
    customer = organisation(register_a, business_id, organisation_name="Vanha Nimi Oy")
    refresh(tmp_path, [company(business_id, "Uusi Nimi Oy")])
    second = refresh(tmp_path, [company(business_id, "Uusi Nimi Oy")])
    assert CompanyChange.objects.filter(customer=customer).count() == 1
    assert second.proposed == 0


def test_a_newer_name_replaces_the_older_proposal(tmp_path, ids, register_a):
    business_id = next(ids)
    customer = organisation(register_a, business_id, organisation_name="Vanha Nimi Oy")
    refresh(tmp_path, [company(business_id, "Uusi Nimi Oy")])
    refresh(tmp_path, [company(business_id, "Uusin Nimi Oy")])
    states = dict(CompanyChange.objects.filter(customer=customer).values_list("new_value", "state"))
    assert states == {"Uusi Nimi Oy": "dismissed", "Uusin Nimi Oy": "proposed"}


def test_the_address_is_compared_only_where_the_register_collects_it(tmp_path, ids):
    register = RegisterFactory(collected_fields=[CustomerField.BUSINESS_ID])
    business_id = next(ids)
    customer = organisation(register, business_id, street_address="", postal_code="", city="")
    refresh(tmp_path, [company(business_id)])
    assert not CompanyChange.objects.filter(customer=customer).exists()


def test_a_city_in_capitals_and_a_missing_address_are_no_change(tmp_path, ids, register_a):
    first, second = next(ids), next(ids)
    same = organisation(register_a, first, city="turku")
    kept = organisation(register_a, second)
    refresh(tmp_path, [company(first), company(second, addresses=[])])  # PRH writes TURKU; a ceased one has none
    assert not CompanyChange.objects.filter(customer__in=[same, kept]).exists()


def test_unknown_business_ids_are_counted_and_their_customers_left_alone(tmp_path, ids, register_a):
    customer = organisation(register_a, next(ids))
    result = refresh(tmp_path, [company(next(ids))])
    customer.refresh_from_db()
    assert (result.unknown, result.compared) == (1, 0)
    assert customer.company_status == ""
    assert customer.company_data_fetched_at is None


def test_people_and_organisations_without_a_business_id_are_not_compared(tmp_path, ids, register_a):
    PersonCustomerFactory(register=register_a)
    organisation(register_a, "")
    result = refresh(tmp_path, [company(next(ids))])
    assert (result.compared, result.unknown) == (0, 0)


def test_two_customers_with_one_business_id_are_both_refreshed(tmp_path, ids, register_a, register_b):
    business_id = next(ids)
    customers = [organisation(register_a, business_id), organisation(register_b, business_id)]
    assert refresh(tmp_path, [company(business_id)]).compared == 2
    assert {c.company_status for c in Customer.objects.filter(pk__in=[c.pk for c in customers])} == {"active"}


def test_a_customer_whose_processing_is_restricted_is_not_written(tmp_path, ids, register_a):
    business_id = next(ids)
    customer = organisation(register_a, business_id, organisation_name="Vanha Oy", processing_restricted=True)
    result = refresh(tmp_path, [company(business_id)])
    customer.refresh_from_db()
    assert result.restricted == 1
    assert (customer.company_status, customer.organisation_name) == ("", "Vanha Oy")
    assert not CompanyChange.objects.exists()


def test_a_file_that_breaks_off_changes_nothing(tmp_path, ids, register_a, monkeypatch):
    monkeypatch.setattr(company_refresh, "BATCH_SIZE", 1)  # the first company is written before the break
    register_a.company_updates = Register.CompanyUpdates.APPLY
    register_a.save()
    first, second = next(ids), next(ids)
    customer = organisation(register_a, first, organisation_name="Vanha Oy")
    organisation(register_a, second)
    payload = json.dumps([company(first, "Uusi Oy"), company(second, endDate="2025-01-01")])
    path = tmp_path / "broken.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("data_20260804.json", payload[: len(payload) - 200])  # the second company is cut off
    with pytest.raises(CompanyRegisterUnavailable):
        company_register_refresh(companies=all_companies(path), fetched_at=FETCHED)
    customer.refresh_from_db()
    assert (customer.organisation_name, customer.company_status) == ("Vanha Oy", "")
    assert not Customer.objects.filter(company_status="ceased").exists()
    assert not CompanyChange.objects.exists()


def queries_of_refresh(tmp_path, register, ids, count: int) -> int:
    companies = []
    for number in range(count):
        business_id = next(ids)
        organisation(register, business_id, organisation_name=f"Vanha {number} Oy")
        companies.append(company(business_id, f"Uusi {number} Oy", tradeRegisterStatus="4" if number % 2 else "1"))
    path = tmp_path / f"{count}.zip"
    path.write_bytes(zip_of(companies))
    ContentType.objects.clear_cache()
    with CaptureQueriesContext(connection) as queries:
        result = company_register_refresh(companies=all_companies(path), fetched_at=FETCHED)
    assert result.compared == count
    return len(queries)


def test_the_number_of_queries_does_not_grow_with_the_customers(tmp_path, ids):
    # Within one batch (SQLite splits an insert of many rows on its own, so the batch is kept small here).
    applying = Register.CompanyUpdates.APPLY
    few = queries_of_refresh(tmp_path, RegisterFactory(company_updates=applying), ids, 3)
    many = queries_of_refresh(tmp_path, RegisterFactory(company_updates=applying), ids, 30)
    assert few == many


def test_the_writes_are_batched(tmp_path, ids, monkeypatch):
    monkeypatch.setattr(company_refresh, "BATCH_SIZE", 10)
    one_batch = queries_of_refresh(tmp_path, RegisterFactory(), ids, 10)
    three_batches = queries_of_refresh(tmp_path, RegisterFactory(), ids, 30)
    # A batch reads its customers and their open proposals, then writes customers, changes and audit entries, and
    # links the entries in the audit chain (4 statements a batch: head, entries read back, links, head).
    assert three_batches - one_batch == 2 * (5 + 4)


# Decisions on the proposed changes.


@pytest.fixture
def proposal(tmp_path, ids, register_a) -> CompanyChange:
    business_id = next(ids)
    customer = organisation(register_a, business_id, organisation_name="Vanha Nimi Oy")
    refresh(tmp_path, [company(business_id, "Uusi Nimi Oy")])
    return CompanyChange.objects.get(customer=customer)


def test_staff_apply_a_proposed_name(proposal, staff_a):
    change = company_change_apply(actor=staff_a, change=proposal)
    customer = Customer.objects.get(pk=proposal.customer_id)
    assert customer.organisation_name == "Uusi Nimi Oy"
    assert (change.state, change.decided_by, change.decided_at is not None) == ("applied", staff_a, True)
    entry = entries_of(customer).latest("pk")
    assert entry.actor == staff_a
    assert entry.changes["organisation_name"] == ["Vanha Nimi Oy", "Uusi Nimi Oy"]


def test_staff_dismiss_a_proposed_name(proposal, staff_a):
    change = company_change_dismiss(actor=staff_a, change=proposal)
    assert (change.state, change.decided_by) == ("dismissed", staff_a)
    assert Customer.objects.get(pk=proposal.customer_id).organisation_name == "Vanha Nimi Oy"
    assert entries_of(change).latest("pk").actor == staff_a


@pytest.mark.parametrize("decide", [company_change_apply, company_change_dismiss])
def test_a_read_only_user_or_another_registers_staff_may_not_decide(proposal, readonly_a, staff_b, decide):
    for user in (readonly_a, staff_b):
        with pytest.raises(PermissionDenied, match=str(ERROR_NO_CHANGE_RIGHT)):
            decide(actor=user, change=proposal)
    proposal.refresh_from_db()
    assert proposal.state == "proposed"


@pytest.mark.parametrize("decide", [company_change_apply, company_change_dismiss])
def test_a_change_is_decided_only_once(proposal, staff_a, decide):
    company_change_dismiss(actor=staff_a, change=proposal)
    with pytest.raises(ValidationError, match=str(ERROR_CHANGE_DECIDED)):
        decide(actor=staff_a, change=proposal)


def test_a_change_to_a_restricted_customer_is_not_applied(proposal, staff_a):
    Customer.objects.filter(pk=proposal.customer_id).update(processing_restricted=True)
    with pytest.raises(ValidationError, match=str(ERROR_RESTRICTED)):
        company_change_apply(actor=staff_a, change=proposal)
    proposal.refresh_from_db()
    assert proposal.state == "proposed"


def test_the_proposals_are_listed_only_to_users_who_see_the_customer(proposal, staff_a, staff_b):
    customer = proposal.customer
    assert list(company_change_list(user=staff_a, customer=customer)) == [proposal]
    assert list(company_change_list(user=staff_b, customer=customer)) == []
    company_change_dismiss(actor=staff_a, change=proposal)
    assert list(company_change_list(user=staff_a, customer=customer)) == []


# The nightly task.


@pytest.fixture
def prh(httpserver, settings, tmp_path):
    settings.PRH_API_URL = httpserver.url_for(API)
    settings.MEDIA_ROOT = tmp_path / "media"
    return httpserver


def test_the_nightly_task_does_nothing_without_the_company_register(settings, ids, register_a, caplog):
    settings.PRH_API_URL = ""
    customer = organisation(register_a, next(ids))
    with caplog.at_level(logging.INFO, logger="crm.tasks"):
        assert company_register_refresh_nightly() is None
    assert "PRH_API_URL is not set" in caplog.text
    customer.refresh_from_db()
    assert customer.company_data_fetched_at is None


def test_the_nightly_task_refreshes_from_the_daily_file_and_deletes_it(prh, ids, register_a, settings):
    business_id = next(ids)
    customer = organisation(register_a, business_id, organisation_name="Vanha Oy")
    prh.expect_request(f"{API}/all_companies").respond_with_data(
        zip_of([company(business_id, "Uusi Oy"), company(next(ids))]), content_type="application/zip"
    )
    before = timezone.now()
    counts = company_register_refresh_nightly()
    assert counts["compared"] == 1
    assert counts["proposed"] == 1
    customer.refresh_from_db()
    assert customer.company_data_fetched_at >= before
    assert not any(p.is_file() for p in (settings.MEDIA_ROOT / "company_register").rglob("*"))


@pytest.mark.parametrize(
    "answer",
    [
        {"response_data": b"PK\x03\x04 not a whole zip", "content_type": "application/zip"},
        {"response_data": "{}", "status": 500, "content_type": "application/json"},
    ],
    ids=["broken file", "server error"],
)
def test_a_failed_download_fails_the_run_and_changes_nothing(prh, ids, register_a, answer):
    customer = organisation(register_a, next(ids))
    prh.expect_request(f"{API}/all_companies").respond_with_data(**answer)
    with pytest.raises(CompanyRegisterUnavailable):
        company_register_refresh_nightly()
    customer.refresh_from_db()
    assert customer.company_data_fetched_at is None
