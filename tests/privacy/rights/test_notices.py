"""The versioned notice texts (issue 22): added by a register's owner or a main user, never changed once saved, the
version in force chosen by its start, and the owner's pages that list and add them."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone, translation

from privacy.rights import consent, notices, selectors
from privacy.rights.models import ERROR_NOTICE_APPEND_ONLY, ERROR_NOTICE_TEXT_REQUIRED, ConsentNotice, ConsentRecord

from ...conftest import TwoFactorClient
from ...factories import ConsentNoticeFactory, PersonCustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def client():
    # The assertions read the pages in English; the UI's default language is Finnish.
    return TwoFactorClient(HTTP_ACCEPT_LANGUAGE="en")


Kind = ConsentNotice.Kind
Purpose = ConsentRecord.Purpose


def create(actor, register, **changes):
    data = {
        "kind": Kind.CONSENT,
        "purpose": Purpose.NEWSLETTER,
        "version": "2026-1",
        "valid_from": timezone.localdate(),
        "text_fi": "Suostun uutiskirjeeseen.",
        "text_sv": "Jag samtycker till nyhetsbrevet.",
        "text_en": "I agree to the newsletter.",
        **changes,
    }
    return notices.consent_notice_create(actor=actor, register=register, **data)


def test_an_owner_adds_a_version_that_is_in_force_at_once(register_a, owner_a):
    notice = create(owner_a, register_a)
    assert selectors.notice_in_force(register=register_a, kind=Kind.CONSENT, purpose=Purpose.NEWSLETTER) == notice
    assert notice.created_by == owner_a
    assert notice.languages == ["fi", "sv", "en"]
    assert notice.text_in("text", "sv") == ("Jag samtycker till nyhetsbrevet.", "sv")


def test_only_an_owner_or_a_main_user_adds_one(register_a, staff_a, handler_a, main_user):
    for user in (staff_a, handler_a):
        with pytest.raises(PermissionDenied):
            create(user, register_a)
    assert create(main_user, register_a).created_by == main_user


def test_a_version_never_changes_once_saved(register_a, owner_a):
    notice = create(owner_a, register_a)
    customer = PersonCustomerFactory(register=register_a)
    consent.consent_give(
        actor=owner_a, customer=customer, purpose=Purpose.NEWSLETTER, channel="phone", notice=notice, language="fi"
    )
    notice.text_fi = "Toinen teksti"
    with pytest.raises(ValidationError) as caught:
        notice.save()
    assert caught.value.messages == [str(ERROR_NOTICE_APPEND_ONLY)]
    for attempt in (
        lambda: ConsentNotice.objects.filter(pk=notice.pk).update(text_fi="Toinen teksti"),
        lambda: ConsentNotice.objects.filter(pk=notice.pk).delete(),
        lambda: notice.delete(),
    ):
        with pytest.raises(ValidationError):
            attempt()
    notice.refresh_from_db()
    assert notice.text_fi == "Suostun uutiskirjeeseen."
    # The consent still names the text it was given after.
    assert ConsentRecord.objects.get(customer=customer).notice_text == "Suostun uutiskirjeeseen."


def test_a_version_starts_today_or_later_and_never_before_the_one_it_follows(register_a, owner_a):
    with pytest.raises(ValidationError) as caught:
        create(owner_a, register_a, valid_from=timezone.localdate() - datetime.timedelta(days=1))
    assert "valid_from" in caught.value.message_dict
    create(owner_a, register_a, version="2", valid_from=timezone.localdate() + datetime.timedelta(days=10))
    with pytest.raises(ValidationError) as caught:
        create(owner_a, register_a, version="3", valid_from=timezone.localdate() + datetime.timedelta(days=5))
    assert caught.value.message_dict["valid_from"] == ["A new version cannot start before version 2, which it follows."]
    # The same label twice for one purpose is refused; another purpose may use it.
    with pytest.raises(ValidationError) as caught:
        create(owner_a, register_a, version="2", valid_from=timezone.localdate() + datetime.timedelta(days=20))
    assert "This register already has a version with this label for the same purpose." in caught.value.messages
    create(owner_a, register_a, version="2", purpose=Purpose.RESEARCH)


def test_a_notice_needs_a_text_and_a_purpose_of_its_kind(register_a, owner_a):
    with pytest.raises(ValidationError) as caught:
        create(owner_a, register_a, text_fi="", text_sv=" ", text_en="")
    assert "Write the notice in at least one language." in caught.value.messages
    with pytest.raises(ValidationError) as caught:
        create(owner_a, register_a, kind=Kind.OBJECTION, purpose=Purpose.NEWSLETTER)
    assert caught.value.message_dict["purpose"] == ["This purpose does not fit this kind of notice."]


def test_the_version_in_force_at_a_past_moment_is_reproducible(register_a):
    old = ConsentNoticeFactory(register=register_a, valid_from=timezone.now() - datetime.timedelta(days=30))
    new = ConsentNoticeFactory(register=register_a, valid_from=timezone.now() - datetime.timedelta(days=2))
    week_ago = timezone.now() - datetime.timedelta(days=7)
    assert selectors.notice_in_force(register=register_a, kind=Kind.CONSENT, purpose=Purpose.NEWSLETTER) == new
    found = selectors.notice_in_force(register=register_a, kind=Kind.CONSENT, purpose=Purpose.NEWSLETTER, at=week_ago)
    assert found == old


# The owner's pages ------------------------------------------------------------------------------------------------


def list_url(register):
    return reverse("privacy:notices", kwargs={"register": register.slug})


def create_url(register):
    return reverse("privacy:notice-create", kwargs={"register": register.slug})


FORM = {
    "use": "consent:newsletter",
    "version": "2026-1",
    "valid_from": "",
    "text_fi": "Suostun uutiskirjeeseen.",
    "text_sv": "Jag samtycker till nyhetsbrevet.",
    "text_en": "I agree to the newsletter.",
}


def test_the_owner_lists_and_adds_versions(client, register_a, owner_a):
    client.force_login(owner_a)
    form = {**FORM, "valid_from": timezone.localdate().isoformat()}

    response = client.post(create_url(register_a), form)

    assert response.status_code == 302
    notice = ConsentNotice.objects.get(register=register_a)
    assert (notice.kind, notice.purpose, notice.version) == (Kind.CONSENT, Purpose.NEWSLETTER, "2026-1")
    page = client.get(list_url(register_a)).content.decode()
    assert "I agree to the newsletter." in page
    assert "2026-1" in page
    # Used versions say they cannot change.
    consent.consent_give(
        actor=owner_a,
        customer=PersonCustomerFactory(register=register_a),
        purpose=Purpose.NEWSLETTER,
        channel="phone",
        notice=notice,
        language="en",
    )
    assert "in use: cannot change" in client.get(list_url(register_a)).content.decode()


def test_the_form_answers_mistakes_with_translated_errors(register_a, owner_a):
    client = TwoFactorClient(HTTP_ACCEPT_LANGUAGE="fi")
    client.force_login(owner_a)
    yesterday = (timezone.localdate() - datetime.timedelta(days=1)).isoformat()
    blank = {**FORM, "valid_from": yesterday, "text_fi": "", "text_sv": "", "text_en": ""}

    response = client.post(create_url(register_a), blank)

    assert response.status_code == 200
    assert not ConsentNotice.objects.exists()
    # In the page's language (the catalogue's Finnish once the lead merges the branch's messages).
    with translation.override("fi"):
        assert str(ERROR_NOTICE_TEXT_REQUIRED) in response.content.decode()
    # The start in the past is refused by the service once the texts are there.
    response = client.post(create_url(register_a), {**FORM, "valid_from": yesterday})
    with translation.override("fi"):
        assert str(notices.ERROR_VALID_FROM_PAST) in response.content.decode()
    assert not ConsentNotice.objects.exists()


def test_staff_are_refused_and_other_registers_look_missing(client, register_a, register_b, staff_a, staff_b):
    client.force_login(staff_a)
    assert client.get(list_url(register_a)).status_code == 403
    form = {**FORM, "valid_from": timezone.localdate().isoformat()}
    assert client.post(create_url(register_a), form).status_code == 403
    assert client.get(list_url(register_b)).status_code == 404
    client.force_login(staff_b)
    assert client.get(list_url(register_a)).status_code == 404
    assert not ConsentNotice.objects.exists()


def test_a_main_user_manages_every_registers_notices(client, register_a, main_user):
    client.force_login(main_user)
    assert client.get(list_url(register_a)).status_code == 200
    response = client.post(create_url(register_a), {**FORM, "valid_from": timezone.localdate().isoformat()})
    assert response.status_code == 302
    assert ConsentNotice.objects.get().created_by == main_user
