"""The confidentiality-commitment gate.

Each user must have signed the organisation's confidentiality commitment
(salassapitositoumus) before getting access. A signed-in user who has not
accepted the current version for every organisation they work in is sent to
the commitment page and can reach nothing else but signing out, the language
switch, the two-factor pages and public pages (static files never get here).
"""

from urllib.parse import urlencode

from auditlog.middleware import AuditlogMiddleware as BaseAuditlogMiddleware
from django.shortcuts import redirect
from django.urls import reverse

from .client_address import client_address, client_port
from .selectors import request_gate_facts

# URL names a user with a pending commitment may still open.
ALLOWED_URL_NAMES = frozenset(
    {
        "registers:commitment",
        "registers:commitment-accept",
        "logout",
        "set_language",
        "two-factor",
    }
)


class CommitmentRequiredMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = request.user
        if not user.is_authenticated:
            return None
        # Public pages (login, request form, privacy notices) are open to all.
        if not getattr(view_func, "login_required", True):
            return None
        match = request.resolver_match
        if match is not None and match.view_name in ALLOWED_URL_NAMES:
            return None
        if not request_gate_facts(user=user)["commitment_pending"]:
            return None
        return redirect(f"{reverse('registers:commitment')}?{urlencode({'next': request.get_full_path()})}")


class AuditlogMiddleware(BaseAuditlogMiddleware):
    """django-auditlog's middleware with the project's client-address rule.

    The stock one trusts the first `X-Forwarded-For` entry, which the client
    writes itself; change entries would then record whatever address it chose.
    """

    @staticmethod
    def _get_remote_addr(request):
        return client_address(request)

    @staticmethod
    def _get_remote_port(request):
        return client_port(request)
