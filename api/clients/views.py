"""The main user's screens for integration clients: list, create (the key shown once), scopes, revoke."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from .. import services
from ..services import api_client_scopes
from . import selectors
from .forms import ClientCreateForm, ClientRevokeForm, ClientScopesForm


def client_list(request):
    clients = list(selectors.api_client_list(user=request.user))
    scopes = selectors.api_client_scope_rows(clients)
    for client in clients:
        client.scope_rows = scopes[client.pk]
    return render(request, "api/client_list.html", {"clients": clients})


def _service_errors(form, error: ValidationError) -> None:
    """Put a service's refusal on the form: on its field when the form has one, else on the whole form."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


@never_cache
@require_http_methods(["GET", "POST"])
def client_create(request):
    selectors.api_client_list(user=request.user)  # main users only, before any form is shown
    form = ClientCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            client, key = services.api_client_create(
                actor=request.user,
                name=data["name"],
                owner=data["owner"],
                scopes=form.scopes(),
                expires_on=data["expires_on"],
                allowed_networks=data["allowed_networks"],
                rate_per_minute=data["rate_per_minute"],
                description=data["description"],
            )
        except ValidationError as error:
            _service_errors(form, error)
        else:
            # The key is shown on this response only: it is neither stored nor put in a redirect's URL.
            return render(request, "api/client_key.html", {"client": client, "key": key})
    status = 400 if request.method == "POST" else 200
    return render(request, "api/client_create.html", {"form": form}, status=status)


def client_detail(request, code):
    client = selectors.api_client_get(user=request.user, code=code)
    return _render_detail(request, client, status=200)


def _render_detail(request, client, *, scopes_form=None, revoke_form=None, status=400):
    client.scope_rows = selectors.api_client_scope_rows([client])[client.pk]
    current = {register_pk: m.role for register_pk, m in api_client_scopes(client).items()}
    context = {
        "client": client,
        "scopes_form": scopes_form or ClientScopesForm(client=client, current=current),
        "revoke_form": revoke_form or ClientRevokeForm(),
    }
    return render(request, "api/client_detail.html", context, status=status)


@require_http_methods(["POST"])
def client_scopes(request, code):
    client = selectors.api_client_get(user=request.user, code=code)
    current = {register_pk: m.role for register_pk, m in api_client_scopes(client).items()}
    form = ClientScopesForm(request.POST, client=client, current=current)
    if form.is_valid():
        try:
            services.api_client_scopes_set(
                actor=request.user, client=client, scopes=form.scopes(), reason=form.cleaned_data["reason"]
            )
        except ValidationError as error:
            _service_errors(form, error)
        else:
            messages.success(request, _("The scopes of the client were changed."))
            return redirect("api_clients:detail", code=client.code)
    return _render_detail(request, client, scopes_form=form)


@require_http_methods(["POST"])
def client_revoke(request, code):
    client = selectors.api_client_get(user=request.user, code=code)
    form = ClientRevokeForm(request.POST)
    if form.is_valid():
        try:
            services.api_client_revoke(actor=request.user, client=client, reason=form.cleaned_data["reason"])
        except ValidationError as error:
            _service_errors(form, error)
        else:
            messages.success(request, _("The client was revoked: its key no longer works."))
            return redirect("api_clients:detail", code=client.code)
    return _render_detail(request, client, revoke_form=form)
