"""Rectification (GDPR 16; PRIVACY.md "Rectification"): the requested value beside the stored one, applied through
the crm services all or nothing, refused with reasons, and the contact-centre archive never edited."""

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import ValidationError
from django.urls import reverse

from crm.models import Customer
from privacy.requests import services
from privacy.requests.models import DataSubjectRequest
from privacy.rights import rectification, refusals
from privacy.rights.models import RectificationItem, RefusalGround
from registers.models import Role

from ...conftest import grant
from ...factories import (
    ContactCentreMessageFactory,
    ContactCentreRegisterFactory,
    ContactPersonFactory,
    CustomerFactory,
    OrderingClientFactory,
    PersonCustomerFactory,
    RegisterFactory,
)
from .. import rights_steps

pytestmark = pytest.mark.django_db

State = DataSubjectRequest.State
Kind = DataSubjectRequest.Kind
Status = RectificationItem.Status


def rectification_request(register, handler, records, **extra):
    return rights_steps.in_progress(
        [register],
        handler,
        kind=Kind.RECTIFICATION,
        records=records,
        correction_what="Sukunimeni on väärin",
        correction_why="Nimi muuttui naimisiin mennessä",
        **extra,
    )


def test_the_page_shows_the_requested_value_beside_the_stored_one(client, register_a, handler_a):
    customer = PersonCustomerFactory(register=register_a, last_name="Virheellinen")
    request = rectification_request(register_a, handler_a, [customer])
    client.force_login(handler_a)
    response = client.post(
        reverse("privacy:rights-correction-add", kwargs={"code": request.code}),
        {"record": f"customer:{customer.code}", "field": "last_name", "requested_value": "Oikeanniminen"},
    )
    assert response.status_code == 302

    html = client.get(reverse("privacy:rights", kwargs={"code": request.code})).content.decode()

    row = html[html.index('class="current-value"') :]
    assert row.index("Virheellinen") < row.index("Oikeanniminen") < row.index("</tr>")
    assert "Sukunimeni on väärin" in html


def test_corrections_are_applied_through_the_crm_service_and_audited(register_a, handler_a):
    customer = PersonCustomerFactory(register=register_a, last_name="Virheellinen")
    request = rectification_request(register_a, handler_a, [customer])
    match = request.matches.get()
    rectification.rectification_item_add(
        request=request,
        actor=handler_a,
        match=match,
        field="last_name",
        requested_value="Oikeanniminen",
        source_checked="väestötietojärjestelmä",
    )

    rectification.rectification_apply(request=request, actor=handler_a)

    customer.refresh_from_db()
    assert customer.last_name == "Oikeanniminen"
    assert customer.version == 2  # the optimistic-locking version moved: the normal service was used
    item = request.rectification_items.get()
    assert item.status == Status.APPLIED
    assert item.previous_value == "Virheellinen"
    entry = LogEntry.objects.filter(object_id=customer.pk, content_type__model="customer").latest("timestamp")
    assert entry.actor == handler_a
    assert entry.changes["last_name"] == ["Virheellinen", "Oikeanniminen"]


def test_a_correction_that_fails_validation_leaves_the_request_open_and_nothing_half_applied(register_a, handler_a):
    first = PersonCustomerFactory(register=register_a, last_name="Ensimmäinen")
    second = PersonCustomerFactory(register=register_a, last_name="Toinen")
    request = rectification_request(register_a, handler_a, [first, second])
    matches = {m.customer_id: m for m in request.matches.all()}
    rectification.rectification_item_add(
        request=request, actor=handler_a, match=matches[first.pk], field="last_name", requested_value="Korjattu"
    )
    # Passes the field's own check (the field may be blank), but the record's validation needs a person's last name.
    rectification.rectification_item_add(
        request=request, actor=handler_a, match=matches[second.pk], field="last_name", requested_value=""
    )

    with pytest.raises(ValidationError) as raised:
        rectification.rectification_apply(request=request, actor=handler_a)

    assert str(second) in raised.value.messages[0]
    first.refresh_from_db()
    assert first.last_name == "Ensimmäinen"
    assert first.version == 1
    request.refresh_from_db()
    assert request.state == State.IN_PROGRESS
    assert set(request.rectification_items.values_list("status", flat=True)) == {Status.PROPOSED}


def test_a_value_in_the_wrong_format_is_refused_when_recorded(register_a, handler_a):
    customer = PersonCustomerFactory(register=register_a)
    request = rectification_request(register_a, handler_a, [customer])
    with pytest.raises(ValidationError):
        rectification.rectification_item_add(
            request=request, actor=handler_a, match=request.matches.get(), field="email", requested_value="ei-osoite"
        )
    assert not request.rectification_items.exists()


def test_a_field_the_register_does_not_collect_cannot_be_corrected(register_a, handler_a):
    register_a.collected_fields = ["email"]
    register_a.save()
    customer = PersonCustomerFactory(register=register_a, date_of_birth=None)
    request = rectification_request(register_a, handler_a, [customer])
    with pytest.raises(ValidationError, match="cannot be corrected"):
        rectification.rectification_item_add(
            request=request,
            actor=handler_a,
            match=request.matches.get(),
            field="occupation",
            requested_value="Opettaja",
        )


def test_a_restricted_customer_is_not_corrected_and_the_request_stays_open(register_a, handler_a):
    customer = PersonCustomerFactory(register=register_a, processing_restricted=True)
    request = rectification_request(register_a, handler_a, [customer])
    rectification.rectification_item_add(
        request=request, actor=handler_a, match=request.matches.get(), field="city", requested_value="Oulu"
    )
    with pytest.raises(ValidationError, match="restricted"):
        rectification.rectification_apply(request=request, actor=handler_a)
    assert Customer.objects.get(pk=customer.pk).city == ""


def test_a_contact_person_is_corrected_through_its_own_service(register_a, handler_a):
    person = ContactPersonFactory(customer=CustomerFactory(register=register_a), title="Myyjä")
    request = rectification_request(register_a, handler_a, [person])
    rectification.rectification_item_add(
        request=request, actor=handler_a, match=request.matches.get(), field="title", requested_value="Myyntijohtaja"
    )
    rectification.rectification_apply(request=request, actor=handler_a)
    person.refresh_from_db()
    assert (person.title, person.version) == ("Myyntijohtaja", 2)


def contact_centre(handler):
    archive = ContactCentreRegisterFactory(organisation=handler_register(handler).organisation)
    grant(handler, archive, Role.HANDLER)
    return archive


def handler_register(handler):
    from registers.models import Membership

    return Membership.objects.filter(user=handler).first().register


def test_an_archived_message_is_never_edited_and_the_refusal_letter_says_why(handler_a, owner_a):
    archive = contact_centre(handler_a)
    grant(owner_a, archive, Role.OWNER)
    message = ContactCentreMessageFactory(register=archive, ordering_client=OrderingClientFactory(register=archive))
    request = rectification_request(archive, handler_a, [message], language="en")
    match = request.matches.get()
    with pytest.raises(ValidationError):
        rectification.rectification_item_add(
            request=request, actor=handler_a, match=match, field="body", requested_value="Korjattu viesti"
        )

    item = rectification.rectification_archive_answer(request=request, actor=handler_a, match=match)
    assert (item.status, item.ground) == (Status.REFUSED, RefusalGround.ARCHIVE_AS_SENT)
    rights_steps.prepared(request, handler_a)
    request = refusals.rights_request_decide(
        request=request, actor=owner_a, text="The archive keeps e-mails exactly as they were sent."
    )

    assert request.state == State.REFUSED
    letter = request.letters.get().text
    assert "messages are kept exactly as sent, so rectification does not apply" in letter
    assert "Office of the Data Protection Ombudsman" in letter
    message.refresh_from_db()  # still there, unchanged


def test_refusing_one_correction_makes_the_decision_a_partial_refusal_with_its_ground(register_a, handler_a, owner_a):
    customer = PersonCustomerFactory(register=register_a, last_name="Vanha", city="Turku")
    request = rectification_request(register_a, handler_a, [customer], language="en")
    match = request.matches.get()
    kept = rectification.rectification_item_add(
        request=request, actor=handler_a, match=match, field="city", requested_value="Tampere"
    )
    rectification.rectification_item_add(
        request=request, actor=handler_a, match=match, field="last_name", requested_value="Uusi"
    )
    with pytest.raises(ValidationError):
        rectification.rectification_item_refuse(item=kept, actor=handler_a, ground=RefusalGround.DATA_ACCURATE, note="")
    rectification.rectification_item_refuse(
        item=kept, actor=handler_a, ground=RefusalGround.DATA_ACCURATE, note="The population register says Turku."
    )
    rectification.rectification_apply(request=request, actor=handler_a)
    rights_steps.prepared(request, handler_a)

    # The access answer's approval path cannot decide it: it writes no letter.
    with pytest.raises(ValidationError, match="decision form"):
        services.request_approve(request=request, actor=owner_a)
    with pytest.raises(ValidationError):
        refusals.rights_request_decide(request=request, actor=owner_a, text="")
    request = refusals.rights_request_decide(request=request, actor=owner_a, text="Your city is right as it is.")

    assert request.state == State.PARTLY_REFUSED
    refusal = request.refusals.get()
    assert refusal.grounds == [RefusalGround.DATA_ACCURATE]
    letter = request.letters.get().text
    assert "Uusi" in letter
    assert "The population register says Turku." in letter


def test_the_request_cannot_go_for_review_with_a_correction_undecided(register_a, handler_a):
    customer = PersonCustomerFactory(register=register_a)
    request = rectification_request(register_a, handler_a, [customer])
    with pytest.raises(ValidationError, match="Record what the person asks"):
        rights_steps.prepared(request, handler_a)
    rectification.rectification_item_add(
        request=request, actor=handler_a, match=request.matches.get(), field="city", requested_value="Oulu"
    )
    with pytest.raises(ValidationError, match="Correct or refuse"):
        rights_steps.prepared(request, handler_a)


def test_another_registers_staff_gets_404_and_read_only_staff_403(client, register_a, handler_a, staff_b, readonly_a):
    customer = PersonCustomerFactory(register=register_a)
    request = rectification_request(register_a, handler_a, [customer])
    url = reverse("privacy:rights-correction-add", kwargs={"code": request.code})
    data = {"record": f"customer:{customer.code}", "field": "city", "requested_value": "Oulu"}
    client.force_login(staff_b)
    assert client.post(url, data).status_code == 404
    assert client.get(reverse("privacy:rights", kwargs={"code": request.code})).status_code == 404
    client.force_login(readonly_a)
    assert client.post(url, data).status_code == 403
    assert not request.rectification_items.exists()


def test_a_handler_cannot_reach_a_record_of_a_register_they_do_not_handle_through_the_request(
    client, register_a, handler_a
):
    sibling = RegisterFactory(organisation=register_a.organisation)
    sibling_handler = rights_steps_handler(sibling)
    theirs = PersonCustomerFactory(register=sibling)
    # Steps of a request over two registers need rights in both (privacy.requests.selectors.request_get_for_user_rw).
    both = rights_steps_handler(sibling)
    grant(both, register_a, Role.HANDLER)
    request = rights_steps.in_progress([register_a, sibling], both, kind=Kind.RECTIFICATION, check=False)
    # The sibling register's own handler confirmed the person there.
    rights_steps.steps.checked(request, sibling_handler, sibling, [theirs])
    client.force_login(handler_a)
    response = client.post(
        reverse("privacy:rights-correction-add", kwargs={"code": request.code}),
        {"record": f"customer:{theirs.code}", "field": "city", "requested_value": "Oulu"},
    )
    assert response.status_code in {403, 404}
    assert not request.rectification_items.exists()


def rights_steps_handler(register):
    from ...factories import UserFactory

    user = UserFactory()
    grant(user, register, Role.HANDLER)
    return user
