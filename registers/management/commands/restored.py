"""Bring a database just restored from a backup up to date (run by `manage.py restore` on the restored database)."""

from django.core.management.base import BaseCommand

from registers.backup import database_restored


class Command(BaseCommand):
    help = (
        "After a restore: replay the erasures done since the backup and purge what ran out of retention since. "
        "--dry-run reports what that would do and changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true")

    def handle(self, *args, dry_run=False, **options):
        for _receiver, lines in database_restored.send(sender=self.__class__, dry_run=dry_run):
            for line in lines or ():
                self.stdout.write(line)
