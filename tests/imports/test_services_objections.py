"""An objection to direct marketing brought in by an import (issue 22): recorded with its evidence (channel import,
the importer, the batch and row) like every other objection, and withdrawn on its record when the undo lifts it."""

import pytest

from crm.models import Customer
from imports import services
from imports.models import ImportBatch
from privacy.rights.models import ConsentRecord, ObjectionRecord

from ..factories import CustomerFactory
from .helpers import business_id, committed_batch, english

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures(english.__name__)]

HEADERS = ["Nimi", "Y-tunnus", "Suoramarkkinointikielto"]
MAPPING = {0: "organisation_name", 1: "business_id", 2: "marketing_objection"}


def test_an_imported_objection_is_recorded_with_its_batch_row_and_importer(handler_a, register_a):
    existing = CustomerFactory(register=register_a, business_id=business_id(2), marketing_objection=False)
    rows = [
        ["Uusi Oy", business_id(1), "kyllä"],
        ["Vanha Oy", business_id(2), "kyllä"],
        ["Muu Oy", business_id(3), "ei"],
    ]

    batch = committed_batch(
        actor=handler_a,
        register=register_a,
        rows=rows,
        headers=HEADERS,
        mapping=MAPPING,
        match_mode=ImportBatch.MatchMode.OVERWRITE,
    )

    created = Customer.objects.get(business_id=business_id(1))
    records = {r.customer_id: r for r in ObjectionRecord.objects.all()}
    assert set(records) == {created.pk, existing.pk}
    for customer, row in ((created, 2), (existing, 3)):
        record = records[customer.pk]
        assert (record.channel, record.recorded_by, record.register) == (
            ConsentRecord.Channel.IMPORT,
            handler_a,
            register_a,
        )
        assert record.evidence == {"import_batch": str(batch.code), "row": row}
        assert record.purpose == ObjectionRecord.Purpose.DIRECT_MARKETING
        assert record.notice is None

    services.import_undo(actor=handler_a, batch=batch)

    # The created customer is gone with its record; the updated one's objection is lifted and its record says so.
    existing.refresh_from_db()
    assert not existing.marketing_objection
    [lifted] = ObjectionRecord.objects.all()
    assert (lifted.customer, lifted.withdrawn_channel, lifted.withdrawn_by) == (
        existing,
        ConsentRecord.Channel.IMPORT,
        handler_a,
    )
    assert lifted.withdrawn_at >= lifted.given_at
