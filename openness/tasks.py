from celery import shared_task

from .reminders import document_request_reminders_send


@shared_task(name="openness.tasks.document_request_reminders")
def document_request_reminders() -> int:
    return document_request_reminders_send()
