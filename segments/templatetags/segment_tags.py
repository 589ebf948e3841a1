"""What segments adds to crm's pages: the customer's tag panel, and the customer list's bulk action form."""

from django import template
from django.db.models import Exists, OuterRef
from django.template.loader import render_to_string

from crm.models import ContactPersonTag, CustomerTag, Tag

from .. import selectors
from ..models import BulkAction

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
    # The contact persons' own tags: one query for all of them (the page read the persons already).
    people = getattr(customer, "contact_person_list", None) or []
    on_person: dict[int, set[int]] = {}
    if people:
        links = ContactPersonTag.objects.filter(contact_person_id__in=[person.pk for person in people])
        for person_id, tag_id in links.values_list("contact_person_id", "tag_id"):
            on_person.setdefault(person_id, set()).add(tag_id)
    person_rows = [
        {
            "person": person,
            "carried": [tag for tag in tags if tag.pk in on_person.get(person.pk, set())],
            "addable": [tag for tag in tags if tag.pk not in on_person.get(person.pk, set())],
        }
        for person in people
    ]
    can_change = bool(getattr(workspace, "can_change", False))
    return render_to_string(
        "segments/_tags_panel.html",
        {
            "register": workspace,
            "customer": customer,
            "carried": carried,
            "addable": [tag for tag in tags if not tag.on],
            "person_rows": person_rows,
            "can_change": can_change and not customer.processing_restricted,
            "restricted": can_change and customer.processing_restricted,
        },
        request=context.get("request"),
    )


@register.simple_tag(takes_context=True)
def bulk_action_form(context):
    """The customer list's form for acting on the ticked customers or all that match, for those who change data.

    The list's checkboxes belong to it through `form="bulk-form"`; the tags come from the list's filter (no query
    of their own), the possible assignees of a follow-up cost one query.
    """
    workspace = context.get("register")
    if workspace is None or not getattr(workspace, "can_change", False):
        return ""
    return render_to_string(
        "segments/_bulk_form.html",
        {
            "register": workspace,
            "bulk_kinds": BulkAction.Kind.choices,
            "bulk_tags": context.get("bulk_tags", []),
            "bulk_assignees": list(selectors.assignee_list(register=workspace)),
        },
        request=context.get("request"),
    )
