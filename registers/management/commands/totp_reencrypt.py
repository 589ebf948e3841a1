from django.core.management.base import BaseCommand, CommandError

from registers.totp import totp_keys_reencrypt


class Command(BaseCommand):
    help = (
        "Re-encrypt every authenticator secret under the first key of TOTP_ENCRYPTION_KEY. Run it after "
        "putting a new key first; the old key can then be removed."
    )

    def handle(self, *args, **options):
        done, unreadable = totp_keys_reencrypt()
        self.stdout.write(f"Re-encrypted {done} authenticator secret(s).")
        if unreadable:
            ids = ", ".join(str(pk) for pk in unreadable)
            raise CommandError(f"No configured key opens the secret of device(s) {ids}; keep the old key listed.")
