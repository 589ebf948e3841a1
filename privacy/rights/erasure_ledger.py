"""Erasures that survive a restore: a ledger of what each erasure removed, kept outside the database, replayed after
a backup is restored.

A backup taken before an erasure brings the person back when it is restored. So every object an erasure deletes,
minimises or redacts a mention in is written to the ledger in the erasure's transaction (`ErasureLedgerEntry`)
and, once committed, appended to a file in ERASURE_LEDGER_DIR, on other storage than the database and its
backups. After `manage.py restore` the file is read: every entry the restored database does not have is carried
out again (the same routines as the erasure, the audit entries saying it is a replay) and then recorded, so a
second replay does nothing. The ledger holds no personal data: codes of the register and the object, what was
done, the erasure's reference, and keyed hashes of the person's identifiers, by which a copy of the person that
came back under another code (a re-import) is reported to the operator instead of being missed.
"""

import contextvars
import dataclasses
import hashlib
import hmac
import json
import os
import re
import uuid
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from crm.models import ContactPerson, Customer
from registers.models import Register

from .ledger_models import ErasureLedgerEntry

Action = ErasureLedgerEntry.Action


def _key() -> bytes:
    key = getattr(settings, "ERASURE_LEDGER_KEY", "") or ""
    return (key or "rekisteri-erasure-ledger:" + settings.SECRET_KEY).encode()


def _digest(kind: str, value: str) -> str:
    return hmac.new(_key(), f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


def identifier_digests(row) -> list[str]:
    """Return keyed hashes of what identifies the person of a customer or contact person row."""
    values: list[tuple[str, str]] = []
    email = (getattr(row, "email", "") or "").strip().lower()
    if email:
        values.append(("email", email))
    for name in ("landline", "mobile", "fax", "phone"):
        digits = re.sub(r"\D", "", str(getattr(row, name, "") or ""))
        if len(digits) >= 6:
            values.append(("phone", digits[-9:]))
    first, last = (getattr(row, "first_name", "") or "").strip(), (getattr(row, "last_name", "") or "").strip()
    if first and last:
        values.append(("name", f"{first} {last}".casefold()))
    return sorted({_digest(kind, value) for kind, value in values})


def _ledger_file() -> Path:
    return Path(settings.ERASURE_LEDGER_DIR) / "erasures.jsonl"


def _as_line(entry: ErasureLedgerEntry) -> dict:
    return {
        "code": str(entry.code),
        "recorded_at": entry.recorded_at.isoformat(),
        "erasure": entry.erasure,
        "register_code": str(entry.register_code),
        "object_type": entry.object_type,
        "object_code": str(entry.object_code),
        "action": entry.action,
        "fields": list(entry.fields),
        "identifiers": list(entry.identifiers),
    }


def _append(lines: list[dict]) -> None:
    if not lines:
        return
    path = _ledger_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as file:
        file.write("".join(json.dumps(line, sort_keys=True) + "\n" for line in lines))
        file.flush()
        os.fsync(file.fileno())


def ledger_read() -> list[dict]:
    """Return the entries of the ledger file, oldest first."""
    path = _ledger_file()
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


_replaying: contextvars.ContextVar[bool] = contextvars.ContextVar("erasure_ledger_replaying", default=False)


def ledger_record(*, row, object_type: str, action: str, erasure: str, register_id: int, fields=()) -> None:
    """Write the ledger entry of one object an erasure is about to remove (call before it goes).

    A replay writes none: its entries come from the file and are recorded as they were.
    """
    if _replaying.get():
        return
    entry = ErasureLedgerEntry.objects.create(
        erasure=str(erasure)[:100],
        register_code=Register.objects.values_list("code", flat=True).get(pk=register_id),
        object_type=object_type,
        object_code=row.code,
        action=action,
        fields=list(fields),
        identifiers=identifier_digests(row) if isinstance(row, Customer | ContactPerson) else [],
    )
    # The file gets only what committed: a rolled-back erasure must never be replayed.
    transaction.on_commit(lambda: _append([_as_line(entry)]))


def ledger_file_sync() -> int:
    """Append to the file the entries it lacks (a crash between the commit and the write); return how many."""
    in_file = {line["code"] for line in ledger_read()}
    missing = [e for e in ErasureLedgerEntry.objects.order_by("recorded_at", "pk") if str(e.code) not in in_file]
    _append([_as_line(e) for e in missing])
    return len(missing)


@dataclasses.dataclass
class ReplayReport:
    replayed: list[str] = dataclasses.field(default_factory=list)  # erasures carried out again
    objects: int = 0  # objects deleted, minimised or redacted again
    already_gone: int = 0  # entries whose object the restored database did not have
    recorded: int = 0  # entries written back into the database's ledger
    lookalikes: list[str] = dataclasses.field(default_factory=list)  # codes of records matching an erased person


@dataclasses.dataclass
class _Replayed:
    register_id: int
    object_type: str
    object_code: uuid.UUID
    action: str
    fields: tuple = ()
    decision: str = "redact"


def _models():
    from .erasure import OBJECT_MODELS

    return OBJECT_MODELS


def _present(line: dict):
    model = _models().get(line["object_type"])
    return model.objects.filter(code=line["object_code"]).first() if model else None


def _lookalikes(lines: list[dict]) -> list[str]:
    """Codes of customers, not named by the ledger, whose identifiers match an erased person's."""
    erased = {digest for line in lines if line["action"] == Action.DELETE for digest in line["identifiers"]}
    if not erased:
        return []
    named = {line["object_code"] for line in lines}
    registers = {line["register_code"] for line in lines}
    found = []
    for customer in Customer.objects.filter(register__code__in=registers).iterator():
        if str(customer.code) not in named and erased.intersection(identifier_digests(customer)):
            found.append(str(customer.code))
    return found


def erasure_ledger_replay(*, dry_run: bool = False) -> ReplayReport:
    """Carry out again every erasure of the ledger file that the database lacks (after a restore).

    `dry_run`: only report what would be done. Each erasure is replayed in its own transaction with the routines of
    the erasure itself; the audit entries carry `erasure_replayed_after_restore`.
    """
    report = ReplayReport()
    lines = ledger_read()
    known = {str(c) for c in ErasureLedgerEntry.objects.values_list("code", flat=True)}
    pending = [line for line in lines if line["code"] not in known]
    report.lookalikes = _lookalikes(lines)
    by_erasure: dict[str, list[dict]] = {}
    for line in pending:
        by_erasure.setdefault(line["erasure"], []).append(line)
    registers = {str(r.code): r.pk for r in Register.objects.all()}
    token = _replaying.set(True)
    try:
        for erasure, group in by_erasure.items():
            _replay_one(erasure, group, registers, report, dry_run=dry_run)
    finally:
        _replaying.reset(token)
    return report


def _replay_one(erasure: str, group: list[dict], registers: dict, report: ReplayReport, *, dry_run: bool) -> None:
    from privacy.retention.redaction import access_log_redact

    from .erasure import _execute_action, customer_patterns, person_patterns

    found = [(line, row) for line in group if (row := _present(line)) is not None]
    report.already_gone += len(group) - len(found)
    if found:
        report.replayed.append(erasure)
        report.objects += len(found)
    if dry_run:
        return
    with transaction.atomic():
        patterns: list[str] = []
        for line, row in found:
            if isinstance(row, Customer):
                patterns += customer_patterns(row, line["action"])
            elif isinstance(row, ContactPerson) and line["action"] == Action.DELETE:
                patterns += person_patterns(
                    names=[(row.first_name, row.last_name)], emails=[row.email], phones=[row.phone]
                )
        patterns = list(dict.fromkeys(patterns))
        marker = {"erasure_request": erasure, "erasure_replayed_after_restore": True}
        now = timezone.now()
        # Mentions first (their patterns come from the rows about to go), then deletions, then minimising.
        order = {Action.MENTION: 0, Action.DELETE: 1, Action.MINIMISE: 2}
        for line, _row in sorted(found, key=lambda item: order.get(item[0]["action"], 3)):
            replayed = _Replayed(
                register_id=registers.get(line["register_code"], 0),
                object_type=line["object_type"],
                object_code=uuid.UUID(line["object_code"]),
                action=line["action"],
                fields=tuple(line["fields"]),
            )
            _execute_action(replayed, actor=None, marker=marker, now=now, patterns=patterns)
        register_ids = sorted(
            {registers[line["register_code"]] for line, _row in found if line["register_code"] in registers}
        )
        if patterns:
            access_log_redact(patterns=patterns, register_ids=register_ids, marker=marker)
        done = {line["code"] for line, _row in found}
        ErasureLedgerEntry.objects.bulk_create(
            ErasureLedgerEntry(
                code=line["code"],
                recorded_at=line["recorded_at"],
                erasure=line["erasure"],
                register_code=line["register_code"],
                object_type=line["object_type"],
                object_code=line["object_code"],
                action=line["action"],
                fields=line["fields"],
                identifiers=line["identifiers"],
                replayed_at=now if line["code"] in done else None,
            )
            for line in group
        )
        report.recorded += len(group)


def restored_followup(sender, *, dry_run: bool, **kwargs) -> list[str]:
    """`database_restored`: replay the erasures since the backup, then purge what ran out of retention since."""
    from privacy.retention.models import PurgeRun
    from privacy.retention.policies import retention_preview
    from privacy.retention.purge import purge_run

    report = erasure_ledger_replay(dry_run=dry_run)
    verb = "would be erased again" if dry_run else "erased again"
    lines = [
        f"Erasure ledger: {len(report.replayed)} erasures after the backup {verb} ({report.objects} records); "
        f"{report.already_gone} entries already done in the backup."
    ]
    if report.lookalikes:
        lines.append(
            f"Check by hand: {len(report.lookalikes)} records under other codes match an erased person: "
            + ", ".join(report.lookalikes[:20])
        )
    if dry_run:
        due = sum(row.purgeable for register in Register.objects.all() for row in retention_preview(register=register))
        lines.append(f"Retention: {due} records past their retention would be purged.")
    else:
        run = purge_run(trigger=PurgeRun.Trigger.COMMAND)
        purged = sum(run.counts.values_list("purged", flat=True)) if run else 0
        lines.append(
            f"Retention purge: {purged} records purged (run {run.code if run else 'not started: another runs'})."
        )
    return lines
