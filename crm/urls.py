from django.urls import path

from . import views

app_name = "crm"

urlpatterns = [
    path("<slug:register>/", views.customer_list, name="customer-list"),
    path("<slug:register>/customers/<uuid:code>/", views.customer_detail, name="customer-detail"),
]
