"""Import and export pages; the project includes these at the site root (app_name "imports")."""

from django.urls import path

from guanxi.core.imports import views

app_name = "imports"

urlpatterns = [
    path("imports/<str:model_label>/new/", views.upload_view, name="upload"),
    path("imports/<int:pk>/mapping/", views.mapping_view, name="mapping"),
    path("imports/<int:pk>/preview/", views.preview_view, name="preview"),
    path("imports/<int:pk>/resume/", views.resume_view, name="resume"),
    path("imports/<int:pk>/errors.<str:fmt>", views.errors_view, name="errors"),
    path("imports/<int:pk>/", views.job_view, name="job"),
    path("exports/<str:model_label>/", views.export_view, name="export"),
]
