"""An existing database keeps every organisation name and description text when the texts become trilingual."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("registers", "0008_redact_access_log_tokens")]
AFTER = [("registers", "0009_trilingual_names_and_description_texts")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_the_single_values_become_the_finnish_ones_and_nothing_is_lost():
    old = migrate(BEFORE)
    organisation = old.get_model("registers", "Organisation").objects.create(
        name="Helsingfors stads näringslivsservice", address="PB 10", registry_email="kirjaamo@example.fi"
    )
    old.get_model("registers", "Register").objects.create(
        slug="hki",
        organisation=organisation,
        name_fi="Asiakasrekisteri",
        name_sv="Kundregister",
        name_en="Customer register",
        owner="Näringslivschef",
        purposes="Hantering av kundrelationerna.",
        data_categories="Namn",
        retention_text="Tre år.",
        dpo_contact="",
        legal_bases=["e"],
    )
    try:
        new = migrate(AFTER)
        organisation = new.get_model("registers", "Organisation").objects.get()
        assert organisation.name_fi == "Helsingfors stads näringslivsservice"
        assert (organisation.name_sv, organisation.name_en) == ("", "")
        assert organisation.public_authority is True
        assert organisation.address == "PB 10"
        register = new.get_model("registers", "Register").objects.get()
        assert register.owner_fi == "Näringslivschef"
        assert register.purposes_fi == "Hantering av kundrelationerna."
        assert (register.purposes_sv, register.purposes_en) == ("", "")
        assert register.data_categories_fi == "Namn"
        assert register.retention_text_fi == "Tre år."
    finally:
        # Leave the database at the newest state for the tests that follow.
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
