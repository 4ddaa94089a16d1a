"""URLs of the leads app, one patterns list per area."""

from guanxi.leads.views import capture, flow, leads, pools

app_name = "leads"

urlpatterns = [*capture.urlpatterns, *flow.urlpatterns, *pools.urlpatterns, *leads.urlpatterns]
