"""Merging customers and contact persons, and undoing it, through the services (issue 16)."""

import datetime
import json

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone, translation

from crm.models import ContactPerson, Customer, CustomerAlias, Interaction
from duplicates import selectors, services
from duplicates.models import CustomerMerge, DuplicateCandidate
from privacy.requests import access_package
from privacy.requests.models import DataSubjectRequest, RequestEvent, SubjectMatch
from privacy.retention.models import LegalHold
from privacy.rights.models import ConsentRecord, Disclosure, ObjectionRecord
from registers.access_log import log_access
from tests.factories import (
    ContactPersonFactory,
    CustomerFactory,
    InteractionFactory,
    InvoiceFactory,
    PersonCustomerFactory,
    RegisterFactory,
)
from tests.privacy.retention_helpers import open_request_for

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


def _pair(register, **second):
    older = CustomerFactory(register=register, organisation_name="Kahvila Aalto Oy", city="Helsinki")
    newer = CustomerFactory(register=register, organisation_name="Kahvila Aalto", city="Helsinki", **second)
    return older, newer


def _history(customer, handler, purpose=ConsentRecord.Purpose.NEWSLETTER):
    """One row of every kind that can point at a customer."""
    person = ContactPersonFactory(customer=customer)
    interaction = InteractionFactory(customer=customer, contact_person=person, staff_user=handler)
    invoice = InvoiceFactory(customer=customer)
    consent = ConsentRecord.objects.create(
        customer=customer,
        register=customer.register,
        purpose=purpose,
        given_at=timezone.now(),
        given_channel=ConsentRecord.Channel.WEB,
    )
    objection = ObjectionRecord.objects.create(
        customer=customer,
        register=customer.register,
        purpose=ObjectionRecord.Purpose.DIRECT_MARKETING,
        given_at=timezone.now(),
        channel=ConsentRecord.Channel.EMAIL,
    )
    disclosure = Disclosure.objects.create(
        register=customer.register,
        customer=customer,
        recipient="Oikeuspalvelut",
        recipient_kind=Disclosure.RecipientKind.LEGAL_SERVICES,
        data_description="nimi ja osoite",
        legal_basis="621/1999 16(3) §",
        actor=handler,
    )
    return [person, interaction, invoice, consent, objection, disclosure]


def _owner_of(row) -> int:
    row.refresh_from_db()
    return row.customer_id


def test_merge_moves_every_related_row_and_undo_moves_them_back(register_a, handler_a):
    survivor, merged = _pair(register_a)
    kept_rows = _history(survivor, handler_a)
    moved_rows = _history(merged, handler_a, purpose=ConsentRecord.Purpose.RESEARCH)
    merge = services.customer_merge(actor=handler_a, survivor=survivor, merged=[merged], reason="sama yritys")

    assert not Customer.objects.filter(pk=merged.pk).exists()
    assert [_owner_of(row) for row in moved_rows + kept_rows] == [survivor.pk] * 12
    assert merge.state == CustomerMerge.State.DONE
    assert merge.merged_by == handler_a

    services.merge_undo(actor=handler_a, merge=merge, reason="eri yritykset sittenkin")

    restored = Customer.objects.get(pk=merged.pk)
    assert restored.code == merged.code
    assert restored.organisation_name == "Kahvila Aalto"
    assert [_owner_of(row) for row in moved_rows] == [merged.pk] * 6
    assert [_owner_of(row) for row in kept_rows] == [survivor.pk] * 6
    merge.refresh_from_db()
    assert merge.state == CustomerMerge.State.UNDONE
    assert merge.undo_reason == "eri yritykset sittenkin"


def test_a_consent_in_force_on_both_keeps_the_earliest_and_the_undo_brings_the_other_back(register_a, handler_a):
    survivor, merged = _pair(register_a)

    def consent(customer, days_ago):
        return ConsentRecord.objects.create(
            customer=customer,
            register=register_a,
            purpose=ConsentRecord.Purpose.NEWSLETTER,
            given_at=timezone.now() - datetime.timedelta(days=days_ago),
            given_channel=ConsentRecord.Channel.WEB,
        )

    later, earliest = consent(survivor, 10), consent(merged, 400)
    merge = services.customer_merge(actor=handler_a, survivor=survivor, merged=[merged])
    assert list(ConsentRecord.objects.values_list("pk", "customer_id")) == [(earliest.pk, survivor.pk)]

    services.merge_undo(actor=handler_a, merge=merge, reason="virhe")
    assert set(ConsentRecord.objects.values_list("pk", "customer_id")) == {
        (later.pk, survivor.pk),
        (earliest.pk, merged.pk),
    }


def test_two_thousand_interactions_move_in_a_constant_number_of_queries(
    register_a, handler_a, django_assert_max_num_queries
):
    survivor, merged = _pair(register_a)
    Interaction.objects.bulk_create(
        [Interaction(customer=merged, kind="note", subject=f"muistio {n}") for n in range(300)]
    )
    # The moved audit entries and events are linked in the audit chain: a few queries per model, not per row.
    with django_assert_max_num_queries(92):
        services.customer_merge(actor=handler_a, survivor=survivor, merged=[merged])
    assert survivor.interactions.count() == 300


def test_fields_default_to_the_newest_non_empty_value_and_choices_take_either_side(register_a, handler_a):
    survivor, merged = _pair(register_a, street_address="Mannerheimintie 1", postal_code="00100")
    survivor.extra_info = "Vanha asiakas"
    survivor.save()  # now the newest: its non-empty values win by default
    merge = services.customer_merge(
        actor=handler_a,
        survivor=survivor,
        merged=[merged],
        choices={"organisation_name": merged.pk},
    )
    survivor.refresh_from_db()
    assert survivor.organisation_name == "Kahvila Aalto"  # chosen from the merged record
    assert survivor.street_address == "Mannerheimintie 1"  # only the merged record had one
    assert survivor.extra_info == "Vanha asiakas"
    assert merge.images["before"]["organisation_name"] == "Kahvila Aalto Oy"

    services.merge_undo(actor=handler_a, merge=merge, reason="virhe")
    survivor.refresh_from_db()
    assert (survivor.organisation_name, survivor.street_address) == ("Kahvila Aalto Oy", "")


def test_the_strictest_privacy_state_holds_for_the_result(register_a, handler_a):
    objected_at = timezone.now() - datetime.timedelta(days=40)
    survivor, merged = _pair(register_a, marketing_objection=True, marketing_objection_at=objected_at)
    services.customer_merge(actor=handler_a, survivor=survivor, merged=[merged], choices={"email": survivor.pk})
    survivor.refresh_from_db()
    assert survivor.marketing_objection is True
    assert survivor.marketing_objection_at == objected_at


def test_a_contact_persons_marketing_objection_survives_the_merge(register_a, handler_a):
    organisation = CustomerFactory(register=register_a)
    objected_at = timezone.now() - datetime.timedelta(days=3)
    survivor = ContactPersonFactory(customer=organisation, first_name="Maija", last_name="Virtanen")
    merged = ContactPersonFactory(
        customer=organisation,
        first_name="Maija",
        last_name="Virtanen",
        marketing_objection=True,
        marketing_objection_at=objected_at,
    )
    services.contact_person_merge(actor=handler_a, survivor=survivor, merged=[merged])
    survivor.refresh_from_db()
    assert (survivor.marketing_objection, survivor.marketing_objection_at) == (True, objected_at)


def test_old_links_lead_to_the_survivor_until_the_undo(client, register_a, handler_a, staff_b):
    survivor, merged = _pair(register_a)
    merge = services.customer_merge(actor=handler_a, survivor=survivor, merged=[merged])
    client.force_login(handler_a)
    response = client.get(merged.get_absolute_url())
    assert response.status_code == 302
    assert response.url == survivor.get_absolute_url()

    client.force_login(staff_b)  # no role in register A: no hint that the code ever existed
    assert client.get(merged.get_absolute_url()).status_code == 404

    services.merge_undo(actor=handler_a, merge=merge, reason="virhe")
    assert not CustomerAlias.objects.exists()
    client.force_login(handler_a)
    assert client.get(merged.get_absolute_url()).status_code == 200


def test_audit_and_access_history_of_both_is_read_on_the_survivor(rf, register_a, handler_a):
    survivor, merged = _pair(register_a)
    request = rf.get(merged.get_absolute_url())
    request.user = handler_a
    log_access(request, merged)
    customer_type = ContentType.objects.get_for_model(Customer)
    merged_entries = set(
        LogEntry.objects.filter(content_type=customer_type, object_id=merged.pk).values_list("pk", flat=True)
    )
    assert len(merged_entries) >= 2  # created, viewed

    merge = services.customer_merge(actor=handler_a, survivor=survivor, merged=[merged])
    on_survivor = set(
        LogEntry.objects.filter(content_type=customer_type, object_id=survivor.pk).values_list("pk", flat=True)
    )
    assert merged_entries <= on_survivor

    services.merge_undo(actor=handler_a, merge=merge, reason="virhe")
    back = set(LogEntry.objects.filter(content_type=customer_type, object_id=merged.pk).values_list("pk", flat=True))
    assert merged_entries <= back


def test_access_package_after_a_merge_holds_both_histories(register_a, owner_a, handler_a):
    survivor, merged = _pair(register_a)
    InteractionFactory(customer=survivor, subject="Ensimmäinen tapaaminen")
    InteractionFactory(customer=merged, subject="Toinen tapaaminen")
    request = open_request_for(
        owner=owner_a, handler=handler_a, register=register_a, customer=survivor, kind=DataSubjectRequest.Kind.ACCESS
    )
    services.customer_merge(actor=handler_a, survivor=survivor, merged=[merged], acknowledged=True)
    content = json.dumps(access_package.package_content(request=request), default=str, ensure_ascii=False)
    assert "Ensimmäinen tapaaminen" in content
    assert "Toinen tapaaminen" in content


def test_a_request_that_matched_both_keeps_one_match_and_gets_both_back_on_undo(register_a, owner_a, handler_a):
    survivor, merged = _pair(register_a)
    request = open_request_for(owner=owner_a, handler=handler_a, register=register_a, customer=survivor)
    SubjectMatch.objects.create(
        request=request, register=register_a, customer=merged, confirmed_by=handler_a, confirmed_at=timezone.now()
    )
    merge = services.customer_merge(actor=handler_a, survivor=survivor, merged=[merged], acknowledged=True)
    assert list(SubjectMatch.objects.filter(request=request).values_list("customer_id", flat=True)) == [survivor.pk]
    assert request.events.filter(action=RequestEvent.Action.RECORDS_MERGED).exists()

    services.merge_undo(actor=handler_a, merge=merge, reason="virhe")
    assert set(SubjectMatch.objects.filter(request=request).values_list("customer_id", flat=True)) == {
        survivor.pk,
        merged.pk,
    }
    assert request.events.filter(action=RequestEvent.Action.RECORDS_UNMERGED).exists()


@pytest.mark.parametrize("state", ["open_request", "legal_hold", "restricted"])
def test_blocked_records_need_the_handlers_acknowledgement(register_a, owner_a, handler_a, state):
    survivor, merged = _pair(register_a)
    if state == "open_request":
        open_request_for(owner=owner_a, handler=handler_a, register=register_a, customer=merged)
    elif state == "legal_hold":
        LegalHold.objects.create(
            register=register_a,
            customer=merged,
            reason="riita-asia",
            ends_on=timezone.localdate() + datetime.timedelta(days=90),
            placed_by=owner_a,
        )
    else:
        Customer.objects.filter(pk=merged.pk).update(processing_restricted=True)
    with pytest.raises(ValidationError) as refused:
        services.customer_merge(actor=handler_a, survivor=survivor, merged=[merged])
    assert refused.value.messages == [str(services.ERROR_BLOCKED)]
    assert Customer.objects.filter(pk=merged.pk).exists()

    services.customer_merge(actor=handler_a, survivor=survivor, merged=[merged], acknowledged=True)
    assert not Customer.objects.filter(pk=merged.pk).exists()
    if state == "legal_hold":
        assert LegalHold.objects.get().customer_id == survivor.pk  # the hold holds for the result
    if state == "restricted":
        survivor.refresh_from_db()
        assert survivor.processing_restricted


def test_refusals(register_a, handler_a, staff_a, owner_a):
    survivor, merged = _pair(register_a)
    other_register = CustomerFactory(register=RegisterFactory(organisation=register_a.organisation))
    person = PersonCustomerFactory(register=register_a)
    with pytest.raises(PermissionDenied):
        services.customer_merge(actor=staff_a, survivor=survivor, merged=[merged])
    with pytest.raises(ValidationError, match=str(services.ERROR_OTHER_REGISTER)):
        services.customer_merge(actor=handler_a, survivor=survivor, merged=[other_register])
    with pytest.raises(ValidationError, match=str(services.ERROR_KINDS_DIFFER)):
        services.customer_merge(actor=handler_a, survivor=survivor, merged=[person])
    with pytest.raises(ValidationError, match=str(services.ERROR_TOO_FEW)):
        services.customer_merge(actor=handler_a, survivor=survivor, merged=[survivor])
    with pytest.raises(ValidationError, match=str(services.ERROR_CHANGED)):
        services.customer_merge(
            actor=handler_a, survivor=survivor, merged=[merged], versions={survivor.pk: 1, merged.pk: 0}
        )
    with pytest.raises(ValidationError, match=str(services.ERROR_UNKNOWN_CHOICE)):
        services.customer_merge(actor=handler_a, survivor=survivor, merged=[merged], choices={"email": person.pk})
    assert Customer.objects.filter(pk__in=[survivor.pk, merged.pk]).count() == 2


def test_clashing_invoice_numbers_refuse_the_merge_and_change_nothing(register_a, handler_a):
    survivor, merged = _pair(register_a)
    InvoiceFactory(customer=survivor, number="2026-1")
    InvoiceFactory(customer=merged, number="2026-1")
    InteractionFactory(customer=merged)
    with pytest.raises(ValidationError) as refused:
        services.customer_merge(actor=handler_a, survivor=survivor, merged=[merged])
    assert "invoices" in refused.value.messages[0]
    assert merged.interactions.count() == 1
    assert not CustomerMerge.objects.exists()


def test_undo_is_refused_after_thirty_days_after_a_later_merge_and_twice(register_a, handler_a):
    survivor, merged = _pair(register_a)
    third = CustomerFactory(register=register_a, organisation_name="Aalto Kahvila")
    merge = services.customer_merge(actor=handler_a, survivor=survivor, merged=[merged])
    later = services.customer_merge(actor=handler_a, survivor=survivor, merged=[third])
    with pytest.raises(ValidationError, match="merged again"):
        services.merge_undo(actor=handler_a, merge=merge, reason="virhe")
    services.merge_undo(actor=handler_a, merge=later, reason="virhe")
    with pytest.raises(ValidationError, match="already been undone"):
        services.merge_undo(actor=handler_a, merge=later, reason="virhe")
    CustomerMerge.objects.filter(pk=merge.pk).update(merged_at=timezone.now() - datetime.timedelta(days=31))
    with pytest.raises(ValidationError, match="30 days"):
        services.merge_undo(actor=handler_a, merge=merge, reason="virhe")


def test_undo_is_refused_when_the_survivor_was_merged_away(register_a, handler_a):
    survivor, merged = _pair(register_a)
    third = CustomerFactory(register=register_a, organisation_name="Aalto Kahvila")
    merge = services.customer_merge(actor=handler_a, survivor=survivor, merged=[merged])
    services.customer_merge(actor=handler_a, survivor=third, merged=[survivor])
    merge.refresh_from_db()
    assert merge.customer_id == third.pk  # the record of the first merge follows the history
    with pytest.raises(ValidationError, match="merged again"):
        services.merge_undo(actor=handler_a, merge=merge, reason="virhe")
    client_alias = CustomerAlias.objects.get(code=merged.code)
    assert client_alias.customer_id == third.pk  # the oldest link still leads somewhere


def test_erasing_the_survivor_takes_the_before_images_with_it(register_a, owner_a, handler_a):
    survivor, merged = _pair(register_a)
    services.customer_merge(actor=handler_a, survivor=survivor, merged=[merged])
    from crm.services import customer_delete

    customer_delete(actor=owner_a, customer=survivor)
    assert not CustomerMerge.objects.exists()
    assert not CustomerAlias.objects.exists()


def test_candidates_of_merged_records_go_and_come_back(register_a, handler_a):
    survivor, merged = _pair(register_a)
    other = CustomerFactory(register=register_a, organisation_name="Kahvila Aalto Ab")
    first, second = sorted([merged, other], key=lambda c: c.pk)
    candidate = DuplicateCandidate.objects.create(
        register=register_a, first=first, second=second, score=0.9, state=DuplicateCandidate.State.DISMISSED
    )
    merge = services.customer_merge(actor=handler_a, survivor=survivor, merged=[merged])
    assert not DuplicateCandidate.objects.exists()
    services.merge_undo(actor=handler_a, merge=merge, reason="virhe")
    assert DuplicateCandidate.objects.get(pk=candidate.pk).state == DuplicateCandidate.State.DISMISSED


def test_survivor_fields_changed_after_the_merge_are_kept_by_the_undo(register_a, handler_a):
    survivor, merged = _pair(register_a, postal_code="00100")
    merge = services.customer_merge(actor=handler_a, survivor=survivor, merged=[merged])
    survivor.refresh_from_db()
    survivor.postal_code = "00200"
    survivor.save()
    services.merge_undo(actor=handler_a, merge=merge, reason="virhe")
    survivor.refresh_from_db()
    assert survivor.postal_code == "00200"
    assert CustomerMerge.objects.get().images["kept_after_undo"] == ["postal_code"]


def test_contact_persons_of_one_organisation_merge_and_unmerge(register_a, handler_a):
    organisation = CustomerFactory(register=register_a)
    kept = ContactPersonFactory(customer=organisation, first_name="Matti", last_name="Virtanen", phone="")
    twin = ContactPersonFactory(
        customer=organisation, first_name="Matti", last_name="Virtanen", email="", phone="+358401234567"
    )
    call = InteractionFactory(customer=organisation, contact_person=twin)
    merge = services.contact_person_merge(actor=handler_a, survivor=kept, merged=[twin])
    kept.refresh_from_db()
    call.refresh_from_db()
    assert call.contact_person_id == kept.pk
    assert kept.phone == "+358401234567"
    assert not ContactPerson.objects.filter(pk=twin.pk).exists()

    services.merge_undo(actor=handler_a, merge=merge, reason="eri henkilöt")
    call.refresh_from_db()
    assert call.contact_person_id == twin.pk
    kept.refresh_from_db()
    assert kept.phone == ""

    elsewhere = ContactPersonFactory(customer=CustomerFactory(register=register_a))
    with pytest.raises(ValidationError, match=str(services.ERROR_OTHER_ORGANISATION)):
        services.contact_person_merge(actor=handler_a, survivor=kept, merged=[elsewhere])


def test_dismissed_candidate_stays_dismissed(register_a, handler_a, staff_a):
    first, second = sorted(_pair(register_a), key=lambda c: c.pk)
    candidate = DuplicateCandidate.objects.create(register=register_a, first=first, second=second, score=0.8)
    with pytest.raises(PermissionDenied):
        services.candidate_dismiss(actor=staff_a, candidate=candidate)
    services.candidate_dismiss(actor=handler_a, candidate=candidate)
    candidate.refresh_from_db()
    assert candidate.state == DuplicateCandidate.State.DISMISSED
    assert candidate.dismissed_by == handler_a
    assert not selectors.candidate_list(user=handler_a, register=register_a).exists()


def test_an_erasure_that_keeps_the_survivor_for_a_claim_drops_the_merged_values(register_a, handler_a, owner_a):
    from privacy.rights import erasure
    from tests.privacy import rights_steps

    survivor = PersonCustomerFactory(register=register_a, last_name="Velallinen", email="vanha@example.fi")
    merged = PersonCustomerFactory(register=register_a, last_name="Velallinen", email="toinen@example.fi")
    InvoiceFactory(customer=survivor, status="open")
    merge = services.customer_merge(actor=handler_a, survivor=survivor, merged=[merged])
    assert "toinen@example.fi" in json.dumps(merge.images)
    request = rights_steps.in_progress(
        [register_a], handler_a, kind=DataSubjectRequest.Kind.ERASURE, records=[survivor]
    )
    erasure.erasure_plan_compute(request=request, actor=handler_a)
    erasure.erasure_execute(request=rights_steps.prepared(request, handler_a), actor=owner_a, text="Lasku on auki.")

    merge.refresh_from_db()
    assert Customer.objects.filter(pk=survivor.pk).exists()  # kept, minimised, for the open invoice
    assert "toinen@example.fi" not in json.dumps(merge.images)
    with pytest.raises(ValidationError, match="erased"):
        services.merge_undo(actor=handler_a, merge=merge, reason="virhe")


def test_before_images_expire_with_the_undo_window(register_a, handler_a):
    survivor, merged = _pair(register_a)
    merge = services.customer_merge(actor=handler_a, survivor=survivor, merged=[merged])
    assert services.merge_images_expire() == 0
    assert services.merge_images_expire(now=timezone.now() + datetime.timedelta(days=31)) == 1
    merge.refresh_from_db()
    assert merge.images == {}
    assert merge.merged[0]["code"] == str(merged.code)  # what was merged stays on record


def test_an_undo_leaves_out_a_candidate_pair_whose_other_customer_is_gone(register_a, handler_a):
    survivor, merged = _pair(register_a)
    third = CustomerFactory(register=register_a, organisation_name="Kahvila Aalto Ky")
    elsewhere = CustomerFactory(register=register_a, organisation_name="Kahvila Aalto Ky")
    first, second = sorted([merged, third], key=lambda c: c.pk)
    DuplicateCandidate.objects.create(register=register_a, first=first, second=second, score=0.8)
    merge = services.customer_merge(actor=handler_a, survivor=survivor, merged=[merged])
    services.customer_merge(actor=handler_a, survivor=elsewhere, merged=[third])

    services.merge_undo(actor=handler_a, merge=merge, reason="virhe")
    assert Customer.objects.filter(pk=merged.pk).exists()
    assert not DuplicateCandidate.objects.exists()  # the pair's other customer is gone: the pair stays gone


def test_a_later_contact_person_merge_on_the_survivor_blocks_the_undo_until_it_is_undone(register_a, handler_a):
    survivor, merged = _pair(register_a)
    kept_person = ContactPersonFactory(customer=survivor, first_name="Matti", last_name="Aalto")
    merged_person = ContactPersonFactory(customer=merged, first_name="Matti", last_name="Aalto")
    InteractionFactory(customer=merged, contact_person=merged_person)
    merge = services.customer_merge(actor=handler_a, survivor=survivor, merged=[merged])
    merged_person.refresh_from_db()
    people = services.contact_person_merge(actor=handler_a, survivor=kept_person, merged=[merged_person])
    with pytest.raises(ValidationError, match="merged again"):
        services.merge_undo(actor=handler_a, merge=merge, reason="virhe")

    services.merge_undo(actor=handler_a, merge=people, reason="eri henkilöt")
    services.merge_undo(actor=handler_a, merge=merge, reason="virhe")
    for interaction in Interaction.objects.all():
        interaction.full_clean()


def test_a_contact_person_merge_cannot_be_undone_once_the_organisation_is_merged_away(register_a, handler_a):
    organisation, other = _pair(register_a)
    kept, twin = (ContactPersonFactory(customer=organisation, last_name="Aalto") for _ in range(2))
    people = services.contact_person_merge(actor=handler_a, survivor=kept, merged=[twin])
    services.customer_merge(actor=handler_a, survivor=other, merged=[organisation])
    with pytest.raises(ValidationError, match="merged again"):
        services.merge_undo(actor=handler_a, merge=people, reason="virhe")


def test_the_nightly_task_drops_expired_before_images(register_a, handler_a, celery_eager, settings):
    from duplicates.tasks import merge_images_expire_nightly

    survivor, merged = _pair(register_a)
    merge = services.customer_merge(actor=handler_a, survivor=survivor, merged=[merged])
    CustomerMerge.objects.filter(pk=merge.pk).update(merged_at=timezone.now() - datetime.timedelta(days=31))
    assert merge_images_expire_nightly.delay().get() == 1
    merge.refresh_from_db()
    assert merge.images == {}
    assert any(
        entry["task"] == "duplicates.tasks.merge_images_expire_nightly"
        for entry in settings.CELERY_BEAT_SCHEDULE.values()
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_handlers_merging_overlapping_records_at_once_one_wins_and_nothing_is_lost(register_a, handler_a, owner_a):
    import threading

    from django.db import connection

    first, middle, last = (
        CustomerFactory(register=register_a, organisation_name=f"Kahvila Aalto {n}") for n in ("Oy", "Ab", "Ky")
    )
    for customer in (first, middle, last):
        InteractionFactory.create_batch(3, customer=customer)
    barrier = threading.Barrier(2)
    results: dict[str, object] = {}

    def merge(user, survivor, merged):
        translation.activate("en")
        try:
            barrier.wait(timeout=10)
            results[user.username] = services.customer_merge(actor=user, survivor=survivor, merged=[merged])
        except ValidationError as error:
            results[user.username] = error
        finally:
            connection.close()

    threads = [
        threading.Thread(target=merge, args=(handler_a, first, middle)),
        threading.Thread(target=merge, args=(owner_a, last, middle)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    done = [result for result in results.values() if isinstance(result, CustomerMerge)]
    refused = [result for result in results.values() if isinstance(result, ValidationError)]
    assert len(done) == 1
    assert len(refused) == 1
    assert refused[0].messages == [str(services.ERROR_CHANGED)]
    assert Interaction.objects.count() == 9  # every interaction kept, on the records that remain
    assert Customer.objects.filter(pk=middle.pk).exists() is False
    assert Interaction.objects.filter(customer_id=done[0].customer_id).count() == 6
