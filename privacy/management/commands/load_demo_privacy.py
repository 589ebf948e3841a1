from django.core.management.base import BaseCommand

from privacy import demo


class Command(BaseCommand):
    help = "Load the privacy part of the demo: data-subject requests, consents and disclosures (idempotent)."

    def handle(self, *args, **options):
        if demo.load():
            self.stdout.write("Loaded the demo's data-subject requests, consents and disclosures.")
