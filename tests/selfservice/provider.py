"""A local OpenID provider for the self-service tests: discovery, JWKS and a token endpoint on a loopback port
(pytest-httpserver), signing ID tokens with its own RSA key. A test says what the next token carries, so that
every case a real broker can send (each level of assurance, an identity code among the claims, a token expired,
signed by another key, for another client or with another nonce) reaches the real Authlib checks."""

import time
from urllib.parse import parse_qs, urlsplit

from joserfc import jwt
from joserfc.jwk import RSAKey
from werkzeug import Response

CLIENT_ID = "rekisteri-test"
CLIENT_SECRET = "test-secret"
# One key per test process: Authlib's client keeps the JWKS it fetched for as long as the issuer is the same.
KEY = RSAKey.generate_key(2048, parameters={"kid": "test-key"})
OTHER_KEY = RSAKey.generate_key(2048, parameters={"kid": "test-key"})


class LocalProvider:
    def __init__(self, httpserver):
        self.issuer = httpserver.url_for("/").rstrip("/")
        self.next_claims: dict = {}
        self.signing_key = KEY
        self.token_requests: list[dict] = []
        self.down = False
        metadata = {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "jwks_uri": f"{self.issuer}/jwks",
            "end_session_endpoint": f"{self.issuer}/logout",
            "id_token_signing_alg_values_supported": ["RS256"],
        }
        httpserver.expect_request("/.well-known/openid-configuration").respond_with_json(metadata)
        httpserver.expect_request("/jwks").respond_with_json({"keys": [KEY.as_dict(private=False)]})
        httpserver.expect_request("/token", method="POST").respond_with_handler(self._token)

    def _token(self, request):
        self.token_requests.append(dict(request.form))
        if self.down:
            return Response("unavailable", status=503)
        header = {"alg": "RS256", "kid": "test-key"}
        id_token = jwt.encode(header, self.next_claims, self.signing_key)
        return Response(
            f'{{"access_token": "at", "token_type": "Bearer", "expires_in": 300, "id_token": "{id_token}"}}',
            content_type="application/json",
        )

    def claims(self, nonce: str, /, **changes) -> dict:
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": CLIENT_ID,
            "sub": "5d0f3c1e-7a47-4e43-9c3f-1f2a3b4c5d6e",
            "iat": now,
            "exp": now + 300,
            "auth_time": now,
            "nonce": nonce,
            "loa": "substantial",
            "given_name": "Maija",
            "family_name": "Meikäläinen",
            "email": "maija.meikalainen@example.fi",
            "email_verified": True,
        }
        claims.update(changes)
        return {name: value for name, value in claims.items() if value is not None}

    def sign_in(self, client, next_url: str = "/my-data/", **changes):
        """Start a sign-in with the Django test client, let the provider answer with these claims, and return the
        callback's response."""
        started = client.post("/my-data/sign-in/", {"next": next_url})
        assert started.status_code == 302, started
        query = parse_qs(urlsplit(started["Location"]).query)
        self.next_claims = self.claims(query["nonce"][0], **changes)
        return client.get("/my-data/callback/", {"code": "the-code", "state": query["state"][0]})
