from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0005_imports"),
    ]

    operations = [
        migrations.AddField(
            model_name="role",
            name="see_contact_details",
            field=models.BooleanField(
                default=True,
                help_text=(
                    "When off, phone numbers and e-mail addresses are masked (138****5678); "
                    "revealing one is logged."
                ),
                verbose_name="see phone numbers and e-mails",
            ),
        ),
    ]
