"""/api/v1/: core's resources plus every viewset apps registered (see registry.py)."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from guanxi.core.api import views
from guanxi.core.api.registry import registered_paths, registered_viewsets
from guanxi.core.search.urls import api_urlpatterns as search_urlpatterns

app_name = "api"

router = DefaultRouter()
router.register("users", views.UserViewSet, basename="user")
router.register("departments", views.DepartmentViewSet, basename="department")
router.register("roles", views.RoleViewSet, basename="role")
router.register("picklists", views.PicklistViewSet, basename="picklist")
router.register("picklist-options", views.PicklistOptionViewSet, basename="picklist-option")
router.register("custom-fields", views.CustomFieldViewSet, basename="custom-field")
router.register("tags", views.TagViewSet, basename="tag")
router.register("notifications", views.NotificationViewSet, basename="notification")
router.register("attachments", views.AttachmentViewSet, basename="attachment")
for registration in registered_viewsets():
    router.register(registration.prefix, registration.viewset, basename=registration.basename)

urlpatterns = [
    path("auth/token/", views.TokenObtainView.as_view(), name="auth-token"),
    path("me/", views.MeView.as_view(), name="me"),
    path("recycle-bin/", views.RecycleBinView.as_view(), name="recycle-bin"),
    path(
        "recycle-bin/<str:model_label>/<int:pk>/restore/",
        views.RecycleBinRestoreView.as_view(),
        name="recycle-bin-restore",
    ),
    path(
        "recycle-bin/<str:model_label>/<int:pk>/",
        views.RecycleBinPurgeView.as_view(),
        name="recycle-bin-purge",
    ),
    *search_urlpatterns,
    *(path(route, view, name=name) for route, view, name in registered_paths()),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    path("redoc/", views.OfflineRedocView.as_view(url_name="api:schema"), name="redoc"),
    *router.urls,
]
