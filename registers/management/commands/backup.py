from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from registers.backup import BackupError, backup_create, backups_prune


class Command(BaseCommand):
    help = (
        "Back up the database (pg_dump custom format on PostgreSQL, a consistent copy on SQLite) into BACKUP_DIR, "
        "then delete backups older than BACKUP_RETENTION_DAYS. The daily beat task does the same."
    )

    def add_arguments(self, parser):
        parser.add_argument("--directory", type=Path, help="where to write the backup (default: BACKUP_DIR)")
        parser.add_argument("--no-prune", action="store_true", help="keep backups past their retention")

    def handle(self, *args, directory, no_prune, **options):
        try:
            path = backup_create(directory=directory)
        except BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"Backup written: {path} ({path.stat().st_size} bytes)")
        if not no_prune:
            for removed in backups_prune(directory=directory):
                self.stdout.write(f"Removed old backup: {removed.name}")
