"""Permission-aware reads for the archive's intakes: who may add mail, and for which ordering clients."""

import datetime

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from crm.models import OrderingClient
from crm.selectors import ordering_client_list, user_holds_right
from registers import roles
from registers.models import Register
from registers.selectors import user_can


def user_may_add_archive_mail(*, user, register: Register) -> bool:
    """Tell whether the user may put historical mail into the register's archive (an .eml or .mbox upload)."""
    return (
        register.kind == Register.Kind.CONTACT_CENTRE
        and user_can(user=user, register=register, perm=roles.VIEW_DATA)
        and user_holds_right(user=user, register=register, right=roles.ADD_ARCHIVE_MAIL)
    )


def ordering_clients_for_upload(*, user, register: Register) -> QuerySet[OrderingClient]:
    """Return the ordering clients the user may upload mail for: those whose messages the purge still keeps."""
    # The purge (privacy.retention.policies.MessagePolicy) removes the messages of a client whose relationship
    # ended more than the grace period ago: mail uploaded for such a client would go at the next run.
    kept_from = timezone.localdate() - datetime.timedelta(days=settings.CONTACT_CENTRE_MESSAGE_GRACE_DAYS)
    return (
        ordering_client_list(user=user, register=register)
        .filter(Q(active_until__isnull=True) | Q(active_until__gte=kept_from))
        .order_by("department")
    )
