"""A tamper-evident chain over the audit trail: who saw and changed what cannot be altered without it showing.

Every write of a chained row (an auditlog change or access entry, a login, a failed login, a request event, a
purge run and its counts) appends a link: the SHA-256 digest of the row as stored, chained to the link before by
a keyed hash (HMAC-SHA-256 with `AUDIT_CHAIN_KEY`, which lives with the application, not in the database). The
link is added in the transaction that writes the row, with the chain's head row locked, so two writers at once
cannot fork a chain. Changes the application itself makes (the redaction of an erased person's details, a merge
that moves entries to the surviving record, a logout time) and removals (the retention of the trail itself)
append a link of their own; a change made past the application (SQL, a restored dump edited by hand) has none,
and `audit_verify` names it. Daily anchors (the head of each chain) are written outside the database, so that
a rewrite of a whole chain shows too. Design and limits: docs/audit-chain.md.

One chain per table ("stream"): page views write access entries all day, and a slow purge or a batch import must
not hold up every other writer behind one lock; each table is verified and purged on its own.
"""

import contextlib
import contextvars
import datetime
import decimal
import hashlib
import hmac
import json
import os
import threading
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import models, router, transaction
from django.db.models.signals import post_delete, post_migrate, post_save, pre_delete
from django.utils import timezone

from .models import AuditChainHead, AuditChainLink

Reason = AuditChainLink.Reason

_chained: dict[str, type[models.Model]] = {}
# Set while a caller removes rows and appends their removal links itself (`chained_delete`).
_removal_recorded: contextvars.ContextVar[bool] = contextvars.ContextVar("audit_chain_removal", default=False)
# Rows whose foreign key a deletion is about to set to NULL: re-linked once it has (see `_set_null_receivers`).
_nulled = threading.local()


def stream_of(model: type[models.Model]) -> str:
    return model._meta.label_lower


def chained_models() -> dict[str, type[models.Model]]:
    return dict(_chained)


def chain(model: type[models.Model]) -> None:
    """Take a model's rows into the tamper-evident chain (called from each app's `ready`)."""
    stream = stream_of(model)
    if stream in _chained:
        return
    _chained[stream] = model
    post_save.connect(_saved, sender=model, dispatch_uid=f"audit_chain_save_{stream}")
    post_delete.connect(_deleted, sender=model, dispatch_uid=f"audit_chain_delete_{stream}")
    for fk in model._meta.concrete_fields:
        if fk.is_relation and fk.remote_field.on_delete is models.SET_NULL:
            _set_null_receivers(model, fk)


def _saved(sender, instance, created, raw=False, **kwargs):
    if raw:
        return
    links_append(sender, [instance.pk], Reason.WRITE if created else Reason.CHANGE)


def _deleted(sender, instance, **kwargs):
    if not _removal_recorded.get():
        links_append(sender, [instance.pk], Reason.DELETE)


def _set_null_receivers(model, fk) -> None:
    # Django's deletion sets such keys with one UPDATE and no signal: the rows are found before, re-linked after.
    key = f"{stream_of(model)}.{fk.name}"

    def before(sender, instance, **kwargs):
        pending = getattr(_nulled, "pending", None)
        if pending is None:
            pending = _nulled.pending = {}
        pks = list(model._default_manager.filter(**{fk.attname: instance.pk}).values_list("pk", flat=True))
        if pks:
            pending[(key, id(instance))] = pks

    def after(sender, instance, **kwargs):
        pks = getattr(_nulled, "pending", {}).pop((key, id(instance)), None)
        if pks:
            links_append(model, pks, Reason.CHANGE, only_changed=True)

    target = fk.remote_field.model
    pre_delete.connect(before, sender=target, weak=False, dispatch_uid=f"audit_chain_null_before_{key}")
    post_delete.connect(after, sender=target, weak=False, dispatch_uid=f"audit_chain_null_after_{key}")


# The canonical form of a row -------------------------------------------------------------------------------------


def _canonical(value):
    if isinstance(value, datetime.datetime):
        if timezone.is_aware(value):
            value = value.astimezone(datetime.UTC)
        return value.isoformat()
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, bytes | memoryview):
        return bytes(value).hex()
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    return value


def row_digest(values: dict) -> str:
    """Return the SHA-256 of a row's values (as read from the database) in a canonical JSON form."""
    text = json.dumps(_canonical(values), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def _columns(model) -> list[str]:
    return [f.attname for f in model._meta.concrete_fields]


def _digests(model, pks: Iterable) -> dict[int, str]:
    found: dict[int, str] = {}
    pks = list(pks)
    columns = _columns(model)
    for start in range(0, len(pks), 500):
        for values in model._base_manager.filter(pk__in=pks[start : start + 500]).values(*columns):
            found[values[model._meta.pk.attname]] = row_digest(values)
    return found


def _key() -> bytes:
    key = getattr(settings, "AUDIT_CHAIN_KEY", "") or ""
    if not key:
        # Without a key of its own the chain is keyed by the SECRET_KEY; production sets AUDIT_CHAIN_KEY, so that a
        # rotated SECRET_KEY does not make every existing link fail (docs/audit-chain.md).
        key = hashlib.sha256(b"rekisteri-audit-chain:" + settings.SECRET_KEY.encode()).hexdigest()
    return key.encode()


def link_hash(*, previous: str, stream: str, seq: int, object_id: int, reason: str, digest: str) -> str:
    message = f"{previous}|{stream}|{seq}|{object_id}|{reason}|{digest}".encode()
    return hmac.new(_key(), message, hashlib.sha256).hexdigest()


# Writing -----------------------------------------------------------------------------------------------------------


def _head_locked(stream: str, using: str) -> AuditChainHead:
    heads = AuditChainHead.objects.using(using)
    head = heads.select_for_update().filter(stream=stream).first()
    if head is None:
        heads.get_or_create(stream=stream)
        head = heads.select_for_update().get(stream=stream)
    return head


def _newest_digests(stream: str, pks: list, using: str) -> dict[int, str]:
    newest: dict[int, str] = {}
    links = AuditChainLink.objects.using(using).filter(stream=stream, object_id__in=pks).order_by("seq")
    for object_id, digest in links.values_list("object_id", "digest"):
        newest[object_id] = digest
    return newest


def links_append(model, pks: Iterable, reason: str, *, only_changed: bool = False) -> int:
    """Append a link for each row (its current digest; a removal link for a row no longer stored).

    `only_changed`: only for rows whose digest differs from their newest link (a bulk UPDATE that may have
    matched rows it did not change). Returns the number of links appended.
    """
    stream = stream_of(model)
    pks = sorted({int(pk) for pk in pks})
    if not pks or stream not in _chained:
        return 0
    using = router.db_for_write(AuditChainLink)
    with transaction.atomic(using=using, savepoint=False):
        head = _head_locked(stream, using)
        digests = {} if reason == Reason.DELETE else _digests(model, pks)
        newest = _newest_digests(stream, pks, using) if only_changed else {}
        links = []
        for pk in pks:
            digest = digests.get(pk, "")
            row_reason = reason if digest or reason == Reason.DELETE else Reason.DELETE
            if only_changed and newest.get(pk) == digest:
                continue
            head.seq += 1
            head.hash = link_hash(
                previous=head.hash, stream=stream, seq=head.seq, object_id=pk, reason=row_reason, digest=digest
            )
            links.append(
                AuditChainLink(
                    stream=stream, seq=head.seq, object_id=pk, reason=row_reason, digest=digest, hash=head.hash
                )
            )
        if links:
            AuditChainLink.objects.using(using).bulk_create(links)
            head.save(using=using, update_fields=["seq", "hash"])
    return len(links)


def chained_bulk_create(model, objs: list, **kwargs) -> list:
    """`bulk_create` for a chained model: the rows and their links in one transaction (bulk_create sends no signal)."""
    with transaction.atomic(using=router.db_for_write(model), savepoint=False):
        created = model._default_manager.bulk_create(objs, **kwargs)
        links_append(model, [obj.pk for obj in created], Reason.WRITE)
    return created


def chained_update(queryset, **values) -> int:
    """`update` for chained rows (a redaction, a merge): the change and its links in one transaction."""
    model = queryset.model
    with transaction.atomic(using=router.db_for_write(model), savepoint=False):
        pks = list(queryset.values_list("pk", flat=True))
        changed = model._base_manager.filter(pk__in=pks).update(**values)
        links_append(model, pks, Reason.CHANGE, only_changed=True)
    return changed


def chained_delete(queryset) -> int:
    """Delete chained rows (the retention of the trail itself) with one removal link each; returns how many."""
    model = queryset.model
    with transaction.atomic(using=router.db_for_write(model), savepoint=False):
        pks = list(queryset.values_list("pk", flat=True))
        if not pks:
            return 0
        links_append(model, pks, Reason.DELETE)
        with removals_recorded():
            for start in range(0, len(pks), 1000):
                model._base_manager.filter(pk__in=pks[start : start + 1000]).delete()
    return len(pks)


def chain_start(**kwargs) -> None:
    """After `migrate`: start the chain of each chained table that has none, taking its existing rows in (adopt)."""
    using = kwargs.get("using") or router.db_for_write(AuditChainLink)
    for stream, model in _chained.items():
        if AuditChainHead.objects.using(using).filter(stream=stream).exists():
            continue
        last = 0
        while True:
            pks = list(
                model._base_manager.using(using).filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:5000]
            )
            if not pks:
                break
            links_append(model, pks, Reason.ADOPT)
            last = pks[-1]
        AuditChainHead.objects.using(using).get_or_create(stream=stream)


def connect_chain_start(sender) -> None:
    post_migrate.connect(chain_start, sender=sender, dispatch_uid="audit_chain_start")


# Anchors -----------------------------------------------------------------------------------------------------------


def _anchor_file() -> Path:
    return Path(settings.AUDIT_ANCHOR_DIR) / "anchors.jsonl"


def _line_digest(line: str) -> str:
    return hashlib.sha256(line.encode()).hexdigest()


def anchors_read() -> list[dict]:
    """Return the anchors written so far, oldest first (each with its line number)."""
    path = _anchor_file()
    if not path.exists():
        return []
    anchors = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            anchor = json.loads(line)
        except ValueError:
            anchor = {"broken": True}
        anchor["line"] = number
        anchor["raw"] = line
        anchors.append(anchor)
    return anchors


def anchor_write(*, note: str = "daily") -> list[dict]:
    """Append the head of every chain to the anchor file (outside the database); return the lines written."""
    path = _anchor_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    previous = anchors_read()
    prev = _line_digest(previous[-1]["raw"]) if previous else ""
    written = []
    at = timezone.now().isoformat()
    lines = []
    for head in AuditChainHead.objects.filter(stream__in=list(_chained)).order_by("stream"):
        rows = _chained[head.stream]._base_manager.count()
        anchor = {"at": at, "stream": head.stream, "seq": head.seq, "hash": head.hash, "rows": rows, "note": note}
        anchor["prev"] = prev
        line = json.dumps(anchor, sort_keys=True)
        prev = _line_digest(line)
        lines.append(line)
        written.append(anchor)
    # Appended and synced in one write: the file is append-only (chattr +a in production, docs/audit-chain.md).
    with open(path, "a", encoding="utf-8") as file:
        file.write("".join(f"{line}\n" for line in lines))
        file.flush()
        os.fsync(file.fileno())
    return written


# Verifying ---------------------------------------------------------------------------------------------------------


@dataclass
class StreamReport:
    stream: str
    links: int = 0
    rows: int = 0
    anchors: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _links_in_order(stream: str) -> Iterator[tuple]:
    return (
        AuditChainLink.objects.filter(stream=stream)
        .order_by("seq")
        .values_list("seq", "object_id", "reason", "digest", "hash")
        .iterator(chunk_size=5000)
    )


def _check_links(report: StreamReport, head: AuditChainHead | None, anchored: set[int]) -> dict[int, str]:
    """Walk the chain in order; return {seq: hash} of the links the anchors name."""
    previous, expected = "", 1
    by_seq: dict[int, str] = {}
    for seq, object_id, reason, digest, stored in _links_in_order(report.stream):
        report.links += 1
        if seq != expected:
            report.problems.append(f"link {expected} is missing (the chain continues at link {seq})")
            return by_seq
        if stored != link_hash(
            previous=previous, stream=report.stream, seq=seq, object_id=object_id, reason=reason, digest=digest
        ):
            report.problems.append(f"link {seq} (row {object_id}) does not follow from link {seq - 1}")
            return by_seq
        if seq in anchored:
            by_seq[seq] = stored
        previous, expected = stored, seq + 1
    last = expected - 1
    if head is not None and (head.seq != last or head.hash != previous):
        report.problems.append(f"the chain's head names link {head.seq}, but the chain ends at link {last}")
    return by_seq


def _newest_links(stream: str) -> Iterator[tuple]:
    current = None
    for row in (
        AuditChainLink.objects.filter(stream=stream)
        .order_by("object_id", "seq")
        .values_list("object_id", "seq", "reason", "digest")
        .iterator(chunk_size=5000)
    ):
        if current is not None and current[0] != row[0]:
            yield current
        current = row
    if current is not None:
        yield current


def _rows_in_order(model) -> Iterator[tuple[int, str]]:
    columns = _columns(model)
    pk = model._meta.pk.attname
    for values in model._base_manager.order_by(pk).values(*columns).iterator(chunk_size=2000):
        yield values[pk], row_digest(values)


def _row_problem(pk: int, row_digest: str | None, link: tuple | None) -> str | None:
    """What is wrong between a row (its digest; None when it is gone) and its newest link ((seq, reason, digest);
    None when no link names it), or None. `audit_verify` and `verify_since` both judge rows by it."""
    if link is None:
        return None if row_digest is None else f"row {pk} is in no link: written or restored past the application"
    seq, reason, digest = link
    if row_digest is None:
        return None if reason == Reason.DELETE else f"row {pk} (link {seq}) is gone, and no link records its removal"
    if reason == Reason.DELETE:
        return f"row {pk} is back after link {seq} recorded its removal"
    if digest != row_digest:
        return f"row {pk} differs from what link {seq} recorded"
    return None


def _check_rows(report: StreamReport, model) -> None:
    links = _newest_links(report.stream)
    rows = _rows_in_order(model)
    link = next(links, None)
    row = next(rows, None)
    problems = report.problems
    while link is not None or row is not None:
        if len(problems) >= 20:
            problems.append("… (further problems not listed)")
            return
        if row is not None and (link is None or row[0] < link[0]):
            report.rows += 1
            problem = _row_problem(row[0], row[1], None)
            row = next(rows, None)
        elif row is None or link[0] < row[0]:
            problem = _row_problem(link[0], None, link[1:])
            link = next(links, None)
        else:
            report.rows += 1
            problem = _row_problem(row[0], row[1], link[1:])
            link, row = next(links, None), next(rows, None)
        if problem:
            problems.append(problem)


def _superseded(anchors: list[dict]) -> set[int]:
    """Lines of anchors a later restore rolled the chain back past (a restore anchor of the same chain, lower seq)."""
    superseded: set[int] = set()
    lowest: dict[str, int] = {}
    for anchor in reversed(anchors):
        stream, seq = anchor.get("stream"), anchor.get("seq", 0)
        if stream in lowest and seq > lowest[stream]:
            superseded.add(anchor["line"])
        if str(anchor.get("note", "")).startswith("restore"):
            lowest[stream] = min(seq, lowest.get(stream, seq))
    return superseded


def _check_anchors(reports: dict[str, StreamReport], hashes: dict[str, dict[int, str]], anchors: list[dict]) -> list:
    problems = []
    prev = ""
    superseded = _superseded(anchors)
    for anchor in anchors:
        if anchor.get("broken"):
            problems.append(f"anchor line {anchor['line']} cannot be read")
            prev = _line_digest(anchor["raw"])
            continue
        if anchor.get("prev", "") != prev:
            problems.append(
                f"anchor line {anchor['line']} does not follow the line before it (lines removed or edited)"
            )
        prev = _line_digest(anchor["raw"])
        report = reports.get(anchor.get("stream"))
        if report is None or anchor["line"] in superseded:
            continue
        report.anchors += 1
        seq = anchor.get("seq", 0)
        if seq == 0:
            continue
        found = hashes.get(report.stream, {}).get(seq)
        if found is None:
            if report.ok:
                report.problems.append(f"the anchor of {anchor['at'][:10]} names link {seq}, which the chain lacks")
        elif found != anchor.get("hash"):
            report.problems.append(
                f"link {seq} differs from the anchor of {anchor['at'][:10]}: the chain was rewritten"
            )
    return problems


def audit_verify(
    streams: Iterable[str] | None = None, *, with_anchors: bool = True
) -> tuple[list[StreamReport], list[str]]:
    """Check every chain, the rows against their newest links and the chains against the anchors.

    Returns a report per chain and the problems of the anchor file itself.
    """
    wanted = list(streams) if streams else sorted(_chained)
    heads = {head.stream: head for head in AuditChainHead.objects.filter(stream__in=wanted)}
    anchors = anchors_read() if with_anchors else []
    reports: dict[str, StreamReport] = {}
    hashes: dict[str, dict[int, str]] = {}
    for stream in wanted:
        report = reports[stream] = StreamReport(stream)
        superseded = _superseded(anchors)
        anchored = {a.get("seq") for a in anchors if a.get("stream") == stream and a["line"] not in superseded}
        hashes[stream] = _check_links(report, heads.get(stream), anchored)
        _check_rows(report, _chained[stream])
    anchor_problems = _check_anchors(reports, hashes, anchors)
    return list(reports.values()), anchor_problems


@contextlib.contextmanager
def removals_recorded():
    """Within: deletions of chained rows append no links (the caller has appended them)."""
    token = _removal_recorded.set(True)
    try:
        yield
    finally:
        _removal_recorded.reset(token)


def logouts_link(sender, request=None, user=None, **kwargs) -> None:
    """Link the login rows whose logout time axes has just set (with an UPDATE, which sends no signal)."""
    from axes.models import AccessLog

    if user is None:
        return
    since = timezone.now() - datetime.timedelta(minutes=5)
    username = user.get_username()
    pks = AccessLog.objects.filter(username=username, logout_time__gte=since).values_list("pk", flat=True)
    links_append(AccessLog, pks, Reason.CHANGE, only_changed=True)


def audit_chain_nightly() -> dict:
    """Anchor every chain outside the database, verify them all, and tell the main users of any break."""
    from django.contrib.auth import get_user_model

    from . import emails, roles

    anchor_write()
    reports, anchor_problems = audit_verify()
    problems = [f"{r.stream}: {r.problems[0]}" for r in reports if not r.ok] + anchor_problems
    if problems:
        recipients = list(
            get_user_model()
            .objects.filter(is_active=True, groups__name=roles.MAIN_USERS_GROUP)
            .exclude(email="")
            .values_list("email", flat=True)
            .distinct()
        )
        emails.send_audit_chain_broken(recipients=recipients, problems=problems)
    return {"chains": len(reports), "broken": len(problems)}


def restored_anchor(sender, *, dry_run: bool, **kwargs) -> list[str]:
    """`database_restored`: record in the anchors that each chain was rolled back to the restored backup's head.

    The anchors written since the backup name links the restored chains lack; verification takes this line as the
    point from which those anchors are history, and the chains continue from the backup's head.
    """
    heads = {h.stream: h.seq for h in AuditChainHead.objects.all()}
    if dry_run:
        return [f"Audit trail: the chains go back to the backup's heads ({sum(heads.values())} links in all)."]
    anchor_write(note="restore")
    return [f"Audit trail: the restore is anchored; the chains continue from the backup's heads ({len(heads)} chains)."]


def verify_marks() -> dict[str, tuple[int, int]]:
    """Return, per chain, its newest link's number and its table's largest row id: where `verify_since` starts."""
    # One statement, not one per table: the test suite asks this before and after every test. Each head row carries
    # its table's largest id (ORDER BY the key, LIMIT 1: read off the index).
    top = models.Case(
        *(
            models.When(stream=stream, then=models.Subquery(model._base_manager.order_by("-pk").values("pk")[:1]))
            for stream, model in _chained.items()
        ),
        output_field=models.BigIntegerField(),
    )
    heads = AuditChainHead.objects.filter(stream__in=list(_chained)).annotate(top=top)
    marks = {stream: (seq, highest or 0) for stream, seq, highest in heads.values_list("stream", "seq", "top")}
    for stream, model in _chained.items():
        if stream not in marks:  # a chain not started yet
            marks[stream] = (0, model._base_manager.aggregate(top=models.Max("pk"))["top"] or 0)
    return marks


def verify_since(marks: dict[str, tuple[int, int]]) -> list[str]:
    """Check only what was written after `marks`: the new links follow from the marked one, and every row written
    since or named by a new link matches its newest link. The same rules as `audit_verify`, at the cost of the
    writes since (the test suite runs it after every test)."""
    problems = []
    now = verify_marks()
    for stream, model in _chained.items():
        seq0, pk0 = marks.get(stream, (0, 0))
        if now[stream] == (seq0, pk0):
            continue
        links = AuditChainLink.objects.filter(stream=stream)
        previous = links.filter(seq=seq0).values_list("hash", flat=True).first() or ""
        expected, named = seq0 + 1, set()
        for seq, object_id, reason, digest, stored in (
            links.filter(seq__gt=seq0).order_by("seq").values_list("seq", "object_id", "reason", "digest", "hash")
        ):
            named.add(object_id)
            if seq != expected or stored != link_hash(
                previous=previous, stream=stream, seq=seq, object_id=object_id, reason=reason, digest=digest
            ):
                problems.append(f"{stream}: link {expected} does not follow from link {expected - 1}")
                break
            previous, expected = stored, seq + 1
        ids = named | set(model._base_manager.filter(pk__gt=pk0).values_list("pk", flat=True))
        newest = {}
        for seq, object_id, reason, digest in (
            links.filter(object_id__in=ids).order_by("seq").values_list("seq", "object_id", "reason", "digest")
        ):
            newest[object_id] = (seq, reason, digest)
        rows = _digests(model, ids)
        for pk in sorted(ids):
            problem = _row_problem(pk, rows.get(pk), newest.get(pk))
            if problem:
                problems.append(f"{stream}: {problem}")
    return problems
