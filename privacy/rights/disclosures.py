"""The disclosure ledger and the art. 19 notification tasks it gives rise to.

Every disclosure of a person's data outside the register (the city's legal services, accounts payable, named
partners, a requester under the Openness Act) is one `Disclosure`. When the person's data is then rectified,
erased or restricted, each recipient gets one `NotificationTask` per request; the request cannot be closed until
each task is done or its omission is justified as impossible or disproportionate (GDPR 19).
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.models import Customer
from privacy.requests.models import DataSubjectRequest, RequestEvent
from privacy.requests.workflow import request_event_add
from registers.models import Register

from .models import Disclosure, NotificationTask

ERROR_CUSTOMER_OF_OTHER_REGISTER = _("The customer belongs to another register.")
ERROR_TASK_RESOLVED = _("This notification has already been resolved.")
ERROR_TASK_STATUS = _("Choose whether the recipient was notified or why not.")
ERROR_REQUEST_FINISHED = _("The request is closed; its notifications can no longer change.")

TaskStatus = NotificationTask.Status


@transaction.atomic
def disclosure_record(*, actor, register: Register, customer: Customer, data: dict) -> Disclosure:
    """Record that a customer's data was handed to a recipient outside the register."""
    if customer.register_id != register.pk:
        raise ValidationError({"customer": ERROR_CUSTOMER_OF_OTHER_REGISTER})
    disclosure = Disclosure(register=register, customer=customer, actor=actor, **data)
    disclosure.recipient = disclosure.recipient.strip()
    disclosure.full_clean()
    disclosure.save()
    return disclosure


def disclosures_of(customers) -> list[Disclosure]:
    """Return the disclosures of the given customers, oldest first (for tasks and access answers)."""
    return list(Disclosure.objects.filter(customer__in=customers).select_related("register").order_by("disclosed_at"))


def disclosures_for_answer(matches, register) -> list[dict]:
    """Return the recipients the person's data in this register was disclosed to (art. 15(1)(c)), dates only."""
    customers = {m.customer_id for m in matches if m.customer_id and m.register_id == register.pk}
    customers |= {m.contact_person.customer_id for m in matches if m.contact_person_id and m.register_id == register.pk}
    rows = Disclosure.objects.filter(register=register, customer_id__in=customers).order_by("disclosed_at", "id")
    return [
        {
            "date": timezone.localdate(row.disclosed_at).isoformat(),
            "recipient": row.recipient,
            "data": row.data_description,
            "legal_basis": row.legal_basis,
        }
        for row in rows
    ]


def _recipient_key(name: str) -> str:
    # "Kaupungin lakipalvelut" and "kaupungin lakipalvelut " are one recipient.
    return " ".join(name.split()).casefold()


@transaction.atomic
def notification_tasks_create(*, request: DataSubjectRequest, actor, customers) -> list[NotificationTask]:
    """Create one task per recipient the customers' data was disclosed to, or add to the existing one (GDPR 19)."""
    customers = [c for c in customers if c is not None]
    if not customers:
        return []
    existing = {_recipient_key(task.recipient): task for task in request.notification_tasks.all()}
    touched: dict[str, NotificationTask] = {}
    for disclosure in disclosures_of(customers):
        key = _recipient_key(disclosure.recipient)
        task = existing.get(key)
        if task is None:
            task = NotificationTask(
                request=request,
                recipient=disclosure.recipient,
                recipient_contact=disclosure.recipient_contact,
                change=request.kind,
            )
            task.full_clean()
            task.save()
            existing[key] = task
        elif task.status != TaskStatus.OPEN and key not in touched:
            # A new change for a recipient already told of an earlier one must be passed on too.
            task.status = TaskStatus.OPEN
            task.resolved_at = None
            task.resolved_by = None
            task.save(update_fields=["status", "resolved_at", "resolved_by", "updated_at"])
        task.disclosures.add(disclosure)
        touched[key] = task
    if touched:
        request_event_add(
            request=request,
            actor=actor,
            action=RequestEvent.Action.NOTIFICATIONS_CREATED,
            payload={"tasks": [str(task.code) for task in touched.values()]},
        )
    return list(touched.values())


@transaction.atomic
def notification_task_resolve(
    *, task: NotificationTask, actor, status: str, justification: str = "", note: str = ""
) -> NotificationTask:
    """Record that the recipient was notified, or why notifying it is impossible or disproportionate."""
    task = NotificationTask.objects.select_for_update().select_related("request").get(pk=task.pk)
    if task.request.state in {DataSubjectRequest.State.CLOSED, DataSubjectRequest.State.WITHDRAWN}:
        raise ValidationError(ERROR_REQUEST_FINISHED)
    if task.status != TaskStatus.OPEN:
        raise ValidationError(ERROR_TASK_RESOLVED)
    if status not in {TaskStatus.DONE, TaskStatus.JUSTIFIED}:
        raise ValidationError({"status": ERROR_TASK_STATUS})
    task.status = status
    task.justification = justification if status == TaskStatus.JUSTIFIED else ""
    task.note = note.strip()
    task.resolved_at = timezone.now()
    task.resolved_by = actor
    task.full_clean()
    task.save()
    request_event_add(
        request=task.request,
        actor=actor,
        action=RequestEvent.Action.NOTIFICATION_RESOLVED,
        reason=task.note if status == TaskStatus.JUSTIFIED else "",
        payload={"task": str(task.code), "status": status, "justification": task.justification},
    )
    return task
