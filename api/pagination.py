"""Cursor pagination: stable under concurrent inserts, and constant-cost however deep a sync goes."""

from rest_framework.pagination import CursorPagination


class ChangeOrderCursorPagination(CursorPagination):
    """Pages in the order of change (updated_at, then id), so a `modified_since` sync walks forward."""

    ordering = ("updated_at", "id")
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 500
