from django.core.management.base import BaseCommand

from archive.recordings import recording_lists_read


class Command(BaseCommand):
    help = (
        "Read the recording server's lists (*.csv, *.jsonl) from the drop folder into the archive now and move "
        "them to done/. Prints counts and refused row numbers, never row content."
    )

    def add_arguments(self, parser):
        parser.add_argument("--drop", help="the drop folder (default: settings.ARCHIVE_RECORDING_DROP)")

    def handle(self, *args, drop, **options):
        summary = recording_lists_read(drop=drop)
        self.stdout.write(
            f"Files read {summary.files - summary.already_read}, read before {summary.already_read}; "
            f"recordings added {summary.imported}, skipped {summary.skipped}, rows refused {summary.refused}."
        )
        for recording_list in summary.lists:
            for problem in recording_list.problems:
                self.stderr.write(f"{recording_list.filename}: row {problem['row']}: {problem['reason']}")
