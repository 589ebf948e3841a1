"""/metrics: the Prometheus exposition, for the scraper that holds METRICS_TOKEN and for nobody else."""

import pytest
from django.test import Client
from prometheus_client.values import MultiProcessValue

pytestmark = pytest.mark.django_db

TOKEN = "scraper-token-0123456789abcdef"


@pytest.fixture
def token(settings, broker_in_memory):
    settings.METRICS_TOKEN = TOKEN
    return TOKEN


def scrape(token=TOKEN, method="get", **headers):
    return getattr(Client(enforce_csrf_checks=True), method)("/metrics", headers=headers)


def unknown_address():
    return Client().get("/no-such-address")


def test_without_a_configured_token_the_address_does_not_exist(settings):
    settings.METRICS_TOKEN = ""
    for authorization in ("", "Bearer ", "Bearer x"):
        response = scrape(Authorization=authorization)
        assert response.status_code == 404
    assert response["Content-Type"] == unknown_address()["Content-Type"]


@pytest.mark.parametrize(
    "authorization",
    [
        "",
        "Bearer wrong-token",
        # A part of the token, the token with more after it, another scheme.
        f"Bearer {TOKEN[:-1]}",
        f"Bearer {TOKEN}x",
        f"Basic {TOKEN}",
        TOKEN,
        "Bearer tökeni",
    ],
)
def test_a_request_without_the_token_gets_the_404_of_an_unknown_address(token, authorization):
    response = scrape(Authorization=authorization)
    assert response.status_code == 404
    assert response["Content-Type"] == unknown_address()["Content-Type"]
    assert b"rekisteri_" not in response.content


def test_a_post_without_the_token_is_404_too_not_a_csrf_refusal(token):
    # A CSRF refusal (403) would tell that the address exists.
    assert scrape(method="post").status_code == 404
    assert scrape(method="post", Authorization=f"Bearer {TOKEN}").status_code == 405


def test_the_scraper_gets_the_request_metrics_and_the_services_figures(token):
    Client().get("/healthz")
    response = scrape(Authorization=f"Bearer {TOKEN}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    # django-prometheus's, by view, from its middleware.
    assert 'django_http_requests_latency_seconds_by_view_method_count{method="GET",view="ops:healthz"}' in text
    assert "rekisteri_data_subject_requests_open 0.0" in text
    assert 'rekisteri_scrape_source_up{source="database"} 1.0' in text
    assert response.cookies == {}


def test_the_scheme_is_read_without_regard_to_case_and_openmetrics_is_served_when_asked(token):
    response = scrape(Authorization=f"bearer {TOKEN}", Accept="application/openmetrics-text; version=1.0.0")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/openmetrics-text")
    assert response.content.endswith(b"# EOF\n")


def test_under_several_worker_processes_the_request_metrics_come_from_their_files(token, monkeypatch, tmp_path):
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    # What a gunicorn worker with the variable set writes: its counters in a file of its own.
    value_class = MultiProcessValue(process_identifier=lambda: 4242)
    value_class("counter", "worker_requests", "worker_requests_total", (), (), "Requests of one worker.").inc(3)
    text = scrape(Authorization=f"Bearer {TOKEN}").content.decode()
    assert "worker_requests_total 3.0" in text
    # This process's own registry (its platform and garbage-collector figures) is not what is served.
    assert "python_info" not in text
    assert "rekisteri_data_subject_requests_open" in text
