"""Account imports and exports: the fields a file may fill, the Chinese column names people
use for them, and the duplicate key (same phone number or same name in the user's scope)."""

from guanxi.core.imports.resources import ModelResource, normalise_phone, register_resource
from guanxi.customers.models import Account


def _name_key(value: str) -> str:
    return value.strip()


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
    duplicate_keys={"phone": normalise_phone, "name": _name_key},
    select_related=["owner", "industry"],
)

register_resource(account_resource)
