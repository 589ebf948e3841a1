"""Invoices, archived messages, data-subject requests, import batches and duplicate candidates of one register.

Every read goes through the selectors the web UI uses, with the client's machine user, so the register scoping,
an ordering client's own department, and the rights behind requests, imports and duplicates hold as they do for a
person: only a client with the keeper's scope (roles.READ_KEEPER_RECORDS) reads those, and no client handles,
imports or merges. Every row a client reads writes an access entry (api.access).
"""

import contextlib

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, status
from rest_framework.generics import ListAPIView, ListCreateAPIView, RetrieveAPIView
from rest_framework.response import Response

from crm import selectors as crm_selectors
from crm import services as crm_services
from crm.forms import ArchiveFilterForm
from crm.models import Invoice
from duplicates import selectors as duplicate_selectors
from imports import selectors as import_selectors
from privacy.requests import forms as request_forms
from privacy.requests import selectors as request_selectors
from privacy.requests import services as request_services
from privacy.requests.models import DataSubjectRequest, RequestRegister
from registers import roles
from registers.selectors import register_get_for_user, user_can

from ..access import api_access_log, api_list_access_log
from ..pagination import ChangeOrderCursorPagination
from ..preconditions import etag_of, require_current
from ..query import MODIFIED_SINCE_PARAMETER, SyncQuerySerializer
from . import serializers

FILED = _(
    "The request was received. The requester confirms it from the link sent to their e-mail address; "
    "the deadlines run from that confirmation, as for the public form."
)


def form_errors(form) -> exceptions.ValidationError:
    """The form's errors as the API's 400 (`errors`: field → messages)."""
    return exceptions.ValidationError({name: [str(error) for error in errors] for name, errors in form.errors.items()})


class ArchiveOrderPagination(ChangeOrderCursorPagination):
    """An archived message never changes: its pages run in the order of archiving (an indexed column)."""

    ordering = ("created_at", "id")


class RegisterScopedMixin:
    """The register named by the URL's slug, 404 unless the client may read it."""

    @property
    def register(self):
        if not hasattr(self, "_register"):
            self._register = register_get_for_user(user=self.request.user, slug=self.kwargs["slug"])
        return self._register

    def access_log(self, obj, extra: dict | None = None) -> None:
        api_access_log(self.request, obj, {"register": self.register, **(extra or {})})


class LoggedListMixin(RegisterScopedMixin):
    """A list page that writes one access entry per row it shows and one for the call (the register, the rows
    returned, the filters), and filters by `modified_since`.

    The entry per row puts the read into each person's own access answer (the days their data was processed,
    privacy.requests.access_package.processing_dates); the entry per call is what an export writes.
    """

    modified_field = "updated_at"

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        typed = SyncQuerySerializer(data=self.request.query_params)
        typed.is_valid(raise_exception=True)
        moment = typed.validated_data.get("modified_since")
        return queryset if moment is None else queryset.filter(**{f"{self.modified_field}__gte": moment})

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        for obj in page:
            self.access_log(obj)
        api_list_access_log(
            request, self.register, api=request.resolver_match.url_name, rows=len(page), register=self.register
        )
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


class LoggedDetailMixin(RegisterScopedMixin):
    def get_object(self):
        obj = self.get_record()
        self.access_log(obj)
        return obj


# Invoices ---------------------------------------------------------------------------------------------------


class InvoiceMixin:
    serializer_class = serializers.InvoiceSerializer

    def invoices(self):
        customers = crm_selectors.customer_list(user=self.request.user, register=self.register).order_by()
        return Invoice.objects.filter(customer__in=customers.values("pk")).select_related("customer")


@extend_schema(parameters=[MODIFIED_SINCE_PARAMETER])
class InvoiceList(InvoiceMixin, LoggedListMixin, ListAPIView):
    """The invoices of the register's customers, in the order of change."""

    def get_queryset(self):
        return self.invoices()


@extend_schema_view(
    patch=extend_schema(
        request=serializers.InvoiceStatusSerializer,
        parameters=[OpenApiParameter("If-Match", str, OpenApiParameter.HEADER, required=True)],
        responses={200: serializers.InvoiceSerializer, 412: OpenApiResponse(), 428: OpenApiResponse()},
    )
)
class InvoiceDetail(InvoiceMixin, LoggedDetailMixin, RetrieveAPIView):
    """An invoice (ETag: its last change); PATCH sets its state as the billing system reports it (write scope)."""

    http_method_names = ["get", "patch", "head", "options"]

    def get_record(self):
        try:
            return self.invoices().get(code=self.kwargs["code"])
        except Invoice.DoesNotExist:
            raise exceptions.NotFound() from None

    def retrieve(self, request, *args, **kwargs):
        response = super().retrieve(request, *args, **kwargs)
        response["ETag"] = etag_of(self._invoice)
        return response

    def get_object(self):
        self._invoice = super().get_object()
        return self._invoice

    def patch(self, request, *args, **kwargs):
        invoice = self.get_record()
        if not user_can(user=request.user, register=self.register, perm=roles.CHANGE_DATA):
            raise exceptions.PermissionDenied()
        require_current(request, invoice)
        data = serializers.InvoiceStatusSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        invoice = crm_services.invoice_status_set(
            actor=request.user, invoice=invoice, status=data.validated_data["status"], updated_at=invoice.updated_at
        )
        response = Response(self.get_serializer(invoice).data)
        response["ETag"] = etag_of(invoice)
        return response


# Archived messages -------------------------------------------------------------------------------------------


@extend_schema(
    parameters=[
        MODIFIED_SINCE_PARAMETER,
        OpenApiParameter("q", str, description=str(_("Search the subject, body and addresses."))),
        OpenApiParameter("direction", str, enum=["in", "out"]),
        OpenApiParameter("sent_from", OpenApiTypes.DATE),
        OpenApiParameter("sent_to", OpenApiTypes.DATE),
        OpenApiParameter("ordering_client", OpenApiTypes.UUID),
        OpenApiParameter("unreadable", bool),
    ]
)
class MessageList(LoggedListMixin, ListAPIView):
    """The archived messages of a contact-centre register, with every identity code masked."""

    serializer_class = serializers.MessageSerializer

    pagination_class = ArchiveOrderPagination

    def get_queryset(self):
        user = self.request.user
        # The register first: another kind of register, or one the client may not read, is 404 before any
        # filter is read.
        clients = crm_selectors.ordering_client_list(user=user, register=self.register)
        form = ArchiveFilterForm(self.request.query_params, clients=clients)
        if not form.is_valid():
            raise form_errors(form)
        return crm_selectors.message_list(user=user, register=self.register, **form.selector_kwargs())


class MessageDetail(LoggedDetailMixin, RetrieveAPIView):
    serializer_class = serializers.MessageDetailSerializer

    def get_record(self):
        message = crm_selectors.message_get_for_user(
            user=self.request.user, register=self.register, code=self.kwargs["code"]
        )
        message.attachment_list = list(crm_selectors.message_attachment_list(message=message))
        return message


# Data-subject requests ---------------------------------------------------------------------------------------


class RequestMixin:
    def requests(self):
        """The register's requests, for a client with the keeper's scope there (else 403)."""
        user = self.request.user
        if self.register.pk not in request_selectors.request_reader_register_ids(user=user):
            raise exceptions.PermissionDenied(request_selectors.ERROR_NO_REQUEST_RIGHTS)
        covering = RequestRegister.objects.filter(register=self.register).values("request_id")
        return request_selectors.request_list(user=user).filter(pk__in=covering).prefetch_related("registers")


@extend_schema_view(
    get=extend_schema(
        parameters=[MODIFIED_SINCE_PARAMETER], responses=serializers.DataSubjectRequestSerializer(many=True)
    ),
    post=extend_schema(
        request=serializers.DataSubjectRequestFileSerializer,
        responses={202: OpenApiResponse(serializers.FiledSerializer)},
        description=str(
            _(
                "File a request for the register as the public form does: the same checks, the same confirmation "
                "e-mail to the requester, the same deadlines. The answer never tells whether the address had "
                "filed before."
            )
        ),
    ),
)
class RequestList(RequestMixin, LoggedListMixin, ListCreateAPIView):
    """The data-subject requests that concern the register (for a client with the keeper's scope)."""

    serializer_class = serializers.DataSubjectRequestSerializer

    def get_queryset(self):
        return self.requests()

    def create(self, request, *args, **kwargs):
        register = self.register
        if not user_can(user=request.user, register=register, perm=roles.CHANGE_DATA):
            raise exceptions.PermissionDenied(crm_selectors.ERROR_READ_ONLY)
        typed = serializers.DataSubjectRequestFileSerializer(data=request.data)
        typed.is_valid(raise_exception=True)
        # The public form's own rules (identity codes refused, a correction's what and why, a postal address
        # for an answer by post, a mandate for a representative), on the register the URL names.
        organisation = register.organisation
        form = request_forms.PublicRequestForm(
            {**typed.validated_data, "registers": [register.slug]},
            registers=request_selectors.public_register_list(organisation=organisation),
        )
        if not form.is_valid():
            raise form_errors(form)
        # A refused filing (too many for one address) is answered like any other, as the public form answers
        # it: a different answer would tell the caller that this address has been sending requests.
        with contextlib.suppress(request_services.EmailRateLimitedError):
            request_services.request_submit(
                organisation=organisation,
                registers=list(form.cleaned_data["registers"]),
                all_registers=False,
                data=form.request_data(),
            )
        return Response({"detail": str(FILED)}, status=status.HTTP_202_ACCEPTED)


class RequestDetail(RequestMixin, LoggedDetailMixin, RetrieveAPIView):
    serializer_class = serializers.DataSubjectRequestSerializer

    def get_record(self):
        # Among the URL's register's requests only: another register's request under this slug is not found.
        try:
            return self.requests().get(code=self.kwargs["code"])
        except (DataSubjectRequest.DoesNotExist, ValueError, DjangoValidationError):
            raise exceptions.NotFound() from None


# Import batches and duplicate candidates (read only: importing and merging are not rights a client holds) ------


@extend_schema(parameters=[MODIFIED_SINCE_PARAMETER])
class ImportBatchList(LoggedListMixin, ListAPIView):
    """The register's import batches, for a client with the keeper's scope (for any other: empty)."""

    serializer_class = serializers.ImportBatchSerializer

    def get_queryset(self):
        return import_selectors.import_batch_list(user=self.request.user, register=self.register)


class ImportBatchDetail(LoggedDetailMixin, RetrieveAPIView):
    serializer_class = serializers.ImportBatchSerializer

    def get_record(self):
        return import_selectors.import_batch_get_for_user(
            user=self.request.user, register=self.register, code=self.kwargs["code"]
        )


@extend_schema(parameters=[MODIFIED_SINCE_PARAMETER])
class DuplicateList(LoggedListMixin, ListAPIView):
    """The register's open duplicate candidates, for a client with the keeper's scope (for any other: 403)."""

    serializer_class = serializers.DuplicateCandidateSerializer

    def get_queryset(self):
        return duplicate_selectors.candidate_list(user=self.request.user, register=self.register)


class DuplicateDetail(LoggedDetailMixin, RetrieveAPIView):
    serializer_class = serializers.DuplicateCandidateSerializer

    def get_record(self):
        return duplicate_selectors.candidate_get(
            user=self.request.user, register=self.register, code=self.kwargs["code"]
        )
