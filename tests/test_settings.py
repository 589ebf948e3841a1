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


# A valid Fernet key (32 zero bytes): the settings below are checked one variable at a time.
A_TOTP_KEY = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
PRODUCTION_UNSET = {
    "REDIS_URL",
    "DATABASE_URL",
    "SITE_URL",
    "DEBUG",
    "TOTP_ENCRYPTION_KEY",
    "ARCHIVE_ENCRYPTION_KEY",
    "PYTEST_VERSION",
}


def settings_error(**env) -> str:
    """Load the settings in a fresh process with `env` and return what stopped them ("" if nothing did).

    The process runs as production would, outside pytest; a variable given as None is left unset.
    """
    base = {k: v for k, v in os.environ.items() if k not in PRODUCTION_UNSET}
    env = {"TOTP_ENCRYPTION_KEY": A_TOTP_KEY, "ARCHIVE_ENCRYPTION_KEY": A_TOTP_KEY, **env}
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


def test_without_debug_the_totp_encryption_key_is_required():
    error = settings_error(SITE_URL="https://rekisteri.example.fi", TOTP_ENCRYPTION_KEY=None)
    assert error.startswith("django.core.exceptions.ImproperlyConfigured: TOTP_ENCRYPTION_KEY must be set")


@pytest.mark.parametrize("name", ["TOTP_ENCRYPTION_KEY", "ARCHIVE_ENCRYPTION_KEY"])
def test_without_debug_each_encryption_key_is_required(name):
    error = settings_error(SITE_URL="https://rekisteri.example.fi", **{name: None})
    assert error.startswith(f"django.core.exceptions.ImproperlyConfigured: {name} must be set")


@pytest.mark.parametrize("name", ["TOTP_ENCRYPTION_KEY", "ARCHIVE_ENCRYPTION_KEY"])
@pytest.mark.parametrize("keys", ["not-a-key", "AAAA", f"{A_TOTP_KEY},short"])
def test_the_encryption_keys_must_be_fernet_keys(name, keys):
    error = settings_error(SITE_URL="https://rekisteri.example.fi", **{name: keys})
    assert f"{name} must be Fernet keys" in error


def test_several_totp_encryption_keys_are_accepted_for_rotation():
    keys = f"{A_TOTP_KEY}, BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBA="
    assert settings_error(SITE_URL="https://rekisteri.example.fi", TOTP_ENCRYPTION_KEY=keys) == ""


def test_the_quick_start_derives_a_totp_encryption_key():
    assert settings_error(DEBUG="true", TOTP_ENCRYPTION_KEY=None) == ""


def database_options(**env) -> dict:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "REDIS_URL", "CACHE_URL"))}
    base.update(env, DJANGO_SETTINGS_MODULE="config.settings")
    code = "import django; django.setup(); from django.conf import settings as s; print(repr(s.DATABASES))"
    result = subprocess.run([sys.executable, "-c", code], env=base, capture_output=True, text=True, check=True)
    return eval(result.stdout)  # noqa: S307 - the repr of a dict of plain values printed by our own settings


def test_a_plain_postgresql_url_gets_a_connect_timeout_and_no_pool():
    databases = database_options(DATABASE_URL="postgres://u@127.0.0.1:5432/x")
    assert databases["default"]["OPTIONS"] == {"connect_timeout": 5}
    assert databases["default"]["CONN_MAX_AGE"] == 60
    assert set(databases) == {"default"}


def test_the_pool_and_pgbouncer_settings_reach_psycopg():
    databases = database_options(
        DATABASE_URL="postgres://u@127.0.0.1:6432/x", DATABASE_POOL="true", DATABASE_PGBOUNCER="true"
    )
    default = databases["default"]
    assert default["OPTIONS"]["pool"] == {"min_size": 2, "max_size": 10, "timeout": 10.0}
    # Django refuses CONN_MAX_AGE beside its pool; a transaction-mode pooler loses named cursors and prepared
    # statements between transactions.
    assert default["CONN_MAX_AGE"] == 0
    assert default["DISABLE_SERVER_SIDE_CURSORS"] is True
    assert default["OPTIONS"]["prepare_threshold"] is None


def test_a_replica_url_adds_a_replica_that_mirrors_the_primary_in_tests():
    databases = database_options(
        DATABASE_URL="postgres://u@127.0.0.1:5432/x", DATABASE_REPLICA_URL="postgres://r@127.0.0.1:5433/x"
    )
    assert databases["replica"]["PORT"] == 5433
    assert databases["replica"]["TEST"]["MIRROR"] == "default"
