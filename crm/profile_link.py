"""The handler's link of a customer to a person's Helsinki profile (the profile id the GDPR API is called with)."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from registers import roles
from registers.access import user_access
from registers.models import Register
from registers.selectors import user_can

from . import selectors, services


class CustomerProfileLinkForm(forms.Form):
    profile_id = forms.UUIDField(
        label=gettext_lazy("Helsinki profile id"),
        required=False,
        help_text=gettext_lazy(
            "The id of the person's Helsinki profile, after you have identified them. Leave empty to remove the link."
        ),
    )


@require_http_methods(["GET", "POST"])
def customer_profile_link(request, register, code):
    register = selectors.register_get_with_access(user=request.user, slug=register, kind=Register.Kind.CUSTOMER)
    customer = selectors.customer_get_for_user_rw(user=request.user, register=register, code=code)
    if not user_can(user=request.user, register=register, perm=roles.HANDLE_REQUESTS):
        raise PermissionDenied(services.ERROR_PROFILE_LINK_RIGHTS)
    form = CustomerProfileLinkForm(request.POST or None, initial={"profile_id": customer.profile_id})
    if request.method == "POST" and form.is_valid():
        profile_id = form.cleaned_data["profile_id"]
        services.customer_profile_link(actor=request.user, customer=customer, profile_id=profile_id)
        done = _("The customer was linked to the Helsinki profile.") if profile_id else _("The link was removed.")
        messages.success(request, done)
        return redirect(customer)
    context = {
        "register": register,
        "user_registers": user_access(request.user).links_for(roles.VIEW_DATA),
        "customer": customer,
        "form": form,
    }
    return render(request, "crm/customer_profile_link.html", context)
