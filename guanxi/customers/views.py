"""Account pages: the generic record views, registered for Account."""

from django.utils.translation import gettext_lazy as _

from guanxi.core.views.registry import Column, ModelRegistration, register_model_views
from guanxi.customers.filters import AccountFilterSet
from guanxi.customers.forms import AccountForm
from guanxi.customers.models import Account

account_registration = ModelRegistration(
    model=Account,
    columns=[
        Column("name", _("name"), sortable=True, link=True),
        Column("kind", _("type"), sortable=True),
        Column("industry", _("industry"), sortable=True, order_by="industry__sort_order"),
        Column("phone", _("phone")),
        Column("owner", _("owner"), sortable=True, order_by="owner__display_name"),
        Column("department", _("department"), sortable=True, order_by="department__path"),
        Column("created_at", _("created at"), sortable=True),
        Column("email", _("e-mail"), default=False),
        Column("website", _("website"), default=False),
        Column("updated_at", _("updated at"), sortable=True, default=False),
    ],
    form_class=AccountForm,
    filterset_class=AccountFilterSet,
    search_fields=["name__startswith", "phone__startswith"],
    detail_sections=[
        (_("Account"), ["name", "kind", "industry"]),
        (_("Contact details"), ["phone", "email", "website", "address"]),
        (_("Notes"), ["notes"]),
    ],
    bulk_edit_fields=["industry", "kind"],
    list_select_related=["owner", "department", "industry"],
    default_sort="-created_at",
    path_prefix="accounts",
)

register_model_views(Account, account_registration)
