from guanxi.core.views.registry import model_urls
from guanxi.customers.views import account_registration

app_name = "customers"

urlpatterns = model_urls(account_registration)
