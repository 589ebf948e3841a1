"""Keyset pages: stable under concurrent inserts, constant-cost however deep a sync goes, and exact on ties.

REST framework's CursorPagination keeps only the first ordering field in its cursor and skips rows that share
it by an offset it caps at 1,000: after one bulk UPDATE gave more rows than that the same `updated_at`, a
`modified_since` walk served the same page for ever. Here the cursor holds both keys of the last row, and the
next page is the rows after it in (key, id) order, so ties cost nothing and no row is served twice or skipped.
"""

import base64
import binascii
import json

from django.db.models import Q
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.pagination import BasePagination
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

ERROR_CURSOR = _("The cursor is not valid: follow the `next` link of the previous page.")
ERROR_PAGE_SIZE = _("Give a page size from 1 to %(max)s.")


class ChangeOrderCursorPagination(BasePagination):
    """Pages in the order of change (updated_at, then id), so a `modified_since` sync walks forward."""

    ordering = ("updated_at", "id")
    page_size = 100
    max_page_size = 500
    cursor_query_param = "cursor"
    page_size_query_param = "page_size"

    def _page_size(self, request) -> int:
        value = request.query_params.get(self.page_size_query_param)
        if value is None:
            return self.page_size
        try:
            size = int(value)
        except ValueError:
            size = 0
        if not 1 <= size <= self.max_page_size:
            message = ERROR_PAGE_SIZE % {"max": self.max_page_size}
            raise exceptions.ValidationError({self.page_size_query_param: [message]})
        return size

    def _position(self, request):
        value = request.query_params.get(self.cursor_query_param)
        if value is None:
            return None
        try:
            key, pk = json.loads(base64.urlsafe_b64decode(value.encode("ascii")))
            moment = parse_datetime(key)
            if moment is None or moment.tzinfo is None or not isinstance(pk, int):
                raise ValueError
        except (ValueError, TypeError, UnicodeError, binascii.Error):
            raise exceptions.ValidationError({self.cursor_query_param: [ERROR_CURSOR]}) from None
        return moment, pk

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        size = self._page_size(request)
        key, tie = self.ordering
        queryset = queryset.order_by(key, tie)
        position = self._position(request)
        if position is not None:
            moment, pk = position
            queryset = queryset.filter(Q(**{f"{key}__gt": moment}) | Q(**{key: moment, f"{tie}__gt": pk}))
        rows = list(queryset[: size + 1])
        self.page = rows[:size]
        self.next_position = None
        if len(rows) > size:
            last = self.page[-1]
            self.next_position = (getattr(last, key).isoformat(), getattr(last, tie))
        return self.page

    def _next_link(self) -> str | None:
        if self.next_position is None:
            return None
        token = base64.urlsafe_b64encode(json.dumps(self.next_position).encode()).decode("ascii")
        return replace_query_param(self.request.build_absolute_uri(), self.cursor_query_param, token)

    def get_paginated_response(self, data):
        return Response({"next": self._next_link(), "previous": None, "results": data})

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["results"],
            "properties": {
                "next": {"type": "string", "nullable": True, "format": "uri"},
                "previous": {"type": "string", "nullable": True, "format": "uri"},
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": str(_("The position after the previous page: take it from that page's `next` link.")),
                "schema": {"type": "string"},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": str(_("Rows per page (100 unless given, at most 500).")),
                "schema": {"type": "integer", "minimum": 1, "maximum": self.max_page_size},
            },
        ]
