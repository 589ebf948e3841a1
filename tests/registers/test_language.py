"""The language switcher remembers each user's choice across sessions and browsers; dates follow the language."""

import datetime

import pytest
from django import forms
from django.test import Client
from django.urls import reverse
from django.utils import translation

from registers.forms import DateInput
from registers.models import UserProfile

pytestmark = pytest.mark.django_db


def switch(client, language, next_url="/"):
    return client.post(reverse("set_language"), {"language": language, "next": next_url})


def page_language(client, url="/") -> str:
    return client.get(url)["Content-Language"]


def test_a_signed_in_users_choice_is_stored_and_applies_at_once(client, staff_a):
    client.force_login(staff_a)
    response = switch(client, "sv")
    assert response.status_code == 302
    assert UserProfile.objects.get(user=staff_a).language == "sv"
    assert page_language(client) == "sv"


def test_the_choice_follows_the_user_to_another_browser(client, staff_a):
    client.force_login(staff_a)
    switch(client, "sv")
    other_browser = Client()
    other_browser.force_login(staff_a)
    assert page_language(other_browser) == "sv"
    assert 'lang="sv"' in other_browser.get("/").content.decode()


def test_another_user_of_the_same_browser_gets_their_own_language(client, staff_a, readonly_a):
    client.force_login(staff_a)
    switch(client, "sv")
    client.post(reverse("logout"))
    client.force_login(readonly_a)
    switch(client, "en")
    client.post(reverse("logout"))
    client.force_login(staff_a)
    assert page_language(client) == "sv"
    # The cookie follows too, so the page after signing out stays in the user's language.
    assert client.cookies["django_language"].value == "sv"


def test_a_user_without_a_choice_gets_the_default_language(client, staff_a):
    client.force_login(staff_a)
    assert page_language(client) == "fi"
    assert not UserProfile.objects.exists()


def test_an_unknown_language_is_ignored(client, staff_a):
    client.force_login(staff_a)
    switch(client, "xx")
    assert not UserProfile.objects.exists()
    assert page_language(client) == "fi"


def test_visitors_who_are_not_signed_in_can_switch_for_the_sign_in_page(client):
    switch(client, "en", next_url=reverse("login"))
    assert page_language(client, reverse("login")) == "en"
    assert not UserProfile.objects.exists()


def test_switching_needs_post(client, staff_a):
    client.force_login(staff_a)
    assert client.get(reverse("set_language") + "?language=sv").status_code == 405


@pytest.mark.parametrize("language", ["fi", "sv", "en"])
def test_a_date_picker_holds_an_iso_value_in_every_language(language):
    class PeriodForm(forms.Form):
        day = forms.DateField(widget=DateInput)

    with translation.override(language):
        html = str(PeriodForm(initial={"day": datetime.date(2026, 11, 30)})["day"])
    assert 'value="2026-11-30"' in html
