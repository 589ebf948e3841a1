"""A request that spans registers, acted on by someone who holds a role in only one of them (issue 11, A2).

The rule (privacy.requests.selectors.request_get_for_user_rw): whatever reads or changes the request as a whole needs
the right in every register it concerns; a handler of some of them sees the request page with their registers'
part and checks those registers, nothing more. Every URL of a request (privacy/requests/urls.py `request_patterns` and
privacy/rights/urls.py `rights_patterns`) has an entry below: a new URL without one fails this test.
"""

import uuid

import pytest
from django.urls import URLPattern, reverse
from django.utils import timezone

from privacy.requests.models import DataSubjectRequest, RequestEvent, ResponsePackage, SubjectMatch
from privacy.requests.urls import request_patterns
from privacy.rights.models import DecisionLetter
from privacy.rights.urls import rights_patterns
from registers.models import Role

from ...conftest import grant
from ...factories import InteractionFactory, PersonCustomerFactory, RegisterFactory, UserFactory
from .. import steps

pytestmark = pytest.mark.django_db
State = DataSubjectRequest.State
SECRETS = ("Salainen", "C-REKISTERIN-MERKINTA")
DENIED = {403, 404, 405}

# url name -> (statuses a GET may give, statuses a POST may give) for a user with a role in only one of the
# request's registers. 200 is allowed only for the pages that show the user's own registers' part.
EXPECTED: dict[str, tuple[set[int], set[int]]] = {
    "request-detail": ({200}, {200}),
    "request-search": ({200}, {403, 404}),
    "request-verify": ({405}, {403}),
    "request-ask": ({405}, {403}),
    "request-extend": ({405}, {403}),
    "request-cannot-identify": ({405}, {403}),
    "request-duplicate": ({405}, {403}),
    "request-prepare": ({405}, {403}),
    "request-approve": ({405}, {403}),
    "request-move": ({405}, {403}),
    "request-mandate": ({403}, {403}),
    "request-package": ({403}, {403}),
    "rights": ({200}, {200}),
    "rights-letter": ({403}, {403}),
    "rights-prepare": ({405}, {403}),
    "rights-correction-add": ({405}, {403}),
    "rights-correction-archive": ({405}, {403}),
    "rights-correction-apply": ({405}, {403}),
    "rights-correction-refuse": ({405}, {403}),
    "rights-erasure-plan": ({405}, {403}),
    "rights-erasure-execute": ({405}, {403}),
    "rights-erasure-mention": ({405}, {403}),
    "rights-restrict": ({405}, {403}),
    "rights-object": ({405}, {403}),
    "rights-object-weigh": ({405}, {403}),
    "rights-object-weigh-decide": ({405}, {403}),
    "rights-restriction-lift": ({405}, {403}),
    "rights-restriction-lift-letter": ({403}, {403}),
    "rights-restriction-lift-posted": ({405}, {403}),
    "rights-restriction-lift-cancel": ({405}, {403}),
    "rights-consents-withdraw": ({405}, {403}),
    "rights-portability": ({405}, {403}),
    "rights-notification": ({405}, {403}),
    "rights-decide": ({405}, {403}),
    "rights-refuse": ({405}, {403}),
}


def urls_of(request) -> list[tuple[str, str]]:
    found = []
    for pattern in [*request_patterns, *rights_patterns]:
        assert isinstance(pattern, URLPattern)
        kwargs = {"code": request.code}
        for name in pattern.pattern.converters:
            kwargs.setdefault(name, {"fmt": "json"}.get(name, uuid.uuid4()))
        url = reverse(f"privacy:{pattern.name}", kwargs=kwargs)
        if pattern.name == "request-package":
            found += [(pattern.name, url.replace("/json/", f"/{fmt}/")) for fmt in ("json", "html", "pdf")]
        else:
            found.append((pattern.name, url))
    return found


@pytest.fixture
def two_registers(register_a):
    """A request over registers A and C, checked and prepared by someone who handles both."""
    register_c = RegisterFactory(organisation=register_a.organisation, slug="register-c")
    handler_ac = UserFactory(username="handler_ac")
    grant(handler_ac, register_a, Role.HANDLER)
    grant(handler_ac, register_c, Role.HANDLER)
    email = "anna.kahdessa@example.fi"
    in_a = PersonCustomerFactory(register=register_a, first_name="Anna", last_name="Asiakas", email=email)
    in_c = PersonCustomerFactory(register=register_c, first_name="Anna", last_name="Salainen", email=email)
    InteractionFactory(customer=in_c, subject="Käynti", text="C-REKISTERIN-MERKINTA")
    request, _created = steps.services.request_submit(
        organisation=register_a.organisation,
        registers=[register_a, register_c],
        all_registers=False,
        data={"kind": "access", "requester_name": "Anna Asiakas", "requester_email": email, "language": "fi"},
    )
    request = steps.services.request_confirm_email(request=request)
    request = steps.services.request_verify_identity(request=request, actor=handler_ac, method="known_email")
    request = steps.request_transition(request=request, to=State.IN_PROGRESS, actor=handler_ac)
    steps.checked(request, handler_ac, register_a, [in_a])
    steps.checked(request, handler_ac, register_c, [in_c])
    request = steps.services.request_prepare(request=request, actor=handler_ac)
    # A decision letter speaks of every register of the request (stored as sent).
    DecisionLetter.objects.create(
        request=request,
        language="fi",
        subject="Päätös",
        html="<p>Rekisteri C: Salainen</p>",
        text="Rekisteri C: Salainen",
        sha256="0" * 64,
        created_at=timezone.now(),
        created_by=handler_ac,
    )
    return request, register_c, handler_ac


def test_every_request_url_has_an_expected_outcome(two_registers):
    request, _register_c, _handler = two_registers
    names = {name for name, _url in urls_of(request)}
    assert names == set(EXPECTED), f"add the new URLs to EXPECTED: {names - set(EXPECTED)}"


def test_whoever_holds_both_registers_sees_the_other_registers_data(client, two_registers):
    # The control: the data is there, so its absence below means something.
    request, _register_c, handler_ac = two_registers
    client.force_login(handler_ac)
    response = client.get(reverse("privacy:request-package", kwargs={"code": request.code, "fmt": "json"}))
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode()
    assert all(secret in body for secret in SECRETS)


@pytest.mark.parametrize("role", [Role.HANDLER, Role.OWNER])
def test_a_user_of_only_one_register_gets_nothing_of_the_other_and_changes_nothing(
    client, register_a, two_registers, role
):
    request, register_c, _handler = two_registers
    user = UserFactory(username=f"only_a_{role}")
    grant(user, register_a, role)
    client.force_login(user)
    events = RequestEvent.objects.filter(request=request).count()
    packages = list(ResponsePackage.objects.filter(request=request).values_list("sha256", flat=True))
    matches = SubjectMatch.objects.filter(request=request).count()
    seen = {}
    for name, url in urls_of(request):
        get_allowed, post_allowed = EXPECTED[name]
        data = {"register": register_c.slug, "record": [], "reason": "x", "message": "x", "method": "known_email"}
        for method, allowed in (("get", get_allowed), ("post", post_allowed)):
            response = getattr(client, method)(url, data if method == "post" else None)
            body = (b"".join(response.streaming_content) if response.streaming else response.content).decode(
                errors="replace"
            )
            seen[(name, method, url)] = response.status_code
            assert response.status_code in allowed, (name, method, url, response.status_code)
            for secret in SECRETS:
                assert secret not in body, (name, method, url)
    request.refresh_from_db()
    assert request.state == State.REVIEW
    assert RequestEvent.objects.filter(request=request).count() == events
    assert list(ResponsePackage.objects.filter(request=request).values_list("sha256", flat=True)) == packages
    assert SubjectMatch.objects.filter(request=request).count() == matches
