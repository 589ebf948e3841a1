"""Every task of the project goes to the queue of its kind of work (config/task_routes.py)."""

from django.conf import settings

from config.celery import app
from config.task_routes import TASK_KINDS


def _project_tasks() -> set[str]:
    """The tasks of the project's apps: Celery's own and those a test module defines for itself are not."""
    app.loader.import_default_modules()
    return {
        name
        for name, task in app.tasks.items()
        if not name.startswith("celery.") and not task.__module__.startswith("tests.")
    }


def _queue(name: str, **options) -> str:
    return app.amqp.router.route(options, name)["queue"].name


def test_every_task_of_the_project_has_a_kind_of_work():
    missing = sorted(_project_tasks() - TASK_KINDS.keys())
    assert not missing, f"add these tasks to config.task_routes.TASK_KINDS: {missing}"


def test_the_table_names_only_tasks_that_exist_and_kinds_that_have_queues():
    assert set(TASK_KINDS) <= _project_tasks()
    assert set(TASK_KINDS.values()) == set(settings.CELERY_QUEUE_KINDS)


def test_each_kind_goes_to_its_own_queue(settings):
    settings.CELERY_QUEUES_BY_KIND = {kind: f"site-a-{kind}" for kind in settings.CELERY_QUEUE_KINDS}
    assert _queue("privacy.tasks.package_pdf_render_task") == "site-a-pdf"
    assert _queue("privacy.tasks.correspondence_send_task") == "site-a-mail"
    assert _queue("privacy.purge.purge_run_task") == "site-a-purge"
    assert _queue("archive.tasks.mailboxes_poll") == "site-a-ingest"
    assert _queue("imports.tasks.import_commit") == "site-a-import"
    assert _queue("registers.tasks.memberships_sync") == "site-a-default"
    # Celery's own tasks, and one the table does not know, go to the default queue.
    assert _queue("celery.chord_unlock") == "site-a-default"
    assert _queue("unknown.task") == "site-a-default"


def test_an_explicit_queue_wins_over_the_table():
    assert _queue("privacy.tasks.package_pdf_render_task", queue="elsewhere") == "elsewhere"
