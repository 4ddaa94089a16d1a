"""Pagination that never counts the whole table.

A page fetches `page_size + 1` rows: the extra row says whether there is a next page. The
total is only computed when the client asks for it (`?count=true`), and even then it stops
counting at `COUNT_CAP` and answers `"10000+"`. Response:
`{"results": [...], "next": url|null, "previous": url|null}` (+ `"count"` when asked).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.utils.translation import gettext as _
from rest_framework.exceptions import NotFound
from rest_framework.pagination import BasePagination
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.utils.urls import remove_query_param, replace_query_param

COUNT_CAP = 10_000
TRUE_VALUES = {"1", "true", "yes", "on"}


class GuanxiPagination(BasePagination):
    page_query_param = "page"
    page_size_query_param = "page_size"
    count_query_param = "count"
    max_page_size = 500
    count_cap = COUNT_CAP

    def __init__(self) -> None:
        self.page = 1
        self.page_size = api_settings.PAGE_SIZE or 50
        self.has_next = False
        self.count: int | str | None = None
        self.request = None

    # --- reading the request --------------------------------------------------------------
    def _positive_int(self, raw: str | None, default: int, *, cap: int | None = None) -> int:
        if raw in (None, ""):
            return default
        try:
            value = int(raw)
        except (TypeError, ValueError):
            raise NotFound(_("Invalid page.")) from None
        if value < 1:
            raise NotFound(_("Invalid page."))
        return min(value, cap) if cap else value

    def read_window(self, request) -> tuple[int, int]:
        """(offset, page_size) asked for by the request."""
        self.request = request
        self.page_size = self._positive_int(
            request.query_params.get(self.page_size_query_param),
            api_settings.PAGE_SIZE or 50,
            cap=self.max_page_size,
        )
        self.page = self._positive_int(request.query_params.get(self.page_query_param), 1)
        return (self.page - 1) * self.page_size, self.page_size

    def wants_count(self, request) -> bool:
        return request.query_params.get(self.count_query_param, "").lower() in TRUE_VALUES

    # --- paginating -----------------------------------------------------------------------
    def paginate_queryset(self, queryset, request, view=None):
        offset, size = self.read_window(request)
        if self.wants_count(request):
            counted = queryset.order_by()[: self.count_cap + 1].count()
            self.count = f"{self.count_cap}+" if counted > self.count_cap else counted
        return self._keep(list(queryset[offset : offset + size + 1]))

    def paginate_rows(self, request, fetch: Callable[[int, int], Sequence[Any]]) -> list:
        """Paginate something that is not one queryset: `fetch(offset, limit)` returns rows."""
        offset, size = self.read_window(request)
        return self._keep(list(fetch(offset, size + 1)))

    def _keep(self, rows: list) -> list:
        self.has_next = len(rows) > self.page_size
        return rows[: self.page_size]

    # --- answering ------------------------------------------------------------------------
    def get_next_link(self) -> str | None:
        if not self.has_next or self.request is None:
            return None
        url = self.request.build_absolute_uri()
        return replace_query_param(url, self.page_query_param, self.page + 1)

    def get_previous_link(self) -> str | None:
        if self.page <= 1 or self.request is None:
            return None
        url = self.request.build_absolute_uri()
        if self.page == 2:
            return remove_query_param(url, self.page_query_param)
        return replace_query_param(url, self.page_query_param, self.page - 1)

    def get_paginated_response(self, data) -> Response:
        body: dict[str, Any] = {}
        if self.count is not None:
            body["count"] = self.count
        body["next"] = self.get_next_link()
        body["previous"] = self.get_previous_link()
        body["results"] = data
        return Response(body)

    # --- OpenAPI --------------------------------------------------------------------------
    def get_paginated_response_schema(self, schema: dict) -> dict:
        return {
            "type": "object",
            "required": ["results", "next", "previous"],
            "properties": {
                "count": {
                    "oneOf": [{"type": "integer"}, {"type": "string"}],
                    "description": 'Only with ?count=true; capped, e.g. "10000+".',
                },
                "next": {"type": "string", "nullable": True, "format": "uri"},
                "previous": {"type": "string", "nullable": True, "format": "uri"},
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view) -> list[dict]:
        return [
            {
                "name": self.page_query_param,
                "required": False,
                "in": "query",
                "description": "Page number, from 1.",
                "schema": {"type": "integer", "minimum": 1},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": f"Rows per page (at most {self.max_page_size}).",
                "schema": {"type": "integer", "minimum": 1, "maximum": self.max_page_size},
            },
            {
                "name": self.count_query_param,
                "required": False,
                "in": "query",
                "description": f"Also return the number of rows (counted up to {COUNT_CAP}).",
                "schema": {"type": "boolean"},
            },
        ]
