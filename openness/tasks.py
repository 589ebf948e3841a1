from celery import shared_task

from .reminders import document_request_reminders_send


@shared_task(name="openness.tasks.document_request_reminders")
def document_request_reminders() -> int:
    return document_request_reminders_send()


@shared_task(name="openness.tasks.requester_tell")
def requester_tell(request_id: int, kind: str) -> bool:
    from .letters import requester_tell as tell
    from .models import DocumentRequest

    return tell(DocumentRequest.objects.get(pk=request_id), kind)
