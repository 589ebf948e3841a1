"""Personal data out of a personal data file on a document request (Act 621/1999 16(3) §).

Before anything leaves, the purpose check: the request names the register, says who the recipient is, what the data
is for and on which right the recipient processes it; and data for direct marketing, opinion or market research or
address use leaves only a register whose description allows it. The export then leaves out every customer who
objects to direct marketing or whose processing is restricted (GDPR 18, 21), holds only the columns the handler
chose, and writes one row of the disclosure ledger per customer disclosed, with an access-log entry for the export.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from crm import exports
from crm.models import Customer
from privacy.rights.models import Disclosure
from registers.access_log import log_access
from registers.models import Register

from . import selectors
from .models import DocumentRequest, DocumentRequestEvent

ERROR_NOT_NAMED = _("The request does not ask for data from this register.")
ERROR_NO_PURPOSE = _("The recipient and the purpose of use must be known before personal data is given (16(3) §).")
ERROR_NO_RIGHT = _("Record the recipient's right to process the data before it is given (16(3) §).")
ERROR_MARKETING = _(
    "The register's description does not allow disclosure for direct marketing, opinion or market research or "
    "address use (Act 621/1999 16(3) §)."
)
ERROR_STATE = _("Personal data is given only while the request is being handled.")
ERROR_NO_COLUMNS = _("Choose the data to give.")
LEGAL_BASIS = "Act 621/1999 16(3) §"
# Flags and bookkeeping of the register's own, never disclosed.
NOT_DISCLOSED = frozenset({"marketing_objection", "processing_restricted", "last_activity_at"})


def purpose_check(*, request: DocumentRequest, register: Register) -> list[str]:
    """What stops the disclosure of the register's personal data on this request (empty: it may go)."""
    problems = []
    if not request.registers.filter(pk=register.pk).exists():
        problems.append(str(ERROR_NOT_NAMED))
    if not (request.requester_name.strip() and request.purpose.strip()):
        problems.append(str(ERROR_NO_PURPOSE))
    if not request.recipient_legal_basis.strip():
        problems.append(str(ERROR_NO_RIGHT))
    if request.marketing_use and not register.marketing_disclosures:
        problems.append(str(ERROR_MARKETING))
    return problems


def disclosable_columns(register: Register) -> list:
    return [column for column in exports.customer_columns(register) if column.name not in NOT_DISCLOSED]


def disclosable_customers(register: Register):
    return Customer.objects.filter(register=register, marketing_objection=False, processing_restricted=False)


@transaction.atomic
def disclosure_export(*, actor, request: DocumentRequest, register: Register, column_names: list[str], http_request):
    """Check, record and return the rows (header first) of the register's data given on the request."""
    if not selectors.document_request_list(user=actor).filter(pk=request.pk).exists():
        raise PermissionDenied
    if register.pk not in selectors.handled_register_ids(user=actor):
        raise PermissionDenied
    current = DocumentRequest.objects.select_for_update().get(pk=request.pk)
    if current.state not in (DocumentRequest.State.IN_REVIEW, DocumentRequest.State.DECISION_PENDING):
        raise ValidationError(ERROR_STATE, code="state")
    problems = purpose_check(request=current, register=register)
    if problems:
        raise ValidationError(problems, code="purpose_check")
    columns = [column for column in disclosable_columns(register) if column.name in set(column_names)]
    if not columns:
        raise ValidationError(ERROR_NO_COLUMNS, code="columns")
    customers = disclosable_customers(register)
    rows = list(exports.customer_csv_rows(exports.customer_values(customers, columns), columns))
    described = ", ".join(str(capfirst(column.label)) for column in columns)
    now = timezone.now()
    Disclosure.objects.bulk_create(
        Disclosure(
            register=register,
            customer_id=pk,
            recipient=current.requester_name[:200],
            recipient_kind=Disclosure.RecipientKind.OPENNESS_ACT,
            recipient_contact=current.requester_email,
            data_description=described,
            legal_basis=f"{LEGAL_BASIS}; {current.recipient_legal_basis}"[:200],
            purpose=current.purpose[:300],
            disclosed_at=now,
            actor=actor,
        )
        for pk in customers.order_by("sort_name", "id").values_list("pk", flat=True)
    )
    count = len(rows) - 1
    DocumentRequestEvent.objects.create(
        request=current,
        at=now,
        actor=actor,
        action=DocumentRequestEvent.Action.DISCLOSURE,
        from_state=current.state,
        to_state=current.state,
        payload={"register": register.slug, "rows": count, "columns": [column.name for column in columns]},
    )
    log_access(
        http_request,
        register,
        {"export": "openness_disclosure", "document_request": current.diary_number, "rows": count},
    )
    return rows
