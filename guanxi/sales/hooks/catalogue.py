"""What the catalogue registers at start-up: its API resources, the product import/export
resource, and the account-saved hook that keeps accounts in their territory."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from guanxi.core.imports.resources import (
    FieldSpec,
    ImportContext,
    ImportRow,
    ModelResource,
    register_resource,
)
from guanxi.core.scope import can
from guanxi.customers.services import register_account_saved_hook
from guanxi.sales.api.catalogue import register_api
from guanxi.sales.models import Product, ProductCategory
from guanxi.sales.services import catalogue as services

OWNER_KEYS = ("owner", "department_id")


def _casefold(value: Any) -> str:
    return str(value or "").strip().casefold()


class ProductResource(ModelResource):
    """Products are shared master data (no owner, no data scope): the duplicate key is the
    code, the category is matched by its Chinese or English name, and writes go through the
    catalogue services (role actions "add" / "change")."""

    def context(self, *, user, mapping) -> ImportContext:
        context = super().context(user=user, mapping=mapping)
        context.choices["__categories__"] = {}
        for category in ProductCategory.objects.all():
            for name in (category.name_zh, category.name_en):
                if name:
                    context.choices["__categories__"].setdefault(_casefold(name), category)
        return context

    def convert_value(self, spec: FieldSpec, text: str, context: ImportContext) -> Any:
        if spec.key == "category":
            category = context.choices.get("__categories__", {}).get(_casefold(text))
            if category is None:
                raise ValidationError(_("There is no category %(value)s.") % {"value": text})
            return category
        return super().convert_value(spec, text, context)

    def prefetch_duplicates(self, rows, context: ImportContext) -> None:
        codes = {row.data["code"].strip() for row in rows if row.data.get("code")}
        if not codes:
            return
        found = list(Product.objects.filter(code__in=sorted(codes)))
        for product in found:
            context.known.setdefault(("code", product.code), product)
        if can(context.user, Product, "change"):
            context.editable_ids.update(product.pk for product in found)

    def remember(self, record, context: ImportContext) -> None:
        context.known.setdefault(("code", record.code), record)
        if can(context.user, Product, "change"):
            context.editable_ids.add(record.pk)

    def duplicate_finder(self, row: ImportRow):
        code = (row.data.get("code") or "").strip()
        return row.context.known.get(("code", code)) if code and row.context else None

    def export_value(self, record, spec: FieldSpec) -> Any:
        if spec.key == "category":
            return record.category.name_zh if record.category else ""
        return super().export_value(record, spec)


def _create(*, data, custom_data, actor):
    data = {key: value for key, value in data.items() if key not in OWNER_KEYS}
    return services.product_create(actor=actor, data=data)


def _update(*, instance, data, custom_data, actor):
    data = {key: value for key, value in data.items() if key not in OWNER_KEYS}
    return services.product_update(product=instance, actor=actor, data=data)


product_resource = ProductResource(
    model=Product,
    fields=["code", "name", "category", "unit", "tax_rate", "cost", "description", "is_active"],
    aliases={
        "code": ["产品编码", "编码", "编号", "产品编号", "物料编码", "SKU"],
        "name": ["产品名称", "名称", "品名", "Product"],
        "category": ["产品分类", "分类", "类别"],
        "unit": ["单位", "计量单位"],
        "tax_rate": ["税率", "税率%", "Tax"],
        "cost": ["成本", "成本价"],
        "description": ["描述", "说明", "备注"],
        "is_active": ["启用", "是否启用", "状态"],
    },
    duplicate_keys={"code": str.strip},
    select_related=["category"],
    create=_create,
    update=_update,
)


def _accounts_saved(*, accounts, actor) -> None:
    services.accounts_territory_assign(accounts=accounts)


register_resource(product_resource)
register_account_saved_hook(_accounts_saved)
register_api()
