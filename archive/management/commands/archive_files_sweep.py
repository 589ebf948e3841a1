"""manage.py archive_files_sweep: remove the archive's stray files (archive.files), or count them with --dry-run."""

from django.core.management.base import BaseCommand

from archive.files import stray_files_sweep


class Command(BaseCommand):
    help = (
        "Delete files under the media storage's archive/ prefix that no archived message or attachment names "
        "and that are older than an hour (left by a row that did not commit)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="count the files only; delete nothing")

    def handle(self, *args, dry_run, **options):
        stray, young = stray_files_sweep(dry_run=dry_run)
        verb = "Would delete" if dry_run else "Deleted"
        self.stdout.write(f"{verb} {stray} stray files; kept {young} younger than an hour.")
