"""The default sales process, the lost-reason picklist and the default price book."""

from django.db import migrations

LOST_REASONS = [
    ("price", "价格原因", "Price"),
    ("competitor", "竞争对手更强", "Competitor was stronger"),
    ("no_budget", "客户无预算", "No budget"),
    ("no_decision", "客户不再推进", "No decision"),
    ("product_fit", "产品不满足需求", "Product did not fit"),
    ("relationship", "关系不到位", "Relationship"),
    ("other", "其他", "Other"),
]

STAGES = [
    # (zh, en, probability, kind, required to leave, expected days)
    ("初步接洽", "Qualification", 10, "open", [], 14),
    ("需求确认", "Needs analysis", 25, "open", ["expected_close_date"], 21),
    ("方案报价", "Proposal", 50, "open", ["amount", "contacts"], 21),
    ("谈判审核", "Negotiation", 75, "open", ["amount", "expected_close_date"], 30),
    ("赢单", "Won", 100, "won", [], None),
    ("输单", "Lost", 0, "lost", [], None),
]


def create_defaults(apps, schema_editor):
    Picklist = apps.get_model("core", "Picklist")
    PicklistOption = apps.get_model("core", "PicklistOption")
    Pipeline = apps.get_model("sales", "Pipeline")
    Stage = apps.get_model("sales", "Stage")
    PriceBook = apps.get_model("sales", "PriceBook")
    reasons, _ = Picklist.objects.update_or_create(
        code="lost_reason", defaults={"name_zh": "输单原因", "name_en": "Lost reason"}
    )
    for order, (value, zh, en) in enumerate(LOST_REASONS):
        PicklistOption.objects.update_or_create(
            picklist=reasons,
            value=value,
            defaults={"label_zh": zh, "label_en": en, "sort_order": order},
        )
    if not Pipeline.objects.exists():
        pipeline = Pipeline.objects.create(
            name_zh="标准销售流程", name_en="Standard sales process", is_default=True
        )
        for order, (zh, en, probability, kind, required, days) in enumerate(STAGES):
            Stage.objects.create(
                pipeline=pipeline,
                name_zh=zh,
                name_en=en,
                sort_order=order,
                probability=probability,
                kind=kind,
                required_fields=required,
                max_days=days,
            )
    PriceBook.objects.get_or_create(
        currency="CNY", is_default=True, defaults={"name": "标准价格表"}
    )


class Migration(migrations.Migration):
    dependencies = [("sales", "0001_initial")]

    operations = [migrations.RunPython(create_defaults, migrations.RunPython.noop)]
