"""A beat outlives a database that goes away under it (registers/beat.py).

The multi-node run restarts pgbouncer under a running beat; a beat that exited then sent nothing more until somebody
restarted it. Here the schedule's own read fails once, as it did there.
"""

import pytest
from django.db import OperationalError
from django_celery_beat.schedulers import DatabaseScheduler

from config.celery import app
from registers.beat import LockedDatabaseScheduler

pytestmark = pytest.mark.django_db


def test_a_tick_whose_database_went_away_waits_and_the_next_one_sends(settings, monkeypatch):
    settings.LOCK_URL = ""
    scheduler = LockedDatabaseScheduler(app=app, lazy=True)
    calls = []

    def tick(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("consuming input failed: server closed the connection unexpectedly")
        return 0.5

    monkeypatch.setattr(DatabaseScheduler, "tick", tick)
    assert scheduler.tick() == scheduler.retry_seconds
    assert scheduler.tick() == 0.5
    assert len(calls) == 2
