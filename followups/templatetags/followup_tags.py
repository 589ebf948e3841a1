"""The follow-up panels other apps' pages show: a customer's follow-ups, and "my follow-ups" on the front page."""

from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def customer_followups(context, customer):
    return ""


@register.simple_tag(takes_context=True)
def my_followups(context):
    return ""
