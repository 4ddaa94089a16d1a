from guanxi.customers.views_accounts import account_urls

app_name = "customers"

urlpatterns = account_urls()

# Contacts, account-contact links, groups and membership (views_contacts.py).
from guanxi.customers.views_contacts import contact_urlpatterns  # noqa: E402

urlpatterns += contact_urlpatterns()

# Duplicate check, duplicate scans and merge screens (views_duplicates.py).
from guanxi.customers.views_duplicates import duplicate_urlpatterns  # noqa: E402

urlpatterns = duplicate_urlpatterns() + urlpatterns
