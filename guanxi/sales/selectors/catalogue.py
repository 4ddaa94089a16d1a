"""Reads of the catalogue: the category tree, product lists, the price grid, which price
book applies to an account, exchange rates, and which territory a region falls in."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from guanxi.sales.models import (
    AccountTerritory,
    ExchangeRate,
    PriceBook,
    PriceBookEntry,
    Product,
    ProductCategory,
    Territory,
)


# --- categories --------------------------------------------------------------------------------
@dataclass
class CategoryNode:
    category: ProductCategory
    depth: int
    product_count: int = 0
    children: list[CategoryNode] = field(default_factory=list)

    @property
    def pk(self) -> int:
        return self.category.pk


def category_tree(*, with_counts: bool = False) -> list[CategoryNode]:
    """Every category in tree order (parents before children, siblings by order), each
    with its depth. One query."""
    queryset = ProductCategory.objects.order_by("sort_order", "id")
    if with_counts:
        queryset = queryset.annotate(product_count=Count("products"))
    categories = list(queryset)
    children: dict[int | None, list[ProductCategory]] = {}
    for category in categories:
        children.setdefault(category.parent_id, []).append(category)
    ordered: list[CategoryNode] = []
    seen: set[int] = set()

    def walk(parent_id: int | None, depth: int) -> list[CategoryNode]:
        nodes = []
        for category in children.get(parent_id, []):
            if category.pk in seen:  # a cycle written behind the services' back
                continue
            seen.add(category.pk)
            node = CategoryNode(
                category=category,
                depth=depth,
                product_count=getattr(category, "product_count", 0),
            )
            ordered.append(node)
            node.children = walk(category.pk, depth + 1)
            nodes.append(node)
        return nodes

    walk(None, 0)
    return ordered


def category_choices(*, blank: str | None = "—") -> list[tuple[str | int, str]]:
    """(id, indented name) for a select: children under their parent."""
    choices: list[tuple[str | int, str]] = [("", blank)] if blank is not None else []
    for node in category_tree():
        choices.append((node.pk, f"{'— ' * node.depth}{node.category}"))
    return choices


def category_descendant_ids(category_id: int) -> list[int]:
    """The category and every category below it. One query."""
    parents = dict(ProductCategory.objects.values_list("pk", "parent_id"))
    children: dict[int | None, list[int]] = {}
    for pk, parent in parents.items():
        children.setdefault(parent, []).append(pk)
    found, todo = [], [category_id]
    while todo:
        pk = todo.pop()
        if pk in found or pk not in parents:
            continue
        found.append(pk)
        todo.extend(children.get(pk, []))
    return found


# --- products ----------------------------------------------------------------------------------
def products(
    *, search: str = "", category_id: int | None = None, active: bool | None = None
) -> QuerySet[Product]:
    """Products by code, filtered by category (its subcategories included), active flag and a
    code or name search (prefix on the code, substring on the name)."""
    queryset = Product.objects.select_related("category").order_by("code")
    if category_id:
        queryset = queryset.filter(category_id__in=category_descendant_ids(category_id))
    if active is not None:
        queryset = queryset.filter(is_active=active)
    search = (search or "").strip()
    if search:
        queryset = queryset.filter(Q(code__istartswith=search) | Q(name__icontains=search))
    return queryset


def product_prices(product: Product) -> list[PriceBookEntry]:
    """The product's prices in every price book, by book and tier."""
    return list(
        PriceBookEntry.objects.filter(product=product)
        .select_related("price_book")
        .order_by("price_book__currency", "price_book__name", "min_quantity")
    )


# --- price books -------------------------------------------------------------------------------
def price_books() -> QuerySet[PriceBook]:
    return (
        PriceBook.objects.annotate(entry_count=Count("entries"))
        .prefetch_related("customer_levels")
        .order_by("currency", "-is_default", "name")
    )


@dataclass
class GridRow:
    product: Product
    tiers: list[PriceBookEntry]


def price_grid(price_book: PriceBook) -> list[GridRow]:
    """The price book's products with their tiers (from quantity → unit price). One query."""
    rows: dict[int, GridRow] = {}
    entries = (
        PriceBookEntry.objects.filter(price_book=price_book)
        .select_related("product")
        .order_by("product__code", "min_quantity")
    )
    for entry in entries:
        row = rows.get(entry.product_id)
        if row is None:
            row = rows[entry.product_id] = GridRow(product=entry.product, tiers=[])
        row.tiers.append(entry)
    return list(rows.values())


def _valid_on(on: datetime.date) -> Q:
    return (Q(valid_from__isnull=True) | Q(valid_from__lte=on)) & (
        Q(valid_to__isnull=True) | Q(valid_to__gte=on)
    )


def price_book_for(*, account, currency: str, on: datetime.date | None = None) -> PriceBook | None:
    """The price book for an account in a currency on a date: an active, valid book for the
    account's customer level; else an active, valid book for every level; else the
    currency's default (when active and valid). Two queries at most."""
    on = on or timezone.localdate()
    books = PriceBook.objects.filter(currency=currency, is_active=True).filter(_valid_on(on))
    level_id = getattr(account, "level_id", None) if account is not None else None
    order = ("-valid_from", "-id")
    if level_id:
        book = books.filter(customer_levels=level_id).order_by(*order).first()
        if book is not None:
            return book
    return (
        books.filter(customer_levels__isnull=True)
        .order_by("is_default", *order)  # a specific book before the default
        .first()
    )


# --- exchange rates ----------------------------------------------------------------------------
def exchange_rates() -> QuerySet[ExchangeRate]:
    return ExchangeRate.objects.order_by("currency", "-valid_from")


def currencies() -> list[str]:
    """The company currency and every currency with a rate or a price book."""
    from guanxi.sales.models import COMPANY_CURRENCY

    found = set(ExchangeRate.objects.values_list("currency", flat=True).distinct())
    found |= set(PriceBook.objects.values_list("currency", flat=True).distinct())
    return [COMPANY_CURRENCY, *sorted(found - {COMPANY_CURRENCY})]


def rate_on(currency: str, on: datetime.date | None = None) -> Decimal | None:
    from guanxi.sales.models import COMPANY_CURRENCY

    if currency == COMPANY_CURRENCY:
        return Decimal("1")
    return (
        ExchangeRate.objects.filter(currency=currency, valid_from__lte=on or timezone.localdate())
        .order_by("-valid_from")
        .values_list("rate", flat=True)
        .first()
    )


# --- territories -------------------------------------------------------------------------------
def territories() -> QuerySet[Territory]:
    return Territory.objects.order_by("sort_order", "id").prefetch_related("industries", "users")


def territory_matches(
    territory: Territory, *, province: str, city: str, industry_id: int | None
) -> bool:
    """Whether a region and industry fall in the territory (every condition it has must hold;
    a territory without conditions matches nothing)."""
    industry_ids = {option.pk for option in territory.industries.all()}
    if not (territory.provinces or territory.cities or industry_ids):
        return False
    if territory.provinces and province not in territory.provinces:
        return False
    if territory.cities and city not in territory.cities:
        return False
    return not (industry_ids and industry_id not in industry_ids)


def territory_for(
    *, province: str = "", city: str = "", industry_id: int | None = None
) -> Territory | None:
    """The first territory (by order) the region and industry fall in. Two queries."""
    for territory in Territory.objects.order_by("sort_order", "id").prefetch_related("industries"):
        if territory_matches(
            territory, province=province or "", city=city or "", industry_id=industry_id
        ):
            return territory
    return None


def territory_of_account(account_id: int) -> Territory | None:
    link = AccountTerritory.objects.filter(account_id=account_id).select_related("territory")
    found = link.first()
    return found.territory if found else None


def territory_counts() -> dict[int, int]:
    """How many accounts each territory holds."""
    return dict(
        AccountTerritory.objects.values("territory_id")
        .annotate(n=Count("id"))
        .values_list("territory_id", "n")
    )
