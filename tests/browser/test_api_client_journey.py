"""The main user gives a system a key in the browser; the system calls the API with it; the docs render under CSP."""

import httpx
import pytest

from registers.models import Role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def call(live_server, key, path):
    response = httpx.get(f"{live_server.url}{path}", headers={"Authorization": f"Api-Key {key}"}, timeout=10)
    return response.status_code, response.json()


def test_the_main_user_creates_a_client_whose_key_reads_exactly_its_register(
    sign_in, live_server, page, main_user, register_a, register_b
):
    sign_in(main_user)
    page.goto(f"{live_server.url}/api-clients/new/")
    page.locator("input[name=name]").fill("Tapahtumakalenteri")
    page.locator("select[name=owner]").select_option(str(main_user.pk))
    page.locator(f"select[name=scope_{register_a.slug}]").select_option(Role.API_READ)
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()

    key = page.locator("#api-key").input_value()
    assert key
    status, registers = call(live_server, key, "/api/v1/registers/")
    assert status == 200
    assert [row["slug"] for row in registers] == [register_a.slug]

    # The key is not shown again: the client's page names its prefix only.
    page.locator("a.button").click()
    page.wait_for_load_state()
    assert key not in page.content()
    assert key.split(".")[0] in page.content()


def test_the_api_docs_render_from_the_project_under_its_content_security_policy(live_server, page):
    problems = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("requestfailed", lambda request: problems.append(f"failed: {request.url}"))
    page.goto(f"{live_server.url}/api/v1/docs/")
    page.locator(".opblock").first.wait_for(timeout=15_000)
    assert page.locator(".opblock").count() > 20
    assert problems == []
