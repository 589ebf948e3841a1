"""Lifting a restriction (GDPR 18(3); PRIVACY.md "Restriction": "lifting notifies subject first"): a handler asks,
the person is told by e-mail (or a posted letter), and only when the notice has gone and its waiting period has
passed are the records lifted; until then they stay restricted and their pages say the lift is pending."""

import datetime

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import formats, timezone, translation

from crm import services as crm_services
from privacy.requests import emails
from privacy.requests.models import Correspondence, DataSubjectRequest, RequestEvent
from privacy.rights import objection_weighing, refusals, restriction_lift, tasks
from privacy.rights import services as rights
from privacy.rights.models import ObjectionWeighing, RestrictionLift

from ...factories import PersonCustomerFactory
from .. import rights_steps

pytestmark = pytest.mark.django_db

State = DataSubjectRequest.State
Kind = DataSubjectRequest.Kind
Lift = RestrictionLift.State
REASON = "Tietojesi oikeellisuus on tarkistettu väestötietojärjestelmästä: tiedot ovat oikein."


@pytest.fixture(autouse=True)
def _english_pages(settings):
    settings.LANGUAGE_CODE = "en"


def answered_restriction(register, handler, owner, customer, **extra):
    """A restriction request carried out and answered: the person obtained the restriction."""
    request = rights_steps.in_progress(
        [register], handler, kind=Kind.RESTRICTION, records=[customer], language="en", **extra
    )
    rights.restriction_apply(request=request, actor=handler)
    rights_steps.prepared(request, handler)
    return refusals.rights_request_decide(request=request, actor=owner)


def send_outbox():
    for pk in Correspondence.objects.filter(sent_at=None).values_list("pk", flat=True):
        emails.correspondence_send(correspondence_id=pk)


def make_due(lift):
    # The waiting period is over: its end moved to the past, as if the days had gone by.
    RestrictionLift.objects.filter(pk=lift.pk).update(lift_due_at=timezone.now() - datetime.timedelta(minutes=1))


def restricted(customer) -> bool:
    customer.refresh_from_db()
    return customer.processing_restricted


def test_the_lift_waits_for_the_notice_and_its_period_and_the_customer_stays_restricted(
    register_a, handler_a, owner_a, settings
):
    settings.RESTRICTION_LIFT_NOTICE_DAYS = 14
    customer = PersonCustomerFactory(register=register_a)
    request = answered_restriction(register_a, handler_a, owner_a, customer)
    send_outbox()
    mail.outbox.clear()

    lift = restriction_lift.restriction_lift_ask(request=request, actor=handler_a, reason=REASON)

    assert lift.state == Lift.NOTICE_PENDING
    assert lift.notice.kind == Correspondence.Kind.RESTRICTION_LIFT_NOTICE
    assert restricted(customer)
    # The notice has not gone yet: nothing moves, however often the task runs.
    assert tasks.restriction_lifts_advance() == {"waiting": 0, "lifted": 0}
    lift.refresh_from_db()
    assert lift.state == Lift.NOTICE_PENDING

    send_outbox()
    [notice] = mail.outbox
    assert request.requester_email in notice.to
    assert request.reference in notice.subject
    assert REASON in notice.body
    assert "GDPR article 18(3)" in notice.body
    assert tasks.restriction_lifts_advance() == {"waiting": 1, "lifted": 0}
    lift.refresh_from_db()
    sent_at = Correspondence.objects.get(pk=lift.notice_id).sent_at
    assert lift.state == Lift.WAITING
    assert (lift.notice_sent_at, lift.lift_due_at) == (sent_at, sent_at + datetime.timedelta(days=14))
    # The date the e-mail promised is the day the lift becomes due.
    with translation.override(request.language):
        assert formats.date_format(timezone.localdate(lift.lift_due_at), "SHORT_DATE_FORMAT") in notice.body
    assert restricted(customer)
    with pytest.raises(ValidationError) as error:
        restriction_lift.restriction_lift_transition(lift=lift, to=Lift.LIFTED, actor=None)
    assert error.value.code == "too_early"
    assert tasks.restriction_lifts_advance() == {"waiting": 0, "lifted": 0}
    assert restricted(customer)

    make_due(lift)
    assert tasks.restriction_lifts_advance() == {"waiting": 0, "lifted": 1}

    assert not restricted(customer)
    lift.refresh_from_db()
    assert lift.state == Lift.LIFTED
    assert lift.lifted_at is not None
    actions = list(request.events.filter(action__startswith="restriction_lift").values_list("action", flat=True))
    assert actions == [
        RequestEvent.Action.RESTRICTION_LIFT_ASKED,
        RequestEvent.Action.RESTRICTION_LIFT_NOTICE_SENT,
        RequestEvent.Action.RESTRICTION_LIFTED,
    ]
    asked, _sent, lifted = request.events.filter(action__startswith="restriction_lift").order_by("at", "id")
    assert (asked.actor, asked.reason) == (handler_a, REASON)
    assert (lifted.actor, lifted.payload["records"], lifted.payload["kept"]) == (None, 1, 0)
    # Running the task again changes nothing.
    assert tasks.restriction_lifts_advance() == {"waiting": 0, "lifted": 0}


def test_without_an_e_mail_address_the_handler_posts_the_notice_and_the_wait_starts_then(
    client, register_a, handler_a, owner_a, settings
):
    settings.RESTRICTION_LIFT_NOTICE_DAYS = 7
    customer = PersonCustomerFactory(register=register_a)
    request = answered_restriction(register_a, handler_a, owner_a, customer)
    DataSubjectRequest.objects.filter(pk=request.pk).update(
        requester_email="", requester_address="Postikatu 1\n00100 Helsinki"
    )
    request.refresh_from_db()
    client.force_login(handler_a)

    response = client.post(
        reverse("privacy:rights-restriction-lift", kwargs={"code": request.code}), {"reason": REASON}, follow=True
    )
    assert "print the notice, post it and record the posting" in response.content.decode()
    lift = request.restriction_lifts.get()
    assert (lift.state, lift.notice, lift.notice_channel) == (Lift.NOTICE_PENDING, None, "post")
    letter = client.get(reverse("privacy:rights-restriction-lift-letter", kwargs={"code": request.code}))
    assert letter.status_code == 200
    assert "Postikatu 1" in letter.content.decode()
    assert REASON in letter.content.decode()
    assert letter["Cache-Control"] == "no-store"
    assert tasks.restriction_lifts_advance() == {"waiting": 0, "lifted": 0}

    client.post(reverse("privacy:rights-restriction-lift-posted", kwargs={"code": request.code}))

    lift.refresh_from_db()
    assert lift.state == Lift.WAITING
    assert lift.lift_due_at - lift.notice_sent_at == datetime.timedelta(days=7)
    assert restricted(customer)
    make_due(lift)
    tasks.restriction_lifts_advance()
    assert not restricted(customer)


def test_the_pages_show_the_lift_pending_notice(client, register_a, handler_a, owner_a, staff_a):
    customer = PersonCustomerFactory(register=register_a)
    request = answered_restriction(register_a, handler_a, owner_a, customer)
    client.force_login(staff_a)
    assert "Lift pending notice" not in client.get(customer.get_absolute_url()).content.decode()

    restriction_lift.restriction_lift_ask(request=request, actor=handler_a, reason=REASON)

    html = client.get(customer.get_absolute_url()).content.decode()
    assert "Processing restricted" in html
    assert "Lift pending notice" in html
    client.force_login(handler_a)
    rights_page = client.get(reverse("privacy:rights", kwargs={"code": request.code})).content.decode()
    assert "Lift pending notice" in rights_page
    assert REASON in rights_page
    send_outbox()
    tasks.restriction_lifts_advance()
    client.force_login(staff_a)
    assert "Restriction to be lifted on" in client.get(customer.get_absolute_url()).content.decode()


def test_a_cancelled_lift_leaves_the_records_restricted(register_a, handler_a, owner_a):
    customer = PersonCustomerFactory(register=register_a)
    request = answered_restriction(register_a, handler_a, owner_a, customer)
    lift = restriction_lift.restriction_lift_ask(request=request, actor=handler_a, reason=REASON)
    send_outbox()
    tasks.restriction_lifts_advance()

    with pytest.raises(ValidationError):
        restriction_lift.restriction_lift_cancel(request=request, actor=handler_a, reason=" ")
    restriction_lift.restriction_lift_cancel(request=request, actor=handler_a, reason="Henkilö kiisti tiedot.")
    make_due(lift)

    assert tasks.restriction_lifts_advance() == {"waiting": 0, "lifted": 0}
    assert restricted(customer)
    lift.refresh_from_db()
    assert (lift.state, lift.cancelled_by, lift.cancel_reason) == (Lift.CANCELLED, handler_a, "Henkilö kiisti tiedot.")
    assert request.events.filter(action=RequestEvent.Action.RESTRICTION_LIFT_CANCELLED, actor=handler_a).exists()
    # A new lift may be asked once the old one is over.
    assert restriction_lift.restriction_lift_ask(request=request, actor=handler_a, reason=REASON).is_pending


def test_a_record_restricted_on_another_ground_stays_restricted(register_a, handler_a, owner_a):
    """Processing stopped after an objection (art. 21(1)) is not undone by lifting a restriction request's."""
    customer = PersonCustomerFactory(register=register_a)
    request = answered_restriction(register_a, handler_a, owner_a, customer)
    objection = rights_steps.in_progress([register_a], handler_a, kind=Kind.OBJECTION, records=[customer])
    objection_weighing.objection_weighing_open(request=objection, actor=handler_a)
    objection_weighing.objection_weighing_decide(
        request=objection, actor=handler_a, outcome=ObjectionWeighing.State.PROCESSING_STOPPED
    )

    with pytest.raises(ValidationError) as error:
        restriction_lift.restriction_lift_ask(request=request, actor=handler_a, reason=REASON)
    assert error.value.messages == [str(restriction_lift.ERROR_NOTHING_TO_LIFT)]
    assert restricted(customer)


def test_a_lift_is_asked_once_on_an_answered_restriction_with_a_reason(register_a, handler_a, owner_a):
    customer = PersonCustomerFactory(register=register_a)
    in_progress = rights_steps.in_progress([register_a], handler_a, kind=Kind.RESTRICTION, records=[customer])
    rights.restriction_apply(request=in_progress, actor=handler_a)
    with pytest.raises(ValidationError):
        restriction_lift.restriction_lift_ask(request=in_progress, actor=handler_a, reason=REASON)
    request = answered_restriction(register_a, handler_a, owner_a, PersonCustomerFactory(register=register_a))
    with pytest.raises(ValidationError) as error:
        restriction_lift.restriction_lift_ask(request=request, actor=handler_a, reason="")
    assert error.value.messages == [str(restriction_lift.ERROR_REASON_REQUIRED)]
    restriction_lift.restriction_lift_ask(request=request, actor=handler_a, reason=REASON)
    with pytest.raises(ValidationError):
        restriction_lift.restriction_lift_ask(request=request, actor=handler_a, reason=REASON)
    assert request.restriction_lifts.count() == 1


def test_the_lift_is_the_only_way_back_a_restricted_customer_stays_uneditable(register_a, handler_a, owner_a, staff_a):
    customer = PersonCustomerFactory(register=register_a, city="Turku")
    request = answered_restriction(register_a, handler_a, owner_a, customer)
    restriction_lift.restriction_lift_ask(request=request, actor=handler_a, reason=REASON)
    customer.refresh_from_db()
    with pytest.raises(ValidationError, match="restricted"):
        crm_services.customer_update(actor=staff_a, customer=customer, data={"city": "Oulu"}, version=customer.version)


@pytest.mark.parametrize(
    "name",
    [
        "privacy:rights-restriction-lift",
        "privacy:rights-restriction-lift-posted",
        "privacy:rights-restriction-lift-cancel",
        "privacy:rights-restriction-lift-letter",
    ],
)
def test_the_lift_steps_are_404_for_another_register_and_403_for_read_only(
    client, register_a, handler_a, owner_a, staff_b, readonly_a, name
):
    customer = PersonCustomerFactory(register=register_a)
    request = answered_restriction(register_a, handler_a, owner_a, customer)
    restriction_lift.restriction_lift_ask(request=request, actor=handler_a, reason=REASON)
    url = reverse(name, kwargs={"code": request.code})
    data = {"reason": "Peruttu."}
    client.force_login(staff_b)
    assert client.post(url, data).status_code in {404, 405}
    assert client.get(url).status_code in {404, 405}
    client.force_login(readonly_a)
    assert client.post(url, data).status_code in {403, 405}
    assert client.get(url).status_code in {403, 405}
    assert request.restriction_lifts.get().state == Lift.NOTICE_PENDING
    assert restricted(customer)
