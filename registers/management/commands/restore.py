import os
import subprocess  # nosec B404
import sys
import tempfile
import uuid
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connections

from registers.backup import BackupError, backup_restore, database_url


class Command(BaseCommand):
    help = (
        "Restore a backup made by `manage.py backup`, replacing the data of the target database, then bring it up to "
        "date: erasures done after the backup are done again from the erasure ledger, and the retention purge runs. "
        "--check restores into a scratch database and only reports what that would do."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)
        parser.add_argument(
            "--database-name",
            help="restore into this database (PostgreSQL name or SQLite file) instead of the configured one",
        )
        parser.add_argument(
            "--check",
            action="store_true",
            help="restore into a scratch database, report the erasures to replay and the records to purge, drop it",
        )
        parser.add_argument("--noinput", "--no-input", action="store_false", dest="interactive")

    def handle(self, *args, path, database_name, check, interactive, **options):
        if check:
            return self._check(path)
        target = database_name or "the configured database"
        if interactive:
            answer = input(f"This replaces all data in {target} with {path.name}. Type 'yes' to continue: ")
            if answer != "yes":
                raise CommandError("Restore cancelled.")
        try:
            backup_restore(path=path, database_name=database_name)
        except BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"Restored {path.name} into {target}.")
        # In a process of its own on the restored database: no connection or cache of this one carries over.
        self._restored(database_url(database_name=database_name), dry_run=False)

    def _restored(self, url: str, *, dry_run: bool) -> None:
        # The same ledger and anchors as this process, whatever its environment said.
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "ERASURE_LEDGER_DIR": str(settings.ERASURE_LEDGER_DIR),
            "AUDIT_ANCHOR_DIR": str(settings.AUDIT_ANCHOR_DIR),
        }
        command = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), "restored"]
        if dry_run:
            command.append("--dry-run")
        # A fixed program and arguments; the URL names the database just restored.
        result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603  # nosec B603
        self.stdout.write(result.stdout.rstrip())
        if result.returncode != 0:
            raise CommandError(f"The restored database could not be brought up to date: {result.stderr.strip()[-800:]}")

    def _check(self, path: Path) -> None:
        database = connections["default"].settings_dict
        if database["ENGINE"] == "django.db.backends.sqlite3":
            scratch_dir = tempfile.mkdtemp(prefix="restore-check-")
            scratch = str(Path(scratch_dir) / "check.sqlite3")
        else:
            scratch = f"{database['NAME']}_check_{uuid.uuid4().hex[:8]}"
            self._pg_admin(f'CREATE DATABASE "{scratch}"')
        try:
            backup_restore(path=path, database_name=scratch)
            self.stdout.write(f"Restored {path.name} into a scratch database for the check.")
            self._restored(database_url(database_name=scratch), dry_run=True)
        except BackupError as error:
            raise CommandError(str(error)) from error
        finally:
            if database["ENGINE"] == "django.db.backends.sqlite3":
                Path(scratch).unlink(missing_ok=True)
            else:
                self._pg_admin(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')

    def _pg_admin(self, statement: str) -> None:
        import psycopg

        database = connections["default"].settings_dict
        params = {k.lower(): database[k] for k in ("HOST", "PORT", "USER", "PASSWORD") if database.get(k)}
        with psycopg.connect(dbname="postgres", autocommit=True, **params) as admin:
            admin.execute(statement)
