"""Bearer JWTs of the Helsinki profile (GDPR-API.md §3.4, "Authorization of the GDPR API").

The token must be signed (RS256 only) by a key of the trusted issuer's JWKS, found through its OpenID discovery
document; `iss` must equal GDPR_API_ISSUER exactly, `aud` GDPR_API_AUDIENCE, and `exp` must be present and in the
future. Both documents are cached; a token signed with a key id the cached JWKS does not hold fetches the JWKS again,
at most once a minute (a stream of made-up key ids does not become a stream of calls to the issuer). Anything that
fails, an unreachable issuer included, is 401: never 500, and nothing about why goes back to the caller.
"""

import logging

import httpx
import jwt
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions, permissions

logger = logging.getLogger(__name__)

ALGORITHMS = ["RS256"]
DOCUMENT_SECONDS = 60 * 60
REFETCH_SECONDS = 60
ERROR_INVALID_TOKEN = _("The token is not valid for this service.")
ERROR_SCOPE = _("The token does not allow this operation.")


class IssuerUnavailableError(Exception):
    """The issuer's discovery document or key set could not be fetched or read."""


def _get_json(url: str) -> dict:
    try:
        response = httpx.get(url, timeout=settings.GDPR_API_TIMEOUT, follow_redirects=True)
        response.raise_for_status()
        document = response.json()
    except (httpx.HTTPError, httpx.InvalidURL, ValueError) as error:
        raise IssuerUnavailableError(str(error)) from error
    if not isinstance(document, dict):
        raise IssuerUnavailableError(url)
    return document


def _cache_key(kind: str, issuer: str) -> str:
    return f"gdpr_api:{kind}:{issuer}"


def _jwks_uri(issuer: str) -> str:
    key = _cache_key("discovery", issuer)
    uri = cache.get(key)
    if uri is None:
        document = _get_json(f"{issuer.rstrip('/')}/.well-known/openid-configuration")
        uri = document.get("jwks_uri")
        if not isinstance(uri, str) or not uri:
            raise IssuerUnavailableError("no jwks_uri")
        cache.set(key, uri, DOCUMENT_SECONDS)
    return uri


def _jwks(issuer: str, *, refresh: bool = False) -> dict:
    key = _cache_key("jwks", issuer)
    keys = None if refresh else cache.get(key)
    if keys is None:
        keys = _get_json(_jwks_uri(issuer))
        cache.set(key, keys, DOCUMENT_SECONDS)
    return keys


def _signing_key(issuer: str, kid: str | None):
    """Return the issuer's RS256 key with the key id, fetching the JWKS again once for a key id not yet known."""
    for attempt in range(2):
        # The issuer may have rotated its keys; ask again, but not for every token with an unknown key id.
        if attempt and not cache.add(_cache_key("refetched", issuer), True, REFETCH_SECONDS):
            break
        document = _jwks(issuer, refresh=bool(attempt))
        candidates = [k for k in document.get("keys", []) if isinstance(k, dict) and k.get("kty") == "RSA"]
        for candidate in candidates:
            if (kid is None and len(candidates) == 1) or (kid is not None and candidate.get("kid") == kid):
                if candidate.get("use", "sig") != "sig" or candidate.get("alg", "RS256") != "RS256":
                    continue
                try:
                    return jwt.PyJWK(candidate, algorithm="RS256").key
                except jwt.PyJWKError as error:
                    raise IssuerUnavailableError("unusable key") from error
    raise jwt.InvalidTokenError("unknown key id")


def token_claims(token: str) -> dict:
    """Return the verified claims of the Helsinki profile's token; raise AuthenticationFailed for anything else."""
    issuer = settings.GDPR_API_ISSUER
    audience = settings.GDPR_API_AUDIENCE
    if not issuer or not audience:
        raise exceptions.AuthenticationFailed(ERROR_INVALID_TOKEN)
    try:
        header = jwt.get_unverified_header(token)
        if header.get("alg") not in ALGORITHMS:
            raise jwt.InvalidAlgorithmError(str(header.get("alg")))
        key = _signing_key(issuer, header.get("kid"))
        return jwt.decode(
            token,
            key=key,
            algorithms=ALGORITHMS,
            audience=audience,
            issuer=issuer,
            options={"require": ["exp", "iss", "aud"], "verify_signature": True},
        )
    except IssuerUnavailableError as error:
        logger.warning("GDPR API: the token issuer could not be reached or read: %s", error)
        raise exceptions.AuthenticationFailed(ERROR_INVALID_TOKEN) from None
    except jwt.PyJWTError as error:
        logger.info("GDPR API: token refused: %s", error.__class__.__name__)
        raise exceptions.AuthenticationFailed(ERROR_INVALID_TOKEN) from None


def _at_path(claims: dict, path: str) -> list:
    """Return the values at a dotted path, a list on the way meaning each of its items (a URL-named claim too)."""
    if path in claims:
        found = [claims[path]]
    else:
        found = [claims]
        for part in path.split("."):
            step = []
            for node in found:
                for item in node if isinstance(node, list) else [node]:
                    if isinstance(item, dict) and part in item:
                        step.append(item[part])
            found = step
    values = []
    for value in found:
        values += value if isinstance(value, list) else [value]
    return values


def token_scopes(claims: dict) -> set[str]:
    """Return the token's scopes from GDPR_API_AUTHORIZATION_FIELD (`authorization.permissions.scopes`)."""
    scopes = set()
    for value in _at_path(claims, settings.GDPR_API_AUTHORIZATION_FIELD):
        if isinstance(value, str):
            scopes.add(value)
        elif isinstance(value, dict):
            # A permission object where the field names the permission list only.
            scopes.update(s for s in value.get("scopes", []) if isinstance(s, str))
    return scopes


def has_scope(claims: dict, wanted: str) -> bool:
    """Tell whether the token grants the scope: exactly, with the API's prefix ("api.gdprquery"), or, as Keycloak
    writes it, only the part after the last dot of a configured "api.gdprquery"."""
    short = wanted.rsplit(".", 1)[-1]
    return any(s in (wanted, short) or s.endswith(f".{wanted}") for s in token_scopes(claims))


class ProfileTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer <JWT>` from the Helsinki profile; the claims become `request.auth`, no user."""

    keyword = "bearer"

    def authenticate(self, request):
        parts = authentication.get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword.encode():
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(ERROR_INVALID_TOKEN)
        try:
            token = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(ERROR_INVALID_TOKEN) from None
        return AnonymousUser(), token_claims(token)

    def authenticate_header(self, request):
        return 'Bearer realm="gdpr-api"'


class ProfileScope(permissions.BasePermission):
    """GET needs the query scope, DELETE the delete scope.

    A valid token without the scope is refused with 401, not 403: the contract says "failed authorization → 401",
    and the scopes are step 7 of that same list; 403 on DELETE means "kept on a legal ground" to the profile, which
    then shows the body's errors to the person.
    """

    def has_permission(self, request, view):
        claims = request.auth
        if not isinstance(claims, dict):
            raise exceptions.NotAuthenticated()
        wanted = settings.GDPR_API_DELETE_SCOPE if request.method == "DELETE" else settings.GDPR_API_QUERY_SCOPE
        if not has_scope(claims, wanted):
            raise exceptions.AuthenticationFailed(ERROR_SCOPE)
        return True
