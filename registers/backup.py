"""Database backups and their restore: `pg_dump --format=custom` on PostgreSQL, SQLite's online backup otherwise.

Backups hold personal data, so they age out on their own schedule (BACKUP_RETENTION_DAYS, stated in every register
description): data purged from the database is gone from the backups once the last backup taken before the purge
has been pruned. A restore is followed at once by `database_restored`: the privacy app replays the erasures done
after the backup was taken (privacy.rights.erasure_ledger) and purges what ran out of retention since, and the
audit chain records that it was rolled back to the backup's head.
"""

import datetime
import logging
import os
import shutil
import sqlite3
import subprocess  # nosec B404
from pathlib import Path

from celery import shared_task
from django.conf import settings
from django.db import connections
from django.dispatch import Signal
from django.utils import timezone

logger = logging.getLogger(__name__)

PREFIX = "rekisteri-"


class BackupError(Exception):
    pass


# Sent by `manage.py restored` (which `restore` runs) in the process whose database was just restored, with
# `dry_run`. Receivers bring the data up to date (erasures since the backup, retention) and return lines to print.
database_restored = Signal()


def database_url(*, alias: str = "default", database_name: str | None = None) -> str:
    """Return a DATABASE_URL for the configured database, or for another database on the same server."""
    from urllib.parse import quote

    database = _database(alias)
    name = database_name or str(database["NAME"])
    if database["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{Path(name).resolve()}"
    user = quote(str(database.get("USER") or ""), safe="")
    password = quote(str(database.get("PASSWORD") or ""), safe="")
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = database.get("HOST") or "localhost"
    port = f":{database['PORT']}" if database.get("PORT") else ""
    return f"postgres://{credentials}{host}{port}/{quote(name, safe='')}"


def _database(alias: str = "default") -> dict:
    return connections.databases[alias]


def _pg_environment(database: dict) -> dict[str, str]:
    env = dict(os.environ)
    for key, var in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER"), ("PASSWORD", "PGPASSWORD")):
        if database.get(key):
            env[var] = str(database[key])
    return env


def _run(command: list[str], env: dict[str, str]) -> None:
    # The commands are fixed programs with arguments from settings, never from a request.
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603  # nosec B603
    if result.returncode != 0:
        raise BackupError(f"{command[0]} exited with {result.returncode}: {result.stderr.strip()[:500]}")


def backup_create(*, directory: Path | None = None, alias: str = "default") -> Path:
    """Write a consistent backup of the database into the backup directory and return its path."""
    directory = Path(directory or settings.BACKUP_DIR)
    directory.mkdir(parents=True, exist_ok=True)
    os.chmod(directory, 0o700)
    database = _database(alias)
    stamp = timezone.now().strftime("%Y%m%dT%H%M%S%fZ")
    if database["ENGINE"] == "django.db.backends.postgresql":
        target = directory / f"{PREFIX}{stamp}.dump"
        partial = target.with_suffix(".partial")
        _run(
            ["pg_dump", "--format=custom", "--no-owner", "--file", str(partial), "--dbname", database["NAME"]],
            _pg_environment(database),
        )
    elif database["ENGINE"] == "django.db.backends.sqlite3":
        target = directory / f"{PREFIX}{stamp}.sqlite3"
        partial = target.with_suffix(".partial")
        # SQLite's online backup copies a consistent snapshot even while the app writes.
        source = sqlite3.connect(database["NAME"])
        copy = sqlite3.connect(partial)
        try:
            source.backup(copy)
        finally:
            copy.close()
            source.close()
    else:
        raise BackupError(f"No backup method for {database['ENGINE']}.")
    # A backup that stopped halfway is never mistaken for a good one: it is renamed only when complete.
    os.chmod(partial, 0o600)
    partial.rename(target)
    return target


def backup_restore(*, path: Path, alias: str = "default", database_name: str | None = None) -> None:
    """Restore a backup into the database (or into `database_name`, e.g. a scratch database for a drill)."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"No backup at {path}.")
    database = dict(_database(alias))
    if path.suffix == ".dump":
        if database["ENGINE"] != "django.db.backends.postgresql":
            raise BackupError("A PostgreSQL dump restores only into PostgreSQL.")
        connections[alias].close()
        _run(
            [
                "pg_restore",
                "--clean",
                "--if-exists",
                "--no-owner",
                "--exit-on-error",
                "--single-transaction",
                "--dbname",
                database_name or database["NAME"],
                str(path),
            ],
            _pg_environment(database),
        )
    elif path.suffix == ".sqlite3":
        if database["ENGINE"] != "django.db.backends.sqlite3":
            raise BackupError("A SQLite copy restores only into SQLite.")
        connections[alias].close()
        target = Path(database_name or database["NAME"])
        temporary = target.with_suffix(".restoring")
        shutil.copyfile(path, temporary)
        temporary.replace(target)
    else:
        raise BackupError(f"Unknown backup format: {path.name}.")


def backups_list(*, directory: Path | None = None) -> list[Path]:
    """Return the complete backups, oldest first."""
    directory = Path(directory or settings.BACKUP_DIR)
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if p.name.startswith(PREFIX) and p.suffix in {".dump", ".sqlite3"})


def backups_prune(*, directory: Path | None = None, now: datetime.datetime | None = None) -> list[Path]:
    """Delete backups older than BACKUP_RETENTION_DAYS, always keeping the newest; return what was removed."""
    now = now or timezone.now()
    cutoff = (now - datetime.timedelta(days=settings.BACKUP_RETENTION_DAYS)).timestamp()
    backups = backups_list(directory=directory)
    removed = []
    for path in backups[:-1]:
        if path.stat().st_mtime < cutoff:
            path.unlink()
            removed.append(path)
    return removed


@shared_task(name="registers.backup.backup_task")
def backup_task() -> str:
    """Take the daily backup and prune the ones past their retention."""
    path = backup_create()
    removed = backups_prune()
    logger.info("Backup written to %s; %d old backups removed.", path.name, len(removed))
    return path.name
