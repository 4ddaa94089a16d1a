"""Activity statistics and appointment show-rates."""

from django.urls import path

from guanxi.activities.views_insights import activity_statistics_view

urlpatterns = [
    path("statistics/", activity_statistics_view, name="statistics"),
]
