"""The tamper-evident audit trail (issue 22, registers.audit_chain): what an auditor relies on.

Each way a database administrator could alter the trail past the application (change a field, delete an entry,
reorder entries, insert one) is detected and named; what the application itself does to the trail (redaction after
erasure, a merge, a logout, the trail's own retention) is not flagged.
"""

import json
import threading

import pytest
from auditlog.models import LogEntry
from axes.models import AccessLog
from django.core import mail
from django.core.management import CommandError, call_command
from django.db import connection, connections
from django.test import RequestFactory

from registers import audit_chain
from registers.access_log import log_access
from registers.models import AuditChainHead, AuditChainLink
from tests.factories import CustomerFactory, PersonCustomerFactory, RegisterFactory, UserFactory

pytestmark = pytest.mark.django_db

STREAM = "auditlog.logentry"


@pytest.fixture
def anchors(settings, tmp_path):
    settings.AUDIT_ANCHOR_DIR = tmp_path
    return tmp_path / "anchors.jsonl"


def _access_entries(n: int, register=None) -> list[LogEntry]:
    register = register or RegisterFactory()
    user = UserFactory()
    entries = []
    for _ in range(n):
        customer = CustomerFactory(register=register)
        request = RequestFactory().get(f"/customers/{customer.code}/")
        request.user = user
        entries.append(log_access(request, customer))
    return entries


def _problems(stream: str = STREAM) -> list[str]:
    reports, anchor_problems = audit_chain.audit_verify([stream])
    return reports[0].problems + anchor_problems


def _sql(statement: str, params=()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def test_every_entry_the_application_writes_is_linked_and_the_trail_verifies():
    entries = _access_entries(3)
    links = AuditChainLink.objects.filter(stream=STREAM)
    assert {e.pk for e in entries} <= set(links.values_list("object_id", flat=True))
    seqs = list(links.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, len(seqs) + 1))
    assert _problems() == []


@pytest.mark.audit_chain_tampered
def test_a_field_changed_in_sql_is_named():
    entry = _access_entries(3)[1]
    _sql("UPDATE auditlog_logentry SET remote_addr = %s WHERE id = %s", ["10.9.9.9", entry.pk])
    problems = _problems()
    assert len(problems) == 1
    assert f"row {entry.pk} differs" in problems[0]


@pytest.mark.audit_chain_tampered
def test_an_entry_deleted_in_sql_is_named():
    entry = _access_entries(3)[1]
    _sql("DELETE FROM auditlog_logentry WHERE id = %s", [entry.pk])
    problems = _problems()
    assert len(problems) == 1
    seq = AuditChainLink.objects.get(stream=STREAM, object_id=entry.pk).seq
    assert problems[0] == f"row {entry.pk} (link {seq}) is gone, and no link records its removal"


@pytest.mark.audit_chain_tampered
def test_two_entries_reordered_in_sql_are_named():
    first, second = _access_entries(2)
    _sql(
        "UPDATE auditlog_logentry SET timestamp = CASE WHEN id = %s THEN %s ELSE %s END WHERE id IN (%s, %s)",
        [first.pk, second.timestamp, first.timestamp, first.pk, second.pk],
    )
    problems = _problems()
    assert any(f"row {first.pk} differs" in p for p in problems)
    assert any(f"row {second.pk} differs" in p for p in problems)


@pytest.mark.audit_chain_tampered
def test_links_reordered_in_sql_break_the_chain_at_the_first_of_them():
    _access_entries(3)
    a, b = AuditChainLink.objects.filter(stream=STREAM).order_by("seq")[1:3]
    # Through a free number, as the unique constraint forbids a plain swap.
    _sql("UPDATE registers_auditchainlink SET seq = -1 WHERE id = %s", [a.pk])
    _sql("UPDATE registers_auditchainlink SET seq = %s WHERE id = %s", [a.seq, b.pk])
    _sql("UPDATE registers_auditchainlink SET seq = %s WHERE id = %s", [b.seq, a.pk])
    problems = _problems()
    assert problems[0].startswith(f"link {a.seq} ")
    assert "does not follow" in problems[0]


@pytest.mark.audit_chain_tampered
def test_an_entry_inserted_in_sql_is_named():
    entry = _access_entries(2)[0]
    columns = [f.column for f in LogEntry._meta.concrete_fields if not f.primary_key]
    listed = ", ".join(connection.ops.quote_name(c) for c in columns)
    _sql(f"INSERT INTO auditlog_logentry ({listed}) SELECT {listed} FROM auditlog_logentry WHERE id = %s", [entry.pk])  # noqa: S608
    inserted = LogEntry.objects.order_by("-pk").first()
    problems = _problems()
    assert problems == [f"row {inserted.pk} is in no link: written or restored past the application"]


@pytest.mark.audit_chain_tampered
def test_a_link_deleted_in_sql_leaves_a_gap_that_is_named():
    _access_entries(3)
    link = AuditChainLink.objects.filter(stream=STREAM).order_by("seq")[1]
    _sql("DELETE FROM registers_auditchainlink WHERE id = %s", [link.pk])
    assert _problems()[0] == f"link {link.seq} is missing (the chain continues at link {link.seq + 1})"


@pytest.mark.audit_chain_tampered
def test_a_chain_rewritten_whole_with_the_key_is_caught_by_the_anchor(anchors):
    entry = _access_entries(3)[1]
    audit_chain.anchor_write()
    # Someone with the database and the key edits an entry and recomputes every link after it.
    _sql("UPDATE auditlog_logentry SET remote_addr = %s WHERE id = %s", ["10.9.9.9", entry.pk])
    AuditChainLink.objects.filter(stream=STREAM).delete()
    AuditChainHead.objects.filter(stream=STREAM).update(seq=0, hash="")
    audit_chain.links_append(LogEntry, LogEntry.objects.values_list("pk", flat=True), "write")
    problems = _problems()
    assert len(problems) == 1
    assert "differs from the anchor of" in problems[0]
    assert problems[0].endswith("the chain was rewritten")


@pytest.mark.audit_chain_tampered
def test_an_anchor_line_removed_from_the_file_is_named(anchors):
    _access_entries(1)
    audit_chain.anchor_write()
    _access_entries(1)
    audit_chain.anchor_write()
    audit_chain.anchor_write()
    lines = anchors.read_text().splitlines()
    streams = len(audit_chain.chained_models())
    anchors.write_text("\n".join(lines[:streams] + lines[2 * streams :]) + "\n")
    _reports, anchor_problems = audit_chain.audit_verify()
    assert anchor_problems == [
        f"anchor line {streams + 1} does not follow the line before it (lines removed or edited)"
    ]


def test_anchors_hold_each_chains_head_and_are_chained_line_to_line(anchors):
    _access_entries(2)
    written = audit_chain.anchor_write()
    head = AuditChainHead.objects.get(stream=STREAM)
    mine = next(a for a in written if a["stream"] == STREAM)
    assert (mine["seq"], mine["hash"]) == (head.seq, head.hash)
    lines = [json.loads(line) for line in anchors.read_text().splitlines()]
    assert lines[0]["prev"] == ""
    assert all(line["prev"] for line in lines[1:])
    assert audit_chain.audit_verify()[1] == []


def test_redaction_after_an_erasure_keeps_the_trail_verifiable():
    from privacy.retention.redaction import delete_with_redacted_trail

    register = RegisterFactory()
    customer = PersonCustomerFactory(register=register, first_name="Aino", last_name="Auditoitava")
    customer.last_name = "Auditoitu"
    customer.save()
    _access_entries(1, register)
    delete_with_redacted_trail(
        type(customer).objects.filter(pk=customer.pk), actor_id=None, object_repr="[erased]", additional={}
    )
    assert not LogEntry.objects.filter(object_repr__icontains="Aino").exists()
    assert _problems() == []
    assert AuditChainLink.objects.filter(stream=STREAM, reason="change").exists()


def test_the_trails_own_retention_removes_entries_with_a_removal_link_each():
    entries = _access_entries(3)
    removed = audit_chain.chained_delete(LogEntry.objects.filter(pk__in=[entries[0].pk, entries[1].pk]))
    assert removed == 2
    assert AuditChainLink.objects.filter(stream=STREAM, reason="delete").count() == 2
    assert _problems() == []


def test_a_deleted_user_leaves_their_entries_verifiable():
    user = UserFactory()
    request = RequestFactory().get("/")
    request.user = user
    log_access(request, CustomerFactory())
    user.delete()
    assert LogEntry.objects.filter(actor__isnull=True).exists()
    assert _problems() == []


def test_sign_in_and_sign_out_are_linked(client, django_user_model):
    from tests.factories import DEFAULT_PASSWORD

    user = UserFactory()
    client.post("/accounts/login/", {"username": user.username, "password": DEFAULT_PASSWORD})
    assert AccessLog.objects.filter(username=user.username).exists()
    client.post("/accounts/logout/")
    client.post("/accounts/login/", {"username": user.username, "password": "wrong"})
    assert _problems("axes.accesslog") == []
    assert _problems("axes.accessfailurelog") == []


def test_audit_verify_command_passes_and_exits_nonzero_naming_a_break(anchors, capsys):
    entry = _access_entries(2)[0]
    call_command("audit_verify", "--anchor")
    assert "The audit trail verifies." in capsys.readouterr().out
    _sql("UPDATE auditlog_logentry SET object_repr = %s WHERE id = %s", ["someone else", entry.pk])
    with pytest.raises(CommandError):
        call_command("audit_verify")
    out = capsys.readouterr().out
    assert f"{STREAM}: BROKEN" in out
    assert f"row {entry.pk} differs" in out
    # Mended again, so that the after-test check of this test passes.
    _sql("UPDATE auditlog_logentry SET object_repr = %s WHERE id = %s", [entry.object_repr, entry.pk])


@pytest.mark.audit_chain_tampered
def test_the_nightly_check_anchors_and_tells_the_main_users_of_a_break(anchors, main_user):
    entry = _access_entries(2)[0]
    assert audit_chain.audit_chain_nightly()["broken"] == 0
    assert mail.outbox == []
    assert anchors.exists()
    _sql("DELETE FROM auditlog_logentry WHERE id = %s", [entry.pk])
    assert audit_chain.audit_chain_nightly()["broken"] == 1
    assert [m.to for m in mail.outbox] == [[main_user.email]]
    assert f"row {entry.pk}" in mail.outbox[0].body


def test_a_write_rolled_back_rolls_back_its_link_too():
    from django.db import transaction

    _access_entries(1)
    head = AuditChainHead.objects.get(stream=STREAM).seq

    def write_then_fail():
        with transaction.atomic():
            _access_entries(1)
            raise RuntimeError

    with pytest.raises(RuntimeError):
        write_then_fail()
    assert AuditChainHead.objects.get(stream=STREAM).seq == head
    assert _problems() == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_writers_at_once_cannot_fork_the_chain():
    register = RegisterFactory()
    customers = [CustomerFactory(register=register) for _ in range(2)]
    user = UserFactory()
    errors = []
    start = threading.Barrier(2)

    def write(customer):
        try:
            start.wait()
            for _ in range(40):
                request = RequestFactory().get("/")
                request.user = user
                log_access(request, customer)
        except Exception as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(c,)) for c in customers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    seqs = list(AuditChainLink.objects.filter(stream=STREAM).order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, len(seqs) + 1))
    assert LogEntry.objects.filter(action=LogEntry.Action.ACCESS).count() == 80
    assert _problems() == []


def test_login_rows_written_by_the_application_are_linked():
    AccessLog.objects.create(username="someone", ip_address="10.0.0.1", user_agent="x")
    assert _problems("axes.accesslog") == []


@pytest.mark.audit_chain_tampered
def test_the_after_test_check_names_rows_written_past_the_chain_and_nothing_else():
    """The suite's own check (tests/conftest.py) sees only what was written since its marks, and all of that."""
    _access_entries(1)
    marks = audit_chain.verify_marks()
    assert audit_chain.verify_since(marks) == []
    [entry] = _access_entries(1)
    audit_chain.chained_bulk_create(
        LogEntry, [LogEntry(action=0, object_repr="linked", content_type=entry.content_type)]
    )
    assert audit_chain.verify_since(marks) == []
    LogEntry.objects.bulk_create([LogEntry(action=0, object_repr="past the chain", content_type=entry.content_type)])
    [problem] = audit_chain.verify_since(marks)
    assert problem.startswith(STREAM)
