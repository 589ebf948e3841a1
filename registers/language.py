"""The user's language, remembered per user rather than per browser.

The language switcher stores the choice on the user's profile; signing in
copies it into the session, and every request of the session is served in
it. Django's own cookie still carries the choice of visitors who are not
signed in (the sign-in page), and is brought in line with the user's choice
so the page after signing out stays in the same language.
"""

from django.conf import settings
from django.utils import translation

from .models import UserProfile

SESSION_KEY = "rekisteri_language"


def language_from_profile(sender, request, user, **kwargs) -> None:
    """Copy the user's remembered language into the new session (user_logged_in receiver)."""
    language = UserProfile.objects.filter(user=user).values_list("language", flat=True).first()
    if language and request is not None and hasattr(request, "session"):
        request.session[SESSION_KEY] = language


class UserLanguageMiddleware:
    """Serve a signed-in user's session in the language they chose (after AuthenticationMiddleware)."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.languages = {code for code, _name in settings.LANGUAGES}

    def __call__(self, request):
        session = getattr(request, "session", None)
        language = session.get(SESSION_KEY) if session is not None else None
        if language in self.languages and language != translation.get_language():
            translation.activate(language)
            request.LANGUAGE_CODE = language
        response = self.get_response(request)
        if language in self.languages and request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME) != language:
            response.set_cookie(
                settings.LANGUAGE_COOKIE_NAME,
                language,
                max_age=settings.LANGUAGE_COOKIE_AGE,
                path=settings.LANGUAGE_COOKIE_PATH,
                domain=settings.LANGUAGE_COOKIE_DOMAIN,
                secure=settings.LANGUAGE_COOKIE_SECURE,
                httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
                samesite=settings.LANGUAGE_COOKIE_SAMESITE,
            )
        return response
