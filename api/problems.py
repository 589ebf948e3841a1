"""Errors as RFC 9457 problem details (application/problem+json), in the caller's Accept-Language.

Every error of the API goes through here: REST framework's own (authentication, throttling, parsing), the
404 and 403 of the selectors, and the ValidationError of the models and services, so a client reads one
shape whatever refused it, and never a 500 for bad input.
"""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from django.utils.translation import gettext_lazy as _
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from crm.services import EditConflictError

CONTENT_TYPE = "application/problem+json"
# What REST framework's handler says in headers (the key scheme to use, when to retry, which methods exist).
KEPT_HEADERS = frozenset({"www-authenticate", "retry-after", "allow"})

TITLES = {
    400: _("The request is not valid."),
    401: _("Authentication is needed."),
    403: _("This is not allowed."),
    404: _("Not found."),
    405: _("This method is not allowed here."),
    406: _("The requested format is not available."),
    412: _("The resource has changed since you read it."),
    415: _("This content type is not supported."),
    428: _("Give If-Match with the ETag you read."),
    429: _("Too many requests."),
}


class PreconditionFailed(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = _("Someone changed this resource after you read it: read it again and apply your change.")
    default_code = "stale"


class PreconditionRequired(exceptions.APIException):
    status_code = 428
    default_detail = _("A change needs the If-Match header with the ETag of the version you read.")
    default_code = "if_match_required"


def _validation_errors(error: DjangoValidationError) -> dict | list:
    if hasattr(error, "error_dict"):
        return {field: [str(message) for message in messages] for field, messages in error.message_dict.items()}
    return {"non_field_errors": [str(message) for message in error.messages]}


def _translate(exc):
    """Django's own exceptions as REST framework's, with their messages."""
    if isinstance(exc, EditConflictError):
        return PreconditionFailed()
    if isinstance(exc, DjangoValidationError):
        return exceptions.ValidationError(_validation_errors(exc))
    if isinstance(exc, Http404):
        return exceptions.NotFound()
    if isinstance(exc, DjangoPermissionDenied):
        return exceptions.PermissionDenied(*(exc.args[:1] or ()))
    return exc


def problem_exception_handler(exc, context):
    exc = _translate(exc)
    response = exception_handler(exc, context)
    if response is None:
        return None
    problem = {
        "type": "about:blank",
        "title": str(TITLES.get(response.status_code, _("The request failed."))),
        "status": response.status_code,
    }
    data = response.data
    if isinstance(data, dict) and set(data) == {"detail"}:
        problem["detail"] = str(data["detail"])
    elif data:
        problem["detail"] = str(_("Some values are not valid: see errors."))
        problem["errors"] = data
    if isinstance(exc, exceptions.APIException):
        problem["code"] = exc.get_codes() if isinstance(exc.get_codes(), str) else "invalid"
    kept = {name: value for name, value in response.headers.items() if name.lower() in KEPT_HEADERS}
    return Response(problem, status=response.status_code, headers=kept, content_type=CONTENT_TYPE)


# Where a path that names nothing (a code that is not a UUID, a typo) is answered as problem details too.
API_PATHS = ("/api/", "/gdpr-api/")


def page_not_found(request, exception):
    """The project's 404 (config.urls.handler404): problem details under the APIs, the site's page elsewhere.

    A path no route matches never reaches REST framework, whose handler shapes every other error of the API.
    """
    if not request.path.startswith(API_PATHS):
        return defaults.page_not_found(request, exception)
    problem = {
        "type": "about:blank",
        "title": str(TITLES[404]),
        "status": 404,
        "detail": str(exceptions.NotFound.default_detail),
        "code": exceptions.NotFound.default_code,
    }
    return JsonResponse(problem, status=404, content_type=CONTENT_TYPE)
