"""Idle and absolute session timeouts (ASVS V7: 30 idle minutes, 12 hours in all)."""

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.utils.translation import gettext_lazy as _

SIGNED_IN_AT = "rekisteri_signed_in_at"
LAST_SEEN_AT = "rekisteri_last_seen_at"
# Writing the session on every request would cost a database write each time;
# a minute's precision is enough for a 30-minute idle limit.
LAST_SEEN_RESOLUTION = 60

MESSAGE_TIMED_OUT = _("Your session has ended. Please sign in again.")


class SessionTimeoutMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            now = int(time.time())
            signed_in_at = request.session.setdefault(SIGNED_IN_AT, now)
            last_seen_at = request.session.get(LAST_SEEN_AT, now)
            if (
                now - signed_in_at > settings.SESSION_ABSOLUTE_SECONDS
                or now - last_seen_at > settings.SESSION_IDLE_SECONDS
            ):
                # logout() flushes the session row, so the old cookie is dead server-side too.
                logout(request)
                messages.info(request, MESSAGE_TIMED_OUT)
                return redirect_to_login(request.get_full_path())
            if now - last_seen_at >= LAST_SEEN_RESOLUTION or LAST_SEEN_AT not in request.session:
                request.session[LAST_SEEN_AT] = now
        return self.get_response(request)
