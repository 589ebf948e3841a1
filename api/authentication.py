"""The integration API's authentication: `Authorization: Api-Key <key>`, for the machine user behind the key."""

from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from registers.client_address import client_address

from .models import APIClient
from .services import api_client_touch

KEYWORD = "Api-Key"


class APIClientAuthentication(BaseAuthentication):
    def authenticate(self, request):
        header = get_authorization_header(request).split()
        if not header or header[0].decode("latin-1") != KEYWORD:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("Give the key as: Authorization: Api-Key <key>."))
        try:
            key = header[1].decode("ascii")
            client = APIClient.objects.get_from_key(key)
        except (UnicodeDecodeError, APIClient.DoesNotExist):
            raise exceptions.AuthenticationFailed(_("The API key is not valid.")) from None
        if client.revoked or not client.user.is_active:
            raise exceptions.AuthenticationFailed(_("The API key has been revoked."))
        if client.has_expired:
            raise exceptions.AuthenticationFailed(_("The API key has expired."))
        if not client.address_allowed(client_address(request._request)):
            raise exceptions.AuthenticationFailed(_("This API key may not be used from this address."))
        api_client_touch(client)
        return client.user, client

    def authenticate_header(self, request):
        # Makes a missing or refused key a 401 with WWW-Authenticate, not a 403.
        return KEYWORD


def request_client(request) -> APIClient | None:
    auth = getattr(request, "auth", None)
    return auth if isinstance(auth, APIClient) else None
