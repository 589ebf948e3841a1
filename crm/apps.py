from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CrmConfig(AppConfig):
    name = "crm"
    verbose_name = _("Customers")

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from . import models

        # Every personal-data model keeps a change trail; sort_name and match_name only
        # repeat the name and version is a lock counter, so none of them is logged.
        for model in (models.Customer, models.ContactPerson, models.Interaction, models.Invoice):
            auditlog.register(model, exclude_fields=["sort_name", "match_name", "version", "updated_at"])
        auditlog.register(models.CompanyChange)
        auditlog.register(models.OrderingClient, m2m_fields={"managers"})
        # The message itself is the archive; its trail records that it came, not its text again.
        auditlog.register(models.ContactCentreMessage, exclude_fields=["body", "html_body", "updated_at"])
        auditlog.register(models.MessageAttachment)
        auditlog.register(models.CallRecording)
        # A tag's links are audited by crm.tagging as changes of the tagged record (one entry per bulk action).
        auditlog.register(models.Tag, exclude_fields=["updated_at"])
        auditlog.register(models.SavedView, exclude_fields=["updated_at"])
