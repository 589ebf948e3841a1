"""The tag panel of a customer's page (tags are crm's; applying them is staff work shown here)."""

from django import template
from django.db.models import Exists, OuterRef
from django.template.loader import render_to_string

from crm.models import CustomerTag, Tag

register = template.Library()


@register.simple_tag(takes_context=True)
def customer_tags_panel(context, customer):
    """The customer's tags and, for those who may change the customer, an add select and remove buttons.

    One query: the register's tags, each marked whether the customer carries it. The view read the customer
    through its selector; a restricted customer's tags are shown but not changed.
    """
    workspace = customer.register
    tags = list(
        Tag.objects.filter(register_id=customer.register_id)
        .annotate(on=Exists(CustomerTag.objects.filter(tag=OuterRef("pk"), customer_id=customer.pk)))
        .order_by("name", "id")
    )
    carried = [tag for tag in tags if tag.on]
    if not tags:
        return ""
    can_change = bool(getattr(workspace, "can_change", False))
    return render_to_string(
        "segments/_tags_panel.html",
        {
            "register": workspace,
            "customer": customer,
            "carried": carried,
            "addable": [tag for tag in tags if not tag.on],
            "can_change": can_change and not customer.processing_restricted,
            "restricted": can_change and customer.processing_restricted,
        },
        request=context.get("request"),
    )
