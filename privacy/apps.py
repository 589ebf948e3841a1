from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PrivacyConfig(AppConfig):
    name = "privacy"
    verbose_name = _("Privacy")

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from registers import audit_chain

        from . import models
        from .requests import (
            access_package,
            tasks,  # noqa: F401  connects the outbox receivers
            workflow,
        )
        from .rights import disclosures, evidence, guards

        # Request handling runs the checks and reads the ledger of the rights
        # it carries without importing them (privacy.requests' docstring).
        if guards.rights_guard not in workflow.TRANSITION_GUARDS:
            workflow.TRANSITION_GUARDS.append(guards.rights_guard)
        if disclosures.disclosures_for_answer not in access_package.DISCLOSURE_SOURCES:
            access_package.DISCLOSURE_SOURCES.append(disclosures.disclosures_for_answer)
        if evidence.history_for_answer not in access_package.CONSENT_SOURCES:
            access_package.CONSENT_SOURCES.append(evidence.history_for_answer)

        # The workflow's own trail is RequestEvent; auditlog keeps the field
        # diffs of the case file and of what the handler confirmed.
        auditlog.register(models.DataSubjectRequest, exclude_fields=["updated_at", "dedupe_key"])
        # The workflow's events and the purge's runs are part of the tamper-evident trail (registers.audit_chain).
        for model in (models.RequestEvent, models.PurgeRun, models.PurgeCount):
            audit_chain.chain(model)
        # A backup restored brings back people erased since it was taken: the ledger erases them again.
        from registers.backup import database_restored

        from .rights.erasure_ledger import restored_followup

        database_restored.connect(restored_followup, dispatch_uid="privacy.erasure_ledger.restored")
        auditlog.register(models.SubjectMatch)
        auditlog.register(models.ResponsePackage)
        # Who added which version of a notice text, in the register's audit trail (the rows never change).
        auditlog.register(models.ConsentNotice, exclude_fields=["updated_at"])
