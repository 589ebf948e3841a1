"""The front page's count of records that identified people may own, for the handlers who confirm them (the front
page belongs to registers, which imports no app above it: its template loads this tag)."""

from django import template

from .. import oidc, selectors

register = template.Library()


@register.inclusion_tag("selfservice/_links_waiting.html", takes_context=True)
def identity_links_waiting(context):
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"count": 0}
    return {"count": selectors.link_queue(user=user).count()}


@register.inclusion_tag("selfservice/_my_data_offer.html")
def my_data_offer():
    """On the public request pages: signing in strongly instead, where the service has an identity provider."""
    return {"configured": oidc.configured()}
