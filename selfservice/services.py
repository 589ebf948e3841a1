"""What a signed-in person and the handlers who confirm their links change: one function per action, each in
one transaction and audited (the person acts without a user: auditlog names no actor, the records name the
channel)."""

import datetime

from django.conf import settings
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm import services as crm_services
from crm.models import Customer
from privacy.requests import services as request_services
from privacy.requests.models import DataSubjectRequest, ResponsePackage
from privacy.rights import selectors as rights_selectors
from privacy.rights.consent import consent_withdraw
from privacy.rights.marketing import marketing_objection_by_address
from privacy.rights.models import ConsentNotice, ConsentRecord, ObjectionRecord
from registers import roles
from registers.audit_context import set_actor
from registers.models import Organisation, Register
from registers.selectors import user_can

from .models import IdentifiedRequest, IdentityLink, SubjectIdentity
from .oidc import Identification

ERROR_NOT_STRONG = _("Only strong electronic identification opens your data.")
ERROR_LINK_RIGHTS = _("Only the register's owner or a request handler may decide whose record this is.")
ERROR_LINK_DECIDED = _("This link has already been decided.")
ERROR_NOT_YOURS = _("This is not among your records.")
ERROR_NO_ANSWER = _("The answer cannot be downloaded: it has not been approved, or its download time has ended.")

# How long the link made after a fresh sign-in opens an answer's files.
ANSWER_LINK_SECONDS = 10 * 60
ANSWER_LINK_SALT = "selfservice.answer"


def _name_key(first: str, last: str) -> str:
    return " ".join(f"{first} {last}".casefold().split())


@transaction.atomic
def subject_sign_in_record(*, identification: Identification) -> SubjectIdentity:
    """Keep the person who signed in (their allow-listed attributes) and find the records that are theirs."""
    if not identification.strong:
        raise PermissionDenied(ERROR_NOT_STRONG)
    now = timezone.now()
    attributes = {
        "first_name": identification.first_name,
        "last_name": identification.last_name,
        "email": identification.email,
        "email_verified": identification.email_verified,
        "assurance": identification.assurance,
        "last_signed_in_at": now,
    }
    identity = (
        SubjectIdentity.objects.select_for_update()
        .filter(issuer=identification.issuer, subject=identification.subject)
        .first()
    )
    if identity is None:
        identity = SubjectIdentity(
            issuer=identification.issuer,
            subject=identification.subject,
            profile_id=SubjectIdentity.profile_id_for(identification.issuer, identification.subject),
        )
    for name, value in attributes.items():
        setattr(identity, name, value)
    identity.full_clean(validate_unique=False)
    try:
        with transaction.atomic(), set_actor(None):
            identity.save()
    except IntegrityError:
        # The same person's first sign-in in another tab won the insert: theirs is the row.
        identity = SubjectIdentity.objects.select_for_update().get(
            issuer=identification.issuer, subject=identification.subject
        )
    identity_links_find(identity=identity)
    return identity


def _candidates(identity: SubjectIdentity):
    """The person customers in any customer register that share the profile id, the e-mail or the name."""
    condition = Q(profile_id=identity.profile_id)
    if identity.email:
        condition |= Q(email__iexact=identity.email)
    if identity.first_name and identity.last_name:
        condition |= Q(first_name__iexact=identity.first_name, last_name__iexact=identity.last_name)
    return Customer.objects.filter(condition, kind=Customer.Kind.PERSON, register__kind=Register.Kind.CUSTOMER)


def _matched_on(identity: SubjectIdentity, customer: Customer) -> list[str]:
    matched = []
    if customer.profile_id == identity.profile_id:
        matched.append("profile_id")
    if identity.email and customer.email.casefold() == identity.email.casefold():
        matched.append("email")
    if identity.first_name and _name_key(customer.first_name, customer.last_name) == _name_key(
        identity.first_name, identity.last_name
    ):
        matched.append("name")
    return matched


@transaction.atomic
def identity_links_find(*, identity: SubjectIdentity) -> list[IdentityLink]:
    """Link the records that are certainly the person's; propose the rest to the registers' handlers.

    Certain: the record carries the person's profile id already, or its name and the e-mail address the provider
    verified are exactly the person's and no other record of the register has that name or address. A decided
    link (linked or rejected) is never reopened here.
    """
    known = set(identity.links.values_list("customer_id", flat=True))
    candidates = [c for c in _candidates(identity).select_related("register") if c.pk not in known]
    per_register: dict[int, int] = {}
    for customer in candidates:
        per_register[customer.register_id] = per_register.get(customer.register_id, 0) + 1
    created = []
    for customer in candidates:
        matched = _matched_on(identity, customer)
        basis = ""
        if "profile_id" in matched:
            basis = IdentityLink.Basis.PROFILE
        elif (
            identity.email_verified
            and {"email", "name"} <= set(matched)
            and per_register[customer.register_id] == 1
            and customer.profile_id is None
        ):
            basis = IdentityLink.Basis.EXACT_MATCH
        link = IdentityLink(
            identity=identity,
            customer=customer,
            register=customer.register,
            matched_on=matched,
            state=IdentityLink.State.LINKED if basis else IdentityLink.State.PROPOSED,
            basis=basis,
            decided_at=timezone.now() if basis else None,
        )
        link.full_clean()
        with set_actor(None):
            link.save()
        if basis == IdentityLink.Basis.EXACT_MATCH:
            crm_services.customer_profile_link_by_identification(customer=customer, profile_id=identity.profile_id)
        created.append(link)
    return created


def _decide(*, actor, link: IdentityLink, state: str) -> IdentityLink:
    current = IdentityLink.objects.select_for_update().select_related("identity", "customer").get(pk=link.pk)
    if not user_can(user=actor, register=current.register, perm=roles.HANDLE_REQUESTS):
        raise PermissionDenied(ERROR_LINK_RIGHTS)
    if current.state != IdentityLink.State.PROPOSED:
        raise ValidationError(ERROR_LINK_DECIDED, code="decided")
    current.state = state
    current.basis = IdentityLink.Basis.HANDLER
    current.decided_by = actor
    current.decided_at = timezone.now()
    with set_actor(actor):
        current.save()
    return current


@transaction.atomic
def identity_link_confirm(*, actor, link: IdentityLink) -> IdentityLink:
    """A handler confirms that the record is the identified person's: it shows on their "my data" pages and the
    customer profile's GDPR API finds it by the person's profile id."""
    link = _decide(actor=actor, link=link, state=IdentityLink.State.LINKED)
    crm_services.customer_profile_link(actor=actor, customer=link.customer, profile_id=link.identity.profile_id)
    return link


@transaction.atomic
def identity_link_reject(*, actor, link: IdentityLink) -> IdentityLink:
    """A handler finds that the record is somebody else's: it is never shown to the person nor proposed again."""
    return _decide(actor=actor, link=link, state=IdentityLink.State.REJECTED)


def _linked_customers(identity: SubjectIdentity) -> list[Customer]:
    return list(
        Customer.objects.filter(
            pk__in=identity.links.filter(state=IdentityLink.State.LINKED).values("customer_id")
        ).select_related("register__organisation")
    )


def _notices_shown(codes, *, kind: str, purpose: str, language: str) -> dict[int, tuple[ConsentNotice, str]]:
    """{register pk: (notice, language shown)} of the notices the page says it showed, in the page's language or the
    language the notice fell back to."""
    found = rights_selectors.notices_shown(codes=codes, kind=kind, purpose=purpose)
    return {register_id: (notice, notice.text_in("text", language)[1]) for register_id, notice in found.items()}


@transaction.atomic
def marketing_objection_from_my_data(
    *, identity: SubjectIdentity, assurance: str, notice_codes=(), language: str = ""
) -> list[ObjectionRecord]:
    """The person objects to direct marketing (GDPR 21(3)): at once, in every customer register of every
    controller that holds a record of theirs, their linked records and every record with their addresses.

    `notice_codes` name the objection notices the page showed, in `language`; each record names its register's.
    """
    evidence = {"profile_id": str(identity.profile_id), "assurance": assurance, "issuer": identity.issuer}
    notices = _notices_shown(
        notice_codes,
        kind=ConsentNotice.Kind.OBJECTION,
        purpose=ObjectionRecord.Purpose.DIRECT_MARKETING,
        language=language,
    )
    now = timezone.now()
    records = []
    organisations: dict[int, Organisation] = {}
    addresses = {identity.email.casefold()} if identity.email else set()
    for customer in _linked_customers(identity):
        organisations[customer.register.organisation_id] = customer.register.organisation
        if customer.email:
            addresses.add(customer.email.casefold())
        if customer.marketing_objection:
            continue
        crm_services.customer_marketing_objection_set(actor=None, customer=customer)
        notice, shown_in = notices.get(customer.register_id, (None, ""))
        record = ObjectionRecord(
            customer=customer,
            register=customer.register,
            purpose=ObjectionRecord.Purpose.DIRECT_MARKETING,
            given_at=now,
            channel=ConsentRecord.Channel.MY_DATA,
            evidence=evidence,
            notice=notice,
            notice_language=shown_in,
        )
        record.full_clean()
        record.save()
        records.append(record)
    for organisation in organisations.values():
        for address in sorted(addresses):
            records += marketing_objection_by_address(
                organisation=organisation,
                email=address,
                evidence=evidence,
                channel=ConsentRecord.Channel.MY_DATA,
                notices=notices,
            )
    return records


@transaction.atomic
def consent_withdraw_from_my_data(
    *, identity: SubjectIdentity, consent: ConsentRecord, notice_code="", language: str = ""
) -> ConsentRecord:
    """The person withdraws a consent of theirs on the "my data" pages, after the withdrawal notice the page showed
    (`notice_code`, in `language`), if the register has one."""
    if consent.customer_id not in {c.pk for c in _linked_customers(identity)}:
        raise PermissionDenied(ERROR_NOT_YOURS)
    notice = rights_selectors.notice_shown(
        register_id=consent.register_id, kind=ConsentNotice.Kind.WITHDRAWAL, purpose=consent.purpose, code=notice_code
    )
    return consent_withdraw(
        consent=consent,
        actor=None,
        channel=ConsentRecord.Channel.MY_DATA,
        notice=notice,
        language=notice.text_in("text", language)[1] if notice else "",
    )


@transaction.atomic
def identified_request_file(
    *,
    identity: SubjectIdentity,
    assurance: str,
    organisation: Organisation,
    registers: list[Register],
    all_registers: bool,
    data: dict,
) -> DataSubjectRequest:
    """File a request as the signed-in person: identified already, in triage at once, theirs to follow."""
    request = request_services.request_record_identified(
        organisation=organisation,
        registers=registers,
        all_registers=all_registers,
        data={
            **data,
            "requester_name": identity.display_name if identity.first_name or identity.last_name else "-",
            "requester_email": identity.email,
        },
        assurance=assurance,
    )
    IdentifiedRequest.objects.create(
        identity=identity, request=request, assurance=assurance, identified_at=timezone.now()
    )
    return request


def answer_link_make(*, identity: SubjectIdentity, package: ResponsePackage) -> str:
    """The token of a link that opens one answer's files to this person for ANSWER_LINK_SECONDS."""
    return signing.dumps({"i": identity.pk, "p": str(package.code)}, salt=ANSWER_LINK_SALT)


def answer_by_link(*, identity: SubjectIdentity, token: str) -> ResponsePackage:
    """The answer a link opens, if the link is this person's, fresh, and the answer still downloadable."""
    try:
        data = signing.loads(token, salt=ANSWER_LINK_SALT, max_age=ANSWER_LINK_SECONDS)
    except signing.BadSignature:
        raise PermissionDenied(ERROR_NO_ANSWER) from None
    if not isinstance(data, dict) or data.get("i") != identity.pk:
        raise PermissionDenied(ERROR_NO_ANSWER)
    package = (
        ResponsePackage.objects.filter(
            code=data.get("p"),
            request__in=identity.requests.values("request_id"),
            expires_at__gt=timezone.now(),
            files_deleted_at__isnull=True,
        )
        .select_related("request")
        .first()
    )
    if package is None:
        raise PermissionDenied(ERROR_NO_ANSWER)
    return package


@transaction.atomic
def identities_forget(*, now=None) -> int:
    """Forget the people who have not signed in for SUBJECT_IDENTITY_RETENTION_DAYS and have no open request:
    their name and address as the provider gave them, and their links (a record's profile id stays the record's).
    Return how many were forgotten."""
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(days=settings.SUBJECT_IDENTITY_RETENTION_DAYS)
    open_states = [*DataSubjectRequest.OPEN_STATES, DataSubjectRequest.State.RECEIVED]
    waiting = IdentifiedRequest.objects.filter(request__state__in=open_states).values("identity_id")
    stale = SubjectIdentity.objects.filter(last_signed_in_at__lt=cutoff).exclude(pk__in=waiting)
    count = 0
    for identity in stale.select_for_update():
        with set_actor(None):
            identity.delete()
        count += 1
    return count
