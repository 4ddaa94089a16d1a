"""The activity settings (administrators) and a user's own activity preferences."""

from django.urls import path

from guanxi.activities import views_settings

urlpatterns = [
    path("settings/", views_settings.activity_settings, name="settings"),
    path("preferences/", views_settings.preferences, name="preferences"),
]
