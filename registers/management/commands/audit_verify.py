"""Check the tamper-evident audit trail: every chain, every row against its newest link, and the anchors."""

from django.core.management.base import BaseCommand, CommandError

from registers import audit_chain


class Command(BaseCommand):
    help = "Verify the audit trail's hash chains and their anchors; exit 1 naming the first broken link of each."

    def add_arguments(self, parser):
        parser.add_argument("--stream", action="append", help="Only this chain (e.g. auditlog.logentry); repeatable.")
        parser.add_argument("--anchor", action="store_true", help="Write an anchor of every chain's head first.")

    def handle(self, *args, stream=None, anchor=False, **options):
        unknown = set(stream or ()) - set(audit_chain.chained_models())
        if unknown:
            raise CommandError(f"No such chain: {', '.join(sorted(unknown))}")
        if anchor:
            audit_chain.anchor_write(note="command")
        reports, anchor_problems = audit_chain.audit_verify(stream)
        broken = False
        for report in reports:
            status = "ok" if report.ok else "BROKEN"
            self.stdout.write(
                f"{report.stream}: {status} ({report.links} links, {report.rows} rows, {report.anchors} anchors)"
            )
            for problem in report.problems:
                self.stdout.write(f"  - {problem}")
            broken = broken or not report.ok
        for problem in anchor_problems:
            self.stdout.write(f"anchors: {problem}")
        if broken or anchor_problems:
            raise CommandError("The audit trail does not verify.")
        self.stdout.write(self.style.SUCCESS("The audit trail verifies."))
