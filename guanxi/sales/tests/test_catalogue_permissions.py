"""Who keeps the catalogue: the default roles below the sales manager may look at products,
price books, exchange rates, sales processes, territories and targets but not change them
(migration 0003); they still sell the products on their opportunities."""

import importlib
from decimal import Decimal

import pytest
from django.apps import apps
from django.urls import reverse

from guanxi.core.api.testing import api_client
from guanxi.core.exceptions import ActionNotAllowed
from guanxi.core.models import Role
from guanxi.core.scope import can
from guanxi.core.services.organisation import user_create
from guanxi.core.tests.factories import role
from guanxi.sales.models import (
    ExchangeRate,
    Pipeline,
    PriceBook,
    PriceBookEntry,
    Product,
    ProductCategory,
    SalesTarget,
    Stage,
    Territory,
)
from guanxi.sales.services import catalogue as services
from guanxi.sales.services import opportunities as opportunity_services
from guanxi.sales.services.forecast import can_manage_targets, target_set
from guanxi.sales.tests.factories import make_opportunity

pytestmark = pytest.mark.django_db

MIGRATION = importlib.import_module("guanxi.sales.migrations.0003_catalogue_permissions")
CATALOGUE = (
    Product,
    ProductCategory,
    PriceBook,
    PriceBookEntry,
    ExchangeRate,
    Pipeline,
    Stage,
    Territory,
    SalesTarget,
)


@pytest.fixture
def product(org):
    item = services.product_create(actor=org.admin, data={"code": "ERP", "name": "ERP 软件"})
    book = PriceBook.objects.get(currency="CNY", is_default=True)
    services.price_book_prices_set(actor=org.admin, price_book=book, prices={item: [(1, 500)]})
    return item


def test_the_labels_are_those_the_checks_use():
    assert {model._meta.label_lower for model in CATALOGUE} == set(MIGRATION.VIEW_ONLY)


@pytest.mark.parametrize("code", MIGRATION.ROLES)
def test_the_roles_may_only_look(org, code):
    person = user_create(
        username=f"who-{code}", password="pw", actor=None, roles=[role(code)], department=org.east
    )
    for model in CATALOGUE:
        assert can(person, model, "view"), model
        for action in ("add", "change", "delete"):
            assert not can(person, model, action), (model, action)
    # The rest of their rights stay as they were.
    from guanxi.sales.models import Opportunity

    assert can(person, Opportunity, "add")


def test_managers_and_administrators_keep_every_right(org):
    for user in (org.manager, org.admin):
        for model in CATALOGUE:
            assert all(can(user, model, action) for action in ("view", "add", "change", "delete"))


def test_reversible_and_leaves_other_entries(org):
    rep_role = Role.objects.get(code="sales_rep")
    rep_role.permissions = {**rep_role.permissions, "customers.account": ["view"]}
    rep_role.save()
    MIGRATION.restore_catalogue(apps, None)
    rep_role.refresh_from_db()
    assert rep_role.permissions == {
        "*": ["view", "add", "change", "delete"],
        "customers.account": ["view"],
    }
    MIGRATION.restrict_catalogue(apps, None)
    rep_role.refresh_from_db()
    assert rep_role.permissions["sales.product"] == ["view"]
    assert rep_role.permissions["customers.account"] == ["view"]


def test_services_refuse_a_rep_with_the_reason(org, product):
    with pytest.raises(ActionNotAllowed) as refused:
        services.product_create(actor=org.rep1, data={"code": "X", "name": "X"})
    assert "may not add products" in str(refused.value)
    with pytest.raises(ActionNotAllowed):
        services.product_update(product=product, actor=org.rep1, data={"name": "改"})
    with pytest.raises(ActionNotAllowed):
        services.product_category_save(actor=org.rep1, data={"name_zh": "硬件"})
    book = PriceBook.objects.get(currency="CNY", is_default=True)
    with pytest.raises(ActionNotAllowed) as refused:
        services.price_book_prices_set(actor=org.rep1, price_book=book, prices={product: []})
    assert "may not change price books" in str(refused.value)
    with pytest.raises(ActionNotAllowed):
        services.exchange_rate_save(
            actor=org.rep1, data={"currency": "USD", "rate": "7.1", "valid_from": "2026-01-01"}
        )
    with pytest.raises(ActionNotAllowed):
        target_set(actor=org.rep1, year=2026, month=0, level="user", user=org.rep1, amount=1)
    product.refresh_from_db()
    assert product.name == "ERP 软件" and PriceBookEntry.objects.filter(product=product).count()


def test_a_service_manager_no_longer_sets_targets(org):
    person = user_create(
        username="svc-manager",
        password="pw",
        actor=None,
        roles=[role("service_manager")],
        department=org.service,
    )
    assert not can_manage_targets(person)
    with pytest.raises(ActionNotAllowed):
        target_set(actor=person, year=2026, month=0, level="company", amount=1)
    assert can_manage_targets(org.manager)


def test_pages_refuse_a_rep_and_hide_the_buttons(client, org, product):
    client.force_login(org.rep1)
    listing = client.get(reverse("sales:product_list"))
    assert listing.status_code == 200
    body = listing.content.decode()
    assert "ERP 软件" in body and 'id="product-new"' not in body
    detail = client.get(reverse("sales:product_detail", args=[product.pk])).content.decode()
    assert 'id="product-edit"' not in detail
    refused = client.get(reverse("sales:product_create"))
    assert refused.status_code == 403
    assert "Your role may not add products" in refused.content.decode()
    refused = client.post(
        reverse("sales:product_edit", args=[product.pk]), {"code": "ERP", "name": "改"}
    )
    assert refused.status_code == 403
    assert client.post(reverse("sales:product_toggle", args=[product.pk])).status_code == 403
    assert client.get(reverse("sales:category_create")).status_code == 403
    book = PriceBook.objects.get(currency="CNY", is_default=True)
    page = client.get(reverse("sales:price_book_detail", args=[book.pk]))
    assert page.status_code == 200 and 'id="price-book-edit"' not in page.content.decode()
    refused = client.post(
        reverse("sales:price_book_detail", args=[book.pk]),
        {"product": product.pk, "min_quantity_0": "1", "unit_price_0": "1"},
    )
    assert refused.status_code == 403
    assert "may not change price books" in refused.content.decode()
    assert client.get(reverse("sales:pipeline_list")).status_code == 403
    product.refresh_from_db()
    assert product.name == "ERP 软件" and product.is_active
    assert PriceBookEntry.objects.get(product=product).unit_price == Decimal("500")


def test_api_refuses_a_rep_with_the_reason(org, product):
    client = api_client(org.rep1)
    assert client.get("/api/v1/products/").status_code == 200
    refused = client.post("/api/v1/products/", {"code": "X", "name": "X"}, format="json")
    assert refused.status_code == 403
    assert "may not add products" in refused.json()["detail"]
    refused = client.patch(f"/api/v1/products/{product.pk}/", {"name": "改"}, format="json")
    assert refused.status_code == 403
    book = PriceBook.objects.get(currency="CNY", is_default=True)
    refused = client.post(
        f"/api/v1/price-books/{book.pk}/prices/",
        {"product": product.pk, "tiers": []},
        format="json",
    )
    assert refused.status_code == 403
    assert client.post("/api/v1/product-categories/", {"name_zh": "新"}).status_code == 403
    assert client.get("/api/v1/price-books/").status_code == 200
    product.refresh_from_db()
    assert product.name == "ERP 软件"


def test_a_rep_still_sells_the_products(client, org, product):
    deal = make_opportunity(owner=org.rep1, label="ERP 项目", actor=org.rep1)
    client.force_login(org.rep1)
    found = client.get(reverse("sales:opportunity_product_lookup"), {"q": "ERP"})
    assert f'value="{product.pk}"' in found.content.decode()
    opportunity_services.opportunity_lines_set(
        opportunity=deal, actor=org.rep1, lines=[{"product": product, "quantity": 2}]
    )
    deal.refresh_from_db()
    assert deal.amount == Decimal("1000.00")
    response = api_client(org.rep1).put(
        f"/api/v1/opportunities/{deal.pk}/lines/",
        {"lines": [{"product": product.pk, "quantity": "3"}]},
        format="json",
    )
    assert response.status_code == 200 and response.json()[0]["total"] == "1500.00"
