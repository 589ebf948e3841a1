"""Follow-ups go with their customer: the retention purge and an executed erasure leave none behind."""

import pytest
from django.utils import timezone

from crm.models import Customer
from followups.models import FollowUp
from privacy.requests.models import DataSubjectRequest
from privacy.retention.models import PurgeCount, PurgeKind, PurgeRun
from privacy.retention.purge import purge_run
from privacy.rights import erasure

from ..factories import PersonCustomerFactory
from ..privacy import rights_steps
from ..privacy.retention_helpers import idle_customer
from .factories import FollowUpFactory

pytestmark = pytest.mark.django_db


def test_the_purge_removes_an_idle_customers_follow_ups(register_a, staff_a):
    idle = idle_customer(register_a)
    FollowUpFactory(customer=idle, assignee=staff_a)
    FollowUpFactory(customer=idle, assignee=staff_a, done_at=timezone.now())
    kept = FollowUpFactory(customer=PersonCustomerFactory(register=register_a), assignee=staff_a)

    result = purge_run(trigger=PurgeRun.Trigger.COMMAND)

    assert not Customer.objects.filter(pk=idle.pk).exists()
    assert list(FollowUp.objects.all()) == [kept]
    count = PurgeCount.objects.get(run=result, register=register_a, kind=PurgeKind.CUSTOMER)
    assert count.cascaded["followups.followup"] == 2


def test_an_executed_erasure_leaves_no_follow_up(register_a, handler_a, owner_a, staff_a):
    person = PersonCustomerFactory(register=register_a)
    FollowUpFactory(customer=person, assignee=staff_a, note="Soita Sannalle")
    request = rights_steps.in_progress([register_a], handler_a, kind=DataSubjectRequest.Kind.ERASURE, records=[person])
    erasure.erasure_plan_compute(request=request, actor=handler_a)
    request = rights_steps.prepared(request, handler_a)

    erasure.erasure_execute(request=request, actor=owner_a)

    assert not Customer.objects.filter(pk=person.pk).exists()
    assert not FollowUp.objects.exists()
