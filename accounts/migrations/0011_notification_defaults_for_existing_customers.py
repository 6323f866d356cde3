"""Existing customers get the notification topics new ones start with (issue 14).

A missing subscription row used to mean both "never chose" and "switched off", so the rows
cannot tell an explicit "off". Decided: a customer with no row at all never saved a choice
(or saved all off, which looks the same) and gets ``ticket_update``; a customer with any row
saved the preferences form and keeps what they saved. "SLA at risk" could not be chosen until
now, so every coordinator gets it."""

from django.db import migrations

TICKET_UPDATE, SLA_AT_RISK = "ticket_update", "sla_at_risk"
CUSTOMER_USER, COORDINATOR = "customer_user", "coordinator"


def subscribe_existing_customers(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    Subscription = apps.get_model("accounts", "Subscription")
    never_chose = User.objects.filter(role__in=[CUSTOMER_USER, COORDINATOR], subscriptions__isnull=True)
    rows = [Subscription(user_id=pk, topic=TICKET_UPDATE) for pk in never_chose.values_list("pk", flat=True)]
    coordinators = User.objects.filter(role=COORDINATOR).values_list("pk", flat=True)
    rows += [Subscription(user_id=pk, topic=SLA_AT_RISK) for pk in coordinators]
    Subscription.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0010_notification_defaults_digest_link"),
    ]

    operations = [
        migrations.RunPython(subscribe_existing_customers, migrations.RunPython.noop),
    ]
