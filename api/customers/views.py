"""Customers, their contact persons and interactions over the integration API.

Thin views: reads through crm.selectors with the client's machine user (another register's row is 404, a
read-only scope's change 403), changes through crm.services (which set the audit actor and refuse what the web
forms refuse), optimistic locking by ETag/If-Match, and an access-log entry for every read of personal data.
"""

from django.contrib.postgres.expressions import ArraySubquery
from django.db import connection
from django.db.models import JSONField, OuterRef, Subquery, TextField
from django.db.models.functions import Cast
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from crm import selectors, services
from crm.models import Customer, CustomerTag
from registers.models import Register

from ..access import api_access_log, api_list_access_log
from ..preconditions import etag_of, require_current, version_from_if_match
from ..query import MODIFIED_SINCE_PARAMETER
from . import serializers

ETAG_HEADER = OpenApiParameter(
    "ETag", OpenApiTypes.STR, OpenApiParameter.HEADER, response=True, description="The version read, for If-Match."
)
IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=True,
    description="The ETag of the version the change is based on (428 without it, 412 when it is stale).",
)
IF_MATCH_OPTIONAL = OpenApiParameter(
    "If-Match", OpenApiTypes.STR, OpenApiParameter.HEADER, description="When given, 412 unless it is current."
)
SYNC_PARAMETERS = [MODIFIED_SINCE_PARAMETER]
SEARCH_PARAMETER = OpenApiParameter(
    "search", OpenApiTypes.STR, description="The web list's search: name, e-mail, phone, business ID or tag."
)
CHANGE_ERRORS = {
    400: OpenApiResponse(description="Problem details: errors by field."),
    403: OpenApiResponse(description="Read-only scope, or a right the client does not hold."),
    404: OpenApiResponse(description="Not in the client's registers."),
    412: OpenApiResponse(description="If-Match is stale."),
    428: OpenApiResponse(description="If-Match is missing."),
}
PHONES = ("landline", "mobile", "fax")
LIST_COLUMNS = (
    "id",
    "code",
    "kind",
    *(name for name in Customer.DATA_FIELDS if name not in PHONES),
    "marketing_objection",
    "processing_restricted",
    "version",
    "created_at",
    "updated_at",
)


def _stored(*names: str) -> dict:
    return {serializers.STORED % name: Cast(name, TextField()) for name in names}


def stored_phones(queryset, *names: str):
    """The phone numbers of a list as their stored text (serializers.StoredPhoneField), not parsed per row."""
    return queryset.defer(*names).annotate(**_stored(*names))


def _tag_names():
    """The names of the customer's tags as a list, in the row's own query (NULL on SQLite when there are none)."""
    # Unordered: the serializer sorts them as Python does, whatever the collation.
    names = CustomerTag.objects.filter(customer=OuterRef("pk")).order_by().values("tag__name")
    if connection.vendor == "postgresql":
        return ArraySubquery(names)
    grouped = names.values("customer").annotate(names=selectors.JSONGroupArray("tag__name"))
    return Subquery(grouped.values("names"), output_field=JSONField())


def customer_rows(customers):
    """The customer list's rows as named tuples of the page's own columns, the phones as stored text and the tag
    names aggregated (serializers.CustomerSerializer reads them as it reads a model).

    A model instance a row (with its deferred-field bookkeeping) and a prefetch of the tags (two more instances a
    tag, a list a row, and a query of its own) took half of a page's time; the paginator's cursor reads a named
    tuple's updated_at and id as it reads a model's. The selector's join of the register (40 columns a row) is
    not shown here.
    """
    stored = _stored(*PHONES)
    return (
        customers.select_related(None)
        .annotate(**stored, tag_names=_tag_names())
        .values_list(*LIST_COLUMNS, *stored, "tag_names", named=True)
    )


def _with_etag(response: Response, obj) -> Response:
    response["ETag"] = etag_of(obj)
    return response


def _reject_stale_delete(request, obj) -> None:
    # A delete need not name a version, but one that does is refused when the row changed since.
    if "If-Match" in request.headers:
        require_current(request, obj)


class RegisterScoped(GenericAPIView):
    """A view under registers/<slug>/: the customer register the client may see (404 otherwise)."""

    api_name = ""

    def get_register(self) -> Register:
        if not hasattr(self, "_register"):
            self._register = selectors.register_get_with_access(
                user=self.request.user, slug=self.kwargs["slug"], kind=Register.Kind.CUSTOMER
            )
        return self._register

    def require_change(self, register: Register) -> None:
        if not register.can_change:
            raise PermissionDenied(selectors.ERROR_READ_ONLY)

    def query(self) -> dict:
        if not hasattr(self, "_query"):
            query = serializers.SyncQuerySerializer(data=self.request.query_params)
            query.is_valid(raise_exception=True)
            self._query = query.validated_data
        return self._query

    def since(self, queryset):
        modified_since = self.query().get("modified_since")
        return queryset if modified_since is None else queryset.filter(updated_at__gte=modified_since)

    def logged_page(self, queryset, logged_obj):
        """One page in change order, logged as one read of `logged_obj` with the number of rows."""
        page = self.paginate_queryset(queryset)
        data = self.get_serializer(page, many=True).data
        api_list_access_log(self.request, logged_obj, api=self.api_name, rows=len(page))
        return self.get_paginated_response(data)

    def created(self, obj, url_name: str, **kwargs) -> Response:
        """201 with the new object, its address (Location) and its ETag."""
        response = Response(self.get_serializer(obj).data, status=status.HTTP_201_CREATED)
        response["Location"] = self.request.build_absolute_uri(reverse(url_name, kwargs=kwargs))
        return _with_etag(response, obj)

    def get_customer(self, *, rw: bool = False) -> Customer:
        get = selectors.customer_get_for_user_rw if rw else selectors.customer_get_for_user
        self._customer = get(user=self.request.user, register=self.get_register(), code=self.kwargs["code"])
        return self._customer

    def get_serializer_context(self):
        # An interaction links only to its own customer's contact persons.
        return {**super().get_serializer_context(), "customer": getattr(self, "_customer", None)}


# Customers


@extend_schema_view(
    get=extend_schema(parameters=[*SYNC_PARAMETERS, SEARCH_PARAMETER]),
    post=extend_schema(responses={201: serializers.CustomerSerializer, **CHANGE_ERRORS}),
)
class CustomerList(mixins.ListModelMixin, RegisterScoped):
    """The register's customers in change order (`modified_since` for a sync), or a new customer."""

    serializer_class = serializers.CustomerSerializer
    api_name = "customers"

    def get(self, request, slug):
        register = self.get_register()
        search = self.query().get("search", "")
        customers = selectors.customer_list(user=request.user, register=register, search=search)
        return self.logged_page(self.since(customer_rows(customers)), register)

    def post(self, request, slug):
        register = self.get_register()
        self.require_change(register)
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        customer = services.customer_create(actor=request.user, register=register, data=serializer.service_data())
        return self.created(customer, "api:customer-detail", slug=register.slug, code=customer.code)


@extend_schema_view(
    get=extend_schema(parameters=[ETAG_HEADER]),
    put=extend_schema(
        parameters=[IF_MATCH, ETAG_HEADER], responses={200: serializers.CustomerSerializer, **CHANGE_ERRORS}
    ),
    patch=extend_schema(
        parameters=[IF_MATCH, ETAG_HEADER], responses={200: serializers.CustomerSerializer, **CHANGE_ERRORS}
    ),
    delete=extend_schema(parameters=[IF_MATCH_OPTIONAL], responses={204: None, **CHANGE_ERRORS}),
)
class CustomerDetail(RegisterScoped):
    """One customer. Deleting needs the right to delete customers, which no integration scope carries (403)."""

    serializer_class = serializers.CustomerSerializer

    def get(self, request, slug, code):
        customer = selectors.customer_get_for_user(
            user=request.user, register=self.get_register(), code=code, annotations={"tag_names": _tag_names()}
        )
        api_access_log(request, customer)
        return _with_etag(Response(self.get_serializer(customer).data), customer)

    def put(self, request, slug, code):
        return self._change(request, partial=False)

    def patch(self, request, slug, code):
        return self._change(request, partial=True)

    def _change(self, request, *, partial):
        customer = self.get_customer(rw=True)
        version = version_from_if_match(request)
        serializer = self.get_serializer(customer, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        customer = services.customer_update(
            actor=request.user, customer=customer, data=serializer.service_data(), version=version
        )
        return _with_etag(Response(self.get_serializer(customer).data), customer)

    def delete(self, request, slug, code):
        customer = selectors.customer_get_for_delete(user=request.user, register=self.get_register(), code=code)
        _reject_stale_delete(request, customer)
        services.customer_delete(actor=request.user, customer=customer)
        return Response(status=status.HTTP_204_NO_CONTENT)


# Contact persons


@extend_schema_view(
    get=extend_schema(parameters=SYNC_PARAMETERS),
    post=extend_schema(responses={201: serializers.ContactPersonSerializer, **CHANGE_ERRORS}),
)
class ContactPersonList(mixins.ListModelMixin, RegisterScoped):
    """The customer's contact persons in change order, or a new one (organisation customers only)."""

    serializer_class = serializers.ContactPersonSerializer
    api_name = "contact-persons"

    def get(self, request, slug, code):
        customer = self.get_customer()
        persons = stored_phones(customer.contact_persons.select_related("customer"), "phone")
        return self.logged_page(self.since(persons), customer)

    def post(self, request, slug, code):
        customer = self.get_customer(rw=True)
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        person = services.contact_person_create(actor=request.user, customer=customer, data=serializer.service_data())
        return self.created(person, "api:contact-person-detail", slug=slug, code=customer.code, person=person.code)


@extend_schema_view(
    get=extend_schema(parameters=[ETAG_HEADER]),
    put=extend_schema(
        parameters=[IF_MATCH, ETAG_HEADER], responses={200: serializers.ContactPersonSerializer, **CHANGE_ERRORS}
    ),
    patch=extend_schema(
        parameters=[IF_MATCH, ETAG_HEADER], responses={200: serializers.ContactPersonSerializer, **CHANGE_ERRORS}
    ),
    delete=extend_schema(parameters=[IF_MATCH_OPTIONAL], responses={204: None, **CHANGE_ERRORS}),
)
class ContactPersonDetail(RegisterScoped):
    serializer_class = serializers.ContactPersonSerializer

    def get_person(self, *, rw: bool = False):
        # Found first, then the scope checked: another register's code is 404 whatever the scope.
        customer = self.get_customer()
        code = self.kwargs["person"]
        person = selectors.contact_person_get_for_user(user=self.request.user, customer=customer, code=code)
        if rw:
            self.require_change(self.get_register())
        return person

    def get(self, request, slug, code, person):
        person = self.get_person()
        api_access_log(request, person)
        return _with_etag(Response(self.get_serializer(person).data), person)

    def put(self, request, slug, code, person):
        return self._change(request, partial=False)

    def patch(self, request, slug, code, person):
        return self._change(request, partial=True)

    def _change(self, request, *, partial):
        person = self.get_person(rw=True)
        version = version_from_if_match(request)
        serializer = self.get_serializer(person, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        person = services.contact_person_update(
            actor=request.user, person=person, data=serializer.service_data(), version=version
        )
        return _with_etag(Response(self.get_serializer(person).data), person)

    def delete(self, request, slug, code, person):
        person = self.get_person(rw=True)
        _reject_stale_delete(request, person)
        services.contact_person_delete(actor=request.user, person=person)
        return Response(status=status.HTTP_204_NO_CONTENT)


# Interactions


@extend_schema_view(
    get=extend_schema(parameters=SYNC_PARAMETERS),
    post=extend_schema(responses={201: serializers.InteractionSerializer, **CHANGE_ERRORS}),
)
class InteractionList(mixins.ListModelMixin, RegisterScoped):
    """The customer's interactions in change order, or a new one recorded by the client."""

    serializer_class = serializers.InteractionSerializer
    api_name = "interactions"

    def get(self, request, slug, code):
        customer = self.get_customer()
        interactions = customer.interactions.select_related("customer", "contact_person")
        return self.logged_page(self.since(interactions), customer)

    def post(self, request, slug, code):
        customer = self.get_customer(rw=True)
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        interaction = services.interaction_create(actor=request.user, customer=customer, data=serializer.service_data())
        return self.created(
            interaction, "api:interaction-detail", slug=slug, code=customer.code, interaction=interaction.code
        )


@extend_schema_view(
    get=extend_schema(parameters=[ETAG_HEADER]),
    put=extend_schema(
        parameters=[IF_MATCH, ETAG_HEADER], responses={200: serializers.InteractionSerializer, **CHANGE_ERRORS}
    ),
    patch=extend_schema(
        parameters=[IF_MATCH, ETAG_HEADER], responses={200: serializers.InteractionSerializer, **CHANGE_ERRORS}
    ),
    delete=extend_schema(parameters=[IF_MATCH_OPTIONAL], responses={204: None, **CHANGE_ERRORS}),
)
class InteractionDetail(RegisterScoped):
    """One interaction. A client changes or removes the entries it recorded (a colleague's: 403)."""

    serializer_class = serializers.InteractionSerializer

    def get_interaction(self, *, rw: bool = False):
        customer = self.get_customer()
        code = self.kwargs["interaction"]
        interaction = selectors.interaction_get_for_user(user=self.request.user, customer=customer, code=code)
        if rw:
            self.require_change(self.get_register())
            interaction = selectors.interaction_get_for_user_rw(user=self.request.user, customer=customer, code=code)
        return interaction

    def get(self, request, slug, code, interaction):
        interaction = self.get_interaction()
        api_access_log(request, interaction)
        return _with_etag(Response(self.get_serializer(interaction).data), interaction)

    def put(self, request, slug, code, interaction):
        return self._change(request, partial=False)

    def patch(self, request, slug, code, interaction):
        return self._change(request, partial=True)

    def _change(self, request, *, partial):
        interaction = self.get_interaction(rw=True)
        version = version_from_if_match(request)
        serializer = self.get_serializer(interaction, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        interaction = services.interaction_update(
            actor=request.user, interaction=interaction, data=serializer.service_data(), version=version
        )
        return _with_etag(Response(self.get_serializer(interaction).data), interaction)

    def delete(self, request, slug, code, interaction):
        interaction = self.get_interaction(rw=True)
        _reject_stale_delete(request, interaction)
        services.interaction_delete(actor=request.user, interaction=interaction)
        return Response(status=status.HTTP_204_NO_CONTENT)


# Register-wide synchronisation


@extend_schema_view(get=extend_schema(parameters=SYNC_PARAMETERS))
class RegisterContactPersonList(mixins.ListModelMixin, RegisterScoped):
    """All contact persons of the register in change order: a sync without walking the customers."""

    serializer_class = serializers.ContactPersonSerializer
    api_name = "contact-persons"

    def get(self, request, slug):
        register = self.get_register()
        persons = stored_phones(selectors.contact_person_list(user=request.user, register=register), "phone")
        return self.logged_page(self.since(persons), register)


@extend_schema_view(get=extend_schema(parameters=SYNC_PARAMETERS))
class RegisterInteractionList(mixins.ListModelMixin, RegisterScoped):
    """All interactions of the register in change order: a sync without walking the customers."""

    serializer_class = serializers.InteractionSerializer
    api_name = "interactions"

    def get(self, request, slug):
        register = self.get_register()
        interactions = selectors.interaction_list(user=request.user, register=register)
        return self.logged_page(self.since(interactions), register)
