import pytest

from guanxi.core.api.testing import api_client
from guanxi.core.models import PicklistOption
from guanxi.sales.models import AccountTerritory, PriceBook, Product, Territory
from guanxi.sales.services import catalogue as services

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalogue(org):
    parent = services.product_category_save(actor=org.admin, data={"name_zh": "硬件"})
    child = services.product_category_save(
        actor=org.admin, data={"name_zh": "服务器", "parent": parent}
    )
    for i in range(8):
        services.product_create(
            actor=org.admin, data={"code": f"SRV-{i}", "name": f"服务器{i}", "category": child}
        )
    services.product_create(actor=org.admin, data={"code": "SW-1", "name": "软件"})
    return {"parent": parent, "child": child}


def test_products_api_filters_and_writes(org, catalogue, django_assert_max_num_queries):
    client = api_client(org.rep1)
    with django_assert_max_num_queries(6):
        response = client.get("/api/v1/products/", {"category": catalogue["parent"].pk})
    assert response.status_code == 200
    assert [row["code"] for row in response.json()["results"]] == [f"SRV-{i}" for i in range(8)]
    assert response.json()["results"][0]["category_name"] == "服务器"
    assert [r["code"] for r in client.get("/api/v1/products/", {"q": "sw"}).json()["results"]] == [
        "SW-1"
    ]
    created = api_client(org.manager).post(
        "/api/v1/products/",
        {"code": "NEW", "name": "新", "tax_rate": "6.00", "category": catalogue["child"].pk},
        format="json",
    )
    assert created.status_code == 201, created.json()
    duplicate = api_client(org.manager).post(
        "/api/v1/products/", {"code": "NEW", "name": "again"}, format="json"
    )
    assert duplicate.status_code == 400 and "code" in duplicate.json()["errors"]
    pk = created.json()["id"]
    patched = api_client(org.manager).patch(
        f"/api/v1/products/{pk}/", {"is_active": False}, format="json"
    )
    assert patched.status_code == 200 and not Product.objects.get(pk=pk).is_active
    assert api_client(org.read_only).post("/api/v1/products/", {}, format="json").status_code == 403
    assert api_client(org.manager).delete(f"/api/v1/products/{pk}/").status_code == 405


def test_category_api_refuses_cycle(org, catalogue):
    client = api_client(org.admin)
    response = client.patch(
        f"/api/v1/product-categories/{catalogue['parent'].pk}/",
        {"parent": catalogue["child"].pk},
        format="json",
    )
    assert response.status_code == 400 and "parent" in response.json()["errors"]


def test_price_books_api_with_entries(org, catalogue, django_assert_max_num_queries):
    client = api_client(org.manager)
    book = PriceBook.objects.get(currency="CNY", is_default=True)
    product = Product.objects.get(code="SRV-0")
    response = client.post(
        f"/api/v1/price-books/{book.pk}/prices/",
        {
            "product": product.pk,
            "tiers": [
                {"min_quantity": "1", "unit_price": "100"},
                {"min_quantity": "10", "unit_price": "90"},
            ],
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert [(e["min_quantity"], e["unit_price"]) for e in response.json()["entries"]] == [
        ("1.00", "100.00"),
        ("10.00", "90.00"),
    ]
    key = PicklistOption.objects.get(picklist__code="customer_level", value="key")
    usd = client.post(
        "/api/v1/price-books/",
        {"name": "USD", "currency": "usd", "is_default": True, "customer_levels": [key.pk]},
        format="json",
    )
    assert usd.status_code == 201, usd.json()
    assert usd.json()["currency"] == "USD" and usd.json()["customer_levels"] == [key.pk]
    with django_assert_max_num_queries(8):
        listing = client.get("/api/v1/price-books/")
    assert len(listing.json()["results"]) == 2
    refused = api_client(org.finance).post(
        f"/api/v1/price-books/{book.pk}/prices/",
        {"product": product.pk, "tiers": []},
        format="json",
    )
    assert refused.status_code == 403


def test_exchange_rates_and_territories_api(org):
    admin = api_client(org.admin)
    response = admin.post(
        "/api/v1/exchange-rates/",
        {"currency": "USD", "rate": "7.10000000", "valid_from": "2026-01-01"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    again = admin.post(
        "/api/v1/exchange-rates/",
        {"currency": "USD", "rate": "7.2", "valid_from": "2026-01-01"},
        format="json",
    )
    assert again.status_code == 400
    assert api_client(org.rep1).get("/api/v1/exchange-rates/").status_code == 200
    assert (
        api_client(org.manager)
        .post("/api/v1/exchange-rates/", {"currency": "EUR"}, format="json")
        .status_code
        == 403
    )
    territory = admin.post(
        "/api/v1/territories/",
        {"name": "北京", "cities": ["北京市"], "users": [org.rep3.pk]},
        format="json",
    )
    assert territory.status_code == 201, territory.json()
    from guanxi.customers.tests.factories import make_account

    account = make_account(owner=org.rep3, label="京", actor=org.rep3, city="北京市")
    result = admin.post("/api/v1/territories/reassign/", {}, format="json")
    assert result.status_code == 200 and result.json()["accounts"] == 1
    assert AccountTerritory.objects.get(account=account).territory == Territory.objects.get()
    assert api_client(org.manager).post("/api/v1/territories/reassign/").status_code == 403
