"""Lead sources as an editable picklist."""

from django.db import migrations

SOURCES = [
    ("campaign", "市场活动", "Campaign"),
    ("web_form", "网站表单", "Web form"),
    ("trade_show", "展会", "Trade show"),
    ("referral", "客户推荐", "Referral"),
    ("ads", "广告", "Advertising"),
    ("phone", "电话咨询", "Phone enquiry"),
    ("import", "导入", "Import"),
    ("email", "邮件", "E-mail"),
    ("other", "其他", "Other"),
]


def create_sources(apps, schema_editor):
    Picklist = apps.get_model("core", "Picklist")
    PicklistOption = apps.get_model("core", "PicklistOption")
    picklist, _ = Picklist.objects.update_or_create(
        code="lead_source", defaults={"name_zh": "线索来源", "name_en": "Lead source"}
    )
    for order, (value, zh, en) in enumerate(SOURCES):
        PicklistOption.objects.update_or_create(
            picklist=picklist,
            value=value,
            defaults={"label_zh": zh, "label_en": en, "sort_order": order},
        )


class Migration(migrations.Migration):
    dependencies = [("leads", "0001_initial")]

    operations = [migrations.RunPython(create_sources, migrations.RunPython.noop)]
