"""The front page's customer search: a tag, so that the home view in `registers` need not import crm.

The front page belongs to `registers`, which imports neither crm nor privacy (STYLE.md, imports one-way);
its template composes the apps' panels through their template tags.
"""

from django import template

from crm import selectors
from crm.forms import CustomerSearchForm
from registers.models import Register

register = template.Library()

# Hits of each kind the front page lists; the register's own list pages through the rest.
HOME_HITS = 20


@register.inclusion_tag("crm/_customer_search.html", takes_context=True)
def customer_search(context):
    """Show the search box and, for a search in the address (?q=), the matches in all the user's registers."""
    request = context["request"]
    registers = selectors.register_list_with_access(user=request.user)
    if not any(register.kind == Register.Kind.CUSTOMER for register in registers):
        return {"show": False}  # a contact-centre archive is browsed, not searched
    form = CustomerSearchForm(request.GET if "q" in request.GET else None)
    result = {"show": True, "form": form, "searched": False}
    if form.is_bound and form.is_valid():
        search = form.cleaned_data["q"]
        customers = list(selectors.customer_list(user=request.user, search=search)[: HOME_HITS + 1])
        people, people_more = selectors.contact_person_hits(user=request.user, search=search, limit=HOME_HITS)
        result.update(
            searched=True,
            customers=customers[:HOME_HITS],
            customers_more=len(customers) > HOME_HITS,
            contact_hits=people,
            contact_hits_more=people_more,
            show_register=True,
        )
    return result
