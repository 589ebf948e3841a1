"""The campaign links of a register's customer list (only where the register allows direct marketing)."""

from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def campaigns_link(context, register):
    return ""
