import pytest
from django.test import Client

from .provider import CLIENT_ID, CLIENT_SECRET, LocalProvider


@pytest.fixture
def provider(httpserver, settings):
    local = LocalProvider(httpserver)
    settings.SUBJECT_OIDC_ISSUER = local.issuer
    settings.SUBJECT_OIDC_CLIENT_ID = CLIENT_ID
    settings.SUBJECT_OIDC_CLIENT_SECRET = CLIENT_SECRET
    return local


@pytest.fixture
def person_client(db):
    # A browser with no staff session: what a data subject uses.
    return Client(HTTP_ACCEPT_LANGUAGE="en")


@pytest.fixture
def signed_in(provider, person_client):
    response = provider.sign_in(person_client)
    assert response.status_code == 302, response
    assert response["Location"] == "/my-data/"
    return person_client
