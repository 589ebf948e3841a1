"""Demo data of privacy work: a handler's ordinary day of data-subject requests, consents and disclosures, and the
notice texts the consents were given after (fi, sv, en).

Loaded by `manage.py load_demo_privacy`, which `load_demo` runs last (crm does not import privacy).
Everything goes through the real services, so each request's events, deadlines
and letters are those a handler would have produced: a request recorded today
with the date the letter arrived gets the deadlines counted from that date.

Idempotent: once the demo controllers have a request, nothing is loaded again.
"""

import datetime

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError
from django.db import transaction
from django.utils import timezone

from crm.models import Customer
from registers.models import Register

from .requests import services as request_services
from .requests.models import DataSubjectRequest
from .requests.workflow import request_transition
from .rights import consent, disclosures, notices
from .rights.models import ConsentNotice, ConsentRecord, Disclosure, ObjectionRecord

Kind = DataSubjectRequest.Kind
Channel = DataSubjectRequest.Channel
State = DataSubjectRequest.State
Identity = DataSubjectRequest.IdentityMethod

TOURISM = "helsinki-tourism-convention"
COMPANY = "company-customer-register"
# register slug: (handler, owner) usernames of load_demo's users.
PEOPLE = {TOURISM: ("hki.tourism.handler", "hki.owner"), COMPANY: ("company.handler", "company.owner")}
STAFF = {TOURISM: "hki.tourism.staff", COMPANY: "company.staff"}


def _persons(register: Register) -> list[Customer]:
    # In the order load_demo created them, so every load picks the same people.
    return list(
        Customer.objects.filter(register=register, kind=Customer.Kind.PERSON, marketing_objection=False).order_by("pk")
    )


def _days_ago(days: int) -> datetime.date:
    return timezone.localdate() - datetime.timedelta(days=days)


def _intake(handler, register, customer: Customer | None, *, days_ago: int, **data) -> DataSubjectRequest:
    """Record a request as the handler does from a letter, call or visit received `days_ago` days ago."""
    person = {}
    if customer is not None:
        address = f"{customer.street_address}\n{customer.postal_code} {customer.city}".strip()
        person = {"requester_name": f"{customer.first_name} {customer.last_name}", "requester_address": address}
    return request_services.request_intake(
        actor=handler,
        registers=[register],
        data={
            "language": "fi",
            "delivery": DataSubjectRequest.Delivery.POST,
            **person,
            **data,
            "received_on": _days_ago(days_ago),
        },
    )


def _checked(request: DataSubjectRequest, handler, register, customer: Customer) -> DataSubjectRequest:
    """Start the work and confirm which record of the register is the person's."""
    request = request_transition(request=request, to=State.IN_PROGRESS, actor=handler)
    request_services.subject_matches_confirm(
        request=request, actor=handler, register=register, records=[f"customer:{customer.code}"]
    )
    return request


def _tourism_requests(register: Register, handler, owner, people: list[Customer]) -> None:
    # Received three days ago by post and identified from the signed letter: waiting to be started.
    _intake(
        handler,
        register,
        people[0],
        days_ago=3,
        kind=Kind.ACCESS,
        channel=Channel.POST,
        identity_method=Identity.SIGNED_LETTER,
        identity_note="Allekirjoitettu kirje, osoite sama kuin rekisterissä.",
    )
    # By e-mail nine days ago: in progress, past the one-week promise of the register.
    late = _intake(
        handler,
        register,
        people[1],
        days_ago=9,
        kind=Kind.ACCESS,
        channel=Channel.EMAIL,
        requester_email=people[1].email,
        delivery=DataSubjectRequest.Delivery.ELECTRONIC,
        identity_method=Identity.KNOWN_EMAIL,
        identity_note="Lähetetty rekisterissä olevasta osoitteesta.",
    )
    _checked(late, handler, register, people[1])
    # A visit five days ago: the answer is prepared and waits for the owner's approval.
    waiting = _intake(
        handler,
        register,
        people[2],
        days_ago=5,
        kind=Kind.ACCESS,
        channel=Channel.IN_PERSON,
        delivery=DataSubjectRequest.Delivery.IN_PERSON,
        identity_method=Identity.IN_PERSON_ID,
        identity_note="Ajokortti",
    )
    request_services.request_prepare(request=_checked(waiting, handler, register, people[2]), actor=handler)
    # Answered: prepared by the handler, approved by the owner (four eyes).
    answered = _intake(
        handler,
        register,
        people[3],
        days_ago=6,
        kind=Kind.ACCESS,
        channel=Channel.IN_PERSON,
        delivery=DataSubjectRequest.Delivery.IN_PERSON,
        identity_method=Identity.IN_PERSON_ID,
        identity_note="Passi",
    )
    answered = request_services.request_prepare(request=_checked(answered, handler, register, people[3]), actor=handler)
    request_services.request_approve(request=answered, actor=owner)
    # A call yesterday: the objection is recorded, the caller's identity is still to be checked.
    _intake(
        handler,
        register,
        people[4],
        days_ago=1,
        kind=Kind.OBJECTION,
        channel=Channel.PHONE,
        requester_phone=people[4].mobile,
        details="Ei halua enää kutsuja matkamessuille.",
    )


def _company_requests(register: Register, handler, people: list[Customer]) -> None:
    # A correction asked by e-mail three days ago; the address is not yet confirmed to be the customer's.
    _intake(
        handler,
        register,
        people[0],
        days_ago=3,
        kind=Kind.RECTIFICATION,
        channel=Channel.EMAIL,
        requester_email=people[0].email,
        correction_what="Postiosoite",
        correction_why="Muutin keväällä, uusi osoite on Rantakatu 12, 94100 Kemi.",
    )
    # An erasure request by letter: on hold while the requester is asked to specify it.
    erasure = _intake(
        handler,
        register,
        people[1],
        days_ago=15,
        kind=Kind.ERASURE,
        channel=Channel.POST,
        requester_email=people[1].email,
        identity_method=Identity.SIGNED_LETTER,
        details="Poistakaa kaikki tietoni.",
    )
    question = "Koskeeko pyyntö myös avoinna olevaa laskua? Lasku on maksettava ennen kuin tiedot voidaan poistaa."
    request_services.request_ask_for_information(request=erasure, actor=handler, message=question)
    request_transition(
        request=erasure, to=State.ON_HOLD, actor=handler, reason="Odotetaan vastausta tarkennuspyyntöön."
    )
    # Withdrawn by the caller a day after asking.
    called = _intake(
        handler,
        register,
        people[2],
        days_ago=6,
        kind=Kind.ACCESS,
        channel=Channel.PHONE,
        requester_phone=people[2].mobile,
    )
    request_transition(request=called, to=State.WITHDRAWN, actor=handler, reason="Asiakas perui pyynnön puhelimitse.")


# The notice texts of the demo's consent purposes, withdrawal and objection, in the three languages the city serves.
# `{controller}` is the register's controller.
NOTICES = {
    (ConsentNotice.Kind.CONSENT, ConsentRecord.Purpose.NEWSLETTER): {
        "fi": (
            "Suostun siihen, että {controller} lähettää minulle sähköpostiini uutiskirjeen tapahtumistaan ja "
            "palveluistaan noin kerran kuukaudessa. Tietojani ei luovuteta muille. Voin perua suostumukseni milloin "
            "tahansa jokaisen uutiskirjeen lopussa olevasta linkistä, Oma data -sivuilla tai ottamalla yhteyttä "
            "asiakaspalveluun. Peruminen ei vaikuta ennen sitä tehtyyn käsittelyyn."
        ),
        "sv": (
            "Jag samtycker till att {controller} skickar mig ett nyhetsbrev om sina evenemang och tjänster till min "
            "e-post ungefär en gång i månaden. Mina uppgifter lämnas inte ut till andra. Jag kan när som helst "
            "återkalla mitt samtycke via länken i slutet av varje nyhetsbrev, på sidorna Mina uppgifter eller genom "
            "att kontakta kundtjänsten. Återkallelsen påverkar inte behandlingen före den."
        ),
        "en": (
            "I agree that {controller} sends me its newsletter on its events and services by e-mail about once a "
            "month. My data is not given to anyone else. I can withdraw my consent at any time through the link at "
            "the end of every newsletter, on the My data pages or by contacting customer service. Withdrawing does "
            "not affect the processing before it."
        ),
    },
    (ConsentNotice.Kind.CONSENT, ConsentRecord.Purpose.DIRECT_MARKETING): {
        "fi": (
            "Suostun siihen, että {controller} lähettää minulle suoramarkkinointia (tarjouksia ja kutsuja "
            "tilaisuuksiin) sähköpostitse, tekstiviestillä tai kirjeellä. Käytämme siihen nimeäsi ja "
            "yhteystietojasi. Voit perua suostumuksesi milloin tahansa; suoramarkkinointi lakkaa heti."
        ),
        "sv": (
            "Jag samtycker till att {controller} skickar mig direktmarknadsföring (erbjudanden och inbjudningar "
            "till evenemang) per e-post, sms eller brev. Vi använder ditt namn och dina kontaktuppgifter för det. "
            "Du kan när som helst återkalla ditt samtycke; direktmarknadsföringen upphör genast."
        ),
        "en": (
            "I agree that {controller} sends me direct marketing (offers and invitations to events) by e-mail, text "
            "message or letter. Your name and contact details are used for it. You can withdraw your consent at any "
            "time; the direct marketing stops at once."
        ),
    },
    (ConsentNotice.Kind.CONSENT, ConsentRecord.Purpose.RESEARCH): {
        "fi": (
            "Suostun siihen, että {controller} voi pyytää minua vastaamaan asiakastyytyväisyys- ja "
            "mielipidetutkimuksiin. Vastaukset käsitellään niin, ettei yksittäistä vastaajaa voi tunnistaa "
            "tuloksista. Voin perua suostumukseni milloin tahansa."
        ),
        "sv": (
            "Jag samtycker till att {controller} kan be mig svara på kundnöjdhets- och opinionsundersökningar. "
            "Svaren behandlas så att enskilda svarande inte kan identifieras i resultaten. Jag kan när som helst "
            "återkalla mitt samtycke."
        ),
        "en": (
            "I agree that {controller} may ask me to answer customer satisfaction and opinion surveys. The answers "
            "are processed so that no single respondent can be identified from the results. I can withdraw my "
            "consent at any time."
        ),
    },
    (ConsentNotice.Kind.WITHDRAWAL, ConsentRecord.Purpose.NEWSLETTER): {
        "fi": (
            "Kun perut suostumuksesi, uutiskirjeen lähettäminen sinulle lakkaa heti. Peruminen ei vaikuta ennen "
            "sitä tehtyyn käsittelyyn, eikä se poista muita tietojasi asiakasrekisteristä. Voit antaa suostumuksen "
            "myöhemmin uudelleen."
        ),
        "sv": (
            "När du återkallar ditt samtycke slutar vi genast skicka nyhetsbrevet till dig. Återkallelsen påverkar "
            "inte behandlingen före den och raderar inte dina övriga uppgifter i kundregistret. Du kan ge ditt "
            "samtycke på nytt senare."
        ),
        "en": (
            "When you withdraw your consent, the newsletter stops at once. Withdrawing does not affect the "
            "processing before it, and it does not erase your other data in the customer register. You can give "
            "your consent again later."
        ),
    },
    (ConsentNotice.Kind.OBJECTION, ObjectionRecord.Purpose.DIRECT_MARKETING): {
        "fi": (
            "Sinulla on oikeus kieltää henkilötietojesi käyttö suoramarkkinointiin (tietosuoja-asetuksen 21 "
            "artikla). Kielto tulee voimaan heti, eikä {controller} sen jälkeen lähetä sinulle markkinointia eikä "
            "luovuta tietojasi markkinointiin. Kielto ei estä muuta asiointia kanssamme."
        ),
        "sv": (
            "Du har rätt att förbjuda att dina personuppgifter används för direktmarknadsföring (artikel 21 i "
            "dataskyddsförordningen). Förbudet träder i kraft genast, och {controller} skickar därefter ingen "
            "marknadsföring till dig och lämnar inte ut dina uppgifter för marknadsföring. Förbudet hindrar inte "
            "annan kontakt med oss."
        ),
        "en": (
            "You have the right to object to the use of your personal data for direct marketing (Article 21 of the "
            "General Data Protection Regulation). The objection takes effect at once: {controller} then sends you no "
            "marketing and gives your data to no one for marketing. It does not prevent any other dealings with us."
        ),
    },
}


def _notices(register: Register, owner) -> None:
    controller = register.organisation.name
    for (kind, purpose), texts in NOTICES.items():
        notices.consent_notice_create(
            actor=owner,
            register=register,
            kind=kind,
            purpose=purpose,
            version=f"{timezone.localdate().year}-1",
            valid_from=timezone.localdate(),
            **{f"text_{code}": text.format(controller=controller) for code, text in texts.items()},
        )


def _consents(register: Register, staff, people: list[Customer]) -> None:
    purposes = [
        (ConsentRecord.Purpose.NEWSLETTER, ConsentRecord.Channel.EMAIL),
        (ConsentRecord.Purpose.DIRECT_MARKETING, ConsentRecord.Channel.IN_PERSON),
        (ConsentRecord.Purpose.RESEARCH, ConsentRecord.Channel.PHONE),
    ]
    given = []
    for index, customer in enumerate(people[5:11]):
        purpose, channel = purposes[index % len(purposes)]
        notice = ConsentNotice.objects.filter(register=register, kind=ConsentNotice.Kind.CONSENT, purpose=purpose)
        notice = notice.in_force().first()
        # Read out in the customer's language, as staff do (Finnish when the record names none of the three).
        language = customer.language if customer.language in notice.languages else "fi"
        given.append(
            consent.consent_give(
                actor=staff, customer=customer, purpose=purpose, channel=channel, notice=notice, language=language
            )
        )
    # One newsletter subscriber has since used the withdrawal link of a newsletter, after its withdrawal notice.
    withdrawal = ConsentNotice.objects.filter(
        register=register, kind=ConsentNotice.Kind.WITHDRAWAL, purpose=given[0].purpose
    ).in_force()
    consent.consent_withdraw(consent=given[0], notice=withdrawal.first(), language=given[0].notice_language)


def _disclosures(register: Register, staff, people: list[Customer], recipients: list[dict]) -> None:
    for customer, data in zip(people, recipients, strict=False):
        days = data.pop("days_ago")
        data["disclosed_at"] = timezone.now() - datetime.timedelta(days=days)
        disclosures.disclosure_record(actor=staff, register=register, customer=customer, data=data)


TOURISM_DISCLOSURES = [
    {
        "recipient": "Kongressipalvelu Esimerkki Oy",
        "recipient_kind": Disclosure.RecipientKind.PARTNER,
        "recipient_contact": "tietosuoja@kongressipalvelu.example.fi",
        "data_description": "Nimi, sähköpostiosoite ja puhelinnumero",
        "legal_basis": "Sopimus: ilmoittautuminen kongressiin",
        "purpose": "Kongressin osallistujaluettelo",
        "days_ago": 40,
    },
    {
        "recipient": "Toimittaja, julkisuuslain mukainen tietopyyntö",
        "recipient_kind": Disclosure.RecipientKind.OPENNESS_ACT,
        "data_description": "Nimi ja tapahtumaan osallistuminen",
        "legal_basis": "Laki 621/1999 16 § 3 mom.",
        "days_ago": 75,
    },
]
COMPANY_DISCLOSURES = [
    {
        "recipient": "Perintä Esimerkki Oy",
        "recipient_kind": Disclosure.RecipientKind.PARTNER,
        "recipient_contact": "asiakaspalvelu@perinta.example.fi",
        "data_description": "Nimi, osoite ja erääntynyt lasku",
        "legal_basis": "Sopimus ja saatavan perintä",
        "purpose": "Erääntyneen laskun perintä",
        "days_ago": 25,
    },
]


def _user(username: str):
    try:
        return get_user_model().objects.get(username=username)
    except get_user_model().DoesNotExist:
        raise CommandError(f"The demo user {username} is missing: run `manage.py load_demo` first.") from None


@transaction.atomic
def load() -> bool:
    """Load the privacy demo once; return whether anything was loaded."""
    registers = {r.slug: r for r in Register.objects.filter(slug__in=PEOPLE)}
    if len(registers) != len(PEOPLE):
        raise CommandError("The demo registers are missing: run `manage.py load_demo` first.")
    # Before the check below, so that a demo loaded before notices were versioned gets them too.
    for slug, (_handler, owner) in PEOPLE.items():
        if not ConsentNotice.objects.filter(register=registers[slug]).exists():
            _notices(registers[slug], _user(owner))
    organisations = {r.organisation_id for r in registers.values()}
    if DataSubjectRequest.objects.filter(organisation__in=organisations).exists():
        return False
    tourism, company = registers[TOURISM], registers[COMPANY]
    tourism_people, company_people = _persons(tourism), _persons(company)
    # The disclosures come first so that the access answers built below list them.
    _disclosures(
        tourism, _user(STAFF[TOURISM]), [tourism_people[3], tourism_people[6]], [*map(dict, TOURISM_DISCLOSURES)]
    )
    _disclosures(company, _user(STAFF[COMPANY]), [company_people[4]], [*map(dict, COMPANY_DISCLOSURES)])
    _consents(tourism, _user(STAFF[TOURISM]), tourism_people)
    _consents(company, _user(STAFF[COMPANY]), company_people)
    handler, owner = (_user(name) for name in PEOPLE[TOURISM])
    _tourism_requests(tourism, handler, owner, tourism_people)
    _company_requests(company, _user(PEOPLE[COMPANY][0]), company_people)
    return True
