"""Walk requests along legal paths through the real services (STYLE 35)."""

import uuid

from django.core import mail

from privacy.requests import emails, services
from privacy.requests.models import Correspondence, DataSubjectRequest
from privacy.requests.workflow import request_transition

State = DataSubjectRequest.State


def submit(register, *, email=None, kind=DataSubjectRequest.Kind.ACCESS, name="Anna Asiakas", language="fi", **extra):
    """File a request through the public-form service; return it in state received."""
    data = {
        "kind": kind,
        "requester_name": name,
        "requester_email": email or f"anna.{uuid.uuid4().hex[:8]}@example.fi",
        "language": language,
        "delivery": DataSubjectRequest.Delivery.ELECTRONIC,
        **extra,
    }
    request, _created = services.request_submit(
        organisation=register.organisation, registers=[register], all_registers=False, data=data
    )
    return request


def confirmed(register, **kwargs):
    return services.request_confirm_email(request=submit(register, **kwargs))


def in_triage(register, handler, **kwargs):
    request = confirmed(register, **kwargs)
    return services.request_verify_identity(
        request=request, actor=handler, method=DataSubjectRequest.IdentityMethod.KNOWN_EMAIL
    )


def in_progress(register, handler, **kwargs):
    request = in_triage(register, handler, **kwargs)
    return request_transition(request=request, to=State.IN_PROGRESS, actor=handler)


def checked(request, handler, register, records=()):
    items = [f"{type(r).__name__.replace('ContactPerson', 'contact_person').lower()}:{r.code}" for r in records]
    items = [i.replace("contactcentremessage", "message") for i in items]
    services.subject_matches_confirm(request=request, actor=handler, register=register, records=items)
    return request


def in_review(register, handler, records=(), **kwargs):
    request = in_progress(register, handler, **kwargs)
    checked(request, handler, register, records)
    return services.request_prepare(request=request, actor=handler)


def answered(register, handler, owner, records=(), **kwargs):
    request = in_review(register, handler, records, **kwargs)
    return services.request_approve(request=request, actor=owner)


def send_letters() -> list:
    """Send every stored letter now (what the task or the sweeper does) and return the outbox."""
    for pk in Correspondence.objects.filter(sent_at__isnull=True).values_list("pk", flat=True):
        emails.correspondence_send(correspondence_id=pk)
    return mail.outbox
