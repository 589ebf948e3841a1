"""The erasure ledger's rows: what each erasure removed, with no personal data (privacy.rights.erasure_ledger)."""

import uuid

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

__all__ = ["ErasureLedgerEntry"]


class ErasureLedgerEntry(models.Model):
    """One object an erasure deleted, minimised or redacted a mention in. Codes and keyed hashes only.

    Mirrored to a file outside the database (ERASURE_LEDGER_DIR), so that an erasure done after a backup is
    done again after the backup is restored.
    """

    class Action(models.TextChoices):
        DELETE = "delete", _("deleted")
        MINIMISE = "minimise", _("minimised")
        MENTION = "mention", _("mention redacted")

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    recorded_at = models.DateTimeField(default=timezone.now)
    # What erased: a request's reference, or the customer profile's deletion; never a name.
    erasure = models.CharField(max_length=100)
    register_code = models.UUIDField()
    object_type = models.CharField(max_length=30)
    object_code = models.UUIDField()
    action = models.CharField(max_length=10, choices=Action.choices)
    # A mention's redacted field names.
    fields = models.JSONField(default=list, blank=True)
    # HMAC-SHA-256 of the person's normalised e-mail, phone numbers and name (ERASURE_LEDGER_KEY): a restored or
    # re-imported copy of the person under another code is recognised without the ledger naming anyone.
    identifiers = models.JSONField(default=list, blank=True)
    # Set when the entry was carried out again after a restore.
    replayed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("erasure ledger entry")
        verbose_name_plural = _("erasure ledger entries")
        ordering = ["recorded_at", "id"]

    def __str__(self) -> str:
        return f"{self.erasure} {self.object_type} {self.action}"
