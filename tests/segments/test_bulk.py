"""Bulk actions: one audited action with its count, inline or in a Celery task with its progress."""

import datetime

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from crm.models import Customer, CustomerTag
from followups.models import FollowUp
from segments import services
from segments.models import BulkAction

from ..factories import CustomerFactory
from .factories import SavedViewFactory, TagFactory

pytestmark = pytest.mark.django_db


def make(register, count, **kwargs):
    return [CustomerFactory(register=register, **kwargs) for _ in range(count)]


def entries_of(action):
    return LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(BulkAction), object_id=action.pk)


def test_a_bulk_tag_is_one_audited_action_with_its_count(register_a, staff_a, tag_a):
    customers = make(register_a, 4)
    CustomerTag.objects.create(tag=tag_a, customer=customers[0])
    restricted = CustomerFactory(register=register_a, processing_restricted=True)
    codes = [str(c.code) for c in [*customers, restricted]]
    before = LogEntry.objects.count()
    action = services.bulk_action_start(
        actor=staff_a, register=register_a, kind="tag_add", parameters={"tag": str(tag_a.code)}, customer_codes=codes
    )
    assert action.state == BulkAction.State.DONE
    assert (action.total, action.processed, action.changed) == (5, 5, 3)
    assert action.parameters["skipped"] == 1
    assert not CustomerTag.objects.filter(customer=restricted).exists()
    # One entry, of the action, with its count; none per customer.
    assert LogEntry.objects.count() == before + 1
    entry = entries_of(action).get()
    assert entry.actor == staff_a
    assert entry.changes_dict["changed"] == ["None", "3"]
    assert entry.changes_dict["total"] == ["None", "5"]
    assert entry.additional_data["register"] == register_a.pk
    assert entry.additional_data["skipped"] == 1


def test_a_whole_segment_is_untagged(register_a, staff_a, tag_a):
    tagged = make(register_a, 3)
    for customer in tagged:
        CustomerTag.objects.create(tag=tag_a, customer=customer)
    make(register_a, 2)
    view = SavedViewFactory(register=register_a, owner=staff_a, query={"tag": str(tag_a.code)})
    action = services.bulk_action_start(
        actor=staff_a, register=register_a, kind="tag_remove", parameters={"tag": str(tag_a.code)}, saved_view=view
    )
    assert (action.total, action.changed) == (3, 3)
    assert not CustomerTag.objects.exists()


def test_all_matches_of_the_lists_query_get_a_follow_up(register_a, staff_a, owner_a):
    make(register_a, 3, language=Customer.Language.SWEDISH)
    make(register_a, 2, language=Customer.Language.FINNISH)
    make(register_a, 1, language=Customer.Language.SWEDISH, processing_restricted=True)
    action = services.bulk_action_start(
        actor=staff_a,
        register=register_a,
        kind="followup_assign",
        parameters={"assignee": owner_a.pk, "due_on": "2027-01-15", "note": "Soita"},
        query={"language": "sv"},
    )
    assert (action.total, action.changed, action.parameters["skipped"]) == (4, 3, 1)
    assert FollowUp.objects.filter(assignee=owner_a, due_on=datetime.date(2027, 1, 15)).count() == 3


def test_read_only_roles_and_bad_parameters_are_refused(register_a, readonly_a, staff_a, tag_b, owner_a, staff_b):
    customer = CustomerFactory(register=register_a)
    with pytest.raises(PermissionDenied):
        services.bulk_action_start(
            actor=readonly_a, register=register_a, kind="tag_add", parameters={}, customer_codes=[str(customer.code)]
        )
    with pytest.raises(ValidationError):  # another register's tag
        services.bulk_action_start(
            actor=staff_a,
            register=register_a,
            kind="tag_add",
            parameters={"tag": str(tag_b.code)},
            customer_codes=[str(customer.code)],
        )
    with pytest.raises(ValidationError):  # an assignee without a role in the register
        services.bulk_action_start(
            actor=staff_a,
            register=register_a,
            kind="followup_assign",
            parameters={"assignee": staff_b.pk, "due_on": "2027-01-01"},
            customer_codes=[str(customer.code)],
        )
    for kind in ("objection", "restriction", "delete"):
        with pytest.raises(ValidationError):
            services.bulk_action_start(
                actor=staff_a, register=register_a, kind=kind, parameters={}, customer_codes=[str(customer.code)]
            )
    assert not BulkAction.objects.exists()


def test_another_registers_customers_are_never_reached(register_a, register_b, staff_a, tag_a):
    foreign = CustomerFactory(register=register_b)
    with pytest.raises(ValidationError):
        services.bulk_action_start(
            actor=staff_a,
            register=register_a,
            kind="tag_add",
            parameters={"tag": str(tag_a.code)},
            customer_codes=[str(foreign.code)],
        )
    assert not CustomerTag.objects.exists()


def test_a_colleagues_private_view_cannot_be_acted_on(register_a, owner_a, staff_a, tag_a):
    make(register_a, 2)
    private = SavedViewFactory(register=register_a, owner=owner_a, query={})
    from django.http import Http404

    with pytest.raises(Http404):
        services.bulk_action_start(
            actor=staff_a,
            register=register_a,
            kind="tag_add",
            parameters={"tag": str(tag_a.code)},
            saved_view=private,
        )


def test_over_the_inline_limit_the_action_runs_in_celery_in_steps(
    register_a, staff_a, tag_a, settings, monkeypatch, celery_eager
):
    settings.BULK_INLINE_MAX = 5
    monkeypatch.setattr(services, "CHUNK", 4)
    make(register_a, 11)
    seen = []
    original = services._progress

    def spy(action, **values):
        seen.append(values.get("processed"))
        original(action, **values)

    monkeypatch.setattr(services, "_progress", spy)
    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True):
        action = services.bulk_action_start(
            actor=staff_a, register=register_a, kind="tag_add", parameters={"tag": str(tag_a.code)}, query={}
        )
        assert action.state == BulkAction.State.QUEUED  # queued: the task starts after the commit
    action.refresh_from_db()
    assert action.state == BulkAction.State.DONE
    assert (action.total, action.processed, action.changed) == (11, 11, 11)
    assert [step for step in seen if step is not None] == [0, 0, 4, 8, 11]
    assert entries_of(action).count() == 1


def test_bulk_tagging_a_segment_costs_the_same_queries_for_30_and_300(
    register_a, staff_a, tag_a, django_assert_max_num_queries, settings
):
    settings.BULK_INLINE_MAX = 1000
    few = TagFactory(register=register_a, name="Vähän")
    many = TagFactory(register=register_a, name="Paljon")
    for customer in make(register_a, 30):
        CustomerTag.objects.create(tag=few, customer=customer)
    for customer in make(register_a, 300):
        CustomerTag.objects.create(tag=many, customer=customer)

    def run(tag):
        view = SavedViewFactory(register=register_a, owner=staff_a, query={"tag": str(tag.code)})
        return services.bulk_action_start(
            actor=staff_a, register=register_a, kind="tag_add", parameters={"tag": str(tag_a.code)}, saved_view=view
        )

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as context:
        assert run(few).changed == 30
    with django_assert_max_num_queries(len(context.captured_queries)):
        assert run(many).changed == 300


def bulk_url(register):
    return reverse("segments:bulk-start", kwargs={"register": register.slug})


def test_the_list_page_starts_an_action_and_shows_its_progress(client, register_a, staff_a, tag_a):
    customers = make(register_a, 3)
    client.force_login(staff_a)
    response = client.post(
        bulk_url(register_a),
        {"action": "tag_add", "tag": str(tag_a.code), "customer": [str(c.code) for c in customers[:2]]},
    )
    action = BulkAction.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("segments:bulk-detail", kwargs={"register": register_a.slug, "code": action.code})
    assert CustomerTag.objects.count() == 2
    page = client.get(response.url)
    assert page.status_code == 200
    assert 'hx-trigger="every 1s"' not in page.content.decode()  # done: no more polling
    BulkAction.objects.filter(pk=action.pk).update(state=BulkAction.State.RUNNING)
    partial = client.get(response.url, headers={"HX-Request": "true"}).content.decode()
    assert 'hx-trigger="every 1s"' in partial


def test_all_matching_with_a_view_and_the_export_action(client, register_a, staff_a, tag_a):
    make(register_a, 3)
    view = SavedViewFactory(register=register_a, owner=staff_a, query={"kind": "organisation"})
    client.force_login(staff_a)
    response = client.post(
        bulk_url(register_a), {"action": "tag_add", "tag": str(tag_a.code), "all_matching": "1", "view": view.code}
    )
    assert response.status_code == 302
    assert CustomerTag.objects.count() == 3
    response = client.post(bulk_url(register_a), {"action": "export", "all_matching": "1", "query": "kind=person"})
    assert response.status_code == 302
    assert response.url.startswith(reverse("crm:customer-export", kwargs={"register": register_a.slug}))
    assert "kind=person" in response.url


def test_bulk_pages_by_role(client, register_a, staff_a, readonly_a, staff_b, owner_a):
    client.force_login(readonly_a)
    assert client.get(bulk_url(register_a)).status_code == 403
    assert client.post(bulk_url(register_a), {}).status_code == 403
    client.force_login(staff_b)
    assert client.post(bulk_url(register_a), {}).status_code == 404
    client.force_login(staff_a)
    assert client.post(bulk_url(register_a), {}).status_code == 200  # the form again, with its errors
    customer = CustomerFactory(register=register_a)
    action = services.bulk_action_start(
        actor=staff_a,
        register=register_a,
        kind="followup_assign",
        parameters={"assignee": owner_a.pk, "due_on": "2027-01-01"},
        customer_codes=[str(customer.code)],
    )
    detail = reverse("segments:bulk-detail", kwargs={"register": register_a.slug, "code": action.code})
    client.force_login(owner_a)
    assert client.get(detail).status_code == 404  # another user's action
    client.force_login(staff_b)
    assert client.get(detail).status_code == 404
