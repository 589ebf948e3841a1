from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "ops"
    verbose_name = "Operations"

    def ready(self) -> None:
        # The one way other apps' work reaches ops: Celery's signals. No app imports ops (it sits above them all).
        from celery.signals import task_failure

        from .metrics import task_failure_count

        # Counted in the broker's Redis by the worker that ran the task, whatever machine it is on.
        task_failure.connect(task_failure_count, dispatch_uid="ops.task_failure_count")
        self._request_ids_in_eager_tasks()

    @staticmethod
    def _request_ids_in_eager_tasks() -> None:
        """Wrap django-guid's Celery receivers with ops.request_ids' for tasks run in the process.

        Celery calls a signal's receivers in the order they were connected, and django-guid connected its
        task_prerun receiver when its app was ready (it is listed before ops): it is taken off and connected
        again after ours. Its task_postrun receiver already comes before ours.
        """
        from celery.signals import task_postrun, task_prerun
        from django_guid.config import settings as guid_settings

        if not any(integration.identifier == "CeleryIntegration" for integration in guid_settings.integrations):
            return
        from django_guid.integrations.celery import signals as guid_signals

        from .request_ids import eager_task_adopts_request_id, eager_task_returns_request_id

        task_prerun.disconnect(guid_signals.worker_prerun)
        task_prerun.connect(eager_task_adopts_request_id, dispatch_uid="ops.eager_task_adopts_request_id")
        task_prerun.connect(guid_signals.worker_prerun)
        task_postrun.connect(eager_task_returns_request_id, dispatch_uid="ops.eager_task_returns_request_id")
