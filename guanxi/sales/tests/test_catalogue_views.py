from decimal import Decimal as D

import pytest
from django.urls import reverse

from guanxi.core.models import PicklistOption
from guanxi.customers.tests.factories import make_account
from guanxi.sales.models import (
    AccountTerritory,
    ExchangeRate,
    PriceBook,
    PriceBookEntry,
    Product,
    ProductCategory,
    Territory,
)
from guanxi.sales.services import catalogue as services

pytestmark = pytest.mark.django_db


def login(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def catalogue(org):
    hardware = services.product_category_save(actor=org.admin, data={"name_zh": "硬件"})
    servers = services.product_category_save(
        actor=org.admin, data={"name_zh": "服务器", "parent": hardware}
    )
    products = [
        services.product_create(
            actor=org.admin,
            data={"code": f"SRV-{i:02d}", "name": f"服务器 {i}", "category": servers},
        )
        for i in range(12)
    ]
    return {"hardware": hardware, "servers": servers, "products": products}


def test_product_list_filters_and_query_count(
    client, org, catalogue, django_assert_max_num_queries
):
    login(client, org.rep1)
    services.product_create(actor=org.admin, data={"code": "SW-1", "name": "软件"})
    url = reverse("sales:product_list")
    client.get(url)  # warm the per-process caches
    with django_assert_max_num_queries(12):
        response = client.get(url, {"category": catalogue["hardware"].pk})
    body = response.content.decode()
    assert response.status_code == 200
    assert "SRV-00" in body and "SRV-11" in body and "SW-1" not in body
    # The category select is indented under its parent.
    assert "— 服务器" in body
    response = client.get(url, {"q": "sw"})
    assert "SW-1" in response.content.decode() and "SRV-00" not in response.content.decode()
    # Same query count with more products.
    for i in range(20):
        services.product_create(actor=org.admin, data={"code": f"X-{i}", "name": "x"})
    with django_assert_max_num_queries(12):
        assert client.get(url).status_code == 200


def test_product_create_edit_deactivate_pages(client, org, catalogue):
    login(client, org.manager)
    response = client.post(
        reverse("sales:product_create"),
        {
            "code": "ERP-1",
            "name": "ERP 标准版",
            "category": catalogue["servers"].pk,
            "unit": "套",
            "tax_rate": "6",
            "cost": "",
            "description": "",
            "is_active": "on",
        },
    )
    item = Product.objects.get(code="ERP-1")
    assert response.status_code == 302 and item.category == catalogue["servers"]
    response = client.post(
        reverse("sales:product_create"),
        {"code": "ERP-1", "name": "dup", "unit": "套", "tax_rate": "6"},
    )
    assert response.status_code == 200 and Product.objects.filter(code="ERP-1").count() == 1
    client.post(reverse("sales:product_toggle", args=[item.pk]))
    item.refresh_from_db()
    assert not item.is_active
    detail = client.get(reverse("sales:product_detail", args=[item.pk]))
    assert "Reactivate" in detail.content.decode()


def test_read_only_user_cannot_change_products(client, org, catalogue):
    login(client, org.read_only)
    item = catalogue["products"][0]
    assert client.get(reverse("sales:product_list")).status_code == 200
    assert client.get(reverse("sales:product_create")).status_code == 403
    assert client.post(reverse("sales:product_toggle", args=[item.pk])).status_code == 403
    assert client.get(reverse("sales:exchange_rate_list")).status_code == 403
    assert client.get(reverse("sales:territory_list")).status_code == 403


def test_category_page_tree_and_no_cycle(client, org, catalogue, django_assert_max_num_queries):
    login(client, org.admin)
    with django_assert_max_num_queries(10):
        response = client.get(reverse("sales:category_list"))
    body = response.content.decode()
    assert body.index("硬件") < body.index("服务器")
    hardware = catalogue["hardware"]
    # The parent select of "hardware" offers neither itself nor its subcategory.
    edit = client.get(reverse("sales:category_edit", args=[hardware.pk])).content.decode()
    assert f'value="{catalogue["servers"].pk}"' not in edit
    response = client.post(
        reverse("sales:category_edit", args=[hardware.pk]),
        {"name_zh": "硬件", "parent": catalogue["servers"].pk, "sort_order": 0},
    )
    assert response.status_code == 200
    hardware.refresh_from_db()
    assert hardware.parent is None
    response = client.post(reverse("sales:category_delete", args=[hardware.pk]))
    assert response.status_code == 200 and ProductCategory.objects.filter(pk=hardware.pk).exists()


def test_price_book_grid_editing(client, org, catalogue, django_assert_max_num_queries):
    login(client, org.manager)
    book = PriceBook.objects.get(currency="CNY", is_default=True)
    item = catalogue["products"][0]
    url = reverse("sales:price_book_detail", args=[book.pk])
    response = client.post(
        url,
        {
            "product": item.pk,
            "min_quantity_0": "1",
            "unit_price_0": "1000",
            "min_quantity_1": "10",
            "unit_price_1": "900",
        },
    )
    assert response.status_code == 302
    assert list(
        PriceBookEntry.objects.filter(price_book=book).values_list("min_quantity", "unit_price")
    ) == [(D("1"), D("1000")), (D("10"), D("900"))]
    for other in catalogue["products"][1:]:
        services.price_book_prices_set(
            actor=org.admin, price_book=book, prices={other: [(1, "5"), (5, "4")]}
        )
    with django_assert_max_num_queries(12):
        page = client.get(url, {"product": item.pk})
    body = page.content.decode()
    assert "SRV-11" in body and 'value="900.00"' in body
    # Duplicate tiers come back as an error on the form.
    response = client.post(
        url,
        {
            "product": item.pk,
            "min_quantity_0": "1",
            "unit_price_0": "1",
            "min_quantity_1": "1",
            "unit_price_1": "2",
        },
    )
    assert response.status_code == 200
    # Finance reads the grid but gets no form and cannot post.
    login(client, org.finance)
    assert "prices-form" not in client.get(url).content.decode()
    assert client.post(url, {"product": item.pk}).status_code == 403


def test_price_book_create_page(client, org):
    login(client, org.manager)
    key = PicklistOption.objects.get(picklist__code="customer_level", value="key")
    response = client.post(
        reverse("sales:price_book_create"),
        {
            "name": "重点客户价",
            "currency": "CNY",
            "valid_from": "2026-01-01",
            "valid_to": "2026-12-31",
            "customer_levels": [key.pk],
            "is_active": "on",
        },
    )
    book = PriceBook.objects.get(name="重点客户价")
    assert response.status_code == 302 and list(book.customer_levels.all()) == [key]
    listing = client.get(reverse("sales:price_book_list")).content.decode()
    assert "重点客户价" in listing and "Key account" in listing


def test_exchange_rate_page(client, org):
    login(client, org.admin)
    url = reverse("sales:exchange_rate_list")
    response = client.post(url, {"currency": "USD", "rate": "7.1", "valid_from": "2026-01-01"})
    assert response.status_code == 302
    rate = ExchangeRate.objects.get()
    response = client.post(
        url, {"rate_id": rate.pk, "currency": "USD", "rate": "7.2", "valid_from": "2026-01-01"}
    )
    rate.refresh_from_db()
    assert rate.rate == D("7.2")
    response = client.post(url, {"currency": "CNY", "rate": "1", "valid_from": "2026-01-01"})
    assert response.status_code == 200 and ExchangeRate.objects.count() == 1
    assert "1 USD = 7.2" in client.get(url).content.decode()


def test_territory_pages_and_reassign(client, org, django_assert_max_num_queries):
    login(client, org.admin)
    it = PicklistOption.objects.get(picklist__code="industry", value="it")
    response = client.post(
        reverse("sales:territory_create"),
        {
            "name": "华东",
            "provinces": "上海市,江苏省",
            "cities": "",
            "industries": [it.pk],
            "users": [org.rep1.pk],
        },
    )
    assert response.status_code == 302
    territory = Territory.objects.get()
    assert territory.provinces == ["上海市", "江苏省"] and list(territory.users.all()) == [org.rep1]
    services.territory_save(actor=org.admin, data={"name": "北京", "cities": ["北京市"]})
    account = make_account(
        owner=org.rep1, label="上海", actor=org.rep1, province="上海市", industry=it
    )
    response = client.post(reverse("sales:territories_reassign"))
    assert response.status_code == 302
    assert AccountTerritory.objects.get(account=account).territory == territory
    with django_assert_max_num_queries(12):
        body = client.get(reverse("sales:territory_list")).content.decode()
    assert body.index("华东") < body.index("北京")
    beijing = Territory.objects.get(name="北京")
    client.post(reverse("sales:territory_move", args=[beijing.pk]), {"direction": "up"})
    assert list(Territory.objects.order_by("sort_order").values_list("name", flat=True)) == [
        "北京",
        "华东",
    ]
    client.post(reverse("sales:territory_delete", args=[beijing.pk]))
    assert not Territory.objects.filter(pk=beijing.pk).exists()


def test_product_export_and_import(client, org, catalogue, django_capture_on_commit_callbacks):
    login(client, org.manager)
    response = client.get(reverse("imports:export", args=["sales.product"]), {"fmt": "csv"})
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    assert "SRV-00" in text and "服务器" in text

    from django.core.files.uploadedfile import SimpleUploadedFile

    from guanxi.core.imports import services as imports

    upload = SimpleUploadedFile(
        "products.csv",
        "产品编码,产品名称,分类,单位,税率\nSRV-00,改名的服务器,服务器,台,13\nNEW-1,新产品,硬件,套,6\nBAD-1,坏,不存在,套,6\n".encode(),
    )
    job = imports.import_job_upload(
        user=org.manager, model_label="sales.product", uploaded_file=upload, policy="update"
    )
    assert job.mapping == ["code", "name", "category", "unit", "tax_rate"]
    with django_capture_on_commit_callbacks(execute=True):
        imports.import_job_start(job=job, user=org.manager)
    job.refresh_from_db()
    assert (job.created_count, job.updated_count, job.failed_count) == (1, 1, 1)
    assert Product.objects.get(code="SRV-00").name == "改名的服务器"
    new = Product.objects.get(code="NEW-1")
    assert new.category == catalogue["hardware"] and new.tax_rate == D("6")
