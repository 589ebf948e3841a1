"""The benchmark request generator: mostly finished requests of a register, numbered as the workflow numbers them."""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from privacy.models import DataSubjectRequest, RequestEvent
from registers.models import Register

pytestmark = pytest.mark.django_db


def test_requests_concern_the_register_and_are_mostly_finished():
    call_command("generate_data", customers=50, stdout=io.StringIO())
    call_command("generate_requests", requests=120, stdout=io.StringIO())
    register = Register.objects.get(slug="benchmark")
    requests = DataSubjectRequest.objects.filter(registers=register)
    assert requests.count() == 120
    still_open = requests.filter(state__in=[*DataSubjectRequest.OPEN_STATES, DataSubjectRequest.State.RECEIVED])
    assert 0 < still_open.count() < 40
    assert (
        not requests.exclude(state__in=[*DataSubjectRequest.OPEN_STATES, DataSubjectRequest.State.RECEIVED])
        .filter(closed_at__isnull=True)
        .exists()
    )
    references = list(requests.values_list("reference", flat=True))
    assert len(set(references)) == 120
    # Each request has its arrival event; one that moved on also the event of its last step.
    assert RequestEvent.objects.filter(request__in=requests, from_state="").count() == 120
    # A second call continues the numbering.
    call_command("generate_requests", requests=10, stdout=io.StringIO())
    assert DataSubjectRequest.objects.values("reference").distinct().count() == 130


def test_needs_customers_first():
    with pytest.raises(CommandError):
        call_command("generate_requests", requests=5, stdout=io.StringIO())
