"""Erasures survive a restore (issue 22): the ledger outside the database, without personal data, replayed.

A backup taken before an erasure brings the person back when restored; the ledger erases them again, with an audit
entry of the replay, and `restore --check` reports the same as a dry run.
"""

import json
import os
import subprocess
import sys

import pytest
from auditlog.models import LogEntry
from django.conf import settings

from crm.models import Customer, Interaction
from privacy.models import ErasureLedgerEntry
from privacy.rights.erasure import customers_erase
from privacy.rights.erasure_ledger import erasure_ledger_replay, identifier_digests, ledger_read

from ...factories import InteractionFactory, PersonCustomerFactory

pytestmark = pytest.mark.django_db

NAME = ("Eemeli", "Poistettava")
EMAIL = "eemeli.poistettava@example.fi"
PHONE = "+358401234567"


@pytest.fixture
def ledger_dir(settings, tmp_path):
    settings.ERASURE_LEDGER_DIR = tmp_path / "ledger"
    return settings.ERASURE_LEDGER_DIR


def _person(register=None, **kwargs):
    extra = {"register": register} if register else {}
    return PersonCustomerFactory(first_name=NAME[0], last_name=NAME[1], email=EMAIL, mobile=PHONE, **extra, **kwargs)


def _erase(customer, django_capture_on_commit_callbacks, reference="DSR-2026-77"):
    with django_capture_on_commit_callbacks(execute=True):
        customers_erase(customers=Customer.objects.filter(pk=customer.pk), marker={"erasure_request": reference})


def _restore_as_before(customer, interaction=None):
    """What restoring a backup taken before the erasure does: the rows are back, the ledger table is older."""
    customer.save(force_insert=True)
    if interaction is not None:
        interaction.save(force_insert=True)
    ErasureLedgerEntry.objects.all().delete()


def test_an_erasure_writes_its_ledger_in_the_database_and_the_file_without_personal_data(
    ledger_dir, django_capture_on_commit_callbacks
):
    customer = _person()
    _erase(customer, django_capture_on_commit_callbacks)

    entry = ErasureLedgerEntry.objects.get()
    assert (entry.object_code, entry.action, entry.erasure) == (customer.code, "delete", "DSR-2026-77")
    assert entry.register_code == customer.register.code
    assert entry.identifiers == identifier_digests(customer)
    assert len(entry.identifiers) == 3  # e-mail, phone, name
    [line] = ledger_read()
    assert line["code"] == str(entry.code)
    text = (ledger_dir / "erasures.jsonl").read_text() + json.dumps(
        list(ErasureLedgerEntry.objects.values()), default=str
    )
    for personal in (*NAME, EMAIL, PHONE, PHONE[-9:], "Eemeli Poistettava".casefold()):
        assert personal.lower() not in text.lower()


def test_a_rolled_back_erasure_is_not_in_the_ledger_file(ledger_dir, django_capture_on_commit_callbacks):
    from django.db import transaction

    customer = _person()

    def erase_then_fail():
        with transaction.atomic():
            customers_erase(customers=Customer.objects.filter(pk=customer.pk), marker={"erasure_request": "X"})
            raise RuntimeError

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        erase_then_fail()
    assert ledger_read() == []
    assert Customer.objects.filter(pk=customer.pk).exists()


def test_the_replay_erases_the_restored_person_again_with_an_audit_entry(
    ledger_dir, django_capture_on_commit_callbacks
):
    customer = _person()
    other = PersonCustomerFactory(register=customer.register)
    note = InteractionFactory(customer=other, text=f"Soitettu: {NAME[0]} {NAME[1]} pyysi tarjousta.")
    _erase(customer, django_capture_on_commit_callbacks)
    note.refresh_from_db()
    assert NAME[1] not in note.text
    # The backup from before: the person and the mention of them are back.
    _restore_as_before(customer)
    Interaction.objects.filter(pk=note.pk).update(text=f"Soitettu: {NAME[0]} {NAME[1]} pyysi tarjousta.")

    dry = erasure_ledger_replay(dry_run=True)
    assert (dry.replayed, dry.objects) == (["DSR-2026-77"], 2)
    assert Customer.objects.filter(pk=customer.pk).exists()

    report = erasure_ledger_replay()
    assert report.replayed == ["DSR-2026-77"]
    assert not Customer.objects.filter(pk=customer.pk).exists()
    note.refresh_from_db()
    assert NAME[1] not in note.text
    replayed = LogEntry.objects.filter(additional_data__erasure_replayed_after_restore=True)
    assert replayed.filter(action=LogEntry.Action.DELETE, object_id=customer.pk).exists()
    assert ErasureLedgerEntry.objects.filter(replayed_at__isnull=False).count() == 2
    # Done once: a second replay finds nothing to do.
    again = erasure_ledger_replay()
    assert (again.replayed, again.recorded) == ([], 0)


def test_a_copy_of_an_erased_person_under_another_code_is_reported_not_erased(
    ledger_dir, django_capture_on_commit_callbacks
):
    customer = _person()
    register = customer.register
    _erase(customer, django_capture_on_commit_callbacks)
    reimported = _person(register=register)
    report = erasure_ledger_replay()
    assert report.lookalikes == [str(reimported.code)]
    assert Customer.objects.filter(pk=reimported.pk).exists()


def _manage(*args, env: dict, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if check:
        assert result.returncode == 0, result.stderr[-2000:]
    return result


def _shell(code: str, env: dict) -> str:
    return _manage("shell", "-v", "0", "-c", code, env=env).stdout.strip()


@pytest.mark.django_db(transaction=True)
def test_back_up_erase_restore_and_the_person_is_gone_again(tmp_path):
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "REDIS_URL": "",
        "CELERY_BROKER_URL": "memory://",
        "ERASURE_LEDGER_DIR": str(tmp_path / "ledger"),
        "AUDIT_ANCHOR_DIR": str(tmp_path / "anchors"),
        "PURGE_LOCK_NAME": f"restore-test-{tmp_path.name}",
    }
    _manage("migrate", "--noinput", "-v0", env=env)
    code = _shell(
        "from tests.factories import PersonCustomerFactory as F; "
        f"print(F(first_name='{NAME[0]}', last_name='{NAME[1]}', email='{EMAIL}').code)",
        env,
    )
    _manage("backup", "--directory", str(tmp_path / "backups"), env=env)
    [backup] = sorted((tmp_path / "backups").iterdir())
    _shell(
        "from crm.models import Customer; from privacy.rights.erasure import customers_erase; "
        f"customers_erase(customers=Customer.objects.filter(code='{code}'), marker={{'erasure_request': 'DSR-1'}})",
        env,
    )
    # Tonight's anchor, written after the erasure: the restore rolls the chains back past it.
    _manage("audit_verify", "--anchor", env=env)
    exists = f"from crm.models import Customer; print(Customer.objects.filter(code='{code}').exists())"
    assert _shell(exists, env) == "False"

    check = _manage("restore", str(backup), "--check", env=env).stdout
    assert "1 erasures after the backup would be erased again (1 records)" in check
    assert _shell(exists, env) == "False"

    restored = _manage("restore", str(backup), "--noinput", env=env).stdout
    assert "1 erasures after the backup erased again (1 records)" in restored
    assert "Retention purge:" in restored
    assert _shell(exists, env) == "False"
    replay_entry = (
        "from auditlog.models import LogEntry; "
        "print(LogEntry.objects.filter(additional_data__erasure_replayed_after_restore=True).count())"
    )
    assert int(_shell(replay_entry, env)) >= 1
    ledger = (tmp_path / "ledger" / "erasures.jsonl").read_text()
    assert code in ledger
    for personal in (*NAME, EMAIL):
        assert personal not in ledger
    # The audit trail verifies after the restore: the anchors written since the backup are history now.
    verify = _manage("audit_verify", env=env, check=False)
    assert verify.returncode == 0, verify.stdout + verify.stderr
