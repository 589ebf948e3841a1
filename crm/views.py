from django.core.paginator import Paginator
from django.shortcuts import render

from registers.selectors import register_get_for_user

from . import selectors


def customer_list(request, register):
    register = register_get_for_user(user=request.user, slug=register)
    customers = selectors.customer_list(user=request.user, register=register, search=request.GET.get("q", ""))
    page = Paginator(customers, 50).get_page(request.GET.get("page"))
    return render(request, "crm/customer_list.html", {"register": register, "page": page})


def customer_detail(request, register, code):
    register = register_get_for_user(user=request.user, slug=register)
    customer = selectors.customer_get_for_user(user=request.user, register=register, code=code)
    timeline = Paginator(selectors.customer_timeline(customer=customer), 50).get_page(request.GET.get("page"))
    return render(
        request, "crm/customer_detail.html", {"register": register, "customer": customer, "timeline": timeline}
    )
