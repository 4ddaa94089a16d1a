"""Wired in by the project: `urlpatterns` under the site, `api_urlpatterns` under /api/v1/."""

from django.urls import path

from guanxi.core.search.api import SearchAPIView
from guanxi.core.search.views import search_view

urlpatterns = [path("search/", search_view, name="search")]
api_urlpatterns = [path("search/", SearchAPIView.as_view(), name="api-search")]
