"""The consent and objection history in what the person receives (issue 22): the access answer (letter and JSON)
and the "my data" content show each consent and objection with the text shown, its version and language, when and
how it was given and withdrawn, and whether the person or the controller's staff recorded it, never staff names."""

import json

import pytest

from privacy.requests import access_package, services
from privacy.requests.models import DataSubjectRequest
from privacy.rights import consent
from privacy.rights import services as rights
from privacy.rights.models import ConsentNotice, ConsentRecord, ObjectionRecord

from ...factories import ConsentNoticeFactory, PersonCustomerFactory
from .. import rights_steps, steps
from ..requests.test_access_package import access_request, text_of

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_media")]

Purpose = ConsentRecord.Purpose
Channel = ConsentRecord.Channel


@pytest.fixture
def history(register_a, staff_a, handler_a):
    """A person with a consent given on the phone after version 2026-1 (read in Swedish) and withdrawn through the
    link after the withdrawal notice, an older consent without a recorded text, and an objection by request."""
    person = PersonCustomerFactory(register=register_a, first_name="Sanna", last_name="Selvä")
    given = ConsentNoticeFactory(register=register_a, version="2026-1", text_sv="Jag samtycker (2026-1).")
    withdrawal = ConsentNoticeFactory(
        register=register_a,
        kind=ConsentNotice.Kind.WITHDRAWAL,
        version="2026-W",
        text_en="Withdrawing stops the newsletter at once.",
    )
    record = consent.consent_give(
        actor=staff_a,
        customer=person,
        purpose=Purpose.NEWSLETTER,
        channel=Channel.PHONE,
        notice=given,
        language="sv",
    )
    consent.consent_withdraw(consent=record, channel=Channel.LINK, notice=withdrawal, language="en")
    ConsentRecord.objects.create(
        customer=person,
        register=register_a,
        purpose=Purpose.RESEARCH,
        given_at=record.given_at,
        given_channel=Channel.EMAIL,
        recorded_by=staff_a,
    )
    request = rights_steps.in_progress(
        [register_a], handler_a, kind=DataSubjectRequest.Kind.OBJECTION, records=[person], language="en"
    )
    rights.objection_apply(request=request, actor=handler_a)
    return person


def test_the_access_answer_shows_each_consent_and_objection_with_the_text_shown(
    register_a, handler_a, staff_a, history
):
    request = access_request([register_a], handler_a, name="Sanna Selvä", language="en")
    steps.checked(request, handler_a, register_a, [history])

    package = services.package_build(request=request, actor=handler_a)

    [register] = json.loads(text_of(package.json))["registers"]
    [record] = register["records"]
    newsletter, research = record["consents"]
    assert newsletter["purpose"] == "newsletter"
    assert newsletter["given_through"] == "phone"
    assert newsletter["given_by"] == "the controller's staff"
    assert (newsletter["notice_version"], newsletter["notice_language"]) == ("2026-1", "Swedish")
    assert newsletter["notice_text"] == "Jag samtycker (2026-1)."
    assert newsletter["withdrawn_through"] == "withdrawal link"
    assert newsletter["withdrawn_by"] == "you yourself"
    assert newsletter["withdrawal_notice_version"] == "2026-W"
    assert newsletter["withdrawal_notice_text"] == "Withdrawing stops the newsletter at once."
    # An old consent: its text was never recorded, and the answer says so.
    assert research["notice_version"] == "not recorded"
    assert "notice_text" not in research
    [objection] = record["objections"]
    assert objection["given_by"] == "the controller's staff"
    assert objection["notice_version"] == "not recorded"
    html = text_of(package.html)
    assert "Jag samtycker (2026-1)." in html
    assert "Your consents" in html
    assert "Your objections" in html
    # Staff names are other people's data (art. 15(4)).
    for user in (staff_a, handler_a):
        assert user.last_name not in html
        assert user.username not in text_of(package.json)


def test_the_my_data_content_holds_the_same_history(history):
    [part] = access_package.person_content([history])
    [record] = part["records"]
    assert [c["purpose"] for c in record["consents"]] == ["newsletter", "market and opinion research"]
    assert record["consents"][0]["notice_text"] == "Jag samtycker (2026-1)."
    assert [o["purpose"] for o in record["objections"]] == [str(ObjectionRecord.Purpose.DIRECT_MARKETING.label)]
