"""The catalogue: product categories (a tree), products, price books and their tiered price
grid, exchange rates, and territories with the rules that give accounts and opportunities a
territory. Every write checks the role (or the administrator), validates and is audited."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Case, IntegerField, Max, OuterRef, Q, Subquery, Value, When
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from guanxi.core.exceptions import ActionNotAllowed
from guanxi.core.models import ChangeAction, PicklistOption, User
from guanxi.core.scope import can, is_administrator
from guanxi.core.services.records import audit_record, snapshot
from guanxi.customers.models import Account
from guanxi.sales.models import (
    COMPANY_CURRENCY,
    AccountTerritory,
    ExchangeRate,
    Opportunity,
    PriceBook,
    PriceBookEntry,
    Product,
    ProductCategory,
    Territory,
)

CURRENCY_CODE = re.compile(r"^[A-Z]{3}$")


def _require_admin(actor: User) -> None:
    if not is_administrator(actor):
        raise ActionNotAllowed(_("Only an administrator can change this."))


def refusal(model: type[models.Model], action: str) -> str:
    """Why the user's roles refuse `action` on a catalogue model, in words."""
    what = model._meta.verbose_name_plural
    if action == "add":
        message = _("Your role may not add %(what)s; administrators keep the catalogue.")
    elif action == "delete":
        message = _("Your role may not delete %(what)s; administrators keep the catalogue.")
    elif action == "view":
        message = _("Your role may not see %(what)s.")
    else:
        message = _("Your role may not change %(what)s; administrators keep the catalogue.")
    return message % {"what": what}


def require_permission(*, actor: User, model: type[models.Model], action: str) -> None:
    """The actor's roles must allow `action` on `model` (else ActionNotAllowed, saying why)."""
    if not can(actor, model, action):
        raise ActionNotAllowed(refusal(model, action))


def _save(instance: models.Model, data: dict[str, Any], *, actor: User, extra_after=None):
    """Apply `data`, validate, save and audit (create or update)."""
    creating = instance.pk is None
    before = None if creating else snapshot(instance)
    for name, value in data.items():
        setattr(instance, name, value)
    instance.full_clean()
    instance.save()
    audit_record(
        instance=instance,
        action=ChangeAction.CREATE if creating else ChangeAction.UPDATE,
        actor=actor,
        before=before,
        after={**snapshot(instance), **(extra_after or {})},
    )
    return instance


def _delete(instance: models.Model, *, actor: User) -> None:
    audit_record(
        instance=instance, action=ChangeAction.DELETE, actor=actor, before=snapshot(instance)
    )
    instance.delete()


# --- categories --------------------------------------------------------------------------------
def _check_parent(category: ProductCategory, parent: ProductCategory | None) -> None:
    """A category may not sit below itself or one of its own descendants."""
    if parent is None or category.pk is None:
        return
    parents = dict(ProductCategory.objects.values_list("pk", "parent_id"))
    node: int | None = parent.pk
    seen: set[int] = set()
    while node is not None and node not in seen:
        if node == category.pk:
            raise ValidationError(
                {"parent": _("A category cannot be placed below itself or its subcategories.")}
            )
        seen.add(node)
        node = parents.get(node)


@transaction.atomic
def product_category_save(
    *, actor: User, data: dict[str, Any], category: ProductCategory | None = None
) -> ProductCategory:
    """Create (category=None) or change a category: name_zh, name_en, parent, sort_order."""
    require_permission(
        actor=actor, model=ProductCategory, action="add" if category is None else "change"
    )
    category = category or ProductCategory()
    if "parent" in data:
        _check_parent(category, data["parent"])
    return _save(category, data, actor=actor)


@transaction.atomic
def product_category_delete(*, actor: User, category: ProductCategory) -> None:
    """Only an empty category goes: no subcategories and no products."""
    require_permission(actor=actor, model=ProductCategory, action="delete")
    if category.children.exists():
        raise ValidationError(_("Move or delete its subcategories first."))
    if category.products.exists():
        raise ValidationError(_("Move its products to another category first."))
    _delete(category, actor=actor)


# --- products ----------------------------------------------------------------------------------
PRODUCT_FIELDS = (
    "code",
    "name",
    "category",
    "unit",
    "description",
    "is_active",
    "tax_rate",
    "cost",
)


def _product_data(data: dict[str, Any]) -> dict[str, Any]:
    unknown = set(data) - set(PRODUCT_FIELDS)
    if unknown:
        raise ValidationError(_("Unknown fields: %(fields)s") % {"fields": ", ".join(unknown)})
    data = dict(data)
    if "code" in data:
        data["code"] = (data["code"] or "").strip()
    if "name" in data:
        data["name"] = (data["name"] or "").strip()
    return data


@transaction.atomic
def product_create(*, actor: User, data: dict[str, Any], **_ignored) -> Product:
    require_permission(actor=actor, model=Product, action="add")
    return _save(Product(), _product_data(data), actor=actor)


@transaction.atomic
def product_update(*, product: Product, actor: User, data: dict[str, Any], **_ignored) -> Product:
    require_permission(actor=actor, model=Product, action="change")
    return _save(product, _product_data(data), actor=actor)


def product_set_active(*, product: Product, actor: User, active: bool) -> Product:
    """Deactivate (kept for the opportunities that sell it, offered no more) or reactivate."""
    return product_update(product=product, actor=actor, data={"is_active": active})


# --- price books -------------------------------------------------------------------------------
PRICE_BOOK_FIELDS = ("name", "currency", "valid_from", "valid_to", "is_default", "is_active")


@transaction.atomic
def price_book_save(
    *,
    actor: User,
    data: dict[str, Any],
    customer_levels: Iterable[PicklistOption] | None = None,
    price_book: PriceBook | None = None,
) -> PriceBook:
    """Create or change a price book. Making it the default of its currency takes the flag
    from the previous default; a default book must be active."""
    require_permission(
        actor=actor, model=PriceBook, action="add" if price_book is None else "change"
    )
    unknown = set(data) - set(PRICE_BOOK_FIELDS)
    if unknown:
        raise ValidationError(_("Unknown fields: %(fields)s") % {"fields": ", ".join(unknown)})
    data = dict(data)
    if "currency" in data:
        data["currency"] = (data["currency"] or "").strip().upper()
        if not CURRENCY_CODE.match(data["currency"]):
            raise ValidationError({"currency": _("Enter a three-letter currency code.")})
    book = price_book or PriceBook()
    merged = {name: data.get(name, getattr(book, name)) for name in PRICE_BOOK_FIELDS}
    if merged["valid_from"] and merged["valid_to"] and merged["valid_from"] > merged["valid_to"]:
        raise ValidationError({"valid_to": _("The end of validity is before its start.")})
    if merged["is_default"] and not merged["is_active"]:
        raise ValidationError({"is_active": _("The default price book must be active.")})
    levels = None
    if customer_levels is not None:
        levels = list(customer_levels)
        if any(option.picklist.code != "customer_level" for option in levels):
            raise ValidationError({"customer_levels": _("Choose customer levels.")})
    if merged["is_default"]:
        PriceBook.objects.filter(currency=merged["currency"], is_default=True).exclude(
            pk=book.pk
        ).update(is_default=False)
    extra = {"customer_levels": sorted(o.pk for o in levels)} if levels is not None else None
    book = _save(book, data, actor=actor, extra_after=extra)
    if levels is not None:
        book.customer_levels.set(levels)
    return book


@transaction.atomic
def price_book_delete(*, actor: User, price_book: PriceBook) -> None:
    require_permission(actor=actor, model=PriceBook, action="delete")
    if price_book.is_default:
        raise ValidationError(_("Make another price book the default of its currency first."))
    _delete(price_book, actor=actor)


def _decimal(value: Any, field: str) -> Decimal:
    try:
        return Decimal(str(value).replace(",", "").strip())
    except (InvalidOperation, ValueError):
        raise ValidationError({field: _("Enter a number.")}) from None


def _clean_tiers(tiers: Iterable[Any]) -> list[tuple[Decimal, Decimal]]:
    """[(from quantity, unit price)] or [{"min_quantity", "unit_price"}], sorted, unique."""
    cleaned: dict[Decimal, Decimal] = {}
    for tier in tiers:
        if isinstance(tier, dict):
            quantity, price = tier.get("min_quantity", 1), tier.get("unit_price")
        else:
            quantity, price = tier
        if price in (None, ""):
            continue
        quantity = _decimal(1 if quantity in (None, "") else quantity, "min_quantity")
        price = _decimal(price, "unit_price")
        if quantity <= 0:
            raise ValidationError({"min_quantity": _("A tier starts at a quantity above zero.")})
        if price < 0:
            raise ValidationError({"unit_price": _("A price cannot be negative.")})
        if quantity in cleaned:
            raise ValidationError(
                {"min_quantity": _("Two prices start at quantity %(q)s.") % {"q": quantity}}
            )
        cleaned[quantity] = price
    return sorted(cleaned.items())


@transaction.atomic
def price_book_prices_set(
    *, actor: User, price_book: PriceBook, prices: dict[Product, Iterable[Any]]
) -> list[PriceBookEntry]:
    """Replace the tiered prices of the given products in the price book (the price grid):
    `{product: [(from quantity, unit price), ...]}`; an empty list takes the product out."""
    require_permission(actor=actor, model=PriceBook, action="change")
    cleaned = {product: _clean_tiers(tiers) for product, tiers in prices.items()}
    product_ids = [product.pk for product in cleaned]
    before = list(
        PriceBookEntry.objects.filter(price_book=price_book, product_id__in=product_ids)
        .order_by("product_id", "min_quantity")
        .values_list("product_id", "min_quantity", "unit_price")
    )
    PriceBookEntry.objects.filter(price_book=price_book, product_id__in=product_ids).delete()
    created = PriceBookEntry.objects.bulk_create(
        PriceBookEntry(price_book=price_book, product=product, min_quantity=q, unit_price=p)
        for product, tiers in cleaned.items()
        for q, p in tiers
    )

    def rows(items):
        return [[pid, str(q), str(p)] for pid, q, p in items]

    audit_record(
        instance=price_book,
        action=ChangeAction.UPDATE,
        actor=actor,
        before={"prices": rows(before)},
        after={"prices": rows((e.product_id, e.min_quantity, e.unit_price) for e in created)},
        message=ngettext(
            "Prices changed for %(count)d product.",
            "Prices changed for %(count)d products.",
            len(cleaned),
        )
        % {"count": len(cleaned)},
    )
    return created


# --- exchange rates ----------------------------------------------------------------------------
@transaction.atomic
def exchange_rate_save(
    *, actor: User, data: dict[str, Any], rate: ExchangeRate | None = None
) -> ExchangeRate:
    """Create or change an exchange rate: currency, rate (units of the company currency per
    unit), valid from."""
    _require_admin(actor)
    data = {key: data[key] for key in ("currency", "rate", "valid_from") if key in data}
    if "currency" in data:
        data["currency"] = (data["currency"] or "").strip().upper()
        if not CURRENCY_CODE.match(data["currency"]):
            raise ValidationError({"currency": _("Enter a three-letter currency code.")})
        if data["currency"] == COMPANY_CURRENCY:
            raise ValidationError({"currency": _("The company currency needs no exchange rate.")})
    if "rate" in data:
        data["rate"] = _decimal(data["rate"], "rate")
        if data["rate"] <= 0:
            raise ValidationError({"rate": _("A rate is above zero.")})
    instance = rate or ExchangeRate()
    try:
        return _save(instance, data, actor=actor)
    except ValidationError as error:
        if "__all__" in getattr(error, "error_dict", {}):
            raise ValidationError(
                {"valid_from": _("This currency already has a rate from this date.")}
            ) from None
        raise


@transaction.atomic
def exchange_rate_delete(*, actor: User, rate: ExchangeRate) -> None:
    _require_admin(actor)
    _delete(rate, actor=actor)


# --- territories -------------------------------------------------------------------------------
def _names(value: Any) -> list[str]:
    if isinstance(value, str):
        value = re.split(r"[,，、;；\n]+", value)
    seen: list[str] = []
    for item in value or []:
        item = str(item).strip()
        if item and item not in seen:
            seen.append(item)
    return seen


@transaction.atomic
def territory_save(
    *,
    actor: User,
    data: dict[str, Any],
    industries: Sequence[PicklistOption] | None = None,
    users: Sequence[User] | None = None,
    territory: Territory | None = None,
) -> Territory:
    """Create (added last) or change a territory: name, provinces, cities (lists or comma
    separated), industries and users. A territory without any condition matches nothing."""
    _require_admin(actor)
    data = {key: data[key] for key in ("name", "provinces", "cities", "sort_order") if key in data}
    for key in ("provinces", "cities"):
        if key in data:
            data[key] = _names(data[key])
    if territory is None:
        territory = Territory(
            sort_order=(Territory.objects.aggregate(m=Max("sort_order"))["m"] or 0) + 1
        )
    if industries is not None and any(o.picklist.code != "industry" for o in industries):
        raise ValidationError({"industries": _("Choose industries.")})
    extra = {}
    if industries is not None:
        extra["industries"] = sorted(o.pk for o in industries)
    if users is not None:
        extra["users"] = sorted(u.pk for u in users)
    territory = _save(territory, data, actor=actor, extra_after=extra)
    if industries is not None:
        territory.industries.set(industries)
    if users is not None:
        territory.users.set(users)
    return territory


@transaction.atomic
def territory_delete(*, actor: User, territory: Territory) -> None:
    """Accounts lose the territory (their link goes); opportunities keep none."""
    _require_admin(actor)
    _delete(territory, actor=actor)


@transaction.atomic
def territories_reorder(*, actor: User, ids: Sequence[int]) -> None:
    """Put the territories in this order; the first match wins."""
    _require_admin(actor)
    territories = {t.pk: t for t in Territory.objects.select_for_update()}
    wanted = [pk for pk in ids if pk in territories]
    ordered = [territories[pk] for pk in wanted]
    ordered += [t for pk, t in sorted(territories.items()) if pk not in set(wanted)]
    for position, territory in enumerate(ordered, start=1):
        if territory.sort_order != position:
            territory.sort_order = position
            territory.save(update_fields=["sort_order"])


def territory_move(*, actor: User, territory: Territory, direction: str) -> None:
    ordered = list(Territory.objects.order_by("sort_order", "id").values_list("pk", flat=True))
    index = ordered.index(territory.pk)
    target = index - 1 if direction == "up" else index + 1
    if 0 <= target < len(ordered):
        ordered[index], ordered[target] = ordered[target], ordered[index]
        territories_reorder(actor=actor, ids=ordered)


def territory_condition(territory: Territory, *, prefix: str = "") -> Q | None:
    """The territory's rule as a filter on accounts (`prefix` reaches them from another
    model, e.g. "account__"); None when it has no condition. Industries must be prefetched
    or are read with one query."""
    condition = Q()
    empty = True
    if territory.provinces:
        condition &= Q(**{f"{prefix}province__in": territory.provinces})
        empty = False
    if territory.cities:
        condition &= Q(**{f"{prefix}city__in": territory.cities})
        empty = False
    industry_ids = [o.pk for o in territory.industries.all()]
    if industry_ids:
        condition &= Q(**{f"{prefix}industry_id__in": industry_ids})
        empty = False
    return None if empty else condition


def territory_case(territories: Sequence[Territory], *, prefix: str = "") -> Case | Value:
    """A SQL expression giving the first matching territory's id (or NULL)."""
    whens = []
    for territory in territories:
        condition = territory_condition(territory, prefix=prefix)
        if condition is not None:
            whens.append(When(condition, then=Value(territory.pk)))
    if not whens:
        return Value(None, output_field=IntegerField())
    return Case(*whens, default=Value(None), output_field=IntegerField())


def _ordered_territories() -> list[Territory]:
    return list(Territory.objects.order_by("sort_order", "id").prefetch_related("industries"))


def accounts_territory_assign(*, accounts: Sequence[Account]) -> None:
    """Give accounts (just created or changed) the territory their region and industry
    fall in, or none. One query to read the rules, one to match, two to write."""
    ids = [account.pk for account in accounts if account.pk]
    if not ids:
        return
    territories = _ordered_territories()
    if not territories:
        return  # no territory, so no link to remove either (links cascade with territories)
    matched = dict(
        Account.all_objects.filter(pk__in=ids)
        .annotate(territory_match=territory_case(territories))
        .values_list("pk", "territory_match")
    )
    AccountTerritory.objects.filter(account_id__in=ids).delete()
    AccountTerritory.objects.bulk_create(
        AccountTerritory(account_id=pk, territory_id=tid) for pk, tid in matched.items() if tid
    )


def opportunity_territory(opportunity: Opportunity) -> Territory | None:
    """The territory for an opportunity: its account's."""
    link = (
        AccountTerritory.objects.filter(account_id=opportunity.account_id)
        .select_related("territory")
        .first()
    )
    return link.territory if link else None


def opportunity_territory_assign(*, opportunity: Opportunity) -> Opportunity:
    """Set an opportunity's territory from its account (called when it is created)."""
    territory_id = (
        AccountTerritory.objects.filter(account_id=opportunity.account_id)
        .values_list("territory_id", flat=True)
        .first()
    )
    if opportunity.territory_id != territory_id:
        Opportunity.all_objects.filter(pk=opportunity.pk).update(territory_id=territory_id)
        opportunity.territory_id = territory_id
    return opportunity


REASSIGN_CHUNK = 2000


def reassigned_counts(result: dict[str, int]) -> dict[str, str]:
    """ "3 accounts" / "1 opportunity": the counts of a reassignment, each in its plural."""
    return {
        "accounts": ngettext("%(n)d account", "%(n)d accounts", result["accounts"])
        % {"n": result["accounts"]},
        "opportunities": ngettext(
            "%(n)d opportunity", "%(n)d opportunities", result["opportunities"]
        )
        % {"n": result["opportunities"]},
    }


@transaction.atomic
def territories_reassign(*, actor: User, include_closed: bool = False) -> dict[str, int]:
    """Recompute every account's territory from the rules, then give open opportunities
    (and with `include_closed` the closed ones too) their account's territory. The rules are
    one SQL CASE; the accounts are written in chunks; opportunities in one UPDATE."""
    _require_admin(actor)
    territories = _ordered_territories()
    AccountTerritory.objects.all().delete()
    accounts = 0
    if territories:
        matches = (
            Account.all_objects.annotate(territory_match=territory_case(territories))
            .filter(territory_match__isnull=False)
            .values_list("pk", "territory_match")
            .order_by()
        )
        batch: list[AccountTerritory] = []
        for pk, tid in matches.iterator(chunk_size=REASSIGN_CHUNK):
            batch.append(AccountTerritory(account_id=pk, territory_id=tid))
            if len(batch) >= REASSIGN_CHUNK:
                AccountTerritory.objects.bulk_create(batch)
                accounts += len(batch)
                batch = []
        AccountTerritory.objects.bulk_create(batch)
        accounts += len(batch)
    opportunities = Opportunity.all_objects.all()
    if not include_closed:
        opportunities = opportunities.filter(is_closed=False)
    changed = opportunities.update(
        territory_id=Subquery(
            AccountTerritory.objects.filter(account_id=OuterRef("account_id")).values(
                "territory_id"
            )[:1]
        )
    )
    result = {"accounts": accounts, "opportunities": changed}
    if territories:  # the history needs a record to hang off: the first territory
        audit_record(
            instance=territories[0],
            action=ChangeAction.UPDATE,
            actor=actor,
            message=_("Territories reassigned: %(accounts)s, %(opportunities)s.")
            % reassigned_counts(result),
        )
    return result
