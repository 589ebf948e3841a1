"""Reads of the "my data" pages (the signed-in person's own, nothing else) and of the handlers' link queue."""

from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from crm.models import Customer
from privacy.requests.access_package import person_content
from privacy.requests.models import DataSubjectRequest
from privacy.rights import selectors as rights_selectors
from privacy.rights.models import ConsentNotice, ConsentRecord, ObjectionRecord
from registers import roles
from registers.models import Register
from registers.selectors import register_ids

from .models import IdentifiedRequest, IdentityLink, SubjectIdentity


def linked_customers(*, identity: SubjectIdentity) -> QuerySet[Customer]:
    """The records linked to the person: by an exact match, the profile id, or a handler's confirmation."""
    linked = identity.links.filter(state=IdentityLink.State.LINKED).values("customer_id")
    return Customer.objects.filter(pk__in=linked).select_related("register__organisation").order_by("register", "pk")


def my_data(*, identity: SubjectIdentity) -> list[dict]:
    return person_content(list(linked_customers(identity=identity)))


def consents(*, identity: SubjectIdentity) -> QuerySet[ConsentRecord]:
    return (
        ConsentRecord.objects.filter(customer__in=linked_customers(identity=identity))
        .select_related("register", "notice")
        .order_by("withdrawn_at", "-given_at")
    )


def consents_with_withdrawal_notices(*, identity: SubjectIdentity) -> list[ConsentRecord]:
    """The person's consents, each in force one with the withdrawal notice in force for it (`withdrawal_notice`,
    None when its register has none), to be shown beside its withdraw button."""
    rows = list(consents(identity=identity))
    found: dict[tuple[int, str], ConsentNotice | None] = {}
    for consent in rows:
        key = (consent.register_id, consent.purpose)
        if consent.in_force and key not in found:
            found[key] = rights_selectors.notice_in_force(
                register=consent.register, kind=ConsentNotice.Kind.WITHDRAWAL, purpose=consent.purpose
            )
        consent.withdrawal_notice = found.get(key)
    return rows


def objection_notices(*, identity: SubjectIdentity) -> list[ConsentNotice]:
    """The objection notices in force of every customer register an objection on the "my data" pages reaches: those
    of the controllers that hold a record linked to the person (selfservice.services.marketing_objection_from_my_data).
    """
    organisations = linked_customers(identity=identity).values("register__organisation_id")
    registers = Register.objects.filter(organisation_id__in=organisations, kind=Register.Kind.CUSTOMER).order_by(
        "organisation__name_fi", "name_fi"
    )
    notices = []
    for register in registers:
        notice = rights_selectors.notice_in_force(
            register=register, kind=ConsentNotice.Kind.OBJECTION, purpose=ObjectionRecord.Purpose.DIRECT_MARKETING
        )
        if notice is not None:
            notice.register = register  # the page names each one's register: no query per notice
            notices.append(notice)
    return notices


def consent_get(*, identity: SubjectIdentity, code) -> ConsentRecord:
    consent = consents(identity=identity).filter(code=code).first()
    if consent is None:
        raise Http404
    return consent


def pending_link_count(*, identity: SubjectIdentity) -> int:
    return identity.links.filter(state=IdentityLink.State.PROPOSED).count()


def my_requests(*, identity: SubjectIdentity) -> QuerySet[DataSubjectRequest]:
    ids = IdentifiedRequest.objects.filter(identity=identity).values("request_id")
    return (
        DataSubjectRequest.objects.filter(pk__in=ids)
        .select_related("organisation")
        .prefetch_related("registers")
        .order_by("-received_at", "-pk")
    )


def my_request_get(*, identity: SubjectIdentity, code) -> DataSubjectRequest:
    dsr = my_requests(identity=identity).filter(code=code).first()
    if dsr is None:
        raise Http404
    return dsr


def downloadable_answer(*, request: DataSubjectRequest):
    """The approved answer of an access request whose download time has not ended, or None."""
    if request.state not in (DataSubjectRequest.State.RESPONDED, DataSubjectRequest.State.CLOSED):
        return None
    return (
        request.packages.filter(released_at__isnull=False, expires_at__gt=timezone.now(), files_deleted_at__isnull=True)
        .order_by("-generated_at")
        .first()
    )


def _handled_register_ids(user) -> set[int]:
    return set(register_ids(user=user, perms=(roles.HANDLE_REQUESTS,)))


def link_queue(*, user) -> QuerySet[IdentityLink]:
    """The links waiting for a handler, in the registers where the user handles requests."""
    return (
        IdentityLink.objects.filter(state=IdentityLink.State.PROPOSED, register_id__in=_handled_register_ids(user))
        .select_related("identity", "register", "customer")
        .order_by("created_at", "pk")
    )


def link_get_for_user(*, user, pk: int) -> IdentityLink:
    link = link_queue(user=user).filter(pk=pk).first()
    if link is None:
        raise Http404
    return link
