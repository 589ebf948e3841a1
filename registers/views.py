from django.shortcuts import render

from .selectors import register_list


def home(request):
    return render(request, "registers/home.html", {"registers": register_list(user=request.user)})
