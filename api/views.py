"""The API's own resources: the registers a client may use, and the client itself."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.generics import ListAPIView, RetrieveAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from registers import roles
from registers.models import Register
from registers.selectors import register_get_for_user, register_ids, register_list

from .access import api_access_log, api_list_access_log
from .authentication import request_client
from .services import api_client_scopes


class RegisterSerializer(serializers.ModelSerializer):
    organisation = serializers.CharField(source="organisation.name", read_only=True)
    writable = serializers.SerializerMethodField()

    class Meta:
        model = Register
        fields = ["slug", "kind", "name_fi", "name_sv", "name_en", "organisation", "collected_fields", "writable"]
        read_only_fields = fields

    def get_writable(self, register) -> bool:
        return register.pk in self.context["writable"]


class RegisterViewMixin:
    serializer_class = RegisterSerializer
    pagination_class = None

    def get_serializer_context(self):
        context = super().get_serializer_context()
        context["writable"] = register_ids(user=self.request.user, perms=(roles.CHANGE_DATA,))
        return context


class RegisterList(RegisterViewMixin, ListAPIView):
    """The registers this client may read (`writable`: and change)."""

    def get_queryset(self):
        return register_list(user=self.request.user)

    def list(self, request, *args, **kwargs):
        response = super().list(request, *args, **kwargs)
        # Logged against the client itself: the list spans registers.
        api_list_access_log(request, request.user, api="registers", rows=len(response.data))
        return response


class RegisterDetail(RegisterViewMixin, RetrieveAPIView):
    lookup_field = "slug"

    def get_object(self):
        register = register_get_for_user(user=self.request.user, slug=self.kwargs["slug"])
        api_access_log(self.request, register, {"api": "register"})
        return register


class ClientSerializer(serializers.Serializer):
    name = serializers.CharField()
    expires = serializers.DateTimeField(source="expiry_date")
    rate_per_minute = serializers.IntegerField()
    scopes = serializers.DictField(child=serializers.CharField())


class Me(APIView):
    """The calling client: its name, expiry, rate and scope per register (slug → api_read | api_write | api_keeper)."""

    @extend_schema(responses=ClientSerializer)
    def get(self, request):
        client = request_client(request)
        api_access_log(request, request.user, {"api": "me"})
        scopes = {membership.register.slug: membership.role for membership in api_client_scopes(client).values()}
        data = {
            "name": client.name,
            "expiry_date": client.expiry_date,
            "rate_per_minute": client.rate_per_minute,
            "scopes": scopes,
        }
        return Response(ClientSerializer(data).data)
