"""URLs of the sales app, one patterns list per area."""

from guanxi.sales.views import board, catalogue, forecast, opportunities

app_name = "sales"

urlpatterns = [
    *catalogue.urlpatterns,
    *board.urlpatterns,
    *forecast.urlpatterns,
    *opportunities.urlpatterns,
]
