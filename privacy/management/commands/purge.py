from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from privacy.retention.models import HoldType, PurgeRun
from privacy.retention.policies import request_files_due, retention_preview
from privacy.retention.purge import purge_run
from registers.models import Register


class Command(BaseCommand):
    help = (
        "Purge data past its retention (the daily beat task does this). --dry-run shows the counts the run "
        "would purge and hold back, without changing anything. Prints counts only, never personal data."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true")
        parser.add_argument("--register", help="slug of one register (default: every register)")
        parser.add_argument("--batch-size", type=int)

    def handle(self, *args, dry_run, register, batch_size, **options):
        scope = None
        if register:
            scope = Register.objects.filter(slug=register).first()
            if scope is None:
                raise CommandError(f"No register '{register}'.")
        if dry_run:
            self._preview([scope] if scope else list(Register.objects.order_by("slug")), whole=scope is None)
            return
        run = purge_run(trigger=PurgeRun.Trigger.COMMAND, register=scope, batch_size=batch_size)
        if run is None:
            raise CommandError("Another purge run is in progress; nothing was done.")
        if run.status == PurgeRun.Status.SKIPPED:
            raise CommandError(f"The purge was skipped: {run.note}")
        self.stdout.write(f"Purge run {run.code}: {run.get_status_display()} in {run.batches} batches.")
        for count in run.counts.select_related("register"):
            name = count.register.slug if count.register else "-"
            self.stdout.write(f"  {name:40} {count.kind:24} purged {count.purged:7}  held {self._held(count.held)}")

    def _preview(self, registers, *, whole: bool) -> None:
        now = timezone.now()
        self.stdout.write(f"Dry run at {now:%Y-%m-%d %H:%M}: nothing is changed.")
        for register in registers:
            rows = retention_preview(register=register, now=now)
            if not rows:
                self.stdout.write(f"  {register.slug:40} no retention rule: nothing is purged")
            for row in rows:
                self.stdout.write(
                    f"  {register.slug:40} {row.kind:24} due {row.due:7}  would purge {row.purgeable:7}  "
                    f"held {self._held(row.held)}"
                )
        if whole:
            self.stdout.write(f"  {'-':40} {'request_file':24} due {request_files_due(now=now).count():7}")

    def _held(self, held: dict) -> str:
        return ", ".join(f"{HoldType(k).value}={v}" for k, v in sorted(held.items())) or "0"
