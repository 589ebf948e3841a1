"""The pieces every screen of a request shares: rule errors as messages, a bound form's data or its errors, the
POST-action wrapper, and an answer file with the policy under which a stored letter is shown. Used by
privacy.requests.views, privacy.rights.views and selfservice; imports only Django and privacy.requests.selectors."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from . import selectors

# A stored letter or answer opened in the browser may style itself and nothing more.
STORED_LETTER_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox"
CONTENT_TYPES = {"pdf": "application/pdf", "html": "text/html; charset=utf-8", "json": "application/json"}


def package_file_response(package, fmt: str, *, inline: bool = False) -> FileResponse:
    """One file of an answer package, never cached; its HTML shown under STORED_LETTER_CSP."""
    stored = package.file_for(fmt)
    if not stored:
        raise Http404
    response = FileResponse(
        stored.open("rb"),
        as_attachment=not inline,
        filename=f"{package.request.reference}.{fmt}",
        content_type=CONTENT_TYPES[fmt],
    )
    response["Cache-Control"] = "no-store"
    if fmt == "html":
        response["Content-Security-Policy"] = STORED_LETTER_CSP
    return response


def show_errors(request, error: ValidationError) -> None:
    """Show each message of a rule error as an error message."""
    for message in error.messages:
        messages.error(request, message)


def form_data(form_class, request) -> dict:
    """Return the cleaned data of `form_class` bound to the POST, or raise its errors as one ValidationError."""
    form = form_class(request.POST)
    if not form.is_valid():
        raise ValidationError([e for errors in form.errors.values() for e in errors])
    return form.cleaned_data


def request_action(perm: str, *, url_name: str, info_errors: tuple[type[ValidationError], ...] = ()):
    """Wrap a POST action on a request: fetch with `perm`, show rule errors as messages, redirect to `url_name`.

    An error in `info_errors` is shown as information, not as an error: the thing asked for has already been done.
    """

    def decorate(view):
        @require_POST
        def wrapped(request, code, **kwargs):
            dsr = selectors.request_get_for_user_rw(user=request.user, code=code, perm=perm)
            try:
                view(request, dsr, **kwargs)
            except info_errors as done:
                messages.info(request, done.messages[0])
            except ValidationError as error:
                show_errors(request, error)
            return redirect(url_name, code=dsr.code)

        wrapped.__name__ = view.__name__
        wrapped.__doc__ = view.__doc__
        return wrapped

    return decorate
