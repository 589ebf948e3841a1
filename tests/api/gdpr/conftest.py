"""A local OpenID provider for the GDPR API tests: an RSA key, its discovery document and JWKS on a local server,
and tokens signed as the Helsinki profile's Keycloak signs them (GDPR-API.md §3.4)."""

import base64
import json
import time
import uuid

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from django.test import Client
from werkzeug import Response

AUDIENCE = "rekisteri-gdpr"
KID = "test-key-1"


def _key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


PRIVATE_KEY = _key()
OTHER_KEY = _key()


def public_jwk(key, kid: str = KID) -> dict:
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    return {**jwk, "kid": kid, "use": "sig", "alg": "RS256"}


class Issuer:
    """The provider on the local server; `token()` signs a token with the given claims changed."""

    def __init__(self, server):
        self.server = server
        self.url = server.url_for("/realms/helsinki-tunnistus")
        self.keys = [public_jwk(PRIVATE_KEY)]

    def serve(self):
        self.server.clear()
        self.server.expect_request("/realms/helsinki-tunnistus/.well-known/openid-configuration").respond_with_json(
            {"issuer": self.url, "jwks_uri": self.server.url_for("/realms/helsinki-tunnistus/certs")}
        )
        self.server.expect_request("/realms/helsinki-tunnistus/certs").respond_with_handler(
            lambda request: Response(json.dumps({"keys": self.keys}), content_type="application/json")
        )

    def claims(self, scopes=("gdprquery", "gdprdelete"), **changes) -> dict:
        now = int(time.time())
        claims = {
            "iss": self.url,
            "aud": AUDIENCE,
            "sub": str(uuid.uuid4()),
            "iat": now,
            "exp": now + 300,
            "auth_time": now,
            "loa": "substantial",
            "authorization": {"permissions": [{"scopes": list(scopes)}]},
        }
        claims.update(changes)
        return {k: v for k, v in claims.items() if v is not None}

    def token(self, scopes=("gdprquery", "gdprdelete"), *, key=PRIVATE_KEY, kid=KID, **changes) -> str:
        return jwt.encode(self.claims(scopes, **changes), key, algorithm="RS256", headers={"kid": kid})


def unsigned(claims: dict) -> str:
    def part(data):
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


@pytest.fixture
def issuer(httpserver, settings, private_cache):
    provider = Issuer(httpserver)
    provider.serve()
    settings.GDPR_API_ISSUER = provider.url
    settings.GDPR_API_AUDIENCE = AUDIENCE
    settings.GDPR_API_TIMEOUT = 2.0
    return provider


def bearer(token: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}")


def url(profile_id) -> str:
    return f"/gdpr-api/v1/profiles/{profile_id}"
