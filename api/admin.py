"""The API key package registers its own key model in the admin; Rekisteri's keys are integration clients,
managed by main users on their own pages (api.clients), so the unused model has no admin pages."""

from django.contrib import admin
from rest_framework_api_key.models import APIKey

admin.site.unregister(APIKey)
