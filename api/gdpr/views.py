"""The Helsinki-profile GDPR API (GDPR-API.md §3.4): GET a person's data, DELETE it (with `dry_run`).

The person is every customer, in every register, whose `profile_id` a handler has set to the profile's id
(crm `customer_profile_link`). GET answers the access right with the access answer's own collector; DELETE runs the
erasure planner over those customers: a ground that keeps any data (an open invoice, a legal hold, another open
request) refuses the whole deletion with 403 and the reasons in Finnish, Swedish and English; otherwise the
customers are erased with their audit trail redacted, exactly as on request, every record of their registers that
stays and names them has the mention redacted (no handler takes part to keep one with a reason), and each
controller gets the erasure on record as a request in its queue, with the recipients of disclosed data to tell
(privacy.rights.erasure.profile_erasure_execute). The caller is the profile, with a Bearer JWT
(authentication.py), never a register user: no register permissions apply, no throttling.
"""

import logging

from django.db import DatabaseError, transaction
from django.db.models import ProtectedError, RestrictedError
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import APIView

from crm.models import Customer
from privacy.rights import erasure
from privacy.rights.models import ErasureAction
from registers.access_log import log_access

from .authentication import ProfileScope, ProfileTokenAuthentication
from .tree import profile_tree

logger = logging.getLogger(__name__)

TRUE_VALUES = frozenset({"true", "1"})
LANGUAGES = ("fi", "sv", "en")
MARKER_SOURCE = "helsinki_profile_gdpr_api"

Ground = ErasureAction.Ground
# The profile shows `code` to no one but logs it; the message is what the person reads.
ERROR_CODES = {
    Ground.OPEN_INVOICE: "OPEN_INVOICE",
    Ground.DEBT_IN_COLLECTION: "DEBT_IN_COLLECTION",
    Ground.LEGAL_HOLD: "LEGAL_HOLD",
    Ground.OPEN_REQUEST: "OPEN_REQUEST",
    Ground.STATUTORY_RETENTION: "STATUTORY_RETENTION",
}
ERROR_MESSAGES = {
    Ground.OPEN_INVOICE: _("Your data cannot be erased yet: you have an open invoice with us."),
    Ground.DEBT_IN_COLLECTION: _("Your data cannot be erased yet: a debt of yours is in collection."),
    Ground.LEGAL_HOLD: _("Your data cannot be erased yet: it is needed for an open legal claim."),
    Ground.OPEN_REQUEST: _("Your data cannot be erased yet: another request about your data is still being handled."),
    Ground.STATUTORY_RETENTION: _("Your data cannot be erased yet: the law requires us to keep it for now."),
}
ERROR_OTHER = _("Your data cannot be erased yet: the law requires us to keep some of it.")
TECHNICAL_ERROR = "TECHNICAL_ERROR"
ERROR_TECHNICAL = _("Your data could not be erased because of a technical error. Nothing was erased; try again later.")


def is_true(value) -> bool:
    """The library's `dry_run` values: "true", "True", "TRUE", "1", 1 or true."""
    if value is True or (isinstance(value, int) and not isinstance(value, bool) and value == 1):
        return True
    return isinstance(value, str) and value.strip().lower() in TRUE_VALUES


def _localized(message) -> dict[str, str]:
    localized = {}
    for language in LANGUAGES:
        with translation.override(language):
            localized[language] = str(message)
    return localized


def _errors(grounds) -> list[dict]:
    return [
        {"code": ERROR_CODES.get(g, "LEGAL_GROUND"), "message": _localized(ERROR_MESSAGES.get(g, ERROR_OTHER))}
        for g in sorted(set(grounds))
    ]


def _body(request) -> dict:
    """The request's body as parsed; the profile sends none, so a body that cannot be read counts as none."""
    try:
        data = request.data
    except (exceptions.ParseError, exceptions.UnsupportedMediaType):
        return {}
    return data if hasattr(data, "get") else {}


def _customers(profile_id):
    return Customer.objects.filter(profile_id=profile_id).select_related("register__organisation").order_by("id")


class ProfileGDPRView(APIView):
    authentication_classes = [ProfileTokenAuthentication]
    permission_classes = [ProfileScope]
    throttle_classes: list = []

    @extend_schema(exclude=True)
    def get(self, request, profile_id):
        customers = list(_customers(profile_id))
        if not customers:
            return Response(status=status.HTTP_204_NO_CONTENT)
        tree = profile_tree(customers)
        for customer in customers:
            # One entry per record read (as a page view writes), so the person's own access answer lists the day.
            log_access(
                request._request,
                customer,
                {"purpose": "gdpr_api", "profile_id": str(profile_id), "token_subject": request.auth.get("sub", "")},
            )
        return Response(tree)

    @extend_schema(exclude=True)
    def delete(self, request, profile_id):
        dry_run = is_true(request.query_params.get("dry_run")) or is_true(_body(request).get("dry_run"))
        customers = _customers(profile_id)
        if dry_run:
            kept = [a for a in erasure.customers_planned_actions(customers) if a.action in erasure.KEPT]
            if kept:
                return self._refused([g for a in kept for g in a.grounds])
            return Response(status=status.HTTP_204_NO_CONTENT)
        marker = {
            "erasure_source": MARKER_SOURCE,
            "profile_id": str(profile_id),
            "token_subject": str(request.auth.get("sub", "")),
        }
        try:
            with transaction.atomic():
                erasure.profile_erasure_execute(customers=customers, marker=marker)
        except erasure.ErasureHeldError as held:
            return self._refused(held.grounds)
        except (DatabaseError, ProtectedError, RestrictedError):
            # Rolled back whole. The contract's 500 may carry the same errors; the profile shows either to the person.
            logger.exception("GDPR API: erasing profile %s failed", profile_id)
            error = {"code": TECHNICAL_ERROR, "message": _localized(ERROR_TECHNICAL)}
            return Response({"errors": [error]}, status=status.HTTP_500_INTERNAL_SERVER_ERROR)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @staticmethod
    def _refused(grounds) -> Response:
        return Response({"errors": _errors(grounds)}, status=status.HTTP_403_FORBIDDEN)
