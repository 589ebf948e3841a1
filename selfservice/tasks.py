from celery import shared_task

from . import services


@shared_task(name="selfservice.tasks.identities_forget")
def identities_forget() -> int:
    return services.identities_forget()
