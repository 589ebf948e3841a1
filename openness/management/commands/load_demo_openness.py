"""The demo's document requests (issue 21): one just received, one extended to a month and one refused, waiting for
the requester's answer, so that the handlers' queue and the owner's figures have something to show."""

from django.core.management.base import BaseCommand
from django.db import transaction

from openness import services
from openness.models import DocumentRequest
from registers.models import Membership, Register, Role

REGISTER = "helsinki-business-development"


class Command(BaseCommand):
    help = "Add the demo document requests (idempotent)."

    @transaction.atomic
    def handle(self, *args, **options):
        register = Register.objects.filter(slug=REGISTER).select_related("organisation").first()
        if register is None or DocumentRequest.objects.filter(organisation=register.organisation).exists():
            return
        handler = (
            Membership.objects.active()
            .filter(register=register, role__in=[Role.HANDLER, Role.OWNER])
            .select_related("user")
            .order_by("role", "pk")
            .first()
        )
        if handler is None:
            return
        actor = handler.user
        submit = services.document_request_submit
        organisation = register.organisation
        submit(
            organisation=organisation,
            registers=[],
            data={
                "request_text": "Luettelo yrityksistä, joita elinkeinokehitys tapasi lokakuussa 2026.",
                "requester_kind": "media",
            },
        )
        extended = submit(
            organisation=organisation,
            registers=[],
            data={"request_text": "Kaikki vuoden 2025 yritystukipäätökset liitteineen.", "requester_kind": "company"},
        )
        services.document_request_extend(actor=actor, request=extended, reason="many_documents")
        refused = submit(
            organisation=organisation,
            registers=[register],
            data={
                "request_text": "Asiakasrekisterin yritysten yhteyshenkilöiden sähköpostiosoitteet.",
                "requester_name": "Markkinointi Oy",
                "purpose": "Suoramarkkinointi",
                "recipient_legal_basis": "Oikeutettu etu",
                "marketing_use": True,
            },
        )
        refused = services.document_request_take_up(actor=actor, request=refused)
        services.document_request_refuse(
            actor=actor,
            request=refused,
            reason="Henkilötietoja ei luovuteta suoramarkkinointiin ilman rekisteröityjen suostumusta (16 § 3 mom.).",
        )
        self.stdout.write("Demo document requests: 3")
