"""Level properties move from the level to each policy version (document 000: 1 / 3
coordinators, 001: 2 / 4); the availability target too. Schema only: 0010 removes the old
columns after 0009 has copied them."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("sla", "0011_seed_level_terms")]

    operations = [
        migrations.DeleteModel(
            name="AvailabilityTarget",
        ),
        migrations.RemoveField(
            model_name="servicelevel",
            name="channel_mail",
        ),
        migrations.RemoveField(
            model_name="servicelevel",
            name="channel_phone",
        ),
        migrations.RemoveField(
            model_name="servicelevel",
            name="channel_portal",
        ),
        migrations.RemoveField(
            model_name="servicelevel",
            name="consultant_lead_days",
        ),
        migrations.RemoveField(
            model_name="servicelevel",
            name="max_coordinators",
        ),
        migrations.RemoveField(
            model_name="servicelevel",
            name="own_consultant",
        ),
        migrations.RemoveField(
            model_name="servicelevel",
            name="reports_per_year",
        ),
    ]
