"""Picklists the customers module needs, and the default membership levels."""

from django.db import migrations

PICKLISTS = {
    ("account_status", "客户状态", "Account status"): [
        ("following", "跟进中", "Following up"),
        ("deal", "已成交", "Closed a deal"),
        ("cooperating", "合作中", "Cooperating"),
        ("paused", "暂停", "Paused"),
        ("invalid", "无效", "Invalid"),
    ],
    ("credit_rating", "信用等级", "Credit rating"): [
        ("aaa", "AAA", "AAA"),
        ("aa", "AA", "AA"),
        ("a", "A", "A"),
        ("b", "B", "B"),
        ("c", "C", "C"),
    ],
    ("customer_level", "客户级别", "Customer level"): [
        ("key", "重点客户", "Key account"),
        ("normal", "普通客户", "Regular"),
        ("small", "小客户", "Small"),
    ],
    ("contact_role", "联系人角色", "Contact role"): [
        ("decision_maker", "最终决策", "Decision maker"),
        ("influencer", "影响决策", "Influencer"),
        ("user", "使用者", "User"),
        ("irrelevant", "决策无关", "Irrelevant"),
    ],
}

LEVELS = [
    ("普通会员", "Member", 0, 0),
    ("银卡会员", "Silver", 1000, 2),
    ("金卡会员", "Gold", 5000, 5),
    ("钻石会员", "Diamond", 20000, 8),
]


def create_defaults(apps, schema_editor):
    Picklist = apps.get_model("core", "Picklist")
    PicklistOption = apps.get_model("core", "PicklistOption")
    MembershipLevel = apps.get_model("customers", "MembershipLevel")
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
    for name_zh, name_en, threshold, discount in LEVELS:
        MembershipLevel.objects.update_or_create(
            threshold=threshold,
            defaults={"name_zh": name_zh, "name_en": name_en, "discount_percent": discount},
        )


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0002_default_roles"),
        ("customers", "0002_contacts_groups_membership"),
    ]

    operations = [migrations.RunPython(create_defaults, migrations.RunPython.noop)]
