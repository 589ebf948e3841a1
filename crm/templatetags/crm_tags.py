from django import template

from crm import selectors

register = template.Library()


@register.inclusion_tag("crm/_recent_customers.html", takes_context=True)
def recent_customers(context):
    """Show the customers the signed-in user opened last (the front page's shortcut list)."""
    return {"customers": selectors.customer_recent_list(user=context["request"].user)}
