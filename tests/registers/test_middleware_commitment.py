import pytest

from registers import accounts
from registers.models import CommitmentAcceptance

from ..factories import CustomerFactory, OrganisationFactory, RegisterFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def commitment_a(main_user, register_a):
    return accounts.commitment_publish(
        actor=main_user,
        organisation=register_a.organisation,
        text_fi="Sitoudun pitämään salassa rekisterin tiedot.",
        text_sv="Jag förbinder mig att hålla registrets uppgifter hemliga.",
        text_en="I undertake to keep the register's data confidential.",
    )


def test_a_user_who_has_not_accepted_is_sent_to_the_commitment(client, staff_a, register_a, commitment_a):
    client.force_login(staff_a)
    customer = CustomerFactory(register=register_a)
    for url in ["/", f"/crm/{register_a.slug}/", customer.get_absolute_url(), "/accounts/password/"]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/registers/commitment/"), url


def test_the_commitment_page_shows_the_text_in_the_users_language(client, staff_a, commitment_a):
    client.force_login(staff_a)
    response = client.get("/registers/commitment/", HTTP_ACCEPT_LANGUAGE="sv")
    assert "Jag förbinder mig" in response.content.decode()


def test_signing_out_and_changing_language_stay_possible(client, staff_a, commitment_a):
    client.force_login(staff_a)
    assert client.post("/i18n/setlang/", {"language": "sv", "next": "/"}).status_code == 302
    client.post("/accounts/logout/")
    assert "_auth_user_id" not in client.session


def test_accepting_opens_the_registers_and_returns_to_the_page_asked_for(client, staff_a, register_a, commitment_a):
    client.force_login(staff_a)
    target = f"/crm/{register_a.slug}/"
    response = client.post(
        f"/registers/commitment/{commitment_a.code}/accept/", {"next": target}, REMOTE_ADDR="192.0.2.4"
    )
    assert response.status_code == 302
    assert response["Location"] == target
    assert client.get(target).status_code == 200
    acceptance = CommitmentAcceptance.objects.get(user=staff_a)
    assert acceptance.remote_addr == "192.0.2.4"


def test_an_outside_next_address_is_ignored(client, staff_a, commitment_a):
    client.force_login(staff_a)
    response = client.post(f"/registers/commitment/{commitment_a.code}/accept/", {"next": "https://evil.example/"})
    assert response["Location"] == "/"


def test_a_new_version_must_be_accepted_again(client, main_user, staff_a, register_a, commitment_a):
    accounts.commitment_accept(user=staff_a, commitment=commitment_a, remote_addr=None)
    client.force_login(staff_a)
    assert client.get("/").status_code == 200
    accounts.commitment_publish(
        actor=main_user, organisation=register_a.organisation, text_fi="v2", text_sv="v2", text_en="v2"
    )
    assert client.get("/").status_code == 302


def test_a_user_of_two_organisations_accepts_both(client, main_user, staff_a, register_a, commitment_a):
    from ..conftest import grant

    other = RegisterFactory(organisation=OrganisationFactory(name_fi="Naantalin kaupunki"))
    grant(staff_a, other, "staff")
    second = accounts.commitment_publish(
        actor=main_user, organisation=other.organisation, text_fi="N", text_sv="N", text_en="N"
    )
    client.force_login(staff_a)
    response = client.post(f"/registers/commitment/{commitment_a.code}/accept/", {"next": "/"})
    assert response["Location"].startswith("/registers/commitment/")
    client.post(f"/registers/commitment/{second.code}/accept/", {"next": "/"})
    assert client.get("/").status_code == 200


def test_another_organisations_commitment_does_not_apply(client, main_user, staff_a):
    accounts.commitment_publish(
        actor=main_user, organisation=OrganisationFactory(name_fi="Muu"), text_fi="x", text_sv="x", text_en="x"
    )
    client.force_login(staff_a)
    assert client.get("/").status_code == 200


def test_a_main_user_accepts_every_organisations_commitment(client, main_user, commitment_a):
    client.force_login(main_user)
    assert client.get("/").status_code == 302


def test_a_commitment_of_another_organisation_cannot_be_accepted_through_the_url(client, main_user, staff_a):
    foreign = accounts.commitment_publish(
        actor=main_user, organisation=OrganisationFactory(name_fi="Muu"), text_fi="x", text_sv="x", text_en="x"
    )
    client.force_login(staff_a)
    assert client.post(f"/registers/commitment/{foreign.code}/accept/").status_code == 404
    assert not CommitmentAcceptance.objects.exists()


def test_anonymous_visitors_still_reach_the_login_page(client, commitment_a):
    assert client.get("/accounts/login/").status_code == 200


def _commitments_of_other_organisations(main_user, count):
    return [
        accounts.commitment_publish(
            actor=main_user,
            organisation=OrganisationFactory(name_fi=f"Kunta {n}"),
            text_fi="x",
            text_sv="x",
            text_en="x",
        )
        for n in range(count)
    ]


def test_a_main_user_accepts_every_commitment_on_one_page_with_one_click(client, main_user, commitment_a):
    others = _commitments_of_other_organisations(main_user, 4)
    client.force_login(main_user)
    page = client.get("/registers/commitment/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert page.count('class="card commitment"') == 5
    assert "accept them all" in page
    codes = [str(c.code) for c in [commitment_a, *others]]
    response = client.post("/registers/commitment/", {"code": codes, "next": "/"}, REMOTE_ADDR="192.0.2.9")
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert CommitmentAcceptance.objects.filter(user=main_user, remote_addr="192.0.2.9").count() == 5
    assert client.get("/").status_code == 200


def test_a_version_published_after_the_page_was_shown_is_not_accepted_unseen(client, main_user, commitment_a):
    (shown,) = _commitments_of_other_organisations(main_user, 1)
    client.force_login(main_user)
    response = client.post("/registers/commitment/", {"code": [str(shown.code)], "next": "/crm/"})
    assert response["Location"].startswith("/registers/commitment/")
    assert list(CommitmentAcceptance.objects.values_list("commitment", flat=True)) == [shown.pk]
    assert client.get("/").status_code == 302


def test_posting_no_commitment_accepts_nothing(client, staff_a, commitment_a):
    client.force_login(staff_a)
    response = client.post("/registers/commitment/", {"code": ["not-a-code"], "next": "/"})
    assert response.status_code == 200
    assert not CommitmentAcceptance.objects.exists()


def test_a_commitment_of_another_organisation_cannot_be_accepted_on_the_page(client, main_user, staff_a):
    (foreign,) = _commitments_of_other_organisations(main_user, 1)
    client.force_login(staff_a)
    client.post("/registers/commitment/", {"code": [str(foreign.code)], "next": "/"})
    assert not CommitmentAcceptance.objects.exists()
