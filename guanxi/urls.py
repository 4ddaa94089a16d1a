from django.urls import include, path

urlpatterns = [
    path("api/v1/", include("guanxi.core.api.urls")),
    path("customers/", include("guanxi.customers.urls")),
    path("", include("guanxi.core.urls")),
]
