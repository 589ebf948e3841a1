"""Reading the audit trail, and downloading the evidence of an access review, are accesses of their own.

Every screen of `registers.views_audit` (found in the URL configuration, so a new screen is covered the day it is
routed) and the review's PDF write one access entry per request: which screen, its filters, the rows shown, and
never a typed name. The entry is what an auditor reads to learn who looked at the trail.
"""

import json

import pytest
from auditlog.models import LogEntry
from django.urls import reverse

from registers import access_review as ar

from ..url_walk import CONVERTER, project_routes

pytestmark = pytest.mark.django_db

AUDIT_SCREENS = sorted(
    name for _route, name, view in project_routes() if getattr(view, "__module__", "") == "registers.views_audit"
)
LOGGED = [*AUDIT_SCREENS, "registers:review-pdf"]
KWARGS = {name: {m.group("name") for m in CONVERTER.finditer(route)} for route, name, _view in project_routes()}
# Typed into the filters: a username is staff's personal data, and the log keeps only that it was used.
TYPED = "staff_a"


@pytest.fixture
def completed(register_a, owner_a, staff_a, main_user):
    review = ar.access_review_open(register=register_a, actor=owner_a)
    for item in review.items.all():
        decider = main_user if item.user_id == owner_a.pk else owner_a
        ar.access_review_item_decide(item=item, decision="keep", reason="", actor=decider)
    return ar.access_review_complete(review=review, actor=owner_a)


def url_of(name, register, review) -> str:
    values = {"register": register.slug, "code": review.code}
    return reverse(name, kwargs={kwarg: values[kwarg] for kwarg in KWARGS[name]})


def access_entries(user, path):
    return LogEntry.objects.filter(action=LogEntry.Action.ACCESS, actor=user, additional_data__path=path)


def test_the_walk_finds_every_audit_screen():
    assert {"registers:audit-changes", "registers:audit-access", "registers:audit-logins", "registers:login-log"} <= (
        set(AUDIT_SCREENS)
    )


@pytest.mark.parametrize("fmt", ["", "csv"])
@pytest.mark.parametrize("name", LOGGED)
def test_every_audit_screen_and_the_review_evidence_write_one_access_entry(
    client, register_a, owner_a, main_user, completed, name, fmt
):
    if name == "registers:review-pdf" and fmt:
        pytest.skip("the evidence is a PDF only")
    # The log of every sign-in is the main user's; the register's screens are its owner's.
    user = owner_a if "register" in KWARGS[name] else main_user
    path = url_of(name, register_a, completed)
    client.force_login(user)
    query = {"since": "2020-01-01", "user": TYPED, "username": TYPED, **({"format": fmt} if fmt else {})}

    response = client.get(path, query)

    assert response.status_code == 200
    [entry] = access_entries(user, path)
    data = entry.additional_data
    if name == "registers:review-pdf":
        assert (data["view"], data["register"]) == ("access_review_pdf", register_a.pk)
        assert entry.object_pk == str(completed.pk)
        return
    assert (data["export"] if fmt else data["view"]).startswith(("audit_", "logins"))
    assert data["filter"]["since"] == "2020-01-01"
    assert "rows" in data
    assert TYPED not in json.dumps(data)
    assert data["register"] == (register_a.pk if "register" in KWARGS[name] else None)


def test_the_entry_names_the_filter_a_user_was_chosen_by_its_id(client, register_a, owner_a, staff_a):
    path = reverse("registers:audit-changes", kwargs={"register": register_a.slug})
    client.force_login(owner_a)
    client.get(path, {"user": staff_a.username, "action": 1})
    [entry] = access_entries(owner_a, path)
    assert entry.additional_data["filter"] == {"user": str(staff_a.pk), "action": 1}
    assert entry.additional_data["view"] == "audit_changes"
