import re
import subprocess
import sys

import pytest
from django.templatetags.static import static
from django.test import Client

from .conftest import TwoFactorClient

pytestmark = pytest.mark.django_db


def test_pages_carry_a_content_security_policy_without_inline_scripts(client, staff_a):
    client.force_login(staff_a)
    policy = client.get("/")["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert directives["script-src"] == "'self'"
    assert "unsafe-inline" not in policy
    assert directives["frame-ancestors"] == "'none'"


def test_pages_carry_the_other_security_headers(client):
    response = client.get("/accounts/login/")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"


def test_templates_load_no_assets_from_other_hosts():
    from pathlib import Path

    for template in Path("templates").rglob("*.html"):
        text = template.read_text()
        for marker in ("http://", "https://", "//cdn", "<script>", " onclick=", " onload="):
            assert marker not in text.replace('xmlns="http://www.w3.org/2000/svg"', ""), f"{marker} in {template}"


def deploy_env(**overrides) -> dict:
    import os

    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "HTTPS", "DJANGO_ALLOW_ASYNC_UNSAFE"}}
    env.update(SECRET_KEY="p" * 40 + "roduction-secret-key-0123456789", ALLOWED_HOSTS="rekisteri.example.fi")
    env.update(overrides)
    return env


def test_production_values_pass_the_deploy_check():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env=deploy_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr + result.stdout
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"SECRET_KEY": ""}, "SECRET_KEY"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY"),
        ({"ALLOWED_HOSTS": ""}, "ALLOWED_HOSTS"),
        ({"ALLOWED_HOSTS": "*"}, "ALLOWED_HOSTS"),
    ],
)
def test_production_refuses_to_start_without_secrets_and_hosts(overrides, message):
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        env=deploy_env(**overrides),
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr


def test_production_cookies_are_secure_host_cookies():
    code = (
        "from django.conf import settings as s; "
        "print(s.SESSION_COOKIE_NAME, s.SESSION_COOKIE_SECURE, s.SECURE_HSTS_SECONDS)"
    )
    result = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        env={**deploy_env(), "DJANGO_SETTINGS_MODULE": "config.settings"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.split() == ["__Host-sessionid", "True", "31536000"]


# Register descriptions are public documents: they may be cached, though today they are not.
CACHEABLE_ROUTES = re.compile(r"^registers/<slug:slug>/description(/|\.pdf)$")


def test_every_page_and_file_with_personal_data_is_kept_out_of_caches(settings, tmp_path):
    from .test_fuzz import ROUTES, World

    settings.MEDIA_ROOT = tmp_path / "media"
    world = World()
    client = TwoFactorClient()
    client.force_login(world.user)
    checked = []
    for route, _view in ROUTES:
        if CACHEABLE_ROUTES.match(route):
            continue
        url = world.fill(route)
        # The audit pages answer `format=csv` with the audit trail as a file.
        for query in ({}, {"format": "csv"}) if "/audit/" in route or route == "registers/logins/" else ({},):
            response = client.get(url, query)
            if response.status_code == 200:
                assert "no-store" in response.get("Cache-Control", ""), (url, query)
                checked.append((url, response["Content-Type"]))
    assert len(checked) > 40
    assert any("csv" in content_type for _url, content_type in checked)


def test_the_public_status_link_is_kept_out_of_caches(settings, tmp_path):
    from privacy.requests import tokens

    from .test_fuzz import World

    settings.MEDIA_ROOT = tmp_path / "media"
    world = World()
    for url in (
        "/privacy/request/",
        f"/privacy/request/{world.register.organisation.code}/",
        f"/privacy/request/status/{tokens.status_token_make(world.request)}/",
    ):
        response = Client().get(url)
        assert response.status_code in {200, 302}, url
        assert "no-store" in response["Cache-Control"], url


def test_static_files_keep_their_own_cache_policy(client):
    response = client.get(static("css/app.css"))
    assert response.status_code == 200
    assert "no-store" not in response["Cache-Control"]
    assert "max-age" in response["Cache-Control"]
