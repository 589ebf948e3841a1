"""Business IDs and batches for the import service tests, built through the real services."""

import io

import pytest
from django.utils import translation

from imports import services
from imports.models import ImportBatch

from .factories import csv_text

WEIGHTS = (7, 9, 10, 5, 8, 4, 2)


def business_id(n: int) -> str:
    """Return the n-th valid business ID (a check digit of 1 is never issued; those numbers are skipped)."""
    number = 1_000_000 + n * 3
    while True:
        digits = f"{number:07d}"
        remainder = sum(int(d) * w for d, w in zip(digits, WEIGHTS, strict=True)) % 11
        if remainder != 1:
            return f"{digits}-{0 if remainder == 0 else 11 - remainder}"
        number += 1


HEADERS = ["Nimi", "Y-tunnus", "Sähköposti", "Kaupunki"]
MAPPING = {0: "organisation_name", 1: "business_id", 2: "email", 3: "city"}


def organisation_rows(count: int, start: int = 0) -> list[list[str]]:
    return [
        [f"Yritys {n} Oy", business_id(n), f"info{n}@yritys{n}.example.fi", "Kemi"] for n in range(start, start + count)
    ]


def previewed_batch(
    *, actor, register, rows, headers=HEADERS, mapping=MAPPING, match_mode=ImportBatch.MatchMode.SKIP, kind=None
) -> ImportBatch:
    """Upload the rows as a CSV file and preview them with the mapping: a batch ready to start.

    The preview task's body runs here, as the worker would once the mapping's transaction commits."""
    content = csv_text(headers, rows).encode()
    batch = services.import_batch_create(
        actor=actor,
        register=register,
        file=io.BytesIO(content),
        file_name="asiakkaat.csv",
        kind=kind or ImportBatch.Kind.CUSTOMERS,
    )
    services.import_preview_start(actor=actor, batch=batch, mapping=mapping, match_mode=match_mode)
    return services.import_preview_run(batch_id=batch.pk, token=str(batch.preview_token), language="en")


def committed_batch(**kwargs) -> ImportBatch:
    """A previewed batch, started and committed (the task runs eagerly when the transaction commits)."""
    batch = previewed_batch(**kwargs)
    services.import_transition(batch=batch, to=ImportBatch.State.QUEUED, actor=kwargs["actor"])
    return services.import_commit_run(batch_id=batch.pk)


@pytest.fixture
def english():
    """Messages in English, as the assertions are written."""
    with translation.override("en"):
        yield
