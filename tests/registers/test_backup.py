import datetime
import io
import os
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from registers.backup import PREFIX, backups_list, backups_prune

from ..factories import CustomerFactory, InteractionFactory

BASE_DIR = Path(settings.BASE_DIR)
ON_POSTGRES = connection.vendor == "postgresql"
FINGERPRINT = {
    "crm_customer": "code::text || sort_name || coalesce(email, '')",
    "crm_interaction": "code::text || subject",
    "registers_register": "slug || name_fi",
}


def fingerprint(cursor) -> dict[str, tuple[int, str]]:
    """Row count and an md5 over the rows of a few tables (the restore drill of SECURITY.md)."""
    result = {}
    for table, expression in FINGERPRINT.items():
        # Table names and expressions are the constants above.
        cursor.execute(f"SELECT count(*), md5(string_agg({expression}, ',' ORDER BY id)) FROM {table}")  # noqa: S608
        result[table] = cursor.fetchone()
    return result


def pg_params() -> dict:
    database = connection.settings_dict
    return {
        "host": database["HOST"] or None,
        "port": database["PORT"] or None,
        "user": database["USER"] or None,
        "password": database["PASSWORD"] or None,
    }


@pytest.fixture
def scratch_database():
    name = f"rekisteri_restore_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(dbname="postgres", autocommit=True, **pg_params()) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield name
    with psycopg.connect(dbname="postgres", autocommit=True, **pg_params()) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.skipif(not ON_POSTGRES, reason="pg_dump path")
@pytest.mark.django_db(transaction=True)
def test_a_postgres_backup_restores_into_a_fresh_database_identically(tmp_path, register_a, scratch_database):
    for n in range(30):
        customer = CustomerFactory(register=register_a, organisation_name=f"Yritys {n} Oy", email=f"y{n}@example.fi")
        InteractionFactory(customer=customer)
    with connection.cursor() as cursor:
        original = fingerprint(cursor)

    call_command("backup", directory=tmp_path, stdout=io.StringIO())
    [dump] = backups_list(directory=tmp_path)
    assert dump.name.startswith(PREFIX)
    assert dump.suffix == ".dump"
    assert dump.read_bytes()[:5] == b"PGDMP"
    assert oct(dump.stat().st_mode & 0o777) == "0o600"

    call_command("restore", str(dump), database_name=scratch_database, interactive=False, stdout=io.StringIO())
    with psycopg.connect(dbname=scratch_database, **pg_params()) as restored, restored.cursor() as cursor:
        assert fingerprint(cursor) == original
    assert original["crm_customer"][0] == 30


@pytest.mark.skipif(not ON_POSTGRES, reason="pg_restore path")
@pytest.mark.django_db(transaction=True)
def test_a_broken_backup_fails_loudly_and_changes_nothing(tmp_path, scratch_database):
    from django.core.management.base import CommandError

    broken = tmp_path / f"{PREFIX}20200101T000000000000Z.dump"
    broken.write_bytes(b"PGDMP not really")
    with pytest.raises(CommandError):
        call_command("restore", str(broken), database_name=scratch_database, interactive=False)


def test_old_backups_are_pruned_but_the_newest_is_always_kept(tmp_path, settings):
    settings.BACKUP_RETENTION_DAYS = 30
    now = timezone.now()
    paths = []
    for days in (90, 40, 31, 5):
        path = tmp_path / f"{PREFIX}{(now - datetime.timedelta(days=days)):%Y%m%dT%H%M%S000000Z}.dump"
        path.write_bytes(b"PGDMP")
        moment = (now - datetime.timedelta(days=days)).timestamp()
        os.utime(path, (moment, moment))
        paths.append(path)
    (tmp_path / "unrelated.txt").write_text("not a backup")
    removed = backups_prune(directory=tmp_path, now=now)
    assert sorted(removed) == sorted(paths[:3])
    assert backups_list(directory=tmp_path) == [paths[3]]
    assert (tmp_path / "unrelated.txt").exists()
    # Even when every backup is old, the newest one stays.
    moment = (now - datetime.timedelta(days=100)).timestamp()
    os.utime(paths[3], (moment, moment))
    assert backups_prune(directory=tmp_path, now=now) == []


def _manage(*args, database: Path, check=True) -> str:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{database}",
        "REDIS_URL": "",
        "CELERY_BROKER_URL": "memory://",
        # This test process's own directories, never the checkout's var/.
        "ERASURE_LEDGER_DIR": str(settings.ERASURE_LEDGER_DIR),
        "AUDIT_ANCHOR_DIR": str(settings.AUDIT_ANCHOR_DIR),
    }
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=BASE_DIR, env=env, capture_output=True, text=True, check=False
    )
    if check:
        assert result.returncode == 0, result.stderr
    return result.stdout


def _organisations(database: Path) -> list[str]:
    import sqlite3

    with sqlite3.connect(database) as db:
        return [row[0] for row in db.execute("SELECT name_fi FROM registers_organisation ORDER BY name_fi")]


def test_a_sqlite_backup_is_a_consistent_copy_that_restores(tmp_path):
    database = tmp_path / "quick.sqlite3"
    _manage("migrate", "--noinput", "-v0", database=database)
    create = "from registers.models import Organisation; Organisation.objects.create(name_fi='{}')"
    _manage("shell", "-c", create.format("Ennen varmuuskopiota"), database=database)
    output = _manage("backup", "--directory", str(tmp_path / "backups"), database=database)
    [copy] = backups_list(directory=tmp_path / "backups")
    assert copy.suffix == ".sqlite3"
    assert str(copy) in output
    _manage("shell", "-c", create.format("Varmuuskopion jälkeen"), database=database)
    assert _organisations(database) == ["Ennen varmuuskopiota", "Varmuuskopion jälkeen"]

    output = _manage("restore", str(copy), "--noinput", database=database)
    # Brought up to date at once: the erasure ledger replayed and the retention purge run.
    assert "Erasure ledger:" in output
    assert "Retention purge:" in output
    assert _organisations(database) == ["Ennen varmuuskopiota"]
