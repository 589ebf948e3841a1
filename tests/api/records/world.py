"""Two of everything: one set in the client's registers, one in registers it holds no scope in."""

import dataclasses
import hashlib

from django.utils import timezone

from archive.services import message_archive
from crm.models import ContactCentreMessage
from duplicates.models import DuplicateCandidate
from imports.models import ImportBatch
from registers.models import Membership, Register, Role
from registers.services import _sync_group_membership

from ...archive import mail_samples
from ...factories import (
    ContactCentreRegisterFactory,
    CustomerFactory,
    InvoiceFactory,
    OrderingClientFactory,
    RegisterFactory,
    UserFactory,
)
from ...privacy import steps

# A valid henkilötunnus (its check character matches), as a citizen would type it into an e-mail.
IDENTITY_CODE = "131052-308T"


@dataclasses.dataclass
class Side:
    customers: Register
    contact_centre: Register
    invoice: object
    message: object
    request: object
    batch: object
    candidate: object

    def register_of(self, resource: str) -> Register:
        return self.contact_centre if resource == "messages" else self.customers

    def object_of(self, resource: str):
        return {
            "invoices": self.invoice,
            "messages": self.message,
            "data-subject-requests": self.request,
            "imports": self.batch,
            "duplicates": self.candidate,
        }[resource]


def archived(contact_centre: Register, body: str, **kwargs):
    client = OrderingClientFactory(register=contact_centre)
    raw = mail_samples.plain(body=body, **kwargs)
    return message_archive(
        raw=raw, ordering_client=client, direction=ContactCentreMessage.Direction.INCOMING, intake="upload"
    ).message


def side(name: str) -> Side:
    customers = RegisterFactory()
    contact_centre = ContactCentreRegisterFactory(organisation=customers.organisation)
    pair = [CustomerFactory(register=customers), CustomerFactory(register=customers)]
    first, second = sorted(pair, key=lambda customer: customer.pk)
    batch = ImportBatch.objects.create(
        register=customers,
        created_by=UserFactory(),
        file_name=f"{name}.csv",
        checksum=hashlib.sha256(name.encode()).hexdigest(),
        match_mode=ImportBatch.MatchMode.SKIP,
        state=ImportBatch.State.DONE,
    )
    candidate = DuplicateCandidate.objects.create(
        register=customers, first=first, second=second, score=0.9, reasons=[{"code": "same_email"}]
    )
    return Side(
        customers=customers,
        contact_centre=contact_centre,
        invoice=InvoiceFactory(customer=first),
        message=archived(contact_centre, f"Henkilötunnukseni on {IDENTITY_CODE}, tarkistakaa ({name})."),
        request=steps.submit(customers, name=f"Anna {name.capitalize()}"),
        batch=batch,
        candidate=candidate,
    )


def give_human_role(client, register: Register, role: str = Role.HANDLER) -> None:
    """Give the machine user a person's role, which membership_grant refuses to do (a test of that is below).

    Only to show that the endpoints closed to clients are closed by the rights alone, and what they would answer
    where the rights existed: the row is written past the service, and its permissions synced as the service does.
    """
    membership = Membership.objects.create(user=client.user, register=register, role=role)
    _sync_group_membership(membership=membership, today=timezone.localdate())
