"""The "my data" pages of a signed-in person: what they show, and what the person can do there."""

from privacy.requests.models import DataSubjectRequest, RequestEvent
from privacy.rights.consent import consent_give
from privacy.rights.models import ConsentRecord, ObjectionRecord
from registers.models import Role

from ..conftest import grant
from ..factories import (
    ContactPersonFactory,
    CustomerFactory,
    InteractionFactory,
    OrganisationFactory,
    PersonCustomerFactory,
    RegisterFactory,
    UserFactory,
)

EMAIL = "maija.meikalainen@example.fi"


def maija(register, **changes):
    fields = {
        "first_name": "Maija",
        "last_name": "Meikäläinen",
        "email": EMAIL,
        "street_address": "Esimerkkikatu 1",
        "postal_code": "00100",
        "city": "Helsinki",
        **changes,
    }
    return PersonCustomerFactory(register=register, **fields)


def label_rows(client, register) -> str:
    response = client.get(f"/crm/{register.slug}/labels.csv")
    assert response.status_code == 200
    return b"".join(response.streaming_content).decode()


def test_the_page_shows_each_registers_data_and_processing_dates(provider, person_client, client):
    register = RegisterFactory()
    customer = maija(register, occupation="Yrittäjä")
    InteractionFactory(customer=customer, subject="Neuvontatapaaminen")
    staff = UserFactory()
    grant(staff, register, Role.STAFF)
    client.force_login(staff)
    client.get(f"/crm/{register.slug}/customers/{customer.code}/")  # an access-log entry: a processing date
    provider.sign_in(person_client)
    page = person_client.get("/my-data/").content.decode()
    assert "Yrittäjä" in page
    assert "Neuvontatapaaminen" in page
    assert register.name_fi in page or register.name_en in page
    from django.utils import timezone

    assert timezone.localdate().isoformat() in page


def test_an_objection_on_the_page_removes_the_person_from_every_registers_labels(provider, person_client, client):
    organisation = OrganisationFactory()
    registers = [RegisterFactory(organisation=organisation, direct_marketing=True) for _ in range(3)]
    maija(registers[0])
    maija(registers[1])
    # Not linked (another name on the record), but the same address in the same controller's register.
    maija(registers[2], first_name="M.")
    organisation_customer = CustomerFactory(register=registers[2], street_address="Yrityskatu 2", postal_code="00200")
    ContactPersonFactory(customer=organisation_customer, email=EMAIL)
    owner = UserFactory()
    for register in registers:
        grant(owner, register, Role.OWNER)
    client.force_login(owner)
    assert all("Esimerkkikatu 1" in label_rows(client, register) for register in registers)

    provider.sign_in(person_client)
    response = person_client.post("/my-data/objection/")
    assert response.status_code == 302

    for register in registers:
        assert "Esimerkkikatu 1" not in label_rows(client, register)
    records = ObjectionRecord.objects.filter(channel=ConsentRecord.Channel.MY_DATA)
    assert records.count() == 4  # three customers and the contact person
    assert all(record.evidence["assurance"] == "substantial" for record in records)
    # Again: nothing more happens.
    person_client.post("/my-data/objection/")
    assert ObjectionRecord.objects.filter(channel=ConsentRecord.Channel.MY_DATA).count() == 4
    assert "You object to direct marketing" in person_client.get("/my-data/").content.decode()


def test_a_consent_is_withdrawn_from_the_page(provider, person_client):
    customer = maija(RegisterFactory())
    given = consent_give(
        actor=None, customer=customer, purpose=ConsentRecord.Purpose.NEWSLETTER, channel=ConsentRecord.Channel.WEB
    )
    provider.sign_in(person_client)
    assert person_client.post(f"/my-data/consents/{given.code}/withdraw/").status_code == 302
    given.refresh_from_db()
    assert given.withdrawn_at is not None
    assert given.withdrawn_channel == ConsentRecord.Channel.MY_DATA


def test_another_persons_consent_cannot_be_withdrawn(provider, person_client):
    someone = PersonCustomerFactory(register=RegisterFactory())
    theirs = consent_give(
        actor=None, customer=someone, purpose=ConsentRecord.Purpose.NEWSLETTER, channel=ConsentRecord.Channel.WEB
    )
    maija(RegisterFactory())
    provider.sign_in(person_client)
    assert person_client.post(f"/my-data/consents/{theirs.code}/withdraw/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.withdrawn_at is None


def test_a_request_of_the_identified_person_skips_confirmation_and_identity_check(provider, person_client):
    register = RegisterFactory()
    maija(register)
    provider.sign_in(person_client, loa="high")
    form = person_client.get(f"/my-data/requests/new/{register.organisation.code}/")
    assert form.status_code == 200
    assert "requester_name" not in form.context["form"].fields
    response = person_client.post(
        f"/my-data/requests/new/{register.organisation.code}/",
        {"kind": "access", "registers": [register.slug], "language": "sv", "delivery": "electronic"},
    )
    assert response.status_code == 302
    dsr = DataSubjectRequest.objects.get()
    assert dsr.state == DataSubjectRequest.State.TRIAGE
    assert dsr.channel == DataSubjectRequest.Channel.MY_DATA
    assert dsr.identity_method == DataSubjectRequest.IdentityMethod.STRONG_EID
    assert dsr.identity_note == "eIDAS LoA: high"
    assert dsr.verified_at is not None
    assert dsr.verified_by is None
    assert dsr.legal_due_at is not None
    assert dsr.requester_email == EMAIL
    assert dsr.requester_name == "Maija Meikäläinen"
    verified = dsr.events.get(action=RequestEvent.Action.IDENTITY_VERIFIED)
    assert verified.payload == {"method": "strong_eid", "assurance": "high"}
    page = person_client.get(response["Location"]).content.decode()
    assert dsr.reference in page
    assert dsr.reference in person_client.get("/my-data/").content.decode()


def test_a_request_form_with_errors_loses_nothing(provider, person_client):
    register = RegisterFactory()
    provider.sign_in(person_client)
    response = person_client.post(
        f"/my-data/requests/new/{register.organisation.code}/",
        {"kind": "rectification", "registers": [register.slug], "details": "Osoite on väärä", "language": "fi"},
    )
    assert response.status_code == 200
    assert "Osoite on väärä" in response.content.decode()
    assert not DataSubjectRequest.objects.exists()


def test_another_persons_request_is_not_shown(provider, person_client):
    register = RegisterFactory()
    provider.sign_in(person_client)
    person_client.post(
        f"/my-data/requests/new/{register.organisation.code}/",
        {"kind": "access", "registers": [register.slug], "language": "fi", "delivery": "electronic"},
    )
    dsr = DataSubjectRequest.objects.get()
    provider.sign_in(person_client, sub="another-person")
    assert person_client.get(f"/my-data/requests/{dsr.code}/").status_code == 404
    assert dsr.reference not in person_client.get("/my-data/").content.decode()


def test_an_objection_on_the_page_records_the_objection_notice_each_register_showed(provider, person_client):
    from privacy.rights.models import ConsentNotice

    from ..factories import ConsentNoticeFactory

    organisation = OrganisationFactory()
    with_notice, without = (RegisterFactory(organisation=organisation) for _ in range(2))
    here, there = maija(with_notice), maija(without)
    notice = ConsentNoticeFactory(
        register=with_notice,
        kind=ConsentNotice.Kind.OBJECTION,
        purpose=ObjectionRecord.Purpose.DIRECT_MARKETING,
        version="2026-K",
        text_fi="Kiellän suoramarkkinoinnin.",
        text_sv="Jag förbjuder direktmarknadsföring.",
        text_en="",
    )
    provider.sign_in(person_client)
    page = person_client.get("/my-data/").content.decode()
    # The page is in English; the notice has no English text and falls back to Finnish, which is recorded.
    assert "Kiellän suoramarkkinoinnin." in page

    assert person_client.post("/my-data/objection/", {"notice": [str(notice.code), "junk"]}).status_code == 302

    shown = ObjectionRecord.objects.get(customer=here)
    assert (shown.notice, shown.notice_language, shown.channel, shown.recorded_by) == (
        notice,
        "fi",
        ConsentRecord.Channel.MY_DATA,
        None,
    )
    assert ObjectionRecord.objects.get(customer=there).notice is None


def test_a_consent_withdrawn_on_the_page_records_the_withdrawal_notice_shown(provider, person_client):
    from privacy.rights.models import ConsentNotice

    from ..factories import ConsentNoticeFactory

    customer = maija(RegisterFactory())
    given = consent_give(
        actor=None, customer=customer, purpose=ConsentRecord.Purpose.NEWSLETTER, channel=ConsentRecord.Channel.WEB
    )
    notice = ConsentNoticeFactory(
        register=customer.register, kind=ConsentNotice.Kind.WITHDRAWAL, text_en="Withdrawing stops the letters."
    )
    provider.sign_in(person_client)
    assert "Withdrawing stops the letters." in person_client.get("/my-data/").content.decode()

    person_client.post(f"/my-data/consents/{given.code}/withdraw/", {"notice": str(notice.code)})

    given.refresh_from_db()
    assert (given.withdrawn_notice, given.withdrawn_notice_language) == (notice, "en")
    assert (given.withdrawn_channel, given.withdrawn_by) == (ConsentRecord.Channel.MY_DATA, None)
