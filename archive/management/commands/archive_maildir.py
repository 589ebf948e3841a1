from django.core.management.base import BaseCommand

from archive.maildir import maildir_read_all


class Command(BaseCommand):
    help = (
        "Read the server-side Maildir drop folder into the contact-centre archive now (the beat task does this "
        "regularly): <root>/<ordering client's code>/in and /out. Prints counts and problems, never message content."
    )

    def add_arguments(self, parser):
        parser.add_argument("--root", help="the drop folder's root (default: settings.ARCHIVE_MAILDIR_ROOT)")

    def handle(self, *args, root, **options):
        summary = maildir_read_all(root=root)
        self.stdout.write(
            f"Archived {summary.archived}, already in the archive {summary.already}, "
            f"kept raw as unreadable {summary.unreadable}."
        )
        for problem in summary.problems:
            self.stderr.write(f"Skipped {problem}")
