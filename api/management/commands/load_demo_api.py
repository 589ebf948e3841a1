"""The demo's integration client (issue 19), with a fixed key so the quick start can call the API at once."""

import datetime

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.utils import timezone

from api.models import APIClient
from api.services import api_client_create
from registers.models import Register, Role
from registers.services import is_main_user

NAME = "Tapahtumakalenteri (demo)"
# Demo only, like the demo users' passwords: the key is printed by `load_demo` and in README's quick start.
DEMO_KEY_PREFIX = "demo2026"
DEMO_KEY = f"{DEMO_KEY_PREFIX}.tapahtumakalenteri-demo-avain-2026"
SCOPES = {"helsinki-business-services": Role.API_WRITE, "helsinki-tourism-convention": Role.API_READ}


class Command(BaseCommand):
    help = "Create the demo integration client (idempotent) and print its key."

    def handle(self, *args, **options):
        if not APIClient.objects.filter(prefix=DEMO_KEY_PREFIX).exists():
            self._create()
        scopes = ", ".join(f"{slug} ({Role(role).label})" for slug, role in SCOPES.items())
        self.stdout.write(f"Demo integration client: curl -H 'Authorization: Api-Key {DEMO_KEY}' ... ({scopes})")

    @staticmethod
    def _create() -> None:
        main = next(user for user in get_user_model().objects.filter(is_active=True) if is_main_user(user))
        scopes = {register: SCOPES[register.slug] for register in Register.objects.filter(slug__in=SCOPES)}
        client, _random_key = api_client_create(
            actor=main,
            name=NAME,
            owner=main,
            scopes=scopes,
            expires_on=timezone.localdate() + datetime.timedelta(days=365),
            description="Hakee asiakkaat ja kirjaa tapahtumailmoittautumiset yhteydenotoiksi.",
        )
        hashed = APIClient.objects.key_generator.hash(DEMO_KEY)
        APIClient.objects.filter(pk=client.pk).update(
            id=f"{DEMO_KEY_PREFIX}.{hashed}", prefix=DEMO_KEY_PREFIX, hashed_key=hashed
        )
