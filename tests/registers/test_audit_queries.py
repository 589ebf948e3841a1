"""The audit screens read a fixed number of queries per page, whatever the page or the log holds.

A page of 50 entries once read the name of each row a change pointed to on its own (a customer, a register,
a user, ...): a query per row. The names are now read in one query per model for the whole page, so the
count is bounded by the kinds of rows a change can point to, not by the entries.
"""

import pytest
from axes.models import AccessLog
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from registers import audit
from registers.access_log import REDACTION_MARK, log_access
from registers.audit_context import set_actor
from registers.models import Role

from ..conftest import grant
from ..factories import (
    ContactCentreRegisterFactory,
    ContactPersonFactory,
    CustomerFactory,
    InteractionFactory,
    InvoiceFactory,
    UserFactory,
)
from .test_audit_scale import _make_rows

pytestmark = pytest.mark.django_db

# The whole page: session, user, second factor, permissions, the register (5), the entries and their
# count (2), and on the change page one query per kind of row the changes name (here users, registers,
# organisations, customers, contact persons); on the access page the rows viewed that still exist (one
# per model), whose register is one more kind of row viewed once the screen's own entries are on the page.
# Reading the trail is logged (docs/rights.md): the page's own access entry (1) and its link in the audit
# chain (CHAIN_LINK: 4, docs/audit-chain.md). Measured: 16 (changes), 15 (access), 12 (logins) at 100 entries.
MAX_QUERIES = {"changes": 12 + 5, "access": 12 + 5, "logins": 8 + 5}


def _mixed(register, owner, rounds: int) -> None:
    """Write change and access entries of several models, each pointing to rows of its own, and sign-ins."""
    request = RequestFactory().get("/crm/x/")
    request.user = owner
    with set_actor(owner):
        for n in range(rounds):
            customer = CustomerFactory(register=register)
            person = ContactPersonFactory(customer=customer)
            interaction = InteractionFactory(customer=customer, contact_person=person, staff_user=UserFactory())
            InvoiceFactory(customer=customer)
            user = UserFactory()
            grant(user, register, Role.STAFF, actor=owner)
            customer.email = f"osoite{n}@example.fi"
            customer.save()
            for row in (customer, person, interaction):
                log_access(request, row)
                AccessLog.objects.create(username=user.username, user_agent="x", ip_address="192.0.2.1")


def _page_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("screen", ["changes", "access", "logins"])
def test_the_first_page_reads_a_pinned_number_of_queries_however_many_entries(
    client, owner_a, register_a, screen, django_assert_max_num_queries
):
    client.force_login(owner_a)
    url = f"/registers/{register_a.slug}/audit/{screen}/"
    _mixed(register_a, owner_a, 2)  # about 10 change entries
    client.get(url)
    few = _page_queries(client, url)
    _mixed(register_a, owner_a, 20)  # about 100, every kind on the first page as before
    with django_assert_max_num_queries(MAX_QUERIES[screen]):
        client.get(url)
    many = _page_queries(client, url)
    # A page past the first page's size counts its list (capped): one query more, and no more than that.
    assert few <= many <= few + 1
    page = client.get(url).context["page"]
    assert page.has_next
    # A later page, continued from the last entry shown, reads no more.
    assert _page_queries(client, f"{url}?before={page.next_cursor}") <= MAX_QUERIES[screen]


def test_naming_the_rows_changes_point_to_takes_one_query_per_model():
    """Every foreign key of every audited model, named in one query per related model and nothing more."""
    register = ContactCentreRegisterFactory()
    owner = UserFactory()
    grant(owner, register, Role.OWNER)
    rows = _make_rows(register, owner)
    interaction = rows["crm.Interaction"]
    interaction.staff_user = owner
    interaction.save()
    formatter = audit._ValueFormatter()
    wanted = []
    for row in rows.values():
        for field in row._meta.concrete_fields:
            if field.is_relation and (field.many_to_one or field.one_to_one):
                value = getattr(row, field.attname)
                if value is not None:
                    formatter.want(field, str(value))
                    wanted.append((field, str(value)))
    related_models = {field.related_model for field, _value in wanted}
    assert len(related_models) >= 6
    with CaptureQueriesContext(connection) as queries:
        formatter.fetch()
    assert len(queries) == len(related_models), [query["sql"] for query in queries]
    # Only the rows a name is made of are joined (see NAMED_WITH), not every foreign key of every model.
    assert sum(" JOIN " in query["sql"] for query in queries) == len(audit.NAMED_WITH)
    with CaptureQueriesContext(connection) as queries:
        names = [formatter.display(field, value) for field, value in wanted]
    assert len(queries) == 0, [query["sql"] for query in queries]
    assert names == [str(field.related_model._base_manager.get(pk=value)) for field, value in wanted]


def test_rows_that_are_gone_or_ids_that_are_no_ids_read_as_deleted():
    customer = CustomerFactory()
    field = InteractionFactory._meta.model._meta.get_field("customer")
    formatter = audit._ValueFormatter()
    values = (str(customer.pk), "999999", "abc", "1.5", " 7x", REDACTION_MARK)
    for value in values:
        formatter.want(field, value)
    with CaptureQueriesContext(connection) as queries:
        formatter.fetch()
    assert len(queries) == 1
    with translation.override("en"), CaptureQueriesContext(connection) as queries:
        names = [formatter.display(field, value) for value in values]
    assert names == [str(customer), "deleted", "deleted", "deleted", "deleted", REDACTION_MARK]
    assert len(queries) == 0
