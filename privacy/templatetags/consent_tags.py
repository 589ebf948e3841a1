"""The consent and objection history that other apps' pages show (the customer page of crm), and the notice texts."""

from django import template

from privacy.rights import selectors

register = template.Library()


@register.inclusion_tag("privacy/rights/_consent_history_card.html", takes_context=True)
def customer_consent_history(context, customer):
    """Show the customer's consents and objections, each with its evidence, to a user who may see the customer."""
    request = context["request"]
    history = selectors.consent_history_for_user(user=request.user, customer=customer)
    return {"customer": customer, "register": context.get("register") or customer.register, **history}


@register.filter
def notice_text(notice) -> str:
    """The notice's text in the reader's language, or in the language it falls back to."""
    return notice.text_in("text")[0] if notice else ""


@register.filter
def notice_language(notice) -> str:
    """The code of the language `notice_text` shows the notice in (recorded as the language shown)."""
    return notice.text_in("text")[1] if notice else ""


@register.filter
def recorder(user) -> str:
    """Who recorded a consent or objection, as staff see it: the user's name, or "" when the person acted."""
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()
