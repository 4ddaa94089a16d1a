from guanxi.customers.views_accounts import account_urls

app_name = "customers"

urlpatterns = account_urls()
