"""The default roles of SPEC §1 and the first picklists. Administrators may edit them."""

from django.db import migrations

ALL = ["view", "add", "change", "delete", "export", "assign", "import"]

ROLES = [
    ("admin", "系统管理员", "Administrator", "all", {"*": ALL}, True),
    ("sales_manager", "销售经理", "Sales manager", "subtree", {"*": ALL}, False),
    ("sales_rep", "销售代表", "Sales rep", "own", {"*": ["view", "add", "change", "delete"]}, False),
    (
        "marketing",
        "市场专员",
        "Marketing",
        "department",
        {"*": ["view", "add", "change", "export", "import"]},
        False,
    ),
    (
        "service_agent",
        "客服专员",
        "Service agent",
        "own",
        {"*": ["view", "add", "change"]},
        False,
    ),
    ("service_manager", "客服经理", "Service manager", "subtree", {"*": ALL}, False),
    ("finance", "财务", "Finance", "all", {"*": ["view", "export"]}, False),
    ("read_only", "只读", "Read-only", "all", {"*": ["view"]}, False),
]

PICKLISTS = {
    ("industry", "行业", "Industry"): [
        ("manufacturing", "制造业", "Manufacturing"),
        ("it", "信息技术", "Information technology"),
        ("finance", "金融", "Finance"),
        ("retail", "零售", "Retail"),
        ("education", "教育", "Education"),
        ("healthcare", "医疗", "Healthcare"),
        ("construction", "建筑", "Construction"),
        ("logistics", "物流", "Logistics"),
        ("other", "其他", "Other"),
    ],
    ("source", "来源", "Source"): [
        ("website", "官网", "Website"),
        ("referral", "转介绍", "Referral"),
        ("exhibition", "展会", "Exhibition"),
        ("phone", "电话营销", "Cold call"),
        ("advertising", "广告", "Advertising"),
        ("other", "其他", "Other"),
    ],
}


def create_defaults(apps, schema_editor):
    Role = apps.get_model("core", "Role")
    Picklist = apps.get_model("core", "Picklist")
    PicklistOption = apps.get_model("core", "PicklistOption")
    for code, zh, en, scope, permissions, is_admin in ROLES:
        Role.objects.update_or_create(
            code=code,
            defaults={
                "name_zh": zh,
                "name_en": en,
                "data_scope": scope,
                "permissions": permissions,
                "is_admin": is_admin,
            },
        )
    for (code, zh, en), options in PICKLISTS.items():
        picklist, _ = Picklist.objects.update_or_create(
            code=code, defaults={"name_zh": zh, "name_en": en}
        )
        for order, (value, label_zh, label_en) in enumerate(options):
            PicklistOption.objects.update_or_create(
                picklist=picklist,
                value=value,
                defaults={"label_zh": label_zh, "label_en": label_en, "sort_order": order},
            )


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]

    operations = [migrations.RunPython(create_defaults, migrations.RunPython.noop)]
