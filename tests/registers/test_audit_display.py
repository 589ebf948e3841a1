"""The audit screens read by a register owner: labels, names and local times, never a data subject's secret link."""

import csv
import datetime
import importlib
import io
import json
import re
import uuid
from html import unescape

import pytest
from auditlog.context import set_actor
from auditlog.models import LogEntry
from django.apps import apps
from django.core import signing
from django.test import RequestFactory
from django.urls import reverse
from django.utils import translation

from crm.models import Customer
from registers import audit
from registers.access_log import REDACTION_MARK, log_access
from registers.audit_chain import chained_update

from ..factories import ContactPersonFactory, CustomerFactory, InteractionFactory

pytestmark = pytest.mark.django_db

UTC = datetime.UTC


def edit(obj, actor, **changes):
    with set_actor(actor):
        for name, value in changes.items():
            setattr(obj, name, value)
        obj.save()


def visible(html: str) -> str:
    """Return the text a reader sees without opening the raw entries."""
    html = re.sub(r"<details.*?</details>", " ", html, flags=re.S)
    html = re.sub(r"<(script|style).*?</\1>", " ", html, flags=re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def page(client, register, tab, language="fi", **params):
    response = client.get(f"/registers/{register.slug}/audit/{tab}/", params, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    return response.content.decode()


def csv_rows(client, register, tab, **params):
    response = client.get(f"/registers/{register.slug}/audit/{tab}/", {**params, "format": "csv"})
    return list(csv.reader(io.StringIO(response.content.decode())))


def rows_of_others(rows):
    """The header and the rows the audit screens did not write: reading the trail is itself logged."""
    return [row for row in rows if "view=audit_" not in row[8]]


def request_as(user, path="/crm/x/"):
    request = RequestFactory().get(path, REMOTE_ADDR="192.0.2.7")
    request.user = user
    return request


def download_token() -> str:
    # The shape of the link sent with an access request's answer (privacy.requests.tokens).
    return signing.Signer(salt="privacy.package.download").sign(str(uuid.uuid4()))


# The change tab ---------------------------------------------------------------------------------


def test_a_changed_field_shows_its_label_in_the_readers_language(client, owner_a, staff_a, register_a):
    customer = CustomerFactory(register=register_a, city="Kemi")
    edit(customer, staff_a, city="Oulu")
    client.force_login(owner_a)
    text = visible(page(client, register_a, "changes", "fi"))
    assert "Postitoimipaikka: Kemi → Oulu" in text
    assert "city" not in text


def test_a_foreign_key_shows_the_related_name_or_that_it_was_deleted(client, owner_a, staff_a, register_a):
    customer = CustomerFactory(register=register_a)
    gone = ContactPersonFactory(customer=customer, first_name="Aatu", last_name="Alfa")
    kept = ContactPersonFactory(customer=customer, first_name="Bertta", last_name="Beta")
    interaction = InteractionFactory(customer=customer, contact_person=gone)
    edit(interaction, staff_a, contact_person=kept)
    gone.delete()
    client.force_login(owner_a)
    text = visible(page(client, register_a, "changes", "en"))
    assert "Contact person: deleted → Bertta Beta" in text
    assert f"→ {kept.pk} " not in text


def test_empty_values_choices_booleans_and_times_read_as_words(client, owner_a, staff_a, register_a):
    customer = CustomerFactory(register=register_a, source=Customer.Source.STAFF)
    edit(
        customer,
        staff_a,
        source=Customer.Source.DATA_SUBJECT,
        marketing_objection=True,
        marketing_objection_at=datetime.datetime(2025, 3, 4, 10, 5, 33, 123456, tzinfo=UTC),
    )
    client.force_login(owner_a)
    english = visible(page(client, register_a, "changes", "en"))
    assert "Source of the data: entered by staff → the data subject" in english
    assert "Objects to direct marketing: no → yes" in english
    assert "None" not in english
    # Helsinki is two hours ahead of UTC in March; the minute is enough.
    finnish = visible(page(client, register_a, "changes", "fi"))
    assert "\N{EN DASH} → 4.3.2025 12.05" in finnish
    assert "10:05" not in finnish
    assert ":33" not in finnish


def test_the_entry_time_is_local_time_to_the_minute(client, owner_a, staff_a, register_a):
    customer = CustomerFactory(register=register_a, organisation_name="Aikaleima Oy")
    edit(customer, staff_a, city="Tornio")
    chained_update(
        LogEntry.objects.filter(object_pk=str(customer.pk)),
        timestamp=datetime.datetime(2025, 7, 1, 21, 59, 48, 654321, tzinfo=UTC),
    )
    client.force_login(owner_a)
    text = visible(page(client, register_a, "changes", "fi"))
    # 21.59 UTC is 0.59 the next day in Helsinki summer time.
    assert "2.7.2025 0.59" in text
    assert "21.59" not in text
    assert "0.59.48" not in text


def test_the_raw_entry_is_one_click_away_and_the_csv_keeps_machine_values(client, owner_a, staff_a, register_a):
    customer = CustomerFactory(register=register_a, city="Kemi")
    edit(customer, staff_a, city="Oulu", source=Customer.Source.DATA_SUBJECT)
    client.force_login(owner_a)
    html = page(client, register_a, "changes", "en", action=1)
    raw = re.search(r"<details[^>]*>\s*<summary>Raw entry</summary>(.*?)</details>", html, flags=re.S)
    assert raw is not None
    assert "&quot;city&quot;" in raw.group(1)
    rows = csv_rows(client, register_a, "changes", action=1)
    assert rows[1][2] == "update"
    assert rows[1][3] == "crm.customer"
    assert "city: Kemi -> Oulu" in rows[1][6]
    assert "source: staff -> data_subject" in rows[1][6]
    assert datetime.datetime.fromisoformat(rows[1][0]).tzinfo is not None


# The access tab ---------------------------------------------------------------------------------


def test_a_stored_download_token_is_never_shown_on_the_page_or_in_the_csv(client, owner_a, staff_a, register_a):
    token = download_token()
    signature = token.rsplit(":", 1)[1]
    entry = log_access(request_as(staff_a), CustomerFactory(register=register_a))
    # An entry written before log_access redacted paths still holds the link.
    path = reverse("privacy:download-file", kwargs={"token": token, "fmt": "pdf"})
    chained_update(LogEntry.objects.filter(pk=entry.pk), additional_data={**entry.additional_data, "path": path})
    client.force_login(owner_a)
    html = page(client, register_a, "access", "en")
    assert signature not in html
    assert f"/privacy/request/answer/{REDACTION_MARK}/pdf/" in unescape(html)
    exported = csv_rows(client, register_a, "access")
    assert signature not in str(exported)
    exported = rows_of_others(exported)
    assert f"path=/privacy/request/answer/{REDACTION_MARK}/pdf/" in exported[1][8]


def test_purposes_are_translated_and_the_code_stays_in_the_raw_entry(client, owner_a, staff_a, register_a):
    customer = CustomerFactory(register=register_a)
    log_access(request_as(staff_a), customer, {"purpose": "data_subject_request"})
    client.force_login(owner_a)
    html = page(client, register_a, "access", "en")
    assert "handling a data subject request" in visible(html)
    assert "data_subject_request" not in visible(html)
    assert "data_subject_request" in html
    exported = rows_of_others(csv_rows(client, register_a, "access"))
    assert exported[1][2] == "access"
    assert "purpose=data_subject_request" in exported[1][8]


def test_the_access_log_names_what_was_viewed(client, owner_a, staff_a, register_a):
    kept = CustomerFactory(register=register_a, organisation_name="Katsottu Oy")
    gone = CustomerFactory(register=register_a, organisation_name="Poistettu Oy")
    log_access(request_as(staff_a), kept)
    log_access(request_as(staff_a), gone)
    log_access(request_as(staff_a), register_a, {"export": "customers_csv", "filter": {"q": "Oy"}, "rows": 2})
    gone.delete()
    client.force_login(owner_a)
    text = visible(page(client, register_a, "access", "en"))
    assert "Customer: Katsottu Oy" in text
    assert "Customer: Poistettu Oy (deleted)" in text
    assert "Export of the customer list (CSV): 2 rows" in text
    assert "Filter: q: Oy" in text
    assert "export: customers_csv" not in text


def test_a_main_user_outside_the_register_sees_no_personal_data_even_raw(client, main_user, staff_a, register_a):
    customer = CustomerFactory(register=register_a, organisation_name="Salattu Oy")
    log_access(request_as(staff_a), customer)
    log_access(request_as(staff_a), register_a, {"export": "customers_csv", "filter": {"q": "Virtanen"}, "rows": 1})
    client.force_login(main_user)
    html = page(client, register_a, "access", "en")
    assert "Salattu Oy" not in html
    assert "Virtanen" not in html
    assert "Export of the customer list (CSV): 1 row" in visible(html)


# Redaction when the entry is written, and of entries already stored --------------------------------


# A data migration from before the audit chain rewrites entries in place, as migrations did then.
@pytest.mark.audit_chain_tampered
def test_the_migration_redacts_tokens_already_stored(staff_a, register_a):
    token = download_token()
    customer = CustomerFactory(register=register_a)
    entry = log_access(request_as(staff_a), customer)
    plain = log_access(request_as(staff_a, "/crm/register-a/customers/"), customer)
    stored = f"/privacy/request/answer/{token}/html/"
    chained_update(LogEntry.objects.filter(pk=entry.pk), additional_data={**entry.additional_data, "path": stored})
    migration = importlib.import_module("registers.migrations.0008_redact_access_log_tokens")
    migration.redact_access_log_tokens(apps, None)
    entry.refresh_from_db()
    plain.refresh_from_db()
    assert entry.additional_data["path"] == f"/privacy/request/answer/{REDACTION_MARK}/html/"
    assert entry.additional_data["register"] == register_a.pk
    assert plain.additional_data["path"] == "/crm/register-a/customers/"


@pytest.mark.parametrize(
    ("model", "field", "stored", "choices"),
    [
        ("registers.AccessReviewItem", "roles", [{"role": "owner"}, {"role": "staff"}], ("owner", "staff")),
        ("registers.Register", "legal_bases", ["e", "c"], ("e", "c")),
    ],
)
def test_a_list_kept_as_json_reads_as_the_labels_of_its_codes(model, field, stored, choices):
    model_field = apps.get_model(model)._meta.get_field(field)
    labels, _key = model_field.model.AUDIT_JSON_CHOICES[field]
    with translation.override("fi"):
        shown = audit._ValueFormatter().display(model_field, json.dumps(stored))
        assert shown == ", ".join(str(labels(code).label) for code in choices)
    assert not set("[{") & set(shown)
