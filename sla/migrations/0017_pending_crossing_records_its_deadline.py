from django.db import migrations, models


class Migration(migrations.Migration):
    """A pending crossing carries the instant its transition records (the deadline) apart from
    the instant the sweep looks for it; rows written before were the same instant."""

    dependencies = [
        ("sla", "0016_catch_up_markers"),
    ]

    operations = [
        migrations.AddField(
            model_name="pendingcrossing",
            name="crossed_at",
            field=models.DateTimeField(null=True),
        ),
        migrations.RunSQL("UPDATE sla_pendingcrossing SET crossed_at = at", migrations.RunSQL.noop),
        migrations.AlterField(
            model_name="pendingcrossing",
            name="crossed_at",
            field=models.DateTimeField(),
        ),
    ]
