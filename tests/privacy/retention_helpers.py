"""Data for the retention, purge and statistics tests, built through the real services."""

import datetime
import uuid

from django.utils import timezone

from privacy.requests.models import DataSubjectRequest, RequestRegister, SubjectMatch
from privacy.requests.workflow import request_transition

from ..factories import ContactPersonFactory, CustomerFactory, InteractionFactory, InvoiceFactory


def long_ago(months: int) -> datetime.datetime:
    return timezone.now() - datetime.timedelta(days=31 * months)


def idle_customer(register, *, months: int = 48, children: bool = True, **kwargs):
    """A customer idle for `months` with a contact person, two interactions and a paid invoice."""
    customer = CustomerFactory(register=register, last_activity_at=long_ago(months), **kwargs)
    if children:
        person = ContactPersonFactory(customer=customer)
        InteractionFactory(customer=customer, contact_person=person, occurred_at=long_ago(months))
        InteractionFactory(customer=customer, occurred_at=long_ago(months))
        InvoiceFactory(customer=customer, status="paid", due_date=long_ago(months).date())
    return customer


def open_request_for(*, owner, handler, register, customer=None, message=None, kind=DataSubjectRequest.Kind.ERASURE):
    """A request in progress whose confirmed records include the customer or message.

    States are reached through the workflow's one transition service; the identity check and the
    confirmed records are stored as the DSR services store them.
    """
    now = timezone.now()
    request = DataSubjectRequest(
        organisation=register.organisation,
        kind=kind,
        channel=DataSubjectRequest.Channel.IN_PERSON,
        reference=f"T-{uuid.uuid4().hex[:12]}",
        requester_name="Pyytäjä",
        received_at=now,
    )
    request.save()
    RequestRegister.objects.create(request=request, register=register)
    request = request_transition(request=request, to=DataSubjectRequest.State.VERIFYING, actor=handler)
    request.identity_method = DataSubjectRequest.IdentityMethod.IN_PERSON_ID
    request.verified_at = now
    request.verified_by = handler
    request.save()
    request = request_transition(request=request, to=DataSubjectRequest.State.TRIAGE, actor=handler)
    request = request_transition(request=request, to=DataSubjectRequest.State.IN_PROGRESS, actor=owner)
    for field, record in (("customer", customer), ("message", message)):
        if record is not None:
            SubjectMatch.objects.create(
                request=request, register=register, confirmed_by=handler, confirmed_at=now, **{field: record}
            )
    return request
