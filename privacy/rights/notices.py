"""The versioned texts shown before a consent, a withdrawal or an objection (GDPR 7(1): the controller must be able
to demonstrate what the person agreed to).

A register's owner (or a main user) adds a version with a label and a start; a version is never changed once saved
(`ConsentNotice` is append-only), so every consent and objection keeps pointing at the exact text that was shown.
A version starts today (at once) or on a later day, never before the version it follows: what was in force on a past
day stays reproducible.
"""

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from registers import roles
from registers.audit_context import set_actor
from registers.models import Register
from registers.selectors import user_can
from registers.services import is_main_user

from .models import ConsentNotice

ERROR_NOTICE_RIGHTS = _("Only the register's owner or a main user adds notice texts.")
ERROR_VALID_FROM_PAST = _("A new version cannot start before today: the texts shown in the past stay as they were.")
ERROR_VALID_FROM_BEFORE_PREVIOUS = _("A new version cannot start before version %(version)s, which it follows.")


def _start(day: datetime.date) -> datetime.datetime:
    # Today means now: a start at midnight would claim the version was in force for hours it was not.
    if day == timezone.localdate():
        return timezone.now()
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


@transaction.atomic
def consent_notice_create(
    *,
    actor,
    register: Register,
    kind: str,
    purpose: str,
    version: str,
    valid_from: datetime.date,
    text_fi: str = "",
    text_sv: str = "",
    text_en: str = "",
) -> ConsentNotice:
    """Add a new version of a register's consent, withdrawal or objection notice."""
    if not (is_main_user(actor) or user_can(user=actor, register=register, perm=roles.REVIEW_ACCESS)):
        raise PermissionDenied(ERROR_NOTICE_RIGHTS)
    # The register row is the lock: two versions added at once cannot both pass the order check.
    register = Register.objects.select_for_update().get(pk=register.pk)
    if valid_from < timezone.localdate():
        raise ValidationError({"valid_from": ERROR_VALID_FROM_PAST}, code="valid_from_past")
    start = _start(valid_from)
    latest = (
        ConsentNotice.objects.filter(register=register, kind=kind, purpose=purpose)
        .order_by("-valid_from", "-id")
        .first()
    )
    if latest is not None and start < latest.valid_from:
        error = ValidationError(
            ERROR_VALID_FROM_BEFORE_PREVIOUS, code="valid_from_order", params={"version": latest.version}
        )
        raise ValidationError({"valid_from": error})
    notice = ConsentNotice(
        register=register,
        kind=kind,
        purpose=purpose,
        version=version.strip(),
        valid_from=start,
        text_fi=text_fi.strip(),
        text_sv=text_sv.strip(),
        text_en=text_en.strip(),
        created_by=actor,
    )
    notice.full_clean()
    with set_actor(actor):
        notice.save()
    return notice
