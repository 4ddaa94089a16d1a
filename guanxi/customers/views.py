"""Account pages: the generic record views, registered for Account, writing through the
customers services. The 360° page, statistics and actions are in `views_accounts.py`."""

from django.utils.translation import gettext_lazy as _

from guanxi.core.views.registry import Column, ModelRegistration, register_model_views
from guanxi.customers import services
from guanxi.customers.filters import AccountFilterSet
from guanxi.customers.forms import AccountForm
from guanxi.customers.models import Account


def account_create(*, data, custom_data, actor):
    return services.account_create(actor=actor, data=data, custom_data=custom_data)


def account_update(*, instance, data, custom_data, actor, version):
    return services.account_update(
        account=instance, actor=actor, data=data, version=version, custom_data=custom_data
    )


def account_delete(*, instance, actor, version):
    return services.account_delete(account=instance, actor=actor, version=version)


def account_assign(*, instance, owner, actor, reason, version=None):
    return services.account_assign(
        account=instance, owner=owner, actor=actor, reason=reason, version=version
    )


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
        Column("status", _("status"), default=False),
        Column("lifecycle_stage", _("lifecycle stage"), sortable=True, default=False),
        Column("level", _("customer level"), default=False),
        Column("province", _("province"), default=False),
        Column("city", _("city"), default=False),
        Column("updated_at", _("updated at"), sortable=True, default=False),
    ],
    form_class=AccountForm,
    filterset_class=AccountFilterSet,
    search_fields=["name__startswith", "phone__startswith"],
    # Phone and e-mail are in the page header (masked for roles that may not see them).
    detail_sections=[
        (
            _("Classification"),
            ["kind", "industry", "source", "status", "lifecycle_stage", "credit_rating", "level"],
        ),
        (_("Region and address"), ["province", "city", "district", "address", "postcode"]),
        (
            _("Finance"),
            ["tax_number", "invoice_title", "annual_revenue", "currency", "employees"],
        ),
        (_("Notes"), ["notes"]),
    ],
    bulk_edit_fields=["industry", "kind", "status", "level", "source", "credit_rating"],
    list_select_related=["owner", "department", "industry", "status", "level"],
    detail_select_related=["account_manager", "membership_level"],
    default_sort="-created_at",
    path_prefix="accounts",
    create=account_create,
    update=account_update,
    delete=account_delete,
    assign=account_assign,
)

register_model_views(Account, account_registration)
from guanxi.customers import views_accounts as _views_accounts  # noqa: E402, F401  (360, actions)
from guanxi.customers import views_contacts as _views_contacts  # noqa: E402, F401  (contacts, groups)
