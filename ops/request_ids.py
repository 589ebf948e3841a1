"""A task run in the process (CELERY_TASK_ALWAYS_EAGER) keeps the id of the request that started it.

django-guid carries a request's id to a worker in the message header it adds when the task is published; the
worker's task_prerun sets it, and task_postrun clears it. A task run in the process (the quick start, the test
runs) is never published: django-guid's task_prerun finds no header and gives the task a new id, and its
task_postrun then clears the id of the request the task ran in, so the rest of the request logged no id and its
response carried "X-Request-ID: None". The two receivers here, connected around django-guid's (ops.apps), give
such a task the request's id as its header and give the request its id back afterwards.
"""

from django_guid import get_guid, set_guid
from django_guid.config import settings as guid_settings

# Where the id that was current before an in-process task is kept, on the task's own request context.
OUTER_ID = "ops_outer_request_id"


def eager_task_adopts_request_id(task=None, **kwargs) -> None:
    """task_prerun, before django-guid's: hand the current id to a task run in the process as its header."""
    request = getattr(task, "request", None)
    if request is None or not request.is_eager:
        return
    outer = get_guid()
    setattr(request, OUTER_ID, outer)
    header = guid_settings.guid_header_name
    if outer and not request.get(header):
        request.update({header: outer})


def eager_task_returns_request_id(task=None, **kwargs) -> None:
    """task_postrun, after django-guid's clean-up: put back the id that was current before the task."""
    request = getattr(task, "request", None)
    if request is None or not request.is_eager:
        return
    set_guid(getattr(request, OUTER_ID, None))
