"""Low satisfaction scores (issue 17): a topic of its own, on by default for support
managers, so the existing managers get it too."""

from django.db import migrations, models


def subscribe_existing_managers(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    Subscription = apps.get_model("accounts", "Subscription")
    managers = User.objects.filter(role="manager").values_list("pk", flat=True)
    Subscription.objects.bulk_create(
        [Subscription(user_id=pk, topic="low_satisfaction") for pk in managers], ignore_conflicts=True
    )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0011_notification_defaults_for_existing_customers"),
    ]

    operations = [
        migrations.AlterField(
            model_name="notification",
            name="topic",
            field=models.CharField(
                choices=[
                    ("account", "Account"),
                    ("ticket_update", "Ticket updates"),
                    ("sla_at_risk", "SLA at risk"),
                    ("sla_breach", "SLA breached"),
                    ("data_leak", "Data leaks"),
                    ("disruption", "Disruptions"),
                    ("release", "Releases"),
                    ("news", "News"),
                    ("maintenance", "Planned maintenance"),
                    ("security", "Vulnerability reports"),
                    ("digest", "Daily digest"),
                    ("low_satisfaction", "Low satisfaction scores"),
                ],
                max_length=20,
            ),
        ),
        migrations.AlterField(
            model_name="subscription",
            name="topic",
            field=models.CharField(
                choices=[
                    ("account", "Account"),
                    ("ticket_update", "Ticket updates"),
                    ("sla_at_risk", "SLA at risk"),
                    ("sla_breach", "SLA breached"),
                    ("data_leak", "Data leaks"),
                    ("disruption", "Disruptions"),
                    ("release", "Releases"),
                    ("news", "News"),
                    ("maintenance", "Planned maintenance"),
                    ("security", "Vulnerability reports"),
                    ("digest", "Daily digest"),
                    ("low_satisfaction", "Low satisfaction scores"),
                ],
                max_length=20,
            ),
        ),
        migrations.RunPython(subscribe_existing_managers, migrations.RunPython.noop),
    ]
