"""Strong electronic identification of data subjects through the city's identity broker (OpenID Connect).

Authlib does the protocol: the authorization code flow with PKCE, state and nonce kept in the session, the ID
token's signature checked against the issuer's JWKS (refetched on an unknown key id) and its issuer, audience,
expiry and nonce checked. What is ours: which claims are kept (a short allow-list, so that an identity code the
provider sends is never read, let alone stored), and which level of assurance a sign-in reached.

Off unless SUBJECT_OIDC_ISSUER is set: the public request form keeps working by e-mail confirmation without it.
"""

import functools
import hashlib
import hmac
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
from authlib.integrations.base_client import OAuthError
from authlib.integrations.django_client import OAuth
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from joserfc.errors import JoseError

from registers.validators import FREE_TEXT_VALIDATORS, contains_identity_code

from .models import STRONG_ASSURANCE, Assurance

# The only claims read from an ID token. Everything else (a personal identity code as `hetu`,
# `national_identification_number`, `nin`, `personal_identity_code` or under any other name, addresses, phone
# numbers) is dropped before anything looks at it.
KEPT_CLAIMS = frozenset(
    {"iss", "sub", "given_name", "family_name", "email", "email_verified", "acr", "loa", "amr", "auth_time"}
)

# Levels of assurance as providers write them: Helsinki-tunnistus's `loa` claim, eIDAS URIs and the Finnish Trust
# Network's (Traficom) `acr` values. Anything not listed is low.
ASSURANCE_VALUES = {
    "low": Assurance.LOW,
    "substantial": Assurance.SUBSTANTIAL,
    "high": Assurance.HIGH,
    "http://eidas.europa.eu/loa/low": Assurance.LOW,
    "http://eidas.europa.eu/loa/substantial": Assurance.SUBSTANTIAL,
    "http://eidas.europa.eu/loa/high": Assurance.HIGH,
    "http://ftn.ficora.fi/2017/loa2": Assurance.SUBSTANTIAL,
    "http://ftn.ficora.fi/2017/loa3": Assurance.HIGH,
}

# What a failed sign-in can raise: the provider's error answer or a state that does not match (OAuthError), a
# token that fails its checks (JoseError: signature, issuer, audience, expiry, nonce), a provider that cannot be
# reached or answers nonsense.
SIGN_IN_ERRORS = (OAuthError, JoseError, requests.RequestException, ValueError, KeyError, TypeError)


def configured() -> bool:
    return bool(settings.SUBJECT_OIDC_ISSUER and settings.SUBJECT_OIDC_CLIENT_ID)


def provider_origin() -> str:
    """The provider's scheme, host and port: where the person's browser is sent to sign in and out."""
    parts = urlsplit(settings.SUBJECT_OIDC_ISSUER)
    return f"{parts.scheme}://{parts.netloc}"


@functools.lru_cache(maxsize=4)
def _provider(issuer: str, client_id: str, client_secret: str, scopes: str):
    registry = OAuth()
    return registry.register(
        name="subject",
        client_id=client_id,
        client_secret=client_secret,
        server_metadata_url=f"{issuer.rstrip('/')}/.well-known/openid-configuration",
        client_kwargs={"scope": scopes, "code_challenge_method": "S256", "timeout": settings.SUBJECT_OIDC_TIMEOUT},
    )


def provider():
    """The provider's client for the current settings (one per configuration: tests change them)."""
    return _provider(
        settings.SUBJECT_OIDC_ISSUER,
        settings.SUBJECT_OIDC_CLIENT_ID,
        settings.SUBJECT_OIDC_CLIENT_SECRET,
        settings.SUBJECT_OIDC_SCOPES,
    )


@dataclass(frozen=True)
class Identification:
    """What one sign-in told about the person, after the allow-list."""

    issuer: str
    subject: str
    first_name: str
    last_name: str
    email: str
    email_verified: bool
    assurance: str
    authenticated_at: int
    id_token: str

    @property
    def strong(self) -> bool:
        return self.assurance in STRONG_ASSURANCE


def assurance_of(claims: dict) -> str:
    for name in ("loa", "acr"):
        value = claims.get(name)
        if isinstance(value, str) and value.strip().lower() in ASSURANCE_VALUES:
            return ASSURANCE_VALUES[value.strip().lower()]
    return Assurance.LOW


def _text(claims: dict, name: str, limit: int, validators=FREE_TEXT_VALIDATORS) -> str:
    """The claim as text fit to be kept, or "" (not text, too long, an identity code, control characters)."""
    value = claims.get(name)
    if not isinstance(value, str) or len(value.strip()) > limit:
        return ""
    try:
        for validate in validators:
            validate(value)
    except ValidationError:
        return ""
    return value.strip()


def stored_subject(issuer: str, subject: str) -> str:
    """The subject id as kept: a provider that uses the identity code as the subject id gets a keyed hash of it."""
    if contains_identity_code(subject):
        digest = hmac.new(settings.SECRET_KEY.encode(), f"{issuer}#{subject}".encode(), hashlib.sha256).hexdigest()
        return f"hmac-sha256:{digest}"
    return subject[:255]


def identification_from(token: dict, *, now: int) -> Identification:
    """Read a sign-in's checked ID token claims (Authlib's `userinfo`) through the allow-list."""
    claims = {name: value for name, value in dict(token["userinfo"]).items() if name in KEPT_CLAIMS}
    issuer, subject = claims["iss"], claims["sub"]
    if not isinstance(subject, str) or not subject:
        raise ValueError("The ID token has no subject.")
    auth_time = claims.get("auth_time")
    email = _text(claims, "email", 254, validators=(*FREE_TEXT_VALIDATORS, validate_email))
    return Identification(
        issuer=issuer,
        subject=stored_subject(issuer, subject),
        first_name=_text(claims, "given_name", 100),
        last_name=_text(claims, "family_name", 100),
        email=email,
        email_verified=bool(email) and claims.get("email_verified") is True,
        assurance=assurance_of(claims),
        authenticated_at=auth_time if isinstance(auth_time, int) and auth_time <= now else now,
        id_token=token.get("id_token", ""),
    )
