import re

import pytest
from auditlog.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError

from registers import accounts
from registers.models import CommitmentAcceptance, Membership, Role
from registers.selectors import register_list

from ..conftest import grant
from ..factories import DEFAULT_PASSWORD, OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db


def fresh(user):
    return get_user_model().objects.get(pk=user.pk)


def test_a_main_user_creates_an_account_without_a_password_and_a_link_is_mailed(
    main_user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        user = accounts.user_create(
            actor=main_user,
            username="liisa.virtanen",
            first_name="Liisa",
            last_name="Virtanen",
            email="liisa.virtanen@kemi.example.fi",
            reason="Uusi yritysneuvoja",
        )
    assert not user.has_usable_password()
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["liisa.virtanen@kemi.example.fi"]
    assert "liisa.virtanen" in mail.outbox[0].body
    entry = LogEntry.objects.get_for_object(user).get(action=LogEntry.Action.CREATE, actor=main_user)
    assert entry.additional_data == {"reason": "Uusi yritysneuvoja"}


def test_the_mailed_link_lets_the_new_user_choose_a_password(main_user, client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        user = accounts.user_create(
            actor=main_user, username="uusi", first_name="U", last_name="K", email="u@example.fi", reason="x"
        )
    link = re.search(r"https?://\S+/accounts/reset/\S+/", mail.outbox[0].body).group(0)
    path = link.split("://", 1)[1].split("/", 1)[1]
    response = client.get(f"/{path}", follow=True)
    assert response.status_code == 200
    form_url = response.redirect_chain[-1][0]
    password = "pitkä ja vahva salasana 2026"
    response = client.post(form_url, {"new_password1": password, "new_password2": password})
    assert response.status_code == 302
    assert fresh(user).check_password(password)


def test_a_staff_user_cannot_create_accounts(staff_a):
    with pytest.raises(PermissionDenied):
        accounts.user_create(actor=staff_a, username="x", first_name="x", last_name="x", email="x@x.fi", reason="x")


def test_a_handler_may_create_accounts(handler_a):
    user = accounts.user_create(
        actor=handler_a, username="apulainen", first_name="A", last_name="B", email="a@b.fi", reason="x"
    )
    assert not register_list(user=user).exists()


def test_a_taken_username_is_refused_whatever_its_case(main_user, staff_a):
    with pytest.raises(ValidationError) as error:
        accounts.user_create(
            actor=main_user, username="STAFF_A", first_name="x", last_name="x", email="x@x.fi", reason="x"
        )
    assert accounts.ERROR_USERNAME_TAKEN in error.value.message_dict["username"]


def test_deactivation_ends_roles_sessions_and_sign_in(main_user, register_a, staff_a, client):
    grant(staff_a, register_a, Role.HANDLER)
    client.force_login(staff_a)
    other = type(client)()
    other.force_login(staff_a)
    assert Session.objects.count() == 2

    result = accounts.user_deactivate(actor=main_user, user=staff_a, reason="Työsuhde päättyi")

    assert result == {"memberships": 2, "sessions": 2}
    assert not Session.objects.exists()
    staff_a = fresh(staff_a)
    assert not staff_a.is_active
    assert not register_list(user=staff_a).exists()
    assert set(Membership.objects.filter(user=staff_a).values_list("end_reason", flat=True)) == {"Työsuhde päättyi"}
    assert not staff_a.groups.exists()
    response = client.get(f"/crm/{register_a.slug}/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    entry = LogEntry.objects.get_for_object(staff_a).get(action=LogEntry.Action.UPDATE)
    assert entry.actor == main_user
    assert entry.additional_data["reason"] == "Työsuhde päättyi"
    assert entry.changes_dict == {"is_active": ["True", "False"]}


def test_a_deactivated_user_cannot_sign_in(main_user, staff_a, client):
    accounts.user_deactivate(actor=main_user, user=staff_a, reason="Työsuhde päättyi")
    response = client.post("/accounts/login/", {"username": "staff_a", "password": DEFAULT_PASSWORD})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_only_a_main_user_deactivates_and_never_themselves(main_user, owner_a, staff_a):
    with pytest.raises(PermissionDenied):
        accounts.user_deactivate(actor=owner_a, user=staff_a, reason="x")
    with pytest.raises(ValidationError):
        accounts.user_deactivate(actor=main_user, user=main_user, reason="x")
    with pytest.raises(ValidationError):
        accounts.user_deactivate(actor=main_user, user=staff_a, reason="  ")
    assert fresh(staff_a).is_active


def test_other_users_sessions_survive_a_deactivation(main_user, staff_a, client):
    bystander = UserFactory()
    client.force_login(bystander)
    accounts.user_deactivate(actor=main_user, user=staff_a, reason="x")
    assert client.get("/").status_code == 200


def test_commitment_versions_are_numbered_per_organisation(main_user):
    kemi, naantali = OrganisationFactory(), OrganisationFactory()
    first = accounts.commitment_publish(actor=main_user, organisation=kemi, text_fi="a", text_sv="a", text_en="a")
    second = accounts.commitment_publish(actor=main_user, organisation=kemi, text_fi="b", text_sv="b", text_en="b")
    other = accounts.commitment_publish(actor=main_user, organisation=naantali, text_fi="c", text_sv="c", text_en="c")
    assert (first.version, second.version, other.version) == (1, 2, 1)


def test_only_a_main_user_publishes_a_commitment(owner_a, register_a):
    with pytest.raises(PermissionDenied):
        accounts.commitment_publish(
            actor=owner_a, organisation=register_a.organisation, text_fi="a", text_sv="a", text_en="a"
        )


def test_an_acceptance_stores_user_version_time_and_address(main_user, staff_a, register_a):
    commitment = accounts.commitment_publish(
        actor=main_user, organisation=register_a.organisation, text_fi="a", text_sv="a", text_en="a"
    )
    acceptance = accounts.commitment_accept(user=staff_a, commitment=commitment, remote_addr="10.0.0.7")
    again = accounts.commitment_accept(user=staff_a, commitment=commitment, remote_addr="10.0.0.8")
    assert again.pk == acceptance.pk
    assert (acceptance.user, acceptance.commitment.version, acceptance.remote_addr) == (staff_a, 1, "10.0.0.7")
    assert acceptance.accepted_at is not None


def test_an_old_version_cannot_be_accepted(main_user, staff_a, register_a):
    organisation = register_a.organisation
    old = accounts.commitment_publish(actor=main_user, organisation=organisation, text_fi="a", text_sv="a", text_en="a")
    accounts.commitment_publish(actor=main_user, organisation=organisation, text_fi="b", text_sv="b", text_en="b")
    with pytest.raises(ValidationError):
        accounts.commitment_accept(user=staff_a, commitment=old, remote_addr=None)
    assert not CommitmentAcceptance.objects.exists()
