"""The access answer (GDPR 15) carries the person's follow-ups, open and done, beside the interactions, and the
labels (tags) the register put on them; a colleague's name and another contact person's stay out."""

import datetime
import json

import pytest
from django.utils import timezone

from crm.models import ContactPersonTag, CustomerTag, Tag
from followups import services as followup_services
from privacy.requests import services
from privacy.requests.models import Redaction

from ..factories import ContactPersonFactory, CustomerFactory, PersonCustomerFactory
from . import steps

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_media")]

TODAY = timezone.localdate()


def text_of(field) -> str:
    field.open("rb")
    try:
        return field.read().decode()
    finally:
        field.close()


def package_for(register, handler, records):
    request = steps.in_progress(register, handler, language="en")
    steps.checked(request, handler, register, records)
    package = services.package_build(request=request, actor=handler)
    return package, json.loads(text_of(package.json)), text_of(package.html)


def tag(register, name) -> Tag:
    return Tag.objects.create(register=register, name=name)


def test_open_and_done_follow_ups_and_tags_are_in_the_answer(register_a, handler_a, staff_a):
    staff_a.last_name = "Sihteerinen"
    staff_a.save()
    person = PersonCustomerFactory(register=register_a, first_name="Sanna", last_name="Selvä")
    open_one = followup_services.followup_create(
        actor=staff_a,
        customer=person,
        assignee=staff_a,
        due_on=TODAY + datetime.timedelta(days=3),
        note="Lähetä esite kevään kursseista",
    )
    done = followup_services.followup_create(
        actor=staff_a, customer=person, assignee=staff_a, due_on=TODAY, note="Soita avustuksesta"
    )
    followup_services.followup_done(actor=staff_a, followup=done)
    CustomerTag.objects.create(tag=tag(register_a, "Tapahtuma 2027"), customer=person)
    other = PersonCustomerFactory(register=register_a)
    followup_services.followup_create(
        actor=staff_a, customer=other, assignee=staff_a, due_on=TODAY, note="Toisen ihmisen asia"
    )
    CustomerTag.objects.create(tag=tag(register_a, "Toisen tunniste"), customer=other)

    package, content, html = package_for(register_a, handler_a, [person])

    [record] = content["registers"][0]["records"]
    assert [row["note"] for row in record["followups"]] == [done.note, open_one.note]
    assert record["followups"][0]["done"]
    assert record["followups"][1]["done"] == ""
    assert {"name": "tags", "label": "tags", "value": "Tapahtuma 2027"} in record["fields"]
    for text in (text_of(package.json), html):
        assert "Lähetä esite kevään kursseista" in text
        assert "Soita avustuksesta" in text
        assert "Tapahtuma 2027" in text
        assert "Toisen ihmisen asia" not in text
        assert "Toisen tunniste" not in text
        assert "Sihteerinen" not in text
    assert "Follow-ups" in html
    assert package.record_count == 3  # the customer and its two follow-ups


def test_a_contact_person_gets_their_own_follow_ups_and_tags_not_a_colleagues(register_a, handler_a, staff_a):
    company = CustomerFactory(register=register_a, organisation_name="Rantakioski Oy")
    me = ContactPersonFactory(customer=company, first_name="Sanna", last_name="Selvä")
    colleague = ContactPersonFactory(customer=company, first_name="Kalle", last_name="Kollega")
    mine = followup_services.followup_create(
        actor=staff_a, customer=company, assignee=staff_a, due_on=TODAY, note="Sannan tarjous", contact_person=me
    )
    followup_services.followup_create(
        actor=staff_a, customer=company, assignee=staff_a, due_on=TODAY, note="Kallen asia", contact_person=colleague
    )
    ContactPersonTag.objects.create(tag=tag(register_a, "Vientineuvonta"), contact_person=me)
    ContactPersonTag.objects.create(tag=tag(register_a, "Kallen tunniste"), contact_person=colleague)

    package, content, html = package_for(register_a, handler_a, [me])

    [record] = content["registers"][0]["records"]
    assert record["type"] == "contact_person"
    assert [row["note"] for row in record["followups"]] == [mine.note]
    for text in (text_of(package.json), html):
        assert "Sannan tarjous" in text
        assert "Vientineuvonta" in text
        assert "Kallen asia" not in text
        assert "Kallen tunniste" not in text


def test_an_organisations_follow_up_about_another_contact_person_withholds_the_name(register_a, handler_a, staff_a):
    company = CustomerFactory(register=register_a, organisation_name="Rantakioski Oy")
    me = ContactPersonFactory(customer=company, first_name="Sanna", last_name="Selvä")
    colleague = ContactPersonFactory(customer=company, first_name="Kalle", last_name="Kollega")
    ContactPersonTag.objects.create(tag=tag(register_a, "Kallen tunniste"), contact_person=colleague)
    ContactPersonTag.objects.create(tag=tag(register_a, "Sannan tunniste"), contact_person=me)
    about_kalle = followup_services.followup_create(
        actor=staff_a, customer=company, assignee=staff_a, due_on=TODAY, note="Yrityksen asia", contact_person=colleague
    )

    package, content, html = package_for(register_a, handler_a, [company, me])

    customer_record = next(r for r in content["registers"][0]["records"] if r["type"] == "customer")
    [row] = customer_record["followups"]
    assert row["note"] == "Yrityksen asia"
    assert "withheld" in row["contact_person"]
    for text in (text_of(package.json), html):
        assert "Kollega" not in text
        assert "Kallen tunniste" not in text
        assert "Sannan tunniste" in text
    items = set(Redaction.objects.filter(package=package).values_list("item", flat=True))
    assert f"followup:{about_kalle.code}:contact_person" in items


def test_a_customer_without_follow_ups_or_tags_has_none_listed(register_a, handler_a):
    person = PersonCustomerFactory(register=register_a)
    _package, content, html = package_for(register_a, handler_a, [person])
    [record] = content["registers"][0]["records"]
    assert record["followups"] == []
    assert all(field["name"] != "tags" for field in record["fields"])
    assert "Follow-ups" not in html
