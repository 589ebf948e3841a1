"""Every table that points at a customer or a contact person follows a merge and comes back with its undo.

The relations are read from the models (hidden ones included), so a table added later fails here until it
has a builder below: whoever adds it decides whether it moves with the merge (the default) or stays with
the merged record (`services.KEPT_IN_PLACE`), and this test then proves it.
"""

import datetime
import uuid

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone, translation

from campaigns.models import Campaign, CampaignRecipient
from crm.models import CompanyChange, ContactPerson, ContactPersonTag, Customer, CustomerAlias, CustomerTag, Tag
from duplicates import services
from duplicates.merging import references_to
from duplicates.models import DuplicateCandidate
from followups.models import FollowUp
from imports.models import ImportedRecord
from imports.services import import_batch_create
from privacy.requests.models import SubjectMatch
from privacy.retention.models import LegalHold
from privacy.rights.models import ConsentRecord, Disclosure, ObjectionRecord
from selfservice.models import IdentityLink, SubjectIdentity
from tests.factories import ContactPersonFactory, CustomerFactory, InteractionFactory, InvoiceFactory
from tests.privacy.retention_helpers import open_request_for

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english(settings, tmp_path):
    settings.LANGUAGE_CODE = "en"
    settings.MEDIA_ROOT = tmp_path
    with translation.override("en"):
        yield


class World:
    def __init__(self, register, owner, handler):
        self.register, self.owner, self.handler = register, owner, handler
        self._batch = None

    def batch(self):
        if self._batch is None:
            upload = SimpleUploadedFile("a.csv", b"Nimi\nOy A\n", content_type="text/csv")
            self._batch = import_batch_create(actor=self.owner, register=self.register, file=upload, file_name="a.csv")
        return self._batch

    def request_matching(self, record):
        if isinstance(record, Customer):
            request = open_request_for(owner=self.owner, handler=self.handler, register=self.register, customer=record)
            return SubjectMatch.objects.get(request=request, customer=record)
        request = open_request_for(owner=self.owner, handler=self.handler, register=self.register)
        return SubjectMatch.objects.create(
            request=request,
            register=self.register,
            contact_person=record,
            confirmed_by=self.handler,
            confirmed_at=_now(),
        )

    def tag(self):
        return Tag.objects.create(register=self.register, name=f"Tagi {uuid.uuid4().hex[:8]}")

    def campaign(self):
        return Campaign.objects.create(register=self.register, name="Uutiskirje", created_by=self.owner)

    def other(self, record):
        """A third record that can pair with `record` (for candidates and earlier merges)."""
        if isinstance(record, Customer):
            return CustomerFactory(register=self.register, organisation_name="Kolmas Oy")
        return ContactPersonFactory(customer=record.customer)

    def candidate(self, record, *, person: bool, second: bool = False):
        # As the second of a pair, `record` pairs with the survivor, created before it.
        pair = [self.survivor, record] if second else sorted([record, self.other(record)], key=lambda row: row.pk)
        if person:
            return DuplicateCandidate.objects.create(
                register=self.register, kind="contact_person", first_person=pair[0], second_person=pair[1], score=1
            )
        return DuplicateCandidate.objects.create(register=self.register, first=pair[0], second=pair[1], score=1)

    def earlier_merge(self, record):
        if isinstance(record, Customer):
            return services.customer_merge(actor=self.handler, survivor=record, merged=[self.other(record)])
        return services.contact_person_merge(actor=self.handler, survivor=record, merged=[self.other(record)])


def _now():
    return timezone.now()


BUILDERS = {
    ("crm.CustomerAlias", "customer"): lambda w, c: CustomerAlias.objects.create(code=uuid.uuid4(), customer=c),
    ("crm.CompanyChange", "customer"): lambda w, c: CompanyChange.objects.create(
        customer=c, field="city", new_value="Vantaa"
    ),
    ("crm.ContactPerson", "customer"): lambda w, c: ContactPersonFactory(customer=c),
    ("crm.Interaction", "customer"): lambda w, c: InteractionFactory(customer=c),
    ("crm.Invoice", "customer"): lambda w, c: InvoiceFactory(customer=c),
    ("privacy.SubjectMatch", "customer"): lambda w, c: w.request_matching(c),
    ("privacy.LegalHold", "customer"): lambda w, c: LegalHold.objects.create(
        register=w.register,
        customer=c,
        reason="riita",
        ends_on=timezone.localdate() + datetime.timedelta(days=30),
        placed_by=w.owner,
    ),
    ("privacy.Disclosure", "customer"): lambda w, c: Disclosure.objects.create(
        register=w.register,
        customer=c,
        recipient="Perintä",
        recipient_kind=Disclosure.RecipientKind.LEGAL_SERVICES,
        data_description="nimi",
        legal_basis="sopimus",
        actor=w.owner,
    ),
    ("privacy.ConsentRecord", "customer"): lambda w, c: ConsentRecord.objects.create(
        customer=c,
        register=w.register,
        purpose=ConsentRecord.Purpose.RESEARCH,
        given_at=_now(),
        given_channel=ConsentRecord.Channel.WEB,
    ),
    ("privacy.ObjectionRecord", "customer"): lambda w, c: ObjectionRecord.objects.create(
        customer=c,
        register=w.register,
        purpose=ObjectionRecord.Purpose.PROCESSING,
        given_at=_now(),
        channel=ConsentRecord.Channel.EMAIL,
    ),
    ("duplicates.DuplicateCandidate", "first"): lambda w, c: w.candidate(c, person=False),
    ("duplicates.DuplicateCandidate", "second"): lambda w, c: w.candidate(c, person=False, second=True),
    ("duplicates.CustomerMerge", "customer"): lambda w, c: w.earlier_merge(c),
    ("imports.ImportedRecord", "customer"): lambda w, c: ImportedRecord.objects.create(
        batch=w.batch(), customer=c, action="created", row_number=1, version=1
    ),
    # Issue 18: tags, follow-ups and campaign messages follow the person they are about.
    ("crm.CustomerTag", "customer"): lambda w, c: CustomerTag.objects.create(tag=w.tag(), customer=c),
    ("followups.FollowUp", "customer"): lambda w, c: FollowUp.objects.create(
        customer=c, assignee=w.handler, due_on=timezone.localdate()
    ),
    ("campaigns.CampaignRecipient", "customer"): lambda w, c: CampaignRecipient.objects.create(
        campaign=w.campaign(), customer=c, email="vastaanottaja@example.org", language="fi"
    ),
    # Issue 20: a record linked to an identified person stays theirs after the merge.
    ("selfservice.IdentityLink", "customer"): lambda w, c: IdentityLink.objects.create(
        identity=SubjectIdentity.objects.create(
            issuer="https://tunnistus.example",
            subject=f"merge-{uuid.uuid4()}",
            profile_id=uuid.uuid4(),
            assurance="substantial",
            last_signed_in_at=_now(),
        ),
        customer=c,
        register=w.register,
        state=IdentityLink.State.LINKED,
    ),
    # Contact persons.
    ("crm.ContactPersonTag", "contact_person"): lambda w, p: ContactPersonTag.objects.create(
        tag=w.tag(), contact_person=p
    ),
    ("followups.FollowUp", "contact_person"): lambda w, p: FollowUp.objects.create(
        customer=p.customer, contact_person=p, assignee=w.handler, due_on=timezone.localdate()
    ),
    ("privacy.ObjectionRecord", "contact_person"): lambda w, p: ObjectionRecord.objects.create(
        customer=p.customer,
        contact_person=p,
        register=w.register,
        purpose=ObjectionRecord.Purpose.DIRECT_MARKETING,
        given_at=_now(),
        channel=ConsentRecord.Channel.UNSUBSCRIBE,
    ),
    ("campaigns.CampaignRecipient", "contact_person"): lambda w, p: CampaignRecipient.objects.create(
        campaign=w.campaign(), customer=p.customer, contact_person=p, email="yhteys@example.org", language="fi"
    ),
    ("crm.Interaction", "contact_person"): lambda w, p: InteractionFactory(customer=p.customer, contact_person=p),
    ("privacy.SubjectMatch", "contact_person"): lambda w, p: w.request_matching(p),
    ("duplicates.DuplicateCandidate", "first_person"): lambda w, p: w.candidate(p, person=True),
    ("duplicates.DuplicateCandidate", "second_person"): lambda w, p: w.candidate(p, person=True, second=True),
    ("duplicates.CustomerMerge", "survivor_person"): lambda w, p: w.earlier_merge(p),
    ("imports.ImportedRecord", "contact_person"): lambda w, p: ImportedRecord.objects.create(
        batch=w.batch(), contact_person=p, action="created", row_number=1, version=1
    ),
}


def _references(model):
    """Every foreign key of every installed model that points at `model`, read from the fields themselves."""
    return [
        (other._meta.label, field.name)
        for other in apps.get_models()
        for field in other._meta.concrete_fields
        if field.is_relation and field.remote_field.model is model
    ]


@pytest.mark.parametrize("model", [Customer, ContactPerson], ids=["customer", "contact_person"])
def test_the_merge_sees_every_reference(model):
    seen = {(relation.related_model._meta.label, relation.field.name) for relation in references_to(model)}
    assert seen == set(_references(model))


@pytest.mark.parametrize("model", [Customer, ContactPerson], ids=["customer", "contact_person"])
def test_every_reference_has_a_builder(model):
    missing = [reference for reference in _references(model) if reference not in BUILDERS]
    assert not missing, f"Decide how a merge treats {missing} and add a builder here."


def _cases():
    for model in (Customer, ContactPerson):
        for reference in _references(model):
            yield pytest.param(model, reference, id=f"{model.__name__}:{reference[0]}.{reference[1]}")


@pytest.mark.parametrize(("model", "reference"), list(_cases()))
def test_each_reference_follows_the_merge_and_returns_with_the_undo(register_a, owner_a, handler_a, model, reference):
    world = World(register_a, owner_a, handler_a)
    if model is Customer:
        survivor, merged = (CustomerFactory(register=register_a, organisation_name=f"Twin {n}") for n in (1, 2))
    else:
        organisation = CustomerFactory(register=register_a)
        survivor, merged = (ContactPersonFactory(customer=organisation) for _ in range(2))
    world.survivor = survivor
    row = BUILDERS[reference](world, merged)
    label, field_name = reference
    row_model, row_pk = type(row), row.pk
    attname = row_model._meta.get_field(field_name).attname

    def points_at():
        found = row_model._base_manager.filter(pk=row_pk).values_list(attname, flat=True).first()
        return "gone" if found is None and not row_model._base_manager.filter(pk=row_pk).exists() else found

    merge_service = services.customer_merge if model is Customer else services.contact_person_merge
    merge = merge_service(actor=handler_a, survivor=survivor, merged=[merged], acknowledged=True)
    kept_in_place = (label, field_name) in services.KEPT_IN_PLACE
    assert points_at() == ("gone" if kept_in_place else survivor.pk)

    services.merge_undo(actor=handler_a, merge=merge, reason="virhe")
    assert points_at() == merged.pk
