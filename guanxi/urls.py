from django.urls import include, path

from guanxi.core.views.auth import login_view
from guanxi.core.views.home import home

urlpatterns = [
    path("api/v1/", include("guanxi.core.api.urls")),
    path("customers/", include("guanxi.customers.urls")),
    path("activities/", include("guanxi.activities.urls")),
    path("leads/", include("guanxi.leads.urls")),
    path("sales/", include("guanxi.sales.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    # Un-namespaced names the settings use (LOGIN_URL, LOGIN_REDIRECT_URL).
    path("", home, name="home"),
    path("login/", login_view, name="login"),
    path("", include("guanxi.core.imports.urls")),
    path("", include("guanxi.core.urls")),
]
