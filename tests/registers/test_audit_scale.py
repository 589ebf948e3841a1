"""The owner's change and access screens at scale: every change entry carries its register, the screens filter on it.

Entries were once found from the register's rows (every row id compared with each entry's object id as text),
which went quadratic with a million entries. Now each entry stores `additional_data["register"]` when it is
written (`registers.audit_scope`), the screens filter on that key through two partial indexes, and no page waits
on a full count.
"""

import datetime
import importlib
import re
import uuid

import pytest
from auditlog.models import LogEntry
from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from archive.models import Mailbox
from campaigns.models import Campaign
from crm.models import CompanyChange, ContactPerson, Customer, MessageAttachment, SavedView, Tag
from duplicates.models import CustomerMerge, DuplicateCandidate
from followups.models import FollowUp
from privacy.retention.redaction import delete_with_redacted_trail
from registers import audit, views_audit
from registers.access_log import log_access
from registers.access_review import access_review_open
from registers.audit_context import set_actor
from registers.audit_scope import RegisterAuditMixin, backfill_entry_registers
from registers.models import Role
from registers.services import membership_end
from segments.models import BulkAction
from selfservice.models import IdentityLink, SubjectIdentity

from ..conftest import grant
from ..factories import (
    CallRecordingFactory,
    ConsentNoticeFactory,
    ContactCentreMessageFactory,
    ContactCentreRegisterFactory,
    ContactPersonFactory,
    CustomerFactory,
    InteractionFactory,
    InvoiceFactory,
    OrderingClientFactory,
    RegisterFactory,
    UserFactory,
)
from ..privacy.retention_helpers import open_request_for

pytestmark = pytest.mark.django_db

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the partial expression indexes exist on PostgreSQL only"
)


def _label(model) -> str:
    return model._meta.label


def test_every_audited_model_of_a_register_stores_its_register():
    for model, _path in audit.audited_models():
        assert issubclass(model, RegisterAuditMixin), f"{_label(model)} does not store its register on its entries"


def _make_rows(register, owner):
    """Create one row of every audited model of a register (through its factory or service); return them by label."""
    customer = CustomerFactory(register=register)
    person = ContactPersonFactory(customer=customer)
    review = access_review_open(register=register)
    ordering_client = OrderingClientFactory(register=register)
    message = ContactCentreMessageFactory(register=register, ordering_client=ordering_client)
    match = open_request_for(owner=owner, handler=owner, register=register, customer=customer)
    view = SavedView.objects.create(register=register, owner=owner, name="Yritykset", query={"kind": "organisation"})
    return {
        "registers.Register": register,
        "registers.Membership": register.memberships.get(user=owner),
        "registers.AccessReview": review,
        "registers.AccessReviewItem": review.items.first(),
        "crm.Customer": customer,
        "crm.ContactPerson": person,
        "crm.Interaction": InteractionFactory(customer=customer, contact_person=person),
        "crm.Invoice": InvoiceFactory(customer=customer),
        "crm.OrderingClient": ordering_client,
        "crm.CompanyChange": CompanyChange.objects.create(customer=customer, field="city", new_value="Espoo"),
        "crm.ContactCentreMessage": message,
        "crm.MessageAttachment": MessageAttachment.objects.create(
            message=message, filename="liite.pdf", content_type="application/pdf", size=1, sha256="0" * 64, file="a"
        ),
        "archive.Mailbox": Mailbox.objects.create(
            ordering_client=ordering_client, name="Neuvonta", host="imap.example.fi", username="neuvonta"
        ),
        "crm.CallRecording": CallRecordingFactory(register=register, ordering_client=ordering_client),
        "privacy.SubjectMatch": match.matches.get(),
        "duplicates.DuplicateCandidate": DuplicateCandidate.objects.create(
            register=register, first=customer, second=CustomerFactory(register=register), score=0.9
        ),
        "duplicates.CustomerMerge": CustomerMerge.objects.create(
            register=register, customer=customer, survivor_pk=customer.pk, merged_by=owner
        ),
        "crm.Tag": Tag.objects.create(register=register, name="Messut 2027"),
        "followups.FollowUp": FollowUp.objects.create(
            customer=customer, assignee=owner, due_on=datetime.date(2027, 1, 15)
        ),
        "crm.SavedView": view,
        "privacy.ConsentNotice": ConsentNoticeFactory(register=register),
        "segments.BulkAction": BulkAction.objects.create(
            register=register, actor=owner, kind=BulkAction.Kind.TAG_ADD, saved_view=view
        ),
        "campaigns.Campaign": Campaign.objects.create(register=register, name="Uutiskirje", created_by=owner),
        "selfservice.IdentityLink": IdentityLink.objects.create(
            identity=SubjectIdentity.objects.create(
                issuer="https://tunnistus.example",
                subject="audit-scale",
                profile_id=uuid.uuid4(),
                assurance="substantial",
                last_signed_in_at=timezone.now(),
            ),
            customer=customer,
            register=register,
        ),
    }


def test_a_change_entry_of_every_audited_model_carries_its_register():
    register = ContactCentreRegisterFactory()
    owner = UserFactory()
    grant(owner, register, Role.OWNER)
    rows = _make_rows(register, owner)
    missing = {_label(model) for model, _path in audit.audited_models()} - rows.keys()
    assert not missing, f"add a row of {missing} to _make_rows"
    for label, row in rows.items():
        entries = LogEntry.objects.get_for_object(row).filter(action__in=audit.CHANGE_ACTIONS)
        assert entries.exists(), label
        assert {entry.additional_data["register"] for entry in entries} == {register.pk}, label


def test_updates_deletes_and_ended_roles_carry_the_register(owner_a, staff_a, register_a):
    customer = CustomerFactory(register=register_a)
    person = ContactPersonFactory(customer=customer)
    with set_actor(owner_a):
        customer.email = "uusi@example.fi"
        customer.save()
    person.delete()
    membership_end(actor=owner_a, membership=register_a.memberships.get(user=staff_a), reason="pois")
    entries = LogEntry.objects.filter(action__in=audit.CHANGE_ACTIONS, content_type__in=audit.audited_content_types())
    assert entries.count() >= 6
    for entry in entries:
        assert entry.additional_data["register"] == register_a.pk, entry.content_type


def _customer_selects(queries) -> int:
    return sum(1 for query in queries if re.match(r'SELECT .* FROM "crm_customer"', query["sql"]))


@pytest.mark.parametrize("children", [3, 30])
def test_a_cascade_delete_looks_up_the_register_once(register_a, children):
    customer = CustomerFactory(register=register_a)
    ContactPersonFactory.create_batch(children, customer=customer)
    InteractionFactory.create_batch(children, customer=customer)
    customer = Customer.objects.get(pk=customer.pk)
    with CaptureQueriesContext(connection) as queries:
        customer.delete()
    assert _customer_selects(queries.captured_queries) <= 1
    deleted = LogEntry.objects.filter(action=LogEntry.Action.DELETE)
    assert deleted.count() == 2 * children + 1
    assert {entry.additional_data["register"] for entry in deleted} == {register_a.pk}


def test_entries_of_a_deleted_customer_stay_on_its_register_and_no_other(client, owner_a, register_a, register_b):
    mine = CustomerFactory(register=register_a, organisation_name="Poistettu Oy")
    ContactPersonFactory(customer=mine, last_name="Poistettava")
    other = CustomerFactory(register=register_b, organisation_name="Vieras Oy")
    ContactPersonFactory(customer=other, last_name="Vierailija")
    request = RequestFactory().get("/crm/x/")
    request.user = owner_a
    log_access(request, other)
    mine.delete()
    other.delete()
    entries = list(audit.change_list(register=register_a))
    assert {entry.object_repr for entry in entries if entry.action == LogEntry.Action.DELETE} >= {"Poistettu Oy"}
    names = " ".join(entry.object_repr for entry in entries)
    assert "Vieras" not in names
    assert "Vierailija" not in names
    assert not audit.access_list(register=register_a).exists()
    client.force_login(owner_a)
    for screen in ("changes", "access"):
        page = client.get(f"/registers/{register_a.slug}/audit/{screen}/").content.decode()
        assert "Vieras Oy" not in page
        assert "Vierailija" not in page
    page = client.get(f"/registers/{register_a.slug}/audit/changes/", {"action": 2}).content.decode()
    assert "Poistettu Oy" in page
    assert "Poistettava" in page


def _fill(register, actor, entries: int) -> None:
    customer = CustomerFactory(register=register)
    request = RequestFactory().get("/crm/x/")
    request.user = actor
    with set_actor(actor):
        for n in range(entries):
            customer.email = f"osoite{n}@example.fi"
            customer.save()
            log_access(request, customer)


def _page_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("screen", ["changes", "access"])
def test_the_query_count_of_a_page_is_pinned_and_flat(
    client, owner_a, register_a, screen, django_assert_max_num_queries
):
    client.force_login(owner_a)
    url = f"/registers/{register_a.slug}/audit/{screen}/"
    _fill(register_a, owner_a, 10)
    client.get(url)
    few = _page_queries(client, url)
    _fill(register_a, owner_a, 90)
    with django_assert_max_num_queries(14):
        client.get(url)
    many = _page_queries(client, url)
    # Over a page of entries, the count query joins: one more, and no more whatever the log holds.
    assert many <= few + 1
    _fill(register_a, owner_a, 60)
    # The screen's own access entries (on the register) sat on the page measured before, one more kind of row to
    # name; a page of customers' entries only reads no more.
    assert _page_queries(client, url) <= many
    # A later page holds other kinds of entries (a role's grant names its user): pinned, not equal.
    cursor = client.get(url).context["page"].next_cursor
    assert _page_queries(client, f"{url}?before={cursor}") <= 14


def test_the_count_stops_at_the_limit(client, owner_a, register_a, monkeypatch):
    monkeypatch.setattr(views_audit, "COUNT_LIMIT", 5)
    monkeypatch.setattr(views_audit, "PAGE_SIZE", 3)
    client.force_login(owner_a)
    url = f"/registers/{register_a.slug}/audit/access/"
    _fill(register_a, owner_a, 4)
    page = client.get(url).context["page"]
    assert (page.count, page.capped, page.has_next) == (4, False, True)
    _fill(register_a, owner_a, 4)
    response = client.get(url)
    page = response.context["page"]
    assert (page.count, page.capped, page.has_next, page.has_previous) == (5, True, True, False)
    assert f'before={page.next_cursor}"' in response.content.decode()
    second = client.get(url, {"before": page.next_cursor}).context["page"]
    assert (second.count, second.capped, len(second.object_list), second.has_next, second.has_previous) == (
        5,
        True,
        3,
        True,
        True,
    )
    last = client.get(url, {"before": second.next_cursor}).context["page"]
    # The eight filled entries and the first view's own access entry (reading the trail is logged).
    assert (len(last.object_list), last.has_next, last.has_previous) == (3, False, True)


@pytest.mark.parametrize("number", ["0", "-3", "abc", "99999999999999999999999", "2"])
def test_any_page_number_gives_a_page(client, owner_a, register_a, number):
    # Page numbers are of links made before the lists continued from their last entry: the first page.
    _fill(register_a, owner_a, 2)
    client.force_login(owner_a)
    for screen in ("changes", "access", "logins"):
        response = client.get(f"/registers/{register_a.slug}/audit/{screen}/", {"page": number})
        assert response.status_code == 200


# The back-fill runs in a data migration from before the audit chain, rewriting entries in place as migrations did.
@pytest.mark.audit_chain_tampered
def test_the_back_fill_sets_the_register_of_old_entries(register_a, register_b):
    kept = CustomerFactory(register=register_a)
    person = ContactPersonFactory(customer=kept)
    gone = CustomerFactory(register=register_a)
    gone_person = ContactPersonFactory(customer=gone)
    other = CustomerFactory(register=register_b)
    gone_pks = ((Customer, gone.pk), (ContactPerson, gone_person.pk))
    gone_person.delete()
    gone.delete()
    entries = LogEntry.objects.filter(action__in=audit.CHANGE_ACTIONS)
    # Entries as they were written before: no register; one with an erasure marker that must stay.
    entries.update(additional_data=None)
    marked = LogEntry.objects.get_for_object(person).first()
    marked.additional_data = {"erasure_request": "R-1"}
    marked.save()
    migrations = {
        app: importlib.import_module(f"{app}.migrations.{name}")
        for app, name in (
            ("registers", "0012_audit_entry_register"),
            ("crm", "0006_audit_entry_register"),
            ("privacy", "0008_audit_entry_register"),
        )
    }
    for module in migrations.values():
        module.backfill(apps, None)
    expected = {kept: register_a.pk, person: register_a.pk, other: register_b.pk, register_a: register_a.pk}
    for row, register_pk in expected.items():
        for entry in LogEntry.objects.get_for_object(row).filter(action__in=audit.CHANGE_ACTIONS):
            assert entry.additional_data["register"] == register_pk, row
    for model, pk in gone_pks:
        deleted = LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(model), object_pk=str(pk))
        assert {entry.additional_data["register"] for entry in deleted} == {register_a.pk}
    marked.refresh_from_db()
    assert marked.additional_data == {"erasure_request": "R-1", "register": register_a.pk}
    # Run again, nothing changes.
    assert backfill_entry_registers(apps, migrations["crm"].PATHS) == 0


def test_a_purge_keeps_the_register_on_redacted_and_deletion_entries(register_a, owner_a):
    customer = CustomerFactory(register=register_a, organisation_name="Vanha Oy")
    ContactPersonFactory(customer=customer)
    request = RequestFactory().get("/crm/x/")
    request.user = owner_a
    log_access(request, customer)
    delete_with_redacted_trail(
        Customer.objects.filter(pk=customer.pk), actor_id=None, object_repr="[erased]", additional={"purge_run": 7}
    )
    entries = LogEntry.objects.filter(object_repr="[erased]")
    assert entries.filter(action=LogEntry.Action.DELETE).count() == 2
    for entry in entries:
        assert entry.additional_data == {"register": register_a.pk, "purge_run": 7}
    assert audit.change_list(register=register_a).filter(object_repr="[erased]").count() == entries.count() - 1
    assert audit.access_list(register=register_a).filter(object_repr="[erased]").count() == 1


def _plan(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        # A table this small is read whole; forbid that and sorting so the plan shows whether the index serves.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


@postgresql_only
def test_the_first_page_reads_the_register_index_without_sorting(register_a, register_b, owner_a):
    _fill(register_a, owner_a, 5)
    _fill(register_b, owner_a, 5)
    RegisterFactory()
    changes, access = "auditlog_logentry_change_register_idx", "auditlog_logentry_access_register_idx"
    for queryset, index in (
        (audit.change_list(register=register_a), changes),
        (audit.change_list(register=register_a, action=LogEntry.Action.UPDATE), changes),
        (audit.access_list(register=register_a), access),
    ):
        plan = _plan(queryset[:50])
        assert index in plan, plan
        assert "Sort" not in plan, plan
