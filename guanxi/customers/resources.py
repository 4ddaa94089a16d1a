"""Account imports and exports: the fields a file may fill, the Chinese column names people
use for them, and the duplicate key (same phone number or same name in the user's scope)."""

from guanxi.core.imports.resources import ModelResource, register_resource
from guanxi.core.phones import phone_digits
from guanxi.customers.models import Account
from guanxi.customers.services import account_bulk_create, account_create, account_update


def _name_key(value: str) -> str:
    return value.strip()


def _create(*, data, custom_data, actor):
    return account_create(actor=actor, data=data, custom_data=custom_data)


def _bulk_create(*, items, actor):
    return account_bulk_create(actor=actor, items=items)


def _update(*, instance, data, custom_data, actor):
    return account_update(account=instance, actor=actor, data=data, custom_data=custom_data or None)


account_resource = ModelResource(
    model=Account,
    fields=[
        "name",
        "kind",
        "industry",
        "phone",
        "email",
        "website",
        "address",
        "notes",
        "owner",
    ],
    aliases={
        "name": ["客户名称", "公司名称", "客户", "公司", "名称", "企业名称", "Account", "Company"],
        "kind": ["类型", "客户类型", "Type"],
        "industry": ["行业", "所属行业"],
        "phone": ["电话", "手机", "手机号", "联系电话", "电话号码", "Mobile", "Telephone", "Tel"],
        "email": ["邮箱", "电子邮件", "电子邮箱", "Email", "Mail"],
        "website": ["网站", "网址", "官网", "Web"],
        "address": ["地址", "公司地址", "详细地址"],
        "notes": ["备注", "说明", "Note", "Remarks"],
        "owner": ["负责人", "所有人", "客户负责人", "Owner"],
    },
    value_aliases={
        "kind": {
            "公司": Account.Kind.COMPANY,
            "企业": Account.Kind.COMPANY,
            "单位": Account.Kind.COMPANY,
            "个人": Account.Kind.INDIVIDUAL,
        }
    },
    # Same phone (as digits, the indexed phone_digits column) or exactly the same name.
    duplicate_keys={"phone": phone_digits, "name": _name_key},
    duplicate_columns={"phone": "phone_digits"},
    create=_create,
    update=_update,
    bulk_create=_bulk_create,
    select_related=["owner", "industry"],
)

register_resource(account_resource)
