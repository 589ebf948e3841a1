"""The scheduled tasks: each beat entry names a real task, and a real worker runs them."""

import pytest
from django.conf import settings
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from config.celery import app
from registers import tasks
from registers.models import AccessReview, Membership

from ..factories import RegisterFactory
from .conftest import celery_process, send, stop, wait_for


def test_every_beat_entry_names_a_registered_task():
    app.loader.import_default_modules()
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert entry["task"] in app.tasks, entry["task"]


def test_the_access_governance_tasks_are_scheduled():
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {
        "registers.tasks.memberships_sync",
        "registers.tasks.access_review_open_due",
        "registers.tasks.access_review_send_reminders",
    } <= scheduled


@pytest.mark.django_db
def test_the_tasks_call_their_services(register_a, owner_a):
    assert tasks.access_review_open_due() == {"opened": 1}
    assert tasks.access_review_send_reminders() == {"reviews": 0}
    assert tasks.memberships_sync() == {"ended": 0, "started": 1}


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_opens_the_yearly_review(celery_queue, owner_a, register_a):
    result = send(tasks.access_review_open_due, queue=celery_queue)
    review = wait_for(lambda: AccessReview.objects.filter(register=register_a).first(), what="the review")
    assert result.id
    assert review.opened_by is None
    assert list(review.items.values_list("user__username", flat=True)) == ["owner_a"]


@pytest.mark.django_db(transaction=True)
def test_the_beat_schedule_reaches_the_worker_through_redis(celery_queue, tmp_path):
    register = RegisterFactory(slug="beat-register")
    every_second, _ = IntervalSchedule.objects.get_or_create(every=1, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.create(
        name=f"test access review {celery_queue}",
        task="registers.tasks.access_review_open_due",
        interval=every_second,
        queue=celery_queue,
        one_off=True,
        start_time=timezone.now(),
    )
    beat = celery_process(
        "beat",
        "-S",
        "django_celery_beat.schedulers:DatabaseScheduler",
        "--pidfile=",
        "-s",
        str(tmp_path / "beat-schedule"),
        "-l",
        "INFO",
        queue=celery_queue,
        log_dir=tmp_path,
    )
    try:
        review = wait_for(lambda: AccessReview.objects.filter(register=register).first(), what="beat to run the task")
    except BaseException:
        print((tmp_path / "beat.log").read_text())
        raise
    finally:
        stop(beat)
    assert review.status == AccessReview.Status.OPEN
    assert not Membership.objects.filter(register=register).exists()
