import datetime
from decimal import Decimal as D

import pytest
from django.core.exceptions import ValidationError

from guanxi.core.exceptions import ActionNotAllowed
from guanxi.core.models import ChangeRecord, Role
from guanxi.core.tests.factories import picklist_option as option
from guanxi.customers.services import account_bulk_create, account_create, account_update
from guanxi.customers.tests.factories import make_account
from guanxi.sales.models import (
    AccountTerritory,
    ExchangeRate,
    Opportunity,
    PriceBook,
    PriceBookEntry,
    Product,
    ProductCategory,
)
from guanxi.sales.selectors import catalogue as selectors
from guanxi.sales.services import catalogue as services
from guanxi.sales.services.opportunities import opportunity_create, opportunity_lose

pytestmark = pytest.mark.django_db


def category(org, name, parent=None):
    return services.product_category_save(
        actor=org.admin, data={"name_zh": name, "name_en": name, "parent": parent}
    )


def product(org, code, **data):
    return services.product_create(actor=org.admin, data={"code": code, "name": code, **data})


# --- categories and products ------------------------------------------------------------------
def test_category_tree_refuses_cycles(org):
    hardware = category(org, "硬件")
    servers = category(org, "服务器", hardware)
    blades = category(org, "刀片", servers)
    with pytest.raises(ValidationError) as error:
        services.product_category_save(actor=org.admin, data={"parent": blades}, category=hardware)
    assert "parent" in error.value.message_dict
    with pytest.raises(ValidationError):
        services.product_category_save(
            actor=org.admin, data={"parent": hardware}, category=hardware
        )
    hardware.refresh_from_db()
    assert hardware.parent is None
    # Moving a leaf elsewhere is fine.
    software = category(org, "软件")
    services.product_category_save(actor=org.admin, data={"parent": software}, category=blades)
    assert [(n.category.name_zh, n.depth) for n in selectors.category_tree()] == [
        ("硬件", 0),
        ("服务器", 1),
        ("软件", 0),
        ("刀片", 1),
    ]
    assert sorted(selectors.category_descendant_ids(hardware.pk)) == [hardware.pk, servers.pk]


def test_category_delete_only_when_empty(org):
    parent = category(org, "硬件")
    child = category(org, "服务器", parent)
    product(org, "SRV-1", category=child)
    with pytest.raises(ValidationError):
        services.product_category_delete(actor=org.admin, category=parent)
    with pytest.raises(ValidationError):
        services.product_category_delete(actor=org.admin, category=child)
    Product.objects.update(category=None)
    services.product_category_delete(actor=org.admin, category=child)
    assert not ProductCategory.objects.filter(pk=child.pk).exists()


def test_product_create_update_deactivate_audited(org):
    item = product(org, " ERP-STD ", tax_rate=D("6"), cost=D("1000"))
    assert item.code == "ERP-STD" and item.is_active
    services.product_update(product=item, actor=org.admin, data={"name": "ERP 标准版"})
    services.product_set_active(product=item, actor=org.admin, active=False)
    item.refresh_from_db()
    assert item.name == "ERP 标准版" and not item.is_active
    assert (
        ChangeRecord.objects.filter(object_id=item.pk, content_type__model="product").count() == 3
    )
    with pytest.raises(ValidationError) as error:
        product(org, "ERP-STD")
    assert "code" in error.value.message_dict
    with pytest.raises(ValidationError):
        product(org, "BAD", tax_rate=D("120"))


def test_product_permissions_follow_roles(org):
    with pytest.raises(ActionNotAllowed):
        services.product_create(actor=org.read_only, data={"code": "X", "name": "X"})
    # A role with an explicit entry for products decides.
    role = Role.objects.get(code="sales_rep")
    role.permissions = {**role.permissions, "sales.product": ["view"]}
    role.save()
    rep = type(org.rep1).objects.get(pk=org.rep1.pk)
    with pytest.raises(ActionNotAllowed):
        services.product_create(actor=rep, data={"code": "X", "name": "X"})
    assert services.product_create(actor=org.manager, data={"code": "X", "name": "X"}).pk


def test_product_search_and_category_filter(org):
    hardware = category(org, "硬件")
    servers = category(org, "服务器", hardware)
    product(org, "SRV-1", name="机架服务器", category=servers)
    product(org, "HW-2", name="交换机", category=hardware)
    product(org, "SW-1", name="软件许可")
    old = product(org, "SRV-OLD", name="旧服务器", category=servers)
    services.product_set_active(product=old, actor=org.admin, active=False)

    def codes(**kw):
        return [p.code for p in selectors.products(**kw)]

    assert codes(category_id=hardware.pk) == ["HW-2", "SRV-1", "SRV-OLD"]
    assert codes(category_id=servers.pk, active=True) == ["SRV-1"]
    assert codes(search="srv") == ["SRV-1", "SRV-OLD"]
    assert codes(search="服务器", active=False) == ["SRV-OLD"]


# --- price books ------------------------------------------------------------------------------
def test_one_default_per_currency(org):
    cny_default = PriceBook.objects.get(currency="CNY", is_default=True)
    new = services.price_book_save(
        actor=org.admin, data={"name": "2026 价格表", "currency": "cny", "is_default": True}
    )
    cny_default.refresh_from_db()
    assert new.currency == "CNY" and new.is_default and not cny_default.is_default
    usd = services.price_book_save(
        actor=org.admin, data={"name": "USD", "currency": "USD", "is_default": True}
    )
    new.refresh_from_db()
    assert usd.is_default and new.is_default  # another currency is left alone
    with pytest.raises(ValidationError):
        services.price_book_save(
            actor=org.admin, data={"is_active": False}, price_book=new
        )  # a default must be active
    with pytest.raises(ValidationError):
        services.price_book_save(
            actor=org.admin,
            data={
                "name": "x",
                "valid_from": datetime.date(2026, 5, 1),
                "valid_to": datetime.date(2026, 4, 1),
            },
        )
    with pytest.raises(ValidationError):
        services.price_book_delete(actor=org.admin, price_book=new)


def test_price_grid_replaces_a_products_tiers(org):
    book = PriceBook.objects.get(currency="CNY", is_default=True)
    a, b = product(org, "A"), product(org, "B")
    services.price_book_prices_set(
        actor=org.admin,
        price_book=book,
        prices={a: [(1, "100"), (10, "90"), ("100", "80")], b: [{"unit_price": "50"}]},
    )
    services.price_book_prices_set(
        actor=org.admin, price_book=book, prices={a: [(1, "120"), (20, "100")]}
    )
    grid = {
        row.product.code: [(t.min_quantity, t.unit_price) for t in row.tiers]
        for row in selectors.price_grid(book)
    }
    assert grid == {
        "A": [(D("1"), D("120")), (D("20"), D("100"))],
        "B": [(D("1"), D("50"))],
    }
    services.price_book_prices_set(actor=org.admin, price_book=book, prices={b: []})
    assert not PriceBookEntry.objects.filter(product=b).exists()
    with pytest.raises(ValidationError):
        services.price_book_prices_set(
            actor=org.admin, price_book=book, prices={a: [(1, "10"), ("1.00", "9")]}
        )
    with pytest.raises(ValidationError):
        services.price_book_prices_set(actor=org.admin, price_book=book, prices={a: [(0, "10")]})
    with pytest.raises(ValidationError):
        services.price_book_prices_set(actor=org.admin, price_book=book, prices={a: [(1, "-1")]})
    with pytest.raises(ActionNotAllowed):
        services.price_book_prices_set(actor=org.finance, price_book=book, prices={a: []})


def test_price_book_for_level_validity_and_default(org):
    key, small = option("customer_level", "key"), option("customer_level", "small")
    default = PriceBook.objects.get(currency="CNY", is_default=True)
    key_book = services.price_book_save(
        actor=org.admin,
        data={
            "name": "重点客户价",
            "currency": "CNY",
            "valid_from": datetime.date(2026, 1, 1),
            "valid_to": datetime.date(2026, 12, 31),
        },
        customer_levels=[key],
    )
    key_account = make_account(owner=org.rep1, label="重点", actor=org.rep1, level=key)
    small_account = make_account(owner=org.rep1, label="小", actor=org.rep1, level=small)
    on = datetime.date(2026, 6, 1)
    assert selectors.price_book_for(account=key_account, currency="CNY", on=on) == key_book
    assert selectors.price_book_for(account=small_account, currency="CNY", on=on) == default
    # Out of its validity, the key-account book gives way to the default.
    assert (
        selectors.price_book_for(account=key_account, currency="CNY", on=datetime.date(2027, 1, 1))
        == default
    )
    # A book for every level comes before the default; an inactive one does not count.
    everyone = services.price_book_save(actor=org.admin, data={"name": "促销", "currency": "CNY"})
    assert selectors.price_book_for(account=small_account, currency="CNY", on=on) == everyone
    services.price_book_save(actor=org.admin, data={"is_active": False}, price_book=everyone)
    assert selectors.price_book_for(account=small_account, currency="CNY", on=on) == default
    assert selectors.price_book_for(account=None, currency="CNY", on=on) == default
    assert selectors.price_book_for(account=key_account, currency="EUR", on=on) is None


# --- exchange rates ---------------------------------------------------------------------------
def test_exchange_rates(org):
    rate = services.exchange_rate_save(
        actor=org.admin,
        data={"currency": "usd", "rate": "7.1", "valid_from": datetime.date(2026, 1, 1)},
    )
    assert rate.currency == "USD" and rate.rate == D("7.1")
    with pytest.raises(ValidationError) as error:
        services.exchange_rate_save(
            actor=org.admin,
            data={"currency": "USD", "rate": "7.2", "valid_from": datetime.date(2026, 1, 1)},
        )
    assert "valid_from" in error.value.message_dict
    for bad in ({"currency": "CNY"}, {"currency": "US"}, {"rate": "0"}):
        with pytest.raises(ValidationError):
            services.exchange_rate_save(
                actor=org.admin,
                data={
                    "currency": "EUR",
                    "rate": "7.8",
                    "valid_from": datetime.date(2026, 1, 1),
                    **bad,
                },
            )
    with pytest.raises(ActionNotAllowed):
        services.exchange_rate_save(actor=org.manager, data={}, rate=rate)
    assert selectors.rate_on("USD", datetime.date(2026, 3, 1)) == D("7.1")
    services.exchange_rate_delete(actor=org.admin, rate=rate)
    assert not ExchangeRate.objects.exists()


# --- territories ------------------------------------------------------------------------------
@pytest.fixture
def territories(org):
    it = option("industry", "it")
    east = services.territory_save(
        actor=org.admin,
        data={"name": "华东 IT", "provinces": "上海市, 江苏省，浙江省"},
        industries=[it],
        users=[org.rep1],
    )
    east_all = services.territory_save(
        actor=org.admin, data={"name": "华东", "provinces": ["上海市", "江苏省", "浙江省"]}
    )
    beijing = services.territory_save(actor=org.admin, data={"name": "北京", "cities": ["北京市"]})
    empty = services.territory_save(actor=org.admin, data={"name": "空"})
    return {"east_it": east, "east": east_all, "beijing": beijing, "empty": empty, "it": it}


def test_territory_for_first_match_by_order(org, territories):
    t, it = territories, territories["it"]
    assert t["east_it"].provinces == ["上海市", "江苏省", "浙江省"]
    assert (
        selectors.territory_for(province="上海市", city="上海市", industry_id=it.pk) == t["east_it"]
    )
    assert selectors.territory_for(province="上海市", city="上海市", industry_id=None) == t["east"]
    assert selectors.territory_for(province="北京市", city="北京市") == t["beijing"]
    assert selectors.territory_for(province="广东省", city="深圳市") is None
    services.territory_move(actor=org.admin, territory=t["east"], direction="up")
    assert selectors.territory_for(province="上海市", industry_id=it.pk) == t["east"]
    with pytest.raises(ActionNotAllowed):
        services.territory_save(actor=org.manager, data={"name": "x"})


def test_accounts_get_their_territory_when_saved(org, territories):
    t, it = territories, territories["it"]
    account = account_create(
        actor=org.rep1,
        data={"name": "上海软件", "province": "上海市", "city": "上海市", "industry": it},
    )
    assert AccountTerritory.objects.get(account=account).territory == t["east_it"]
    account_update(account=account, actor=org.rep1, data={"province": "北京市", "city": "北京市"})
    assert AccountTerritory.objects.get(account=account).territory == t["beijing"]
    account_update(account=account, actor=org.rep1, data={"province": "广东省", "city": "广州市"})
    assert not AccountTerritory.objects.filter(account=account).exists()
    created = account_bulk_create(
        actor=org.rep1,
        items=[({"name": "杭州一", "province": "浙江省", "owner": org.rep1}, None)],
    )
    assert AccountTerritory.objects.get(account=created[0]).territory == t["east"]


def test_opportunity_territory_and_bulk_reassign(org, territories, django_assert_max_num_queries):
    t = territories
    account = make_account(
        owner=org.rep1, label="北京客户", actor=org.rep1, province="北京市", city="北京市"
    )
    other = make_account(owner=org.rep1, label="江苏客户", actor=org.rep1, province="江苏省")
    assert not AccountTerritory.objects.exists()  # made behind the services' back
    deal = opportunity_create(actor=org.rep1, data={"name": "A", "account": account})
    lost = opportunity_create(actor=org.rep1, data={"name": "B", "account": other})
    opportunity_lose(opportunity=lost, actor=org.rep1, reason=option("lost_reason", "price"))
    with django_assert_max_num_queries(12):
        result = services.territories_reassign(actor=org.admin)
    assert result["accounts"] == 2
    assert AccountTerritory.objects.get(account=account).territory == t["beijing"]
    assert AccountTerritory.objects.get(account=other).territory == t["east"]
    deal.refresh_from_db()
    lost.refresh_from_db()
    assert deal.territory == t["beijing"] and lost.territory is None
    services.territories_reassign(actor=org.admin, include_closed=True)
    assert Opportunity.objects.get(pk=lost.pk).territory == t["east"]
    # A new opportunity takes its account's territory through the service helper.
    fresh = opportunity_create(actor=org.rep1, data={"name": "C", "account": account})
    services.opportunity_territory_assign(opportunity=fresh)
    assert Opportunity.objects.get(pk=fresh.pk).territory == t["beijing"]
    with pytest.raises(ActionNotAllowed):
        services.territories_reassign(actor=org.manager)
