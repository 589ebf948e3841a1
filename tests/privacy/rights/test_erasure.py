"""Erasure (GDPR 17; PRIVACY.md "Erasure and its exceptions", "Notify recipients"): a dry-run plan per object
with its grounds, reviewed, executed in one transaction, audit trail kept but its values redacted."""

import datetime
import json
import threading

import pytest
from auditlog.models import LogEntry
from django.contrib.admin.models import CHANGE
from django.contrib.admin.models import LogEntry as AdminLogEntry
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.urls import reverse
from django.utils import timezone, translation

from campaigns.models import Campaign, CampaignRecipient
from crm import services as crm_services
from crm.models import ContactPerson, Customer, CustomerTag, Interaction, Invoice, Tag
from followups.models import FollowUp
from privacy.requests.models import DataSubjectRequest
from privacy.retention.holds import legal_hold_place
from privacy.rights import erasure
from privacy.rights.models import ErasureAction, ErasurePlan, Refusal
from registers.models import Role

from ...conftest import grant
from ...factories import (
    ContactCentreMessageFactory,
    ContactCentreRegisterFactory,
    ContactPersonFactory,
    CustomerFactory,
    InteractionFactory,
    InvoiceFactory,
    OrderingClientFactory,
    PersonCustomerFactory,
    UserFactory,
)
from .. import rights_steps

pytestmark = pytest.mark.django_db

State = DataSubjectRequest.State
Kind = DataSubjectRequest.Kind
Action = ErasureAction.Action
Ground = ErasureAction.Ground


def erasure_request(register, handler, records, **extra):
    return rights_steps.in_progress([register], handler, kind=Kind.ERASURE, records=records, **extra)


def actions_by_code(plan):
    return {a.object_code: a for a in plan.actions.all()}


def test_the_plan_keeps_what_an_open_invoice_needs_of_a_customer_and_deletes_the_rest(register_a, handler_a):
    held = PersonCustomerFactory(register=register_a, email="velallinen@example.fi")
    invoice = InvoiceFactory(customer=held, status=Invoice.Status.OPEN)
    note = InteractionFactory(customer=held)
    free = PersonCustomerFactory(register=register_a)
    InteractionFactory(customer=free)
    InvoiceFactory(customer=free, status=Invoice.Status.PAID)
    request = erasure_request(register_a, handler_a, [held, free])

    plan = erasure.erasure_plan_compute(request=request, actor=handler_a)

    actions = actions_by_code(plan)
    assert actions[held.code].action == Action.MINIMISE
    assert actions[held.code].grounds == [Ground.OPEN_INVOICE]
    assert "email" in actions[held.code].fields
    assert "last_name" not in actions[held.code].fields
    assert actions[invoice.code].action == Action.KEEP
    assert actions[note.code].action == Action.DELETE
    assert actions[free.code].action == Action.DELETE
    assert actions[free.code].cascade == {"interaction": 1, "invoice": 1}
    # A dry run: nothing is gone yet.
    assert Customer.objects.filter(pk__in=[held.pk, free.pk]).count() == 2


def test_debt_in_collection_and_a_legal_hold_are_grounds_of_their_own(register_a, handler_a, owner_a):
    in_collection = PersonCustomerFactory(register=register_a)
    InvoiceFactory(customer=in_collection, status=Invoice.Status.IN_COLLECTION)
    claimed = PersonCustomerFactory(register=register_a)
    legal_hold_place(
        actor=owner_a,
        register=register_a,
        customer=claimed,
        reason="Pending claim 12/2026",
        ends_on=timezone.localdate() + datetime.timedelta(days=90),
    )
    request = erasure_request(register_a, handler_a, [in_collection, claimed])

    actions = actions_by_code(erasure.erasure_plan_compute(request=request, actor=handler_a))

    assert actions[in_collection.code].grounds == [Ground.DEBT_IN_COLLECTION]
    assert actions[claimed.code].grounds == [Ground.LEGAL_HOLD]


def test_the_erasure_request_does_not_hold_back_its_own_records_but_another_open_request_does(register_a, handler_a):
    customer = PersonCustomerFactory(register=register_a)
    request = erasure_request(register_a, handler_a, [customer])
    assert actions_by_code(erasure.erasure_plan_compute(request=request, actor=handler_a))[customer.code].action == (
        Action.DELETE
    )

    rights_steps.in_progress([register_a], handler_a, kind=Kind.ACCESS, records=[customer])
    plan = erasure.erasure_plan_compute(request=request, actor=handler_a)
    assert actions_by_code(plan)[customer.code].grounds == [Ground.OPEN_REQUEST]
    # The earlier draft is replaced, never executed.
    assert request.erasure_plans.filter(status=ErasurePlan.Status.SUPERSEDED).count() == 1


def test_a_contact_person_is_deleted_and_the_organisations_history_loses_only_the_link(register_a, handler_a):
    person = ContactPersonFactory(customer=CustomerFactory(register=register_a))
    meeting = InteractionFactory(customer=person.customer, contact_person=person)
    request = erasure_request(register_a, handler_a, [person])

    actions = actions_by_code(erasure.erasure_plan_compute(request=request, actor=handler_a))

    assert actions[person.code].action == Action.DELETE
    assert actions[meeting.code].action == Action.ANONYMISE
    assert actions[meeting.code].grounds == [Ground.LINK_REMOVED]


def test_an_archived_message_is_kept_while_the_client_relationship_lasts(handler_a):
    archive = ContactCentreRegisterFactory(organisation=handler_a_register(handler_a).organisation)
    grant(handler_a, archive, Role.HANDLER)
    current = ContactCentreMessageFactory(register=archive, ordering_client=OrderingClientFactory(register=archive))
    ended = ContactCentreMessageFactory(
        register=archive,
        ordering_client=OrderingClientFactory(
            register=archive, active_until=timezone.localdate() - datetime.timedelta(days=400)
        ),
    )
    request = erasure_request(archive, handler_a, [current, ended])

    actions = actions_by_code(erasure.erasure_plan_compute(request=request, actor=handler_a))

    assert actions[current.code].action == Action.KEEP
    assert actions[current.code].grounds == [Ground.STATUTORY_RETENTION]
    assert actions[ended.code].action == Action.DELETE


def handler_a_register(handler):
    from registers.models import Membership

    return Membership.objects.filter(user=handler).first().register


def reviewed(register, handler, records, **extra):
    request = erasure_request(register, handler, records, **extra)
    erasure.erasure_plan_compute(request=request, actor=handler)
    return rights_steps.prepared(request, handler)


def test_execution_erases_the_rest_and_partly_refuses_with_the_legal_ground(register_a, handler_a, owner_a):
    held = PersonCustomerFactory(register=register_a)
    InvoiceFactory(customer=held, status=Invoice.Status.OPEN)
    free = PersonCustomerFactory(register=register_a)
    InteractionFactory(customer=free)
    request = reviewed(register_a, handler_a, [held, free])

    request = erasure.erasure_execute(
        request=request, actor=owner_a, text="Your open invoice keeps your customer record until it is paid."
    )

    assert request.state == State.PARTLY_REFUSED
    assert Customer.objects.filter(pk=held.pk).exists()
    assert not Customer.objects.filter(pk=free.pk).exists()
    assert not Interaction.objects.filter(customer_id=free.pk).exists()
    refusal = Refusal.objects.get(request=request)
    assert refusal.partial
    assert refusal.grounds == ["gdpr_17_3_e"]
    plan = erasure.plan_current(request)
    assert plan.status == ErasurePlan.Status.EXECUTED
    assert plan.executed_by == owner_a
    letter = request.letters.get()
    assert "Tietosuojavaltuutetun toimisto" in letter.html
    assert request.events.filter(action="erasure_executed").exists()


def test_an_erasure_with_nothing_held_is_answered(register_a, handler_a, owner_a):
    customer = PersonCustomerFactory(register=register_a)
    request = erasure.erasure_execute(request=reviewed(register_a, handler_a, [customer]), actor=owner_a)
    assert request.state == State.RESPONDED
    assert not Refusal.objects.filter(request=request).exists()


def test_keeping_everything_is_a_refusal_that_needs_reasons(register_a, handler_a, owner_a):
    held = PersonCustomerFactory(register=register_a)
    legal_hold_place(
        actor=owner_a,
        register=register_a,
        customer=held,
        reason="Pending claim 12/2026",
        ends_on=timezone.localdate() + datetime.timedelta(days=90),
    )
    request = reviewed(register_a, handler_a, [held])

    with pytest.raises(ValidationError):
        erasure.erasure_execute(request=request, actor=owner_a, text="")
    request.refresh_from_db()
    assert request.state == State.REVIEW

    request = erasure.erasure_execute(request=request, actor=owner_a, text="A claim about you is pending in court.")
    assert request.state == State.REFUSED


def test_the_preparer_cannot_execute_and_nothing_is_erased(register_a, owner_a):
    customer = PersonCustomerFactory(register=register_a)
    request = reviewed(register_a, owner_a, [customer])
    with pytest.raises(ValidationError, match="someone other than"):
        erasure.erasure_execute(request=request, actor=owner_a)
    assert Customer.objects.filter(pk=customer.pk).exists()


def test_a_handler_without_approval_rights_cannot_execute(register_a, handler_a):
    customer = PersonCustomerFactory(register=register_a)
    request = reviewed(register_a, handler_a, [customer])
    other_handler = UserFactory()
    grant(other_handler, register_a, Role.HANDLER)
    with pytest.raises(PermissionDenied):
        erasure.erasure_execute(request=request, actor=other_handler)
    assert Customer.objects.filter(pk=customer.pk).exists()


def test_a_hold_placed_after_review_stops_the_execution(register_a, handler_a, owner_a):
    customer = PersonCustomerFactory(register=register_a)
    request = reviewed(register_a, handler_a, [customer])
    InvoiceFactory(customer=customer, status=Invoice.Status.OPEN)

    with pytest.raises(ValidationError, match="changed since the plan was reviewed"):
        erasure.erasure_execute(request=request, actor=owner_a)
    assert Customer.objects.filter(pk=customer.pk).exists()


def _column_text(value) -> str:
    # PostgreSQL hands JSON columns back decoded; SQLite stores them as text with non-ASCII letters escaped
    # ("Pyh\u00e4j\u00e4rvi"), so both are decoded and written out again with the letters as typed.
    if value is None:
        return ""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return value
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _text_of_audit_trail() -> str:
    # Every text column of both logs, as the database stores them (raw SQL, past the models' decoding). The
    # request's own case file (the requester's name and address as given in the request) is not part of the
    # erased records.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT object_repr, changes, changes_text, serialized_data, additional_data FROM auditlog_logentry "
            "WHERE content_type_id <> (SELECT id FROM django_content_type WHERE app_label = 'privacy' "
            "AND model = 'datasubjectrequest')"
        )
        auditlog_text = " ".join(_column_text(value) for row in cursor.fetchall() for value in row)
        cursor.execute("SELECT object_repr, change_message FROM django_admin_log")
        admin_text = " ".join(_column_text(value) for row in cursor.fetchall() for value in row)
    return auditlog_text + " " + admin_text


def test_no_audit_entry_admin_entry_or_export_holds_the_erased_values(
    client, register_a, handler_a, owner_a, staff_a, admin_user
):
    customer = PersonCustomerFactory(
        register=register_a, first_name="Ulriikka", last_name="Poistettava", email="ulriikka.poistettava@example.fi"
    )
    customer = crm_services.customer_update(
        actor=staff_a, customer=customer, data={"city": "Pyhäjärvi", "extra_info": "Soittaa aamuisin"}, version=1
    )
    InteractionFactory(customer=customer, subject="Tapaaminen Ulriikan kanssa")
    client.force_login(staff_a)
    client.get(customer.get_absolute_url())  # an ACCESS entry naming the customer
    AdminLogEntry.objects.log_actions(admin_user.pk, [customer], CHANGE, change_message='[{"changed": {}}]')
    erased_values = ["Ulriikka", "Poistettava", "ulriikka.poistettava@example.fi", "Pyhäjärvi", "aamuisin"]
    assert all(value in _text_of_audit_trail() for value in erased_values)
    entries_before = LogEntry.objects.filter(object_id=customer.pk, content_type__model="customer").count()

    request = reviewed(register_a, handler_a, [customer])
    erasure.erasure_execute(request=request, actor=owner_a)

    trail = _text_of_audit_trail()
    for value in erased_values:
        assert value not in trail, value
    # Who did what and when stays: the old entries (values blanked) and one deletion entry by the approver.
    entries = LogEntry.objects.filter(object_id=customer.pk, content_type__model="customer")
    assert entries.count() == entries_before + 1
    deletion = entries.get(action=LogEntry.Action.DELETE)
    assert deletion.actor == owner_a
    assert deletion.additional_data["erasure_request"] == request.reference
    update = entries.get(action=LogEntry.Action.UPDATE)
    assert set(update.changes) >= {"city", "extra_info"}
    assert update.actor == staff_a
    export = client.get(reverse("crm:customer-export", kwargs={"register": register_a.slug}))
    csv_text = b"".join(export.streaming_content).decode()
    assert "Poistettava" not in csv_text


def test_an_erased_contact_persons_audit_entries_are_redacted_too(register_a, handler_a, owner_a, staff_a):
    organisation = CustomerFactory(register=register_a)
    person = crm_services.contact_person_create(
        actor=staff_a, customer=organisation, data={"first_name": "Onni", "last_name": "Yhteyshenkilö"}
    )
    request = reviewed(register_a, handler_a, [person])
    erasure.erasure_execute(request=request, actor=owner_a)
    assert not ContactPerson.objects.filter(pk=person.pk).exists()
    assert "Yhteyshenkilö" not in _text_of_audit_trail()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_approvers_executing_at_once_one_wins_and_the_other_sees_it_done(register_a, handler_a, owner_a):
    second_owner = UserFactory(username="owner_a2")
    grant(second_owner, register_a, Role.OWNER)
    customer = PersonCustomerFactory(register=register_a)
    request = reviewed(register_a, handler_a, [customer])
    barrier = threading.Barrier(2)
    results: dict[str, object] = {}

    def execute(user):
        translation.activate("en")  # a thread starts with the site's language
        try:
            barrier.wait(timeout=10)
            results[user.username] = erasure.erasure_execute(request=request, actor=user).state
        except erasure.ErasureAlreadyExecutedError as error:
            results[user.username] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=execute, args=(user,)) for user in (owner_a, second_owner)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    outcomes = sorted(results.values(), key=lambda r: isinstance(r, Exception))
    assert outcomes[0] == State.RESPONDED
    assert isinstance(outcomes[1], erasure.ErasureAlreadyExecutedError)
    assert "already executed by" in outcomes[1].messages[0]
    assert ErasurePlan.objects.filter(request=request, status=ErasurePlan.Status.EXECUTED).count() == 1
    assert (
        LogEntry.objects.filter(
            object_id=customer.pk, content_type__model="customer", action=LogEntry.Action.DELETE
        ).count()
        == 1
    )


def test_the_daily_work_about_an_erased_person_goes_with_them(register_a, handler_a, owner_a):
    """Follow-ups and tags (issue 18): a minimised customer keeps none; an erased contact person's go too."""
    held = PersonCustomerFactory(register=register_a)
    InvoiceFactory(customer=held, status=Invoice.Status.OPEN)
    tag = Tag.objects.create(register=register_a, name="Messut")
    CustomerTag.objects.create(tag=tag, customer=held)
    FollowUp.objects.create(customer=held, assignee=handler_a, due_on=timezone.localdate(), note="Soita laskusta")
    organisation = CustomerFactory(register=register_a)
    person = ContactPersonFactory(customer=organisation)
    FollowUp.objects.create(
        customer=organisation, contact_person=person, assignee=handler_a, due_on=timezone.localdate(), note="Soita"
    )
    kept = FollowUp.objects.create(customer=organisation, assignee=handler_a, due_on=timezone.localdate())
    request = reviewed(register_a, handler_a, [held, person])

    erasure.erasure_execute(request=request, actor=owner_a, text="Your open invoice keeps your customer record.")

    assert Customer.objects.filter(pk=held.pk).exists()
    assert not FollowUp.objects.filter(customer=held).exists()
    assert not CustomerTag.objects.filter(customer=held).exists()
    assert list(FollowUp.objects.filter(customer=organisation)) == [kept]


def test_a_minimised_customer_keeps_no_campaign_messages(register_a, handler_a, owner_a):
    held = PersonCustomerFactory(register=register_a, email="velallinen@example.fi")
    InvoiceFactory(customer=held, status=Invoice.Status.OPEN)
    campaign = Campaign.objects.create(register=register_a, name="Uutiskirje", created_by=owner_a)
    CampaignRecipient.objects.create(campaign=campaign, customer=held, email=held.email, language="fi")
    other = CampaignRecipient.objects.create(
        campaign=campaign, customer=PersonCustomerFactory(register=register_a), email="muu@example.fi", language="fi"
    )
    request = reviewed(register_a, handler_a, [held])

    erasure.erasure_execute(request=request, actor=owner_a, text="Your open invoice keeps your customer record.")

    assert list(CampaignRecipient.objects.all()) == [other]
