"""A person asks to be erased; an open invoice keeps what the claim needs of one record (name, address, the invoice)
and everything else goes. A handler computes the plan, an owner reviews and executes it, the owner is told what
happened, and the letter explains what was erased, what was kept, why, and how to complain (PRIVACY.md "Erasure and
its exceptions", "Refusal")."""

import pytest
from django.utils import translation
from django.utils.translation import gettext

from crm.models import Customer, Interaction, Invoice
from privacy.requests.models import DataSubjectRequest
from privacy.rights import erasure
from registers.models import Role

from ..conftest import grant
from ..factories import InteractionFactory, InvoiceFactory, PersonCustomerFactory, RegisterFactory
from ..privacy import rights_steps

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# What the approver is told (privacy.views_rights.erasure_execute), compared in the page's language.
TOLD_IN_PART = (
    "The erasure was executed in part: %(erased)s records were erased, %(minimised)s kept with only the "
    "data their ground needs and %(kept)s kept whole. The letter tells the person what was kept and why."
)


def test_an_erasure_blocked_in_part_by_an_open_invoice_is_walked_to_its_letter(
    page, live_server, sign_in, register_a, handler_a, owner_a
):
    events = RegisterFactory(organisation=register_a.organisation, slug="tapahtumat", name_fi="Tapahtumarekisteri")
    grant(handler_a, events, Role.HANDLER)
    grant(owner_a, events, Role.OWNER)
    billed = PersonCustomerFactory(
        register=register_a,
        first_name="Eeva",
        last_name="Laskullinen",
        street_address="Kauppakatu 3",
        city="Oulu",
        email="eeva.laskullinen@example.fi",
        mobile="+358401234567",
    )
    invoice = InvoiceFactory(customer=billed, number="L-2026-17", status=Invoice.Status.OPEN)
    reminder = InteractionFactory(customer=billed, subject="Maksumuistutus", text="Lupasi maksaa kuun lopussa")
    attendee = PersonCustomerFactory(register=events, first_name="Eeva", last_name="Laskullinen")
    InteractionFactory(customer=attendee, subject="Messukäynti")
    request = rights_steps.in_progress(
        [register_a, events], handler_a, kind=DataSubjectRequest.Kind.ERASURE, records=[billed, attendee]
    )
    rights = f"{live_server.url}/privacy/requests/{request.code}/rights/"

    # The handler computes the plan: a dry run, nothing is erased yet.
    sign_in(handler_a)
    page.goto(f"{live_server.url}/privacy/requests/{request.code}/")
    page.locator(f"a[href='/privacy/requests/{request.code}/rights/']").click()
    page.wait_for_load_state()
    page.locator("form[action$='/erasure/plan/'] button").click()
    page.wait_for_load_state()
    plan = page.locator("#erasure-plan")
    kept = plan.locator("tr.plan-minimise")
    assert "Eeva Laskullinen" in kept.inner_text()
    assert "avoin lasku" in kept.inner_text()
    deleted = " ".join(plan.locator("tr.plan-delete").all_inner_texts())
    assert "Eeva Laskullinen" in deleted  # the attendee in the other register
    assert "Maksumuistutus" in deleted  # the billed customer's interaction
    assert Customer.objects.filter(pk=attendee.pk).exists()
    page.locator("form[action$='/rights/prepare/'] button").click()
    page.wait_for_load_state()

    # The owner, who did not prepare it, reviews the plan and executes it with an explanation.
    page.context.clear_cookies()
    sign_in(owner_a)
    page.goto(rights)
    assert page.locator("#erasure-plan tr.plan-minimise").count() == 1  # the customer, cut to the claim's data
    assert page.locator("#erasure-plan tr.plan-keep").count() == 1  # its open invoice
    page.locator("form[action$='/erasure/execute/'] textarea[name=text]").fill(
        "Avoin laskusi L-2026-17 on vielä maksamatta, joten asiakastietosi säilytetään, kunnes lasku on maksettu."
    )
    page.locator("form[action$='/erasure/execute/'] button").click()
    page.wait_for_load_state()

    assert page.locator("#request-state").inner_text() == "osittain evätty"
    counts = erasure.execution_summary(erasure.plan_current(request))
    assert counts == {"erased": 2, "minimised": 1, "kept": 1, "mentions_redacted": 0, "mentions_kept": 0}
    with translation.override("fi"):
        told = gettext(TOLD_IN_PART) % counts
    assert told in page.locator(".messages").inner_text()
    assert not Customer.objects.filter(pk=attendee.pk).exists()
    kept = Customer.objects.get(pk=billed.pk)
    assert (kept.first_name, kept.last_name, kept.street_address, kept.city) == (
        "Eeva",
        "Laskullinen",
        "Kauppakatu 3",
        "Oulu",
    )
    assert (kept.email, str(kept.mobile)) == ("", "")
    assert Invoice.objects.filter(pk=invoice.pk).exists()
    assert not Interaction.objects.filter(pk=reminder.pk).exists()
    page.locator("#letter-link").click()
    page.wait_for_load_state()
    letter = page.content()
    assert "Poistetut tiedot" in letter
    assert "Säilytetyt tiedot ja syy" in letter
    in_part = page.locator("tr.kept-in-part").inner_text()
    with translation.override("fi"):
        erased_labels = [str(Customer._meta.get_field(name).verbose_name) for name in ("email", "mobile")]
        kept_label = str(Customer._meta.get_field("street_address").verbose_name)
    assert all(label in in_part.lower() for label in erased_labels)
    assert kept_label in in_part.lower()
    assert "avoin lasku" in letter
    assert "17 artiklan 3 kohdan e alakohta" in letter
    assert "Avoin laskusi L-2026-17 on vielä maksamatta" in letter
    assert "Tietosuojavaltuutetun toimisto, PL 800, 00531 Helsinki" in letter
    assert "hallinto-oikeuteen" in letter
