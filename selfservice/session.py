"""The data subject's own session: separate from staff sign-in, short, never remembered.

A signed-in person is not a Django user: `request.user` stays anonymous, so no staff page (all behind
LoginRequiredMiddleware and the registers' permissions) ever opens for them. What they proved is kept under one
session key: the identity's row, the level of assurance, when they authenticated at the provider (for the fresh
sign-in that an answer's download needs) and the ID token (the hint that ends the provider's session at sign-out).
"""

import time
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import logout

from .models import Assurance, SubjectIdentity

SESSION_KEY = "selfservice_subject"
# Writing the session on every page would cost a write each time; idle time is counted to the half-minute.
LAST_SEEN_RESOLUTION = 30


@dataclass(frozen=True)
class SubjectSession:
    identity: SubjectIdentity
    assurance: str
    authenticated_at: int
    id_token: str

    @property
    def assurance_label(self) -> str:
        return str(Assurance(self.assurance).label)

    @property
    def fresh(self) -> bool:
        """Authenticated at the provider within the last few minutes (SUBJECT_FRESH_SIGN_IN_SECONDS)."""
        return time.time() - self.authenticated_at <= settings.SUBJECT_FRESH_SIGN_IN_SECONDS


def subject_session_start(request, *, identity: SubjectIdentity, assurance: str, authenticated_at: int, id_token: str):
    """Begin the person's session in a new session key (a staff session in the same browser ends first)."""
    if request.user.is_authenticated:
        logout(request)
    else:
        request.session.cycle_key()
    now = int(time.time())
    request.session[SESSION_KEY] = {
        "identity": identity.pk,
        "assurance": assurance,
        "authenticated_at": authenticated_at,
        "id_token": id_token,
        "last_seen": now,
    }
    # A browser-session cookie: closing the browser forgets the sign-in; the idle limit ends it on the server.
    request.session.set_expiry(0)


def subject_session(request) -> SubjectSession | None:
    """The signed-in person of this request, or None (never signed in, signed out, idle too long, or staff)."""
    data = request.session.get(SESSION_KEY)
    if not isinstance(data, dict):
        return None
    now = int(time.time())
    if now - data.get("last_seen", 0) > settings.SUBJECT_SESSION_IDLE_SECONDS:
        subject_session_end(request)
        return None
    identity = SubjectIdentity.objects.filter(pk=data.get("identity")).first()
    if identity is None:
        subject_session_end(request)
        return None
    if now - data["last_seen"] >= LAST_SEEN_RESOLUTION:
        data["last_seen"] = now
        request.session.modified = True
    return SubjectSession(
        identity=identity,
        assurance=data["assurance"],
        authenticated_at=data["authenticated_at"],
        id_token=data.get("id_token", ""),
    )


def subject_session_end(request) -> str:
    """End the person's session here; return the ID token that asks the provider to end its session too.

    A session without a signed-in person (a member of staff's) is left alone."""
    data = request.session.get(SESSION_KEY)
    if not isinstance(data, dict):
        return ""
    request.session.flush()
    return data.get("id_token", "")


def subject_session_end_on_staff_sign_in(sender, request, user, **kwargs) -> None:
    if request is not None and hasattr(request, "session"):
        request.session.pop(SESSION_KEY, None)
