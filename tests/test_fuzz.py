"""No input gives a 500 (issue 11, D14): walk every URL pattern with hostile values.

Each view of the project is opened by a user who may use it (a main user with
every role in the register), with objects of that register in the URL. It gets
GET requests with every query parameter the project reads, and POST requests
with every form field, set to values that broke views before: a NUL byte, a
number too big for a database integer, a year-1 date, a non-UUID, a very long
string. Anything but a 500 passes: the point is that bad input is answered.
"""

import ast
import datetime
import importlib
import inspect
import uuid
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django import forms
from django.db import transaction
from django.utils import timezone

from campaigns.models import Campaign, CampaignRecipient
from campaigns.sending import unsubscribe_token
from crm.models import CustomerTag, Interaction, SavedView, Tag
from followups.models import FollowUp
from privacy.requests import services, tokens
from privacy.requests.models import DataSubjectRequest
from privacy.retention import holds
from privacy.rights import consent
from registers.access_review import access_review_open
from registers.models import Register, Role
from registers.services import main_users_group_ensure
from segments.models import BulkAction

from .conftest import TwoFactorClient, grant
from .factories import (
    CallRecordingFactory,
    ContactCentreMessageFactory,
    ContactCentreRegisterFactory,
    ContactPersonFactory,
    CustomerFactory,
    InteractionFactory,
    InvoiceFactory,
    OrderingClientFactory,
    PersonCustomerFactory,
    RegisterFactory,
    UserFactory,
)
from .url_walk import CONVERTER, project_routes

APPS = (
    "archive",
    "campaigns",
    "companies",
    "config",
    "crm",
    "duplicates",
    "followups",
    "imports",
    "privacy",
    "registers",
    "segments",
)
HOSTILE = [
    "\x00",
    "99999999999999999999999",
    "-1",
    "not-a-uuid",
    "x" * 5000,
    "0001-01-01T00:00",
    "9999-12-31",
    "Åsa 🙂 \u202egnp.exe",
    "",
]
# A value that fails a field's own check is covered by the requests that set every field at once; one field at a
# time gets only values that pass the check and reach the code behind the form (dates, integers, long text).
EXTREMES = {
    "date": ["0001-01-01", "9999-12-31"],
    "datetime-local": ["0001-01-01T00:00", "9999-12-31T23:59"],
    "number": ["99999999999999999999999", "-1"],
    "hidden": ["99999999999999999999999", "-1"],
    "text": ["x" * 5000],
    "textarea": ["x" * 5000],
    "email": [],
    "select": [],
    "checkbox": [],
    "radio": [],
}
COMMON_PARAMETERS = {"page", "q", "sort", "register", "customer", "show", "fmt", "format", "next", "kind"}
# The admin's own views come from Django; the project's admin classes are walked by the admin tests.
SKIPPED_PREFIXES = ("admin/",)


ROUTES = sorted(
    {route: view for route, _name, view in project_routes() if not route.startswith(SKIPPED_PREFIXES)}.items()
)


def _project_modules():
    for app in APPS:
        for path in sorted(Path(app).rglob("*.py")):
            if "migrations" in path.parts or "management" in path.parts:
                continue
            yield ".".join(path.with_suffix("").parts).removesuffix(".__init__"), path


def _read_names(tree) -> set[str]:
    """Return the names a module reads from request.GET or request.POST."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in {"get", "getlist"}:
            source, args = node.func.value, node.args
        elif isinstance(node, ast.Subscript):
            source, args = node.value, [node.slice]
        elif isinstance(node, ast.Compare) and isinstance(node.ops[0], ast.In):
            source, args = node.comparators[0], [node.left]
        else:
            continue
        from_request = isinstance(source, ast.Attribute) and source.attr in {"GET", "POST"}
        if from_request and args and isinstance(args[0], ast.Constant) and isinstance(args[0].value, str):
            names.add(args[0].value)
    return names


def _form_fields() -> set[str]:
    """Return the declared fields of every form class of the project, found by introspection.

    Fields a form adds in `__init__` are read from the pages that render the form (`page_forms`).
    """
    names = set()
    for module_name, _path in _project_modules():
        module = importlib.import_module(module_name)
        for _name, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, forms.BaseForm) and cls.__module__.startswith(APPS):
                names.update(getattr(cls, "base_fields", {}))
    return names


READ_NAMES = set().union(*(_read_names(ast.parse(path.read_text())) for _module, path in _project_modules()))
FORM_FIELDS = _form_fields()
PARAMETERS = READ_NAMES | FORM_FIELDS | COMMON_PARAMETERS


def test_the_fuzz_sees_the_project():
    assert len(ROUTES) > 80
    assert {"register", "customer", "page", "name"} <= READ_NAMES
    # The request queue reads its tab through a form.
    assert {"requester_email", "registers", "ends_on", "since", "show"} <= FORM_FIELDS


class FormFields(HTMLParser):
    """Collect the named fields of a page's forms: the values the page fills in, and each field's kind."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []
        self._select = self._textarea = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            method = (attrs.get("method") or "get").lower()
            self.forms.append({"method": method, "action": attrs.get("action"), "data": {}, "kinds": {}, "options": {}})
            return
        if not self.forms:
            return
        if tag == "option" and self._select:
            if "selected" in attrs or self._select not in self._data:
                self._data[self._select] = attrs.get("value", "")
            self.forms[-1]["options"].setdefault(self._select, []).append(attrs.get("value", ""))
            return
        name = attrs.get("name")
        if not name:
            return
        kind = attrs.get("type", "text") if tag == "input" else tag
        if name == "csrfmiddlewaretoken":
            return
        self.forms[-1]["kinds"][name] = kind
        if kind in {"checkbox", "radio"}:
            if "checked" in attrs or (kind == "radio" and name not in self._data):
                self._data[name] = attrs.get("value", "on")
        elif kind == "select":
            self._select = name
        elif kind == "textarea":
            self._textarea = name
            self._data[name] = ""
        elif kind not in {"submit", "button", "file"}:
            self._data[name] = attrs.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea and self.forms:
            self._data[self._textarea] += data

    @property
    def _data(self) -> dict:
        return self.forms[-1]["data"]


# What a user would type into an empty field, so that a new-record form can pass validation
# with one hostile field and reach the service behind it.
PLAUSIBLE = {
    "text": "Testi",
    "textarea": "Testi",
    "email": "testi@example.fi",
    "date": "2024-05-17",
    "datetime-local": "2024-05-17T12:00",
    "number": "1",
}


def page_forms(response, path: str) -> list[dict]:
    """Return the forms of an HTML response that submit to the page itself, empty fields filled in."""
    if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
        return []
    parser = FormFields()
    parser.feed(response.content.decode())
    forms = [form for form in parser.forms if form["action"] in (None, "", path)]
    for form in forms:
        for name, kind in form["kinds"].items():
            if form["data"].get(name):
                continue
            if kind in PLAUSIBLE:
                form["data"][name] = PLAUSIBLE[kind]
            elif kind == "select":
                form["data"][name] = next((value for value in form["options"].get(name, []) if value), "")
    return forms


class World:
    """A register with one of everything, and a main user holding every role in it."""

    def __init__(self):
        actor = UserFactory(username="fuzz_grantor", is_superuser=True)
        self.register = RegisterFactory()
        organisation = self.register.organisation
        self.centre = ContactCentreRegisterFactory(organisation=organisation)
        self.user = UserFactory(username="fuzz_owner", is_staff=True)
        self.user.groups.add(main_users_group_ensure())
        # Signed in with force_login; no password means no slow hashing when the fuzz posts to the password forms.
        self.user.set_unusable_password()
        self.user.save(update_fields=["password"])
        for role in (Role.OWNER, Role.HANDLER, Role.STAFF):
            grant(self.user, self.register, role, actor=actor)
        for role in (Role.OWNER, Role.HANDLER, Role.CONTACT_CENTRE_EXPERT):
            grant(self.user, self.centre, role, actor=actor)
        self.colleague = UserFactory(username="fuzz_colleague")
        self.membership = grant(self.colleague, self.register, Role.STAFF, actor=actor)

        self.customer = CustomerFactory(register=self.register)
        self.contact = ContactPersonFactory(customer=self.customer)
        self.interaction = InteractionFactory(
            customer=self.customer, contact_person=self.contact, kind=Interaction.Kind.MEETING
        )
        InvoiceFactory(customer=self.customer)
        self.person = PersonCustomerFactory(register=self.register)
        self.consent = consent.consent_give(
            actor=self.user, customer=self.person, purpose="mailing_list", channel="web"
        )
        client = OrderingClientFactory(register=self.centre)
        self.message = ContactCentreMessageFactory(ordering_client=client)
        CallRecordingFactory(ordering_client=client)

        self.hold = holds.legal_hold_place(
            actor=self.user,
            register=self.register,
            reason="Oikeudenkäynti",
            ends_on=timezone.localdate() + datetime.timedelta(days=30),
        )
        # The daily work (issue 18): the register allows campaigns, and has one of each of its objects.
        Register.objects.filter(pk=self.register.pk).update(direct_marketing=True)
        self.register.refresh_from_db()
        self.followup = FollowUp.objects.create(
            customer=self.customer, assignee=self.user, due_on=timezone.localdate(), note="Soita"
        )
        self.tag = Tag.objects.create(register=self.register, name="Messut")
        CustomerTag.objects.create(tag=self.tag, customer=self.customer)
        self.saved_view = SavedView.objects.create(register=self.register, owner=self.user, name="Kaikki")
        self.bulk_action = BulkAction.objects.create(
            register=self.register, actor=self.user, kind=BulkAction.Kind.TAG_ADD, state=BulkAction.State.DONE
        )
        self.campaign = Campaign.objects.create(
            register=self.register, name="Uutiskirje", subject_fi="Uutiset", body_fi="Hei", created_by=self.user
        )
        self.recipient = CampaignRecipient.objects.create(
            campaign=self.campaign, customer=self.person, email="vastaanottaja@example.fi", language="fi"
        )
        self.review = access_review_open(register=self.register, actor=self.user)
        self.request = self._request(DataSubjectRequest.Kind.ACCESS)
        self.rights_request = self._request(DataSubjectRequest.Kind.RECTIFICATION)
        match = self.rights_request.matches.first()
        from privacy.rights.rectification import rectification_item_add

        self.item = rectification_item_add(
            request=self.rights_request, actor=self.user, match=match, field="email", requested_value="uusi@example.fi"
        )

    def _request(self, kind):
        from privacy.requests.workflow import request_transition

        data = {
            "kind": kind,
            "requester_name": "Anna Asiakas",
            "requester_email": f"anna.{uuid.uuid4().hex[:8]}@example.fi",
            "language": "fi",
            "delivery": DataSubjectRequest.Delivery.ELECTRONIC,
        }
        request, _created = services.request_submit(
            organisation=self.register.organisation, registers=[self.register], all_registers=False, data=data
        )
        request = services.request_confirm_email(request=request)
        request = services.request_verify_identity(
            request=request, actor=self.user, method=DataSubjectRequest.IdentityMethod.KNOWN_EMAIL
        )
        request = request_transition(request=request, to=DataSubjectRequest.State.IN_PROGRESS, actor=self.user)
        services.subject_matches_confirm(
            request=request, actor=self.user, register=self.register, records=[f"customer:{self.person.code}"]
        )
        return request

    def fill(self, route: str) -> str:
        """Put this world's objects into the URL converters of `route`."""
        archive = "/messages/" in route or "/recordings/" in route
        rights = "/rights/" in route
        request = self.rights_request if rights else self.request
        codes = [
            ("customers/<uuid:code>", self.customer.code),
            ("consents/<slug:register>/<uuid:code>", self.person.code),
            ("requests/<uuid:code>", request.code),
            ("access/<uuid:code>", self.membership.code),
            ("reviews/<uuid:code>", self.review.code),
            ("holds/<uuid:code>", self.hold.code),
            ("messages/<uuid:code>", self.message.code),
            ("tags/<uuid:code>", self.tag.code),
            ("views/<uuid:code>", self.saved_view.code),
            ("bulk/<uuid:code>", self.bulk_action.code),
            ("campaigns/<slug:register>/<uuid:code>", self.campaign.code),
        ]
        values = {
            "register": (self.centre if archive else self.register).slug,
            "slug": self.register.slug,
            "person": self.contact.code,
            "interaction": self.interaction.code,
            "item": self.item.code if rights else self.review.items.first().code,
            "consent_code": self.consent.code,
            "organisation": self.register.organisation.code,
            "username": self.colleague.username,
            "kind": "organisation",
            "fmt": "json",
            "followup": self.followup.code,
            "tag": self.tag.code,
        }
        if "consent/<str:token>" in route:
            values["token"] = consent.withdraw_token_make(self.consent)
        elif "status/<str:token>" in route:
            values["token"] = tokens.status_token_make(self.request)
        elif "u/<str:token>" in route:
            values["token"] = unsubscribe_token(self.recipient)
        code = next((str(value) for prefix, value in codes if prefix in route), str(uuid.uuid4()))

        def value(match):
            kind, name = match.group("kind"), match.group("name")
            if name == "code":
                return code
            if name in values:
                return str(values[name])
            return str(uuid.uuid4()) if kind == "uuid" else "x"

        return "/" + CONVERTER.sub(value, route)


@pytest.fixture(scope="module")
def shared_world(django_db_setup, django_db_blocker):
    # One world for the whole walk, rolled back at the end; each test runs in a savepoint inside it,
    # so a view that deletes or changes an object leaves the next test its own copy.
    with django_db_blocker.unblock(), transaction.atomic():
        yield World()
        transaction.set_rollback(True)


@pytest.fixture
def world(shared_world, db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    # Sign-in attempts with unknown usernames still hash the password once, against timing attacks.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.PRIVACY_RATE_LIMITS = {"ip": (100_000, 3600), "email": (100_000, 3600)}
    return shared_world


def fuzz(client, url: str) -> list[str]:
    """Send the hostile values to `url`; return a line for each request answered with a 5xx."""
    failures = []

    refused = set()

    def send(method: str, label: str, data: dict):
        if method in refused:
            return
        response = getattr(client, method)(url, data)
        if response.status_code >= 500:
            failures.append(f"{method.upper()} {url} {label} -> {response.status_code}")
        elif response.status_code == 405:
            refused.add(method)

    page = client.get(url)
    if page.status_code >= 500:
        return [f"GET {url} -> {page.status_code}"]
    own = page_forms(page, url)
    names = PARAMETERS.union(*(form["kinds"] for form in own))
    for value in HOSTILE:
        every = dict.fromkeys(names, value)
        send("get", f"every parameter={value[:30]!r}", every)
        send("post", f"every field={value[:30]!r}", every)
    # The page's own forms, filled in as the page fills them, with one field made hostile at a time:
    # a value that passes the field's format check reaches the code behind the form.
    for form in own:
        for name, kind in form["kinds"].items():
            for value in EXTREMES.get(kind, EXTREMES["text"]):
                send(form["method"], f"{name}={value[:30]!r}", {**form["data"], name: value})
    return failures


@pytest.mark.parametrize("route", [route for route, _view in ROUTES])
def test_no_input_gives_a_500_to_a_user_of_the_view(world, route):
    client = TwoFactorClient(raise_request_exception=False, HTTP_ACCEPT_LANGUAGE="fi")
    client.force_login(world.user)
    assert fuzz(client, world.fill(route)) == []


PUBLIC = [route for route, view in ROUTES if not getattr(view, "login_required", True)]


@pytest.mark.parametrize("route", PUBLIC)
def test_no_input_gives_a_500_to_an_anonymous_visitor(world, route):
    assert fuzz(TwoFactorClient(raise_request_exception=False), world.fill(route)) == []


@pytest.mark.parametrize("page", ["99999999999999999999999", "100001", "-5", "1e3", "٣"])
def test_a_page_number_past_the_end_shows_a_page_not_an_error(world, page):
    client = TwoFactorClient(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(world.user)
    detail = client.get(world.fill("crm/<slug:register>/customers/<uuid:code>/"), {"page": page})
    assert detail.status_code == 200
    assert world.customer.organisation_name in detail.content.decode()
    for route in ("crm/<slug:register>/", "crm/<slug:register>/messages/", "crm/<slug:register>/recordings/"):
        assert client.get(world.fill(route), {"page": page}).status_code == 200
