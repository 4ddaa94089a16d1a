"""The activity types (with icon and colour) and follow-up channels, as editable picklists."""

from django.db import migrations

ACTIVITY_TYPES = [
    ("task", "任务", "Task", "bi-check2-square", "#6c757d"),
    ("call", "电话", "Call", "bi-telephone", "#0d6efd"),
    ("meeting", "会议", "Meeting", "bi-people", "#6f42c1"),
    ("visit", "拜访", "Visit", "bi-geo-alt", "#198754"),
    ("email", "邮件", "E-mail", "bi-envelope", "#fd7e14"),
    ("sms", "短信", "SMS", "bi-chat-dots", "#20c997"),
    ("note", "备注", "Note", "bi-journal-text", "#adb5bd"),
]

CHANNELS = [
    ("phone", "电话", "Phone"),
    ("wechat", "微信", "WeChat"),
    ("visit", "上门拜访", "Visit"),
    ("meeting", "会面", "Meeting"),
    ("email", "邮件", "E-mail"),
    ("sms", "短信", "SMS"),
    ("other", "其他", "Other"),
]


def create_picklists(apps, schema_editor):
    Picklist = apps.get_model("core", "Picklist")
    PicklistOption = apps.get_model("core", "PicklistOption")
    types, _ = Picklist.objects.update_or_create(
        code="activity_type", defaults={"name_zh": "活动类型", "name_en": "Activity type"}
    )
    for order, (value, zh, en, icon, color) in enumerate(ACTIVITY_TYPES):
        PicklistOption.objects.update_or_create(
            picklist=types,
            value=value,
            defaults={
                "label_zh": zh,
                "label_en": en,
                "icon": icon,
                "color": color,
                "sort_order": order,
                "is_default": value == "task",
            },
        )
    channels, _ = Picklist.objects.update_or_create(
        code="follow_up_channel", defaults={"name_zh": "跟进方式", "name_en": "Follow-up channel"}
    )
    for order, (value, zh, en) in enumerate(CHANNELS):
        PicklistOption.objects.update_or_create(
            picklist=channels,
            value=value,
            defaults={
                "label_zh": zh,
                "label_en": en,
                "sort_order": order,
                "is_default": value == "phone",
            },
        )


class Migration(migrations.Migration):
    dependencies = [("activities", "0001_initial"), ("core", "0007_picklistoption_color_picklistoption_icon")]

    operations = [migrations.RunPython(create_picklists, migrations.RunPython.noop)]
