"""The duplicate screens as a handler uses them: compare, merge choosing from both sides, follow, undo."""

import io

import pytest
from django.core.management import call_command
from django.db.models import Q
from django.urls import reverse
from django.utils import translation

from crm.models import ContactPerson, Customer
from duplicates.models import CustomerMerge, DuplicateCandidate
from registers.models import Register
from tests.factories import ContactPersonFactory, CustomerFactory, InteractionFactory
from tests.privacy.retention_helpers import open_request_for

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def pair(register_a):
    older = CustomerFactory(
        register=register_a, organisation_name="Kahvila Aalto Oy", city="Helsinki", email="info@aalto.fi"
    )
    newer = CustomerFactory(
        register=register_a, organisation_name="Kahvila Aalto", city="Helsinki", email="myynti@aalto.fi"
    )
    InteractionFactory(customer=newer, subject="Messutapaaminen")
    return older, newer


def _merge_url(register, *records):
    query = "&".join(f"records={record.code}" for record in records)
    return reverse("duplicates:customer-merge", kwargs={"register": register.slug}) + "?" + query


def _form_data(response, **overrides):
    form = response.context["form"]
    data = {name: form[name].value() for name in form.fields if form[name].value() not in (None, False)}
    data["records"] = response.context["codes"]
    data.update(overrides)
    return data


def test_handler_merges_a_candidate_choosing_values_from_both_sides_and_undoes_it(client, register_a, handler_a, pair):
    older, newer = pair
    first, second = sorted(pair, key=lambda customer: customer.pk)
    DuplicateCandidate.objects.create(
        register=register_a, first=first, second=second, score=0.91, reasons=[{"code": "same_city"}]
    )
    client.force_login(handler_a)
    listing = client.get(reverse("duplicates:candidate-list", kwargs={"register": register_a.slug}))
    assert "Kahvila Aalto Oy" in listing.text
    assert _merge_url(register_a, first, second).split("?")[1].replace("&", "&amp;") in listing.text

    compare = client.get(_merge_url(register_a, older, newer))
    assert compare.status_code == 200
    assert "Messutapaaminen" not in compare.text  # the comparison shows fields, not the history
    data = _form_data(
        compare,
        survivor=str(older.code),
        field_organisation_name=str(older.code),
        field_email=str(newer.code),
        reason="sama kahvila",
    )
    response = client.post(_merge_url(register_a, older, newer), data)
    assert response.status_code == 302
    assert response.url == older.get_absolute_url()
    older.refresh_from_db()
    assert (older.organisation_name, older.email) == ("Kahvila Aalto Oy", "myynti@aalto.fi")
    assert older.interactions.get().subject == "Messutapaaminen"

    followed = client.get(newer.get_absolute_url(), follow=True)
    assert followed.redirect_chain[-1][0] == older.get_absolute_url()
    assert "Messutapaaminen" in followed.text

    merge = CustomerMerge.objects.get()
    detail_url = reverse("duplicates:merge-detail", kwargs={"register": register_a.slug, "code": merge.code})
    detail = client.get(detail_url)
    assert "Undo the merge" in detail.text
    assert "myynti@aalto.fi" in detail.text  # the survivor's e-mail before → after
    assert client.post(detail_url, {"reason": ""}).status_code == 200  # a reason is required; nothing undone
    assert not Customer.objects.filter(pk=newer.pk).exists()

    undone = client.post(detail_url, {"reason": "eri yritykset"})
    assert undone.status_code == 302
    assert client.get(newer.get_absolute_url()).status_code == 200
    merge.refresh_from_db()
    assert merge.state == CustomerMerge.State.UNDONE


def test_a_stale_comparison_or_a_forged_choice_comes_back_with_an_error(client, register_a, handler_a, pair):
    older, newer = pair
    client.force_login(handler_a)
    compare = client.get(_merge_url(register_a, older, newer))
    newer.extra_info = "muutettu"
    newer.version += 1
    newer.save()
    response = client.post(_merge_url(register_a, older, newer), _form_data(compare))
    assert response.status_code == 200
    assert "changed while you were choosing" in response.text

    for forged in ({"versions": "rubbish"}, {"survivor": "not-a-code"}, {"field_email": "x"}):
        response = client.post(_merge_url(register_a, older, newer), _form_data(compare, **forged))
        assert response.status_code == 200
    assert Customer.objects.filter(pk__in=[older.pk, newer.pk]).count() == 2


def test_a_record_in_an_open_request_needs_the_acknowledgement(client, register_a, owner_a, handler_a, pair):
    older, newer = pair
    request = open_request_for(owner=owner_a, handler=handler_a, register=register_a, customer=newer)
    client.force_login(handler_a)
    compare = client.get(_merge_url(register_a, older, newer))
    assert request.reference in compare.text
    response = client.post(_merge_url(register_a, older, newer), _form_data(compare))
    assert response.status_code == 200
    assert "confirm that you have seen this" in response.text
    response = client.post(_merge_url(register_a, older, newer), _form_data(compare, acknowledged="on"))
    assert response.status_code == 302


def test_staff_and_other_registers_cannot_merge(client, register_a, staff_a, staff_b, pair):
    older, newer = pair
    client.force_login(staff_a)
    assert client.get(_merge_url(register_a, older, newer)).status_code == 403
    client.force_login(staff_b)
    assert client.get(_merge_url(register_a, older, newer)).status_code == 404


def test_records_of_another_register_or_too_many_look_missing(client, register_a, register_b, handler_a, pair):
    older, _newer = pair
    foreign = CustomerFactory(register=register_b)
    client.force_login(handler_a)
    assert client.get(_merge_url(register_a, older, foreign)).status_code == 404
    many = [CustomerFactory(register=register_a) for _ in range(6)]
    assert client.get(_merge_url(register_a, *many)).status_code == 404


def test_search_adds_a_record_to_the_comparison(client, register_a, handler_a, pair):
    older, newer = pair
    client.force_login(handler_a)
    response = client.get(_merge_url(register_a, older) + "&q=Aalto")
    assert newer.display_name in response.text
    assert f"records={newer.code}" in response.text


def test_contact_persons_are_chosen_then_merged(client, register_a, handler_a):
    organisation = CustomerFactory(register=register_a)
    kept = ContactPersonFactory(customer=organisation, first_name="Matti", last_name="Virtanen")
    twin = ContactPersonFactory(customer=organisation, first_name="Matti", last_name="Virtanen", title="CEO")
    url = reverse("duplicates:contact-person-merge", kwargs={"register": register_a.slug, "code": organisation.code})
    client.force_login(handler_a)
    choose = client.get(url)
    assert f'value="{twin.code}"' in choose.text
    compare = client.get(f"{url}?records={kept.code}&records={twin.code}")
    response = client.post(url, _form_data(compare, survivor=str(kept.code)))
    assert response.status_code == 302
    assert response.url == organisation.get_absolute_url()
    assert list(ContactPerson.objects.values_list("pk", flat=True)) == [kept.pk]


def test_the_demo_has_likely_duplicates_to_merge():
    call_command("load_demo", stdout=io.StringIO())
    for register in Register.objects.filter(kind=Register.Kind.CUSTOMER, parts__isnull=True):
        found = DuplicateCandidate.objects.filter(register=register)
        for twin in Customer.objects.filter(register=register, source=Customer.Source.IMPORTED):
            assert found.filter(Q(first=twin) | Q(second=twin)).exists(), twin


def test_a_code_in_capitals_names_the_same_record(client, register_a, handler_a, pair):
    older, newer = pair
    client.force_login(handler_a)
    url = reverse("duplicates:customer-merge", kwargs={"register": register_a.slug})
    response = client.get(f"{url}?records={str(older.code).upper()}&records={newer.code}&records={older.code}")
    assert response.status_code == 200
    assert [record.pk for record in response.context["records"]] == [older.pk, newer.pk]
