from django.core.management.base import BaseCommand, CommandError

from archive.models import Mailbox
from archive.tasks import mailboxes_due, mailboxes_poll_each


class Command(BaseCommand):
    help = (
        "Read mailboxes into the contact-centre archive now (the beat task does this every minute). Without "
        "options: the mailboxes in use that are due. Prints counts and problems only, never message content."
    )

    def add_arguments(self, parser):
        parser.add_argument("--mailbox", type=int, help="id of one mailbox, read whether due or not")
        parser.add_argument("--all", action="store_true", dest="every", help="every mailbox in use, due or not")

    def handle(self, *args, mailbox, every, **options):
        if mailbox is not None and every:
            raise CommandError("Give --mailbox or --all, not both.")
        mailboxes = Mailbox.objects.select_related("ordering_client").order_by("pk")
        if mailbox is not None:
            chosen = list(mailboxes.filter(pk=mailbox))
            if not chosen:
                raise CommandError(f"No mailbox {mailbox}.")
        elif every:
            chosen = list(mailboxes.filter(enabled=True))
        else:
            chosen = mailboxes_due()
        results = mailboxes_poll_each(chosen)
        failed = False
        for box in chosen:
            result = results.get(box.pk)
            if result is None:
                failed = True
                self.stdout.write(f"Mailbox {box.pk}: the poll failed; see the log.")
                continue
            if result.busy:
                self.stdout.write(f"Mailbox {box.pk}: another worker is reading it; nothing done.")
                continue
            self.stdout.write(
                f"Mailbox {box.pk}: fetched {result.fetched}, archived {result.archived}, "
                f"already archived {result.skipped}, problems {result.errors}"
            )
            for problem in result.problems:
                self.stdout.write(f"  {problem}")
            failed = failed or bool(result.errors)
        if failed:
            raise CommandError("Some mailboxes could not be read completely.")
