"""Saved views and bulk actions: one audited function per user action.

A bulk action is audited once, with its count: one change entry of the `BulkAction` written when it ends (state,
rows, changed), never one per customer. Its progress moves by plain UPDATEs, which are not changes to audit.
Objection and restriction are never bulk actions: they are a person's rights, recorded one request at a time.
"""

import datetime
import logging

from auditlog.context import disable_auditlog
from auditlog.models import LogEntry
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm import saved_views, tagging
from crm.models import SavedView, Tag
from crm.selectors import ERROR_READ_ONLY
from registers import roles
from registers.audit_context import set_actor
from registers.audit_scope import REGISTER_KEY
from registers.models import Register
from registers.selectors import user_can

from . import selectors
from .models import BulkAction

logger = logging.getLogger(__name__)

ERROR_UNKNOWN_TAG = _("Choose one of the register's tags.")
ERROR_UNKNOWN_ASSIGNEE = _("Choose a user who works in this register.")
ERROR_NOTHING_PICKED = _("Pick the customers first, or choose all customers that match.")
ERROR_KIND = _("This action cannot be done to many customers at once.")
# Rows one step of a bulk action handles before it reports its progress.
CHUNK = 1000


def _require_change(actor, register: Register) -> None:
    if not user_can(user=actor, register=register, perm=roles.CHANGE_DATA):
        raise PermissionDenied(ERROR_READ_ONLY)


def _save(actor, view: SavedView) -> SavedView:
    view.full_clean()
    with set_actor(actor):
        view.save()
    return view


@transaction.atomic
def saved_view_create(
    *, actor, register: Register, name: str, shared: bool, query: dict, columns: list[str]
) -> SavedView:
    """Save the list's search, filters, sort and columns under a name, private or shared with the register."""
    if not user_can(user=actor, register=register, perm=roles.VIEW_DATA):
        raise PermissionDenied(ERROR_READ_ONLY)
    view = SavedView(register=register, owner=actor, name=name.strip(), shared=shared)
    view.query = selectors.query_from(query)
    view.columns = list(columns)
    return _save(actor, view)


@transaction.atomic
def saved_view_update(*, actor, view: SavedView, name: str, shared: bool, columns: list[str]) -> SavedView:
    """Rename a saved view, share or unshare it, or change its columns: its owner only."""
    if view.owner_id != actor.pk:
        raise PermissionDenied(selectors.ERROR_NOT_YOUR_VIEW)
    view.name, view.shared, view.columns = name.strip(), shared, list(columns)
    return _save(actor, view)


@transaction.atomic
def saved_view_delete(*, actor, view: SavedView) -> None:
    if view.owner_id != actor.pk:
        raise PermissionDenied(selectors.ERROR_NOT_YOUR_VIEW)
    with set_actor(actor):
        view.delete()


def _check_parameters(register: Register, kind: str, parameters: dict) -> dict:
    if kind in (BulkAction.Kind.TAG_ADD, BulkAction.Kind.TAG_REMOVE):
        try:
            tag = Tag.objects.get(register=register, code=parameters.get("tag"))
        except (Tag.DoesNotExist, ValueError, ValidationError):
            raise ValidationError(ERROR_UNKNOWN_TAG, code="tag") from None
        return {"tag": str(tag.code)}
    if kind == BulkAction.Kind.FOLLOWUP_ASSIGN:
        assignee = parameters.get("assignee")
        if not selectors.assignee_list(register=register).filter(pk=assignee).exists():
            raise ValidationError(ERROR_UNKNOWN_ASSIGNEE, code="assignee")
        due_on = datetime.date.fromisoformat(str(parameters.get("due_on")))
        return {"assignee": int(assignee), "due_on": due_on.isoformat(), "note": str(parameters.get("note") or "")}
    raise ValidationError(ERROR_KIND, code="kind")


def _targets(action: BulkAction):
    """The customers the action applies to, as the actor's customer list shows them now."""
    actor, register = action.actor, action.register
    if action.customer_codes:
        customers = saved_views.customers_for_query(user=actor, register=register, query={})
        return customers.filter(code__in=action.customer_codes)
    if action.saved_view is not None:
        return selectors.segment_customers(user=actor, saved_view=action.saved_view)
    return saved_views.customers_for_query(user=actor, register=register, query=action.parameters.get("query", {}))


@transaction.atomic
def bulk_action_start(
    *,
    actor,
    register: Register,
    kind: str,
    parameters: dict,
    customer_codes: list[str] | None = None,
    saved_view: SavedView | None = None,
    query: dict | None = None,
) -> BulkAction:
    """Start one change on many customers: the ticked ones, a whole saved view, or all the list's matches.

    Up to settings.BULK_INLINE_MAX rows it runs at once; more go to a Celery task that reports its progress.
    """
    _require_change(actor, register)
    if kind not in BulkAction.Kind.values:
        raise ValidationError(ERROR_KIND, code="kind")
    checked = _check_parameters(register, kind, parameters)
    if not customer_codes and saved_view is None and query is None:
        raise ValidationError(ERROR_NOTHING_PICKED, code="empty")
    if saved_view is not None:
        # Applying it is permission enough, as for the list: a colleague's private view is 404.
        saved_view = selectors.saved_view_get_for_user(user=actor, register=register, code=saved_view.code)
    if not customer_codes and saved_view is None:
        checked["query"] = selectors.query_from(query or {})
    action = BulkAction(
        register=register,
        actor=actor,
        kind=kind,
        parameters=checked,
        customer_codes=[str(code) for code in customer_codes or []],
        saved_view=saved_view if not customer_codes else None,
    )
    total = _targets(action).count()
    if total == 0:
        raise ValidationError(ERROR_NOTHING_PICKED, code="empty")
    action.total = total
    action.full_clean()
    with disable_auditlog():  # the action's one entry is written when it ends
        action.save()
    if total <= settings.BULK_INLINE_MAX:
        bulk_action_run(action=action)
        action.refresh_from_db()
    else:
        from .tasks import bulk_action_run as task

        transaction.on_commit(lambda: task.delay(action.pk))
    return action


def _progress(action: BulkAction, **values) -> None:
    BulkAction.objects.filter(pk=action.pk).update(updated_at=timezone.now(), **values)


def _step(action: BulkAction, ids: list[int], tag: Tag | None) -> int:
    kind, actor = action.kind, action.actor
    if tag is not None:
        if kind == BulkAction.Kind.TAG_ADD:
            return tagging.tags_apply_bulk(actor=actor, tag=tag, customer_ids=ids)
        return tagging.tags_remove_bulk(actor=actor, tag=tag, customer_ids=ids)
    from followups.services import followups_assign_bulk

    parameters = action.parameters
    assignee = get_user_model().objects.get(pk=parameters["assignee"])
    changed = followups_assign_bulk(
        actor=actor,
        register=action.register,
        customer_ids=ids,
        assignee=assignee,
        due_on=datetime.date.fromisoformat(parameters["due_on"]),
        note=parameters.get("note", ""),
    )
    return changed if isinstance(changed, int) else len(changed)


def _audit(action: BulkAction) -> None:
    with set_actor(action.actor):
        LogEntry.objects.log_create(
            action,
            force_log=True,
            action=LogEntry.Action.CREATE,
            changes={
                "state": ["None", action.state],
                "total": ["None", str(action.total)],
                "changed": ["None", str(action.changed)],
            },
            actor=action.actor,
            actor_email=getattr(action.actor, "email", None),
            additional_data={
                REGISTER_KEY: action.register_id,
                "kind": action.kind,
                "skipped": action.parameters.get("skipped", 0),
                **({"tag": action.parameters["tag"]} if "tag" in action.parameters else {}),
            },
        )


def bulk_action_run(*, action: BulkAction) -> BulkAction:
    """Run a started bulk action in steps of CHUNK rows, each in its own transaction, recording its progress.

    Restricted customers are skipped (processing restricted to storage takes no new processing); the action
    tells how many. A rerun (a worker lost mid-way) starts again: every step is idempotent.
    """
    action = BulkAction.objects.select_related("actor", "register", "saved_view").get(pk=action.pk)
    if action.state in (BulkAction.State.DONE, BulkAction.State.FAILED):
        return action
    _progress(action, state=BulkAction.State.RUNNING, processed=0, changed=0)
    changed = skipped = 0
    try:
        targets = _targets(action).order_by()
        ids = list(targets.filter(processing_restricted=False).order_by("pk").values_list("pk", flat=True))
        skipped = targets.filter(processing_restricted=True).count()
        done = skipped
        _progress(action, total=len(ids) + skipped, processed=done)
        tag = None
        if action.kind in (BulkAction.Kind.TAG_ADD, BulkAction.Kind.TAG_REMOVE):
            tag = Tag.objects.get(register=action.register, code=action.parameters["tag"])
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            with transaction.atomic():
                changed += _step(action, chunk, tag)
            done += len(chunk)
            _progress(action, processed=done, changed=changed)
        state, error = BulkAction.State.DONE, ""
    except Exception as exc:  # the action reports its failure; the class only, the text could quote data
        logger.exception("Bulk action %s failed", action.pk)
        state, error = BulkAction.State.FAILED, type(exc).__name__
    action.refresh_from_db()
    action.state, action.error, action.changed = state, error, changed
    action.parameters = {**action.parameters, "skipped": skipped}
    action.finished_at = timezone.now()
    with disable_auditlog():
        action.save(update_fields=["state", "error", "changed", "parameters", "finished_at", "updated_at"])
    _audit(action)
    return action
