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


def settings_error(**env) -> str:
    """Load the settings in a fresh process with `env` and return what stopped them ("" if nothing did)."""
    base = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "DATABASE_URL", "SITE_URL", "DEBUG"}}
    base.update({k: v for k, v in env.items() if v is not None}, DJANGO_SETTINGS_MODULE="config.settings")
    result = subprocess.run([sys.executable, "-c", PRINT], env=base, capture_output=True, text=True, check=False)
    return "" if result.returncode == 0 else result.stderr.strip().splitlines()[-1]


def test_without_debug_site_url_is_required():
    error = settings_error()
    assert error.startswith("django.core.exceptions.ImproperlyConfigured: SITE_URL must be set")


@pytest.mark.parametrize("url", ["rekisteri.example.fi", "ftp://rekisteri.example.fi", "https://", "http://[bad"])
def test_site_url_must_be_an_absolute_http_address(url):
    assert "SITE_URL must be an absolute http(s) address" in settings_error(SITE_URL=url)


@pytest.mark.parametrize("url", ["https://rekisteri.example.fi", "http://127.0.0.1:8000/"])
def test_an_absolute_site_url_is_accepted(url):
    assert settings_error(SITE_URL=url) == ""


def test_the_quick_start_keeps_its_local_site_url():
    assert settings_error(DEBUG="true") == ""
