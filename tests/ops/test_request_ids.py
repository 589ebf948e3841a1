"""Request ids (django-guid): in the response, in every JSON log line of the request, and in its Celery tasks."""

import io
import json
import logging
import re
import uuid

import pytest
from celery import shared_task
from celery.signals import task_postrun, task_prerun
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponse
from django.test import Client
from django.urls import path
from django.utils.module_loading import import_string
from django_guid import clear_guid, get_guid, set_guid
from kombu import Connection

from config.celery import app as celery_app

HEADER = "X-Request-ID"
ID = re.compile(r"^[0-9a-f]{32}$")
logger = logging.getLogger("tests.ops.request_ids")


@shared_task(name="tests.ops.logs_its_request_id")
def logs_its_request_id():
    logger.warning("in the task")
    return get_guid()


@login_not_required
def starts_a_task(request):
    logger.warning("before the task")
    logs_its_request_id.delay()
    logger.warning("after the task")
    return HttpResponse("started")


# The URL configuration of the tests marked `urls(__name__)`: a view that logs and starts a task.
urlpatterns = [path("starts-a-task", starts_a_task)]


def _from_settings(entry: dict):
    options = dict(entry)
    return import_string(options.pop("()"))(**options)


@pytest.fixture
def json_lines():
    """Collect the log lines of the test as the JSON formatter and request-id filter of settings.LOGGING write them."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(_from_settings(settings.LOGGING["formatters"]["json"]))
    handler.addFilter(_from_settings(settings.LOGGING["filters"]["request_id"]))
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        root.removeHandler(handler)


@pytest.fixture
def no_request_id():
    """Start and end the test outside any request, as a worker's process is between tasks."""
    clear_guid()
    yield
    clear_guid()


def test_each_response_carries_a_request_id_of_its_own(broker_in_memory):
    first, second = (Client().get("/healthz")[HEADER] for _ in range(2))
    assert ID.match(first)
    assert ID.match(second)
    assert first != second


# haproxy's uuid() is the hyphenated form (docs/deploy.md).
# Fixed values: xdist's workers must collect the same test ids.
@pytest.mark.parametrize("incoming", ["5f0c6a1e9b2d4c7f8a3e1d2c4b5a6f70", "0b8e2f4a-6c1d-4e9f-a7b3-2d5c8e1f9a04"])
def test_the_load_balancers_request_id_is_kept(incoming, broker_in_memory):
    assert Client().get("/healthz", headers={HEADER: incoming})[HEADER] == incoming


@pytest.mark.parametrize("incoming", ["not-a-uuid", "1234", "<script>alert(1)</script>", "x" * 200])
def test_a_request_id_that_is_not_a_uuid_is_replaced(incoming, broker_in_memory):
    returned = Client().get("/healthz", headers={HEADER: incoming})[HEADER]
    assert returned != incoming
    assert ID.match(returned)


@pytest.mark.django_db
def test_a_log_line_of_a_request_is_one_json_object_with_the_request_id(json_lines, broker_down):
    incoming = uuid.uuid4().hex
    response = Client().get("/readyz", headers={HEADER: incoming})
    assert response.status_code == 503  # and the failing check is logged
    [line] = [line for line in json_lines() if line["logger"] == "ops.readiness"]
    assert set(line) == {"time", "level", "logger", "message", "request_id"}
    assert line["level"] == "WARNING"
    assert line["message"].startswith("readiness check broker failed")
    assert line["request_id"] == incoming == response[HEADER]


def test_the_console_writes_in_the_format_log_format_names():
    [console] = [handler for handler in logging.getLogger().handlers if handler.get_name() == "console"]
    formatter = settings.LOGGING["formatters"][settings.LOG_FORMAT]
    expected = import_string(formatter["()"]) if "()" in formatter else logging.Formatter
    assert type(console.formatter) is expected
    assert [type(f).__name__ for f in console.filters] == ["CorrelationId"]


@pytest.mark.urls(__name__)
def test_a_task_run_in_the_process_logs_the_id_of_the_request_that_started_it(json_lines, celery_eager):
    incoming = uuid.uuid4().hex
    response = Client().get("/starts-a-task", headers={HEADER: incoming})
    lines = [(line["message"], line["request_id"]) for line in json_lines() if line["logger"] == logger.name]
    assert lines == [("before the task", incoming), ("in the task", incoming), ("after the task", incoming)]
    assert response[HEADER] == incoming


def test_a_task_sent_to_a_worker_carries_the_request_id_in_its_message(no_request_id):
    request_id = uuid.uuid4().hex
    set_guid(request_id)  # inside a request
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    try:
        with Connection("memory://") as connection:
            logs_its_request_id.apply_async(producer=connection.Producer())
            queue = connection.SimpleQueue(settings.CELERY_TASK_DEFAULT_QUEUE)
            message = queue.get(timeout=2)
            message.ack()
            queue.close()
    finally:
        celery_app.conf.task_always_eager = previous
    assert message.headers["task"] == "tests.ops.logs_its_request_id"
    assert message.headers[HEADER] == request_id


def test_the_worker_sets_the_messages_request_id_for_the_task_and_clears_it_after(json_lines, no_request_id):
    request_id = uuid.uuid4().hex
    task = logs_its_request_id
    # What the worker does with a message whose headers carry the id: its headers become the task's request.
    task.push_request(id="task-1", is_eager=False, **{HEADER: request_id})
    try:
        task_prerun.send(sender=task, task_id="task-1", task=task, args=(), kwargs={})
        assert task.run() == request_id
        task_postrun.send(sender=task, task_id="task-1", task=task, args=(), kwargs={}, retval=None, state="SUCCESS")
    finally:
        task.pop_request()
    assert [line["request_id"] for line in json_lines() if line["message"] == "in the task"] == [request_id]
    assert get_guid() is None  # the next task of the worker starts afresh
