"""The campaign links of a register's customer list (only where the register allows direct marketing)."""

from django import template
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _

from campaigns.selectors import user_may_send_campaigns

register = template.Library()


@register.simple_tag(takes_context=True)
def campaigns_link(context, register):
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user_may_send_campaigns(user=user, register=register):
        return ""
    url = reverse("campaigns:list", kwargs={"register": register.slug})
    return format_html('<a class="button button-secondary" href="{}">{}</a>', url, _("Campaigns"))
