"""The archive's intake screen: historical mail uploaded as an .eml or .mbox file (issue 17)."""

import dataclasses

from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from crm import selectors as crm_selectors
from crm.models import ContactCentreMessage
from registers import roles
from registers.access import user_access
from registers.access_log import log_access
from registers.models import Register

from .forms import MailUploadForm
from .selectors import user_may_add_archive_mail
from .services import IntakeCounts, raw_messages_archive

ERROR_NO_UPLOAD_RIGHT = _("Only the contact centre's experts and the register's keepers may add mail to the archive.")
RESULT_KEY = "archive_upload_result"


@require_http_methods(["GET", "POST"])
def message_upload(request, register):
    register = crm_selectors.register_get_with_access(
        user=request.user, slug=register, kind=Register.Kind.CONTACT_CENTRE
    )
    if not user_may_add_archive_mail(user=request.user, register=register):
        raise PermissionDenied(ERROR_NO_UPLOAD_RIGHT)
    form = MailUploadForm(request.POST or None, request.FILES or None, user=request.user, register=register)
    if request.method == "POST" and form.is_valid():
        client = form.cleaned_data["ordering_client"]
        result = raw_messages_archive(
            raws=form.raw_messages(),
            ordering_client=client,
            direction=form.cleaned_data["direction"],
            intake=ContactCentreMessage.Intake.UPLOAD,
            actor=request.user,
        )
        counts = {"archived": result.archived, "already": result.already, "unreadable": result.unreadable}
        # One entry for the upload: who put how many messages into which client's archive; no content.
        log_access(request, register, {"upload": "archive_mail", "ordering_client": client, **counts})
        request.session[RESULT_KEY] = {"register": register.slug, "client": str(client), **dataclasses.asdict(result)}
        return redirect("archive:message-upload", register=register.slug)
    stored = request.session.pop(RESULT_KEY, None) if request.method == "GET" else None
    result, client = None, ""
    if stored and stored.get("register") == register.slug:
        client = stored.pop("client", "")
        stored.pop("register")
        result = IntakeCounts(**stored)
    linked = []
    if result is not None:
        linked = crm_selectors.message_list(user=request.user, register=register).filter(code__in=result.codes)
    context = {
        "register": register,
        "user_registers": user_access(request.user).links_for(roles.VIEW_DATA),
        "form": form,
        "result": result,
        "result_client": client,
        "result_messages": linked,
        "linked_max": IntakeCounts.LINKED_MAX,
    }
    return render(request, "archive/message_upload.html", context)
