"""The evidence of consents, withdrawals and objections (GDPR 7(1), 7(3), 21; issue 22): for every way one is
recorded, which text was shown (the exact version and its language), when, how and by whom.

PRIVACY.md's rows "Withdrawal of consent" (7(3)) and "Objection" (21) name the history; art. 7(1) ("the controller
shall be able to demonstrate that the data subject has consented") is what the first test proves, channel by
channel, from what an auditor sees on the customer's page.
"""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from privacy.requests.models import DataSubjectRequest
from privacy.rights import consent, notices
from privacy.rights import services as rights
from privacy.rights.marketing import marketing_objection_by_address
from privacy.rights.models import (
    ERROR_NOTICE_NOT_IN_LANGUAGE,
    ERROR_WITHDRAWN_BEFORE_GIVEN,
    ConsentNotice,
    ConsentRecord,
    ObjectionRecord,
)

from ...conftest import TwoFactorClient
from ...factories import ConsentNoticeFactory, PersonCustomerFactory
from .. import rights_steps

pytestmark = pytest.mark.django_db


@pytest.fixture
def client():
    # The assertions read the pages in English; the UI's default language is Finnish.
    return TwoFactorClient(HTTP_ACCEPT_LANGUAGE="en")


Channel = ConsentRecord.Channel
Purpose = ConsentRecord.Purpose


@pytest.fixture
def newsletter(register_a):
    return ConsentNoticeFactory(register=register_a, purpose=Purpose.NEWSLETTER, version="2026-1")


def give_url(customer):
    return reverse("privacy:customer-consent-give", kwargs={"register": customer.register.slug, "code": customer.code})


def consents_url(customer):
    return reverse("privacy:customer-consents", kwargs={"register": customer.register.slug, "code": customer.code})


@pytest.mark.parametrize("channel", [c.value for c in ConsentRecord.STAFF_CHANNELS])
def test_art_7_1_the_controller_can_demonstrate_each_consent_for_each_channel(
    client, register_a, staff_a, newsletter, channel
):
    customer = PersonCustomerFactory(register=register_a, language="sv")
    client.force_login(staff_a)
    page = client.get(consents_url(customer)).content.decode()
    # The text to read out is on the page, in each of its languages, with the form that records it.
    assert newsletter.text_sv in page
    assert str(newsletter.code) in page

    before = timezone.now()
    response = client.post(
        give_url(customer),
        {"purpose": Purpose.NEWSLETTER, "notice": str(newsletter.code), "language": "sv", "channel": channel},
    )

    assert response.status_code == 302
    record = ConsentRecord.objects.get(customer=customer)
    # Which text, which version, in which language, when, how and by whom: all on the record.
    assert (record.notice, record.notice_language, record.given_channel) == (newsletter, "sv", channel)
    assert record.notice_text == newsletter.text_sv
    assert before <= record.given_at <= timezone.now()
    assert record.recorded_by == staff_a
    # And what an auditor reads on the customer's page.
    client.get(customer.get_absolute_url())
    detail = client.get(customer.get_absolute_url()).content.decode()
    assert "Version 2026-1, shown in Swedish" in detail
    assert newsletter.text_sv in detail
    assert str(ConsentRecord.Channel(channel).label) in detail
    assert "recorded by" in detail
    assert staff_a.get_full_name() in detail


def test_art_7_1_a_consent_given_by_the_person_themself_names_no_user(register_a, newsletter):
    customer = PersonCustomerFactory(register=register_a)
    record = consent.consent_give(
        actor=None, customer=customer, purpose=Purpose.NEWSLETTER, channel=Channel.WEB, notice=newsletter, language="en"
    )
    assert (record.recorded_by, record.given_channel, record.notice_text) == (None, Channel.WEB, newsletter.text_en)


def test_no_consent_without_the_notice_in_force_once_the_register_has_notices(client, register_a, staff_a, newsletter):
    customer = PersonCustomerFactory(register=register_a)
    # Research has no text in this register, which has texts for other purposes.
    with pytest.raises(ValidationError) as caught:
        consent.consent_give(actor=staff_a, customer=customer, purpose=Purpose.RESEARCH, channel=Channel.PHONE)
    assert caught.value.message_dict["purpose"] == [
        "This register has no consent text in force for market and opinion research: its owner must add one "
        "before such a consent can be recorded."
    ]
    # The newsletter has one: it must be named.
    with pytest.raises(ValidationError) as caught:
        consent.consent_give(actor=staff_a, customer=customer, purpose=Purpose.NEWSLETTER, channel=Channel.PHONE)
    assert caught.value.message_dict["notice"] == [str(consent.ERROR_NOTICE_REQUIRED)]

    client.force_login(staff_a)
    response = client.post(give_url(customer), {"purpose": Purpose.RESEARCH, "channel": "phone"}, follow=True)

    assert response.status_code == 200
    assert "no consent text in force for market and opinion research" in response.content.decode()
    assert not ConsentRecord.objects.exists()


def test_a_version_no_longer_in_force_or_of_another_use_is_refused(client, register_a, register_b, staff_a, newsletter):
    customer = PersonCustomerFactory(register=register_a)
    newer = ConsentNoticeFactory(register=register_a, purpose=Purpose.NEWSLETTER, version="2026-2")
    foreign = ConsentNoticeFactory(register=register_b, purpose=Purpose.NEWSLETTER)
    for stale in (newsletter, foreign):
        with pytest.raises(ValidationError) as caught:
            consent.consent_give(
                actor=staff_a,
                customer=customer,
                purpose=Purpose.NEWSLETTER,
                channel=Channel.PHONE,
                notice=stale,
                language="fi",
            )
        assert caught.value.message_dict["notice"] == [str(consent.ERROR_NOTICE_NOT_IN_FORCE)]
    # The page was left open over the change of version: the person heard the old text, so nothing is recorded.
    client.force_login(staff_a)
    data = {"purpose": Purpose.NEWSLETTER, "notice": str(newsletter.code), "language": "fi", "channel": "phone"}
    page = client.post(give_url(customer), data, follow=True).content.decode()
    assert "This version of the consent text is no longer in force" in page
    # A tampered code, a foreign one and a malformed one are refused the same way, never with a 500.
    for code in (str(foreign.code), "00000000-0000-0000-0000-000000000000", "x" * 40):
        response = client.post(give_url(customer), {**data, "notice": code}, follow=True)
        assert response.status_code == 200
    assert not ConsentRecord.objects.exists()
    assert newer.text_fi in client.get(consents_url(customer)).content.decode()


def test_a_language_the_notice_is_not_written_in_is_refused(register_a, staff_a):
    finnish_only = ConsentNoticeFactory(register=register_a, text_sv="", text_en="")
    customer = PersonCustomerFactory(register=register_a)
    with pytest.raises(ValidationError) as caught:
        consent.consent_give(
            actor=staff_a,
            customer=customer,
            purpose=Purpose.NEWSLETTER,
            channel=Channel.PHONE,
            notice=finnish_only,
            language="sv",
        )
    assert caught.value.message_dict["notice_language"] == [str(ERROR_NOTICE_NOT_IN_LANGUAGE)]


def test_a_register_without_notices_records_the_consent_as_not_recorded(client, register_a, staff_a):
    customer = PersonCustomerFactory(register=register_a)
    client.force_login(staff_a)
    assert client.post(give_url(customer), {"purpose": Purpose.RESEARCH, "channel": "in_person"}).status_code == 302
    record = ConsentRecord.objects.get(customer=customer)
    assert (record.notice, record.notice_language) == (None, "")
    assert "Not recorded" in client.get(customer.get_absolute_url()).content.decode()


def test_an_old_row_shows_not_recorded_with_the_label_typed_then(client, register_a, staff_a):
    customer = PersonCustomerFactory(register=register_a)
    consent.consent_give(
        actor=staff_a, customer=customer, purpose=Purpose.NEWSLETTER, channel=Channel.WEB, notice_version="2024-03"
    )
    client.force_login(staff_a)
    page = client.get(customer.get_absolute_url()).content.decode()
    assert "Not recorded" in page
    assert "named at the time: 2024-03" in page


# Withdrawal (GDPR 7(3)) ---------------------------------------------------------------------------------------


@pytest.fixture
def given(register_a, staff_a, newsletter):
    customer = PersonCustomerFactory(register=register_a)
    return consent.consent_give(
        actor=staff_a, customer=customer, purpose=Purpose.NEWSLETTER, channel=Channel.PHONE, notice=newsletter,
        language="fi",
    )  # fmt: skip


def test_the_withdrawal_link_records_the_withdrawal_notice_shown_in_the_pages_language(register_a, given):
    withdrawal = ConsentNoticeFactory(
        register=register_a, kind=ConsentNotice.Kind.WITHDRAWAL, purpose=Purpose.NEWSLETTER, version="2026-W1"
    )
    url = reverse("privacy:consent-withdraw", kwargs={"token": consent.withdraw_token_make(given)})
    anonymous = Client(HTTP_ACCEPT_LANGUAGE="en")
    page = anonymous.get(url).content.decode()
    assert withdrawal.text_en in page
    # The person sees what they consented to.
    assert given.notice.text_fi in page

    assert anonymous.post(url, {"notice": str(withdrawal.code)}).status_code == 302

    given.refresh_from_db()
    assert given.withdrawn_channel == Channel.LINK
    assert given.withdrawn_by is None
    assert (given.withdrawn_notice, given.withdrawn_notice_language) == (withdrawal, "en")
    assert given.withdrawn_at >= given.given_at


def test_a_tampered_notice_on_the_link_still_withdraws_and_records_no_notice(register_a, given):
    foreign = ConsentNoticeFactory(kind=ConsentNotice.Kind.WITHDRAWAL, purpose=Purpose.NEWSLETTER)
    url = reverse("privacy:consent-withdraw", kwargs={"token": consent.withdraw_token_make(given)})

    response = Client().post(url, {"notice": str(foreign.code)})

    assert response.status_code == 302
    given.refresh_from_db()
    assert given.withdrawn_at is not None
    assert given.withdrawn_notice is None
    # A tampered token opens nothing.
    assert Client().post(url[:-3] + "xx/", {"notice": str(foreign.code)}).status_code == 404


def test_staff_record_a_withdrawal_by_letter_on_the_day_it_arrived(client, staff_a, given):
    client.force_login(staff_a)
    url = reverse(
        "privacy:customer-consent-withdraw",
        kwargs={"register": given.register.slug, "code": given.customer.code, "consent_code": given.code},
    )
    ConsentRecord.objects.filter(pk=given.pk).update(given_at=timezone.now() - datetime.timedelta(days=10))
    arrived = timezone.localdate() - datetime.timedelta(days=3)

    response = client.post(url, {"channel": "post", "withdrawn_on": arrived.isoformat()})

    assert response.status_code == 302
    given.refresh_from_db()
    assert (given.withdrawn_channel, given.withdrawn_by) == (Channel.POST, staff_a)
    assert timezone.localdate(given.withdrawn_at) == arrived
    page = client.get(given.customer.get_absolute_url()).content.decode()
    assert str(Channel.POST.label) in page


def test_a_withdrawal_cannot_predate_the_giving_nor_be_in_the_future(client, staff_a, given):
    client.force_login(staff_a)
    url = reverse(
        "privacy:customer-consent-withdraw",
        kwargs={"register": given.register.slug, "code": given.customer.code, "consent_code": given.code},
    )
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    page = client.post(url, {"channel": "post", "withdrawn_on": yesterday.isoformat()}, follow=True)
    assert str(ERROR_WITHDRAWN_BEFORE_GIVEN) in page.content.decode()
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    page = client.post(url, {"channel": "post", "withdrawn_on": tomorrow.isoformat()}, follow=True)
    assert "The date cannot be in the future." in page.content.decode()
    for hostile in ("0001-01-01", "not-a-date", "99999999999999999999"):
        assert client.post(url, {"channel": "x", "withdrawn_on": hostile}).status_code == 302
    given.refresh_from_db()
    assert given.in_force
    # The database refuses it too, whatever path writes.
    with pytest.raises(IntegrityError), transaction.atomic():
        ConsentRecord.objects.filter(pk=given.pk).update(withdrawn_at=given.given_at - datetime.timedelta(seconds=1))


def test_a_withdrawal_request_records_the_request_and_the_handler(register_a, handler_a, given):
    request = rights_steps.in_progress(
        [register_a], handler_a, kind=DataSubjectRequest.Kind.CONSENT_WITHDRAWAL, records=[given.customer]
    )
    consent.request_consents_withdraw(request=request, actor=handler_a)
    given.refresh_from_db()
    assert (given.withdrawn_channel, given.withdrawn_by, given.withdrawn_request) == (
        Channel.REQUEST,
        handler_a,
        request,
    )
    assert given.withdrawn_notice is None


# Objections (GDPR 21) -----------------------------------------------------------------------------------------


def test_an_objection_from_the_public_form_names_its_request_channel_and_handler(client, register_a, handler_a):
    customer = PersonCustomerFactory(register=register_a)
    request = rights_steps.in_progress(
        [register_a], handler_a, kind=DataSubjectRequest.Kind.OBJECTION, records=[customer]
    )
    [record] = rights.objection_apply(request=request, actor=handler_a)
    assert (record.channel, record.request, record.recorded_by) == (request.channel, request, handler_a)
    assert record.notice is None
    client.force_login(handler_a)
    page = client.get(customer.get_absolute_url()).content.decode()
    assert request.reference in page
    assert "Not recorded" in page


def test_an_objection_records_the_objection_notice_shown_for_each_register(register_a, register_b):
    here = PersonCustomerFactory(register=register_a, email="olli@example.fi")
    register_b.organisation = register_a.organisation
    register_b.save()
    there = PersonCustomerFactory(register=register_b, email="olli@example.fi")
    shown = ConsentNoticeFactory(
        register=register_a, kind=ConsentNotice.Kind.OBJECTION, purpose=ObjectionRecord.Purpose.DIRECT_MARKETING
    )

    records = marketing_objection_by_address(
        organisation=register_a.organisation,
        email="OLLI@example.fi",
        evidence={"method": "test"},
        channel=Channel.MY_DATA,
        notices={register_a.pk: (shown, "sv")},
    )

    by_customer = {r.customer_id: r for r in records}
    assert (by_customer[here.pk].notice, by_customer[here.pk].notice_language) == (shown, "sv")
    assert by_customer[here.pk].notice_text == shown.text_sv
    # The other register's records were not shown that notice: nothing is claimed for them.
    assert (by_customer[there.pk].notice, by_customer[there.pk].notice_language) == (None, "")


def test_a_notice_of_another_register_or_kind_cannot_be_named(register_a, register_b, staff_a, newsletter):
    customer = PersonCustomerFactory(register=register_a)
    record = ObjectionRecord(
        customer=customer,
        register=register_a,
        purpose=ObjectionRecord.Purpose.DIRECT_MARKETING,
        given_at=timezone.now(),
        channel=Channel.PHONE,
        notice=newsletter,  # a consent notice
        notice_language="fi",
    )
    with pytest.raises(ValidationError) as caught:
        record.full_clean()
    assert "notice" in caught.value.message_dict
    record.notice, record.notice_language = None, "fi"
    with pytest.raises(ValidationError) as caught:
        record.full_clean()
    assert "notice_language" in caught.value.message_dict


def test_the_notice_service_and_the_evidence_use_the_version_in_force(register_a, owner_a):
    first = notices.consent_notice_create(
        actor=owner_a,
        register=register_a,
        kind=ConsentNotice.Kind.CONSENT,
        purpose=Purpose.NEWSLETTER,
        version="1",
        valid_from=timezone.localdate(),
        text_fi="Ensimmäinen",
    )
    later = notices.consent_notice_create(
        actor=owner_a,
        register=register_a,
        kind=ConsentNotice.Kind.CONSENT,
        purpose=Purpose.NEWSLETTER,
        version="2",
        valid_from=timezone.localdate() + datetime.timedelta(days=7),
        text_fi="Toinen",
    )
    customer = PersonCustomerFactory(register=register_a)
    # The later version is not in force yet: the first one is what the person is shown today.
    with pytest.raises(ValidationError):
        consent.consent_give(
            actor=owner_a, customer=customer, purpose=Purpose.NEWSLETTER, channel="phone", notice=later, language="fi"
        )
    record = consent.consent_give(
        actor=owner_a, customer=customer, purpose=Purpose.NEWSLETTER, channel="phone", notice=first, language="fi"
    )
    assert record.notice_text == "Ensimmäinen"
