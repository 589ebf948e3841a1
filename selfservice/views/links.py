"""The handlers' queue of links that the automatic match left open: confirm that a record is the identified
person's, or reject it. Only in registers where the user handles data-subject requests (404 elsewhere)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from .. import selectors, services


@require_GET
def link_queue(request):
    return render(request, "selfservice/link_queue.html", {"links": selectors.link_queue(user=request.user)})


def _decide(request, pk: int, decide, done: str):
    link = selectors.link_get_for_user(user=request.user, pk=pk)
    try:
        decide(actor=request.user, link=link)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, done)
    return redirect("selfservice:link-queue")


@require_POST
def link_confirm(request, pk: int):
    return _decide(request, pk, services.identity_link_confirm, _("The record is linked to the person."))


@require_POST
def link_reject(request, pk: int):
    return _decide(request, pk, services.identity_link_reject, _("The record is marked as not the person's."))
