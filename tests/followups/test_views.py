"""Follow-up pages: each URL answers its own register, hides another register's follow-ups (404) and refuses
read-only roles (403); the customer page shows the open follow-ups and the done ones on its timeline."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from followups import services
from followups.models import FollowUp
from registers.models import UserProfile

from ..factories import ContactPersonFactory, CustomerFactory
from .factories import FollowUpFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

TODAY = timezone.localdate()


@pytest.fixture
def customer(register_a):
    return CustomerFactory(register=register_a, organisation_name="Seurattava Oy")


@pytest.fixture
def followup(customer, staff_a):
    return FollowUpFactory(customer=customer, assignee=staff_a, note="Lähetä tarjous")


def create_url(customer) -> str:
    return reverse("followups:followup-create", kwargs={"register": customer.register.slug, "code": customer.code})


def followup_url(name: str, followup, register=None) -> str:
    slug = (register or followup.customer.register).slug
    return reverse(f"followups:{name}", kwargs={"register": slug, "followup": followup.code})


PER_FOLLOWUP = ["followup-update", "followup-done", "followup-reopen", "followup-delete"]
FORM_PAGES = ["followup-update", "followup-delete"]


def test_staff_add_a_follow_up_from_the_customer_page(client, staff_a, handler_a, customer):
    person = ContactPersonFactory(customer=customer, first_name="Maija", last_name="Meikäläinen")
    client.force_login(staff_a)
    page = client.get(customer.get_absolute_url()).content.decode()
    assert create_url(customer) in page
    assert client.get(create_url(customer)).status_code == 200
    due = TODAY + datetime.timedelta(days=2)
    response = client.post(
        create_url(customer),
        {
            "assignee": handler_a.pk,
            "due_on": due.isoformat(),
            "note": "Soita tarjouksesta",
            "contact_person": person.code,
        },
    )
    assert response.status_code == 302
    followup = FollowUp.objects.get()
    assert (followup.assignee, followup.due_on, followup.contact_person) == (handler_a, due, person)
    page = client.get(customer.get_absolute_url()).content.decode()
    assert "Soita tarjouksesta" in page
    assert "Maija Meikäläinen" in page


def test_the_form_offers_only_the_registers_people_and_needs_a_due_date(client, staff_a, staff_b, customer):
    client.force_login(staff_a)
    response = client.post(create_url(customer), {"assignee": staff_b.pk, "due_on": "", "note": "x"})
    assert response.status_code == 200
    form = response.context["form"]
    assert set(form.errors) == {"assignee", "due_on"}
    assert not FollowUp.objects.exists()


@pytest.mark.parametrize("value", ["31.2.2026", "0001-01-01", "99999-01-01", "x" * 200])
def test_a_bad_due_date_is_a_form_error(client, staff_a, customer, value):
    client.force_login(staff_a)
    response = client.post(create_url(customer), {"assignee": staff_a.pk, "due_on": value})
    assert response.status_code == 200
    assert "due_on" in response.context["form"].errors


def test_a_restricted_customer_takes_no_new_follow_up(client, staff_a, owner_a, customer):
    from crm.services import customer_restriction_set

    customer_restriction_set(actor=owner_a, customer=customer, restricted=True)
    client.force_login(staff_a)
    assert create_url(customer) not in client.get(customer.get_absolute_url()).content.decode()
    response = client.post(create_url(customer), {"assignee": staff_a.pk, "due_on": TODAY.isoformat()})
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        "Processing of this customer's data is restricted; it cannot be changed."
    ]
    assert not FollowUp.objects.exists()


def test_the_create_page_is_404_in_another_register_and_403_for_read_only(
    client, staff_b, readonly_a, customer, register_b
):
    client.force_login(staff_b)
    assert client.get(create_url(customer)).status_code == 404
    # The customer named under the user's own register is not found there either.
    other = reverse("followups:followup-create", kwargs={"register": register_b.slug, "code": customer.code})
    assert client.get(other).status_code == 404
    client.force_login(readonly_a)
    assert client.get(create_url(customer)).status_code == 403
    assert client.post(create_url(customer), {}).status_code == 403


@pytest.mark.parametrize("name", FORM_PAGES)
def test_the_follow_up_pages_open_for_staff_of_the_register(client, staff_a, followup, name):
    client.force_login(staff_a)
    assert client.get(followup_url(name, followup)).status_code == 200


@pytest.mark.parametrize("name", PER_FOLLOWUP)
def test_another_registers_follow_up_is_not_found(client, staff_b, register_b, followup, name):
    client.force_login(staff_b)
    for url in (followup_url(name, followup), followup_url(name, followup, register=register_b)):
        assert client.post(url, {}).status_code == 404


@pytest.mark.parametrize("name", PER_FOLLOWUP)
def test_a_read_only_role_gets_403_on_post(client, readonly_a, followup, name):
    client.force_login(readonly_a)
    assert client.post(followup_url(name, followup), {}).status_code == 403
    assert FollowUp.objects.get().done_at is None


@pytest.mark.parametrize("name", ["followup-done", "followup-reopen"])
def test_done_and_reopen_change_nothing_on_get(client, staff_a, followup, name):
    client.force_login(staff_a)
    assert client.get(followup_url(name, followup)).status_code == 405


def test_done_moves_the_follow_up_to_the_timeline_and_reopen_brings_it_back(client, staff_a, followup):
    staff_a.first_name, staff_a.last_name = "Sanna", "Staff"
    staff_a.save()
    client.force_login(staff_a)
    response = client.post(followup_url("followup-done", followup), {"next": "https://evil.example/"})
    assert response.status_code == 302
    assert response.url == followup.customer.get_absolute_url()
    page = client.get(followup.customer.get_absolute_url()).content.decode()
    timeline = page[page.index('id="timeline"') :]
    assert "Follow-up done" in timeline
    assert "Lähetä tarjous" in timeline
    assert "Done by Sanna Staff." in timeline
    assert "No open follow-ups." in page
    client.post(followup_url("followup-reopen", followup))
    page = client.get(followup.customer.get_absolute_url()).content.decode()
    assert "Follow-up done" not in page[page.index('id="timeline"') :]
    assert FollowUp.objects.get().done_at is None


def test_the_timeline_shows_the_first_line_as_title_and_open_follow_ups_not_at_all(client, staff_a, customer):
    open_one = FollowUpFactory(customer=customer, assignee=staff_a, note="Avoin asia")
    done = services.followup_create(
        actor=staff_a, customer=customer, assignee=staff_a, due_on=TODAY, note="Otsikko\nLisätietoa tässä"
    )
    services.followup_done(actor=staff_a, followup=done)
    client.force_login(staff_a)
    page = client.get(customer.get_absolute_url()).content.decode()
    timeline = page[page.index('id="timeline"') :]
    assert open_one.note not in timeline
    assert "Otsikko</p>" in timeline.replace(" </p>", "</p>")
    assert "Lisätietoa tässä" in timeline


def test_edit_saves_the_changes(client, staff_a, owner_a, followup):
    client.force_login(staff_a)
    due = TODAY + datetime.timedelta(days=30)
    response = client.post(
        followup_url("followup-update", followup), {"assignee": owner_a.pk, "due_on": due.isoformat(), "note": "Uusi"}
    )
    assert response.status_code == 302
    followup.refresh_from_db()
    assert (followup.assignee, followup.due_on, followup.note) == (owner_a, due, "Uusi")


def test_delete_asks_then_removes(client, staff_a, followup):
    client.force_login(staff_a)
    assert "Lähetä tarjous" in client.get(followup_url("followup-delete", followup)).content.decode()
    assert client.post(followup_url("followup-delete", followup)).status_code == 302
    assert not FollowUp.objects.exists()


def test_my_follow_ups_list_only_mine_overdue_first(client, staff_a, handler_a, customer):
    late = FollowUpFactory(
        customer=customer, assignee=staff_a, due_on=TODAY - datetime.timedelta(days=5), note="Myöhässä"
    )
    soon = FollowUpFactory(customer=customer, assignee=staff_a, due_on=TODAY + datetime.timedelta(days=1), note="Pian")
    FollowUpFactory(customer=customer, assignee=handler_a, note="Toisen työ")
    client.force_login(staff_a)
    html = client.get(reverse("followups:mine")).content.decode()
    assert html.index(late.note) < html.index(soon.note)
    assert "Toisen työ" not in html
    assert "overdue" in html


@pytest.mark.parametrize("user", ["staff_a", "readonly_a", "staff_b"])
def test_every_signed_in_user_has_a_my_follow_ups_page(client, request, user):
    client.force_login(request.getfixturevalue(user))
    assert client.get(reverse("followups:mine")).status_code == 200


def test_anonymous_visitors_are_sent_to_sign_in(client, followup):
    for url in (reverse("followups:mine"), create_url(followup.customer), followup_url("followup-done", followup)):
        response = client.get(url) if "done" not in url else client.post(url)
        assert response.status_code == 302
        assert "/login/" in response.url or "login" in response.url


def test_the_digest_setting_toggles_on_the_my_follow_ups_page(client, staff_a):
    client.force_login(staff_a)
    assert client.post(reverse("followups:digest-setting"), {}).status_code == 302
    assert UserProfile.objects.get(user=staff_a).followup_digest is False
    client.post(reverse("followups:digest-setting"), {"followup_digest": "on"})
    assert UserProfile.objects.get(user=staff_a).followup_digest is True
    assert client.get(reverse("followups:digest-setting")).status_code == 405


def test_the_card_marks_overdue_ones_and_offers_undo_for_a_recent_done_one(client, staff_a, customer):
    late = FollowUpFactory(customer=customer, assignee=staff_a, due_on=TODAY - datetime.timedelta(days=1))
    done = FollowUpFactory(customer=customer, assignee=staff_a, done_at=timezone.now(), note="Juuri tehty")
    FollowUpFactory(
        customer=customer, assignee=staff_a, done_at=timezone.now() - datetime.timedelta(days=30), note="Vanha"
    )
    client.force_login(staff_a)
    page = client.get(customer.get_absolute_url()).content.decode()
    card = page[page.index('id="followups-heading"') : page.index('id="details-heading"')]
    assert "overdue" in card
    assert followup_url("followup-done", late) in card
    assert "Juuri tehty" in card
    assert followup_url("followup-reopen", done) in card
    assert "Vanha" not in card


def test_a_read_only_role_sees_the_card_without_controls(client, readonly_a, followup):
    client.force_login(readonly_a)
    page = client.get(followup.customer.get_absolute_url()).content.decode()
    card = page[page.index('id="followups-heading"') : page.index('id="details-heading"')]
    assert followup.note in card
    assert followup_url("followup-done", followup) not in card
    assert create_url(followup.customer) not in card
