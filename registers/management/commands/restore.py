from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from registers.backup import BackupError, backup_restore


class Command(BaseCommand):
    help = (
        "Restore a backup made by `manage.py backup`. Replaces the data of the target database. "
        "Run `manage.py purge` afterwards, before the database is used again."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)
        parser.add_argument(
            "--database-name",
            help="restore into this database (PostgreSQL name or SQLite file) instead of the configured one",
        )
        parser.add_argument("--noinput", "--no-input", action="store_false", dest="interactive")

    def handle(self, *args, path, database_name, interactive, **options):
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
        self.stdout.write("Run `manage.py purge` now: data whose retention ended after the backup must go again.")
