"""Saved views and bulk actions: how staff group a register's customers and act on a group at once.

- A **tag** (`crm.models.Tag`) belongs to one register; the customer list filters and searches by it.
- A **saved view** (segment, `crm.models.SavedView`: the customer list applies it) is a list's search, filters,
  sort and visible columns under a name; its rows are the list's query run again (`crm.saved_views`).
- A **bulk action** applies one change (tag, untag, follow-up) to a selection or a whole segment as one audited
  action with its count; over `settings.BULK_INLINE_MAX` rows it runs in a Celery task and reports its progress.
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from crm.models import SavedView
from registers.audit_scope import RegisterAuditMixin
from registers.models import Register, TimeStampedModel


class BulkAction(RegisterAuditMixin, TimeStampedModel):
    class Kind(models.TextChoices):
        TAG_ADD = "tag_add", _("add a tag")
        TAG_REMOVE = "tag_remove", _("remove a tag")
        FOLLOWUP_ASSIGN = "followup_assign", _("assign a follow-up")

    class State(models.TextChoices):
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    register = models.ForeignKey(
        Register, on_delete=models.CASCADE, related_name="bulk_actions", verbose_name=_("register")
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("created by")
    )
    kind = models.CharField(_("action"), max_length=20, choices=Kind.choices)
    # What the action applies to: the customer codes picked on the list, or a saved view run when the action runs.
    customer_codes = models.JSONField(_("selected customers"), default=list, blank=True)
    saved_view = models.ForeignKey(
        SavedView, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("saved view")
    )
    # The action's own arguments: {"tag": code} or {"assignee": pk, "due_on": iso date, "note": text}.
    parameters = models.JSONField(_("parameters"), default=dict, blank=True)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.QUEUED)
    total = models.PositiveIntegerField(_("rows"), default=0)
    processed = models.PositiveIntegerField(_("processed"), default=0)
    # How many rows the action changed (a tag already on a customer is not added twice).
    changed = models.PositiveIntegerField(_("changed"), default=0)
    # Why the action stopped, as a code (segments.services), shown translated.
    error = models.CharField(_("error"), max_length=100, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("bulk action")
        verbose_name_plural = _("bulk actions")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.total})"

    @property
    def percent(self) -> int:
        return 100 if not self.total else min(100, self.processed * 100 // self.total)
