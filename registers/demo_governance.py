"""Demo data of access governance: a commitment per organisation and reviews to look at.

Loaded by `manage.py load_demo` after the demo users exist. Idempotent: a
second run finds everything in place and changes nothing.
"""

import datetime

from django.utils import timezone

from . import access_review, accounts
from .models import AccessReviewItem, ConfidentialityCommitment, Organisation, Register

COMMITMENT = {
    "text_fi": (
        "Sitoudun pitämään salassa kaikki rekisterin tiedot, joita käsittelen tehtävissäni, myös "
        "tehtävien päätyttyä. Käytän tietoja vain tehtäviin, joita varten käyttöoikeus on myönnetty, "
        "enkä luovuta tunnustani tai tietoja muille. Tiedän, että käyttöäni valvotaan ja kirjataan."
    ),
    "text_sv": (
        "Jag förbinder mig att hålla alla uppgifter i registret som jag behandlar i mitt arbete "
        "hemliga, även efter att uppdraget upphört. Jag använder uppgifterna endast för de uppgifter "
        "som behörigheten beviljats för och lämnar inte ut mitt användarnamn eller uppgifter till andra. "
        "Jag vet att min användning övervakas och loggas."
    ),
    "text_en": (
        "I undertake to keep confidential all register data I handle in my work, also after the work "
        "has ended. I use the data only for the tasks my access was granted for and never hand over my "
        "username or the data to others. I know that my use is monitored and logged."
    ),
}
# These demo users have already accepted; the others meet the commitment at their first sign-in.
ACCEPTED_BY = ["hki.tourism.staff", "hki.development.staff", "naantali.staff", "naantali.owner"]


def load(*, main_user, users: dict) -> None:
    """Publish the commitments and open one overdue and one completed access review."""
    for organisation in Organisation.objects.all():
        if not ConfidentialityCommitment.objects.filter(organisation=organisation).exists():
            accounts.commitment_publish(actor=main_user, organisation=organisation, **COMMITMENT)
    for username in ACCEPTED_BY:
        user = users.get(username)
        for commitment in ConfidentialityCommitment.objects.current():
            if user is not None and user.memberships.filter(register__organisation=commitment.organisation).exists():
                accounts.commitment_accept(user=user, commitment=commitment, remote_addr=None)

    # Kemi: the yearly review opened 40 days ago and is overdue, so the owner's
    # front page and the admin flag it.
    kemi = Register.objects.filter(slug="kemi-vitality-crm").first()
    if kemi is not None and not kemi.access_reviews.exists():
        access_review.access_review_open(register=kemi, now=timezone.now() - datetime.timedelta(days=40))

    # Naantali: a completed review whose PDF evidence can be downloaded.
    naantali = Register.objects.filter(slug="naantali-business-services").first()
    owner = users.get("naantali.owner")
    if naantali is not None and owner is not None and not naantali.access_reviews.exists():
        review = access_review.access_review_open(register=naantali, actor=owner)
        for item in review.items.all():
            access_review.access_review_item_decide(
                item=item,
                decision=AccessReviewItem.Decision.KEEP,
                reason="Tehtävät jatkuvat",
                # Nobody decides on their own access: the main user keeps the owner's.
                actor=main_user if item.user_id == owner.pk else owner,
            )
        access_review.access_review_complete(review=review, actor=owner)
