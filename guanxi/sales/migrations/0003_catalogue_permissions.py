"""The catalogue, price books, exchange rates, sales processes, territories and targets are
set by administrators (and sales managers for targets): the other default roles that had
every action on every model ("*") may only look at them. An explicit entry per model wins
over "*" (`Role.allows`). Reversing takes out exactly the entries this step wrote."""

from django.db import migrations

VIEW_ONLY = {
    "sales.product": ["view"],
    "sales.productcategory": ["view"],
    "sales.pricebook": ["view"],
    "sales.pricebookentry": ["view"],
    "sales.exchangerate": ["view"],
    "sales.pipeline": ["view"],
    "sales.stage": ["view"],
    "sales.territory": ["view"],
    "sales.salestarget": ["view"],
}

ROLES = ("sales_rep", "marketing", "service_agent", "service_manager")


def restrict_catalogue(apps, schema_editor):
    Role = apps.get_model("core", "Role")
    for role in Role.objects.filter(code__in=ROLES):
        permissions = dict(role.permissions or {})
        permissions.update({label: list(actions) for label, actions in VIEW_ONLY.items()})
        if permissions != role.permissions:
            role.permissions = permissions
            role.save(update_fields=["permissions"])


def restore_catalogue(apps, schema_editor):
    Role = apps.get_model("core", "Role")
    for role in Role.objects.filter(code__in=ROLES):
        permissions = dict(role.permissions or {})
        for label, actions in VIEW_ONLY.items():
            if permissions.get(label) == actions:
                del permissions[label]
        if permissions != role.permissions:
            role.permissions = permissions
            role.save(update_fields=["permissions"])


class Migration(migrations.Migration):
    dependencies = [
        ("sales", "0002_defaults"),
        ("core", "0007_picklistoption_color_picklistoption_icon"),
    ]

    operations = [migrations.RunPython(restrict_catalogue, restore_catalogue)]
