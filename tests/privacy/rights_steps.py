"""Walk requests of arts. 16-21 along legal paths through the real services (STYLE 35)."""

import uuid

from privacy.requests import services
from privacy.requests.models import DataSubjectRequest
from privacy.requests.workflow import request_transition

from . import steps

State = DataSubjectRequest.State
Kind = DataSubjectRequest.Kind


def in_progress(registers, handler, *, kind, records=(), name="Anna Asiakas", language="fi", check=True, **extra):
    """File a request about `registers` and confirm the given records as the person's; return it in progress.

    `records` holds crm objects; each is confirmed in its own register, and every register of the request is
    checked (an empty check says the register holds nothing of the person) unless `check` is false.
    """
    registers = list(registers)
    data = {
        "kind": kind,
        "requester_name": name,
        "requester_email": f"pyytaja.{uuid.uuid4().hex[:8]}@example.fi",
        "language": language,
        "delivery": DataSubjectRequest.Delivery.ELECTRONIC,
        **extra,
    }
    request, _created = services.request_submit(
        organisation=registers[0].organisation, registers=registers, all_registers=False, data=data
    )
    request = services.request_confirm_email(request=request)
    request = services.request_verify_identity(
        request=request, actor=handler, method=DataSubjectRequest.IdentityMethod.KNOWN_EMAIL
    )
    request = request_transition(request=request, to=State.IN_PROGRESS, actor=handler)
    for register in registers if check else ():
        own = [r for r in records if _register_of(r) == register.pk]
        steps.checked(request, handler, register, own)
    return request


def _register_of(record) -> int:
    if hasattr(record, "register_id"):
        return record.register_id
    return record.customer.register_id


def prepared(request, handler):
    """Send the request for review (the preparer cannot decide it)."""
    return services.request_prepare(request=request, actor=handler)
