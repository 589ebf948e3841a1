import os
import subprocess
import sys

import pytest

PRINT = (
    "import django; django.setup(); from django.conf import settings as s; "
    "print(s.CELERY_TASK_ALWAYS_EAGER, s.CELERY_BROKER_URL, s.DATABASES['default']['ENGINE'])"
)


def settings_with(**env) -> list[str]:
    base = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "DATABASE_URL", "CELERY_BROKER_URL"}}
    base.update(env, DJANGO_SETTINGS_MODULE="config.settings")
    result = subprocess.run([sys.executable, "-c", PRINT], env=base, capture_output=True, text=True, check=True)
    return result.stdout.split()


def test_without_redis_tasks_run_in_process_on_sqlite():
    eager, broker, engine = settings_with()
    assert eager == "True"
    assert broker == "memory://"
    assert engine == "django.db.backends.sqlite3"


@pytest.mark.parametrize("url", ["redis://127.0.0.1:6379/3"])
def test_with_redis_tasks_go_to_the_broker(url):
    eager, broker, engine = settings_with(REDIS_URL=url, DATABASE_URL="postgres://u@127.0.0.1:5432/x")
    assert eager == "False"
    assert broker == url
    assert engine == "django.db.backends.postgresql"
