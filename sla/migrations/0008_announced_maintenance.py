"""Document 001 §5.2: only maintenance announced before it began is left out of availability.
An outage links to the maintenance announcement (with its period) instead of a "planned" flag;
the flag said nothing about when or whether it was announced, so it is not carried over, but
an outage that had it says so in its description (nothing is lost)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def note_planned(apps, schema_editor):
    Outage = apps.get_model("sla", "Outage")
    for outage in Outage.objects.filter(planned=True):
        note = "[Recorded as planned maintenance before outages were linked to their announcement.]"
        outage.description = f"{outage.description}\n\n{note}".strip()
        outage.save(update_fields=["description"])


class Migration(migrations.Migration):

    dependencies = [
        ('sla', '0007_pending_crossings'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(note_planned, migrations.RunPython.noop),
        migrations.RemoveField(
            model_name='outage',
            name='planned',
        ),
        migrations.AddField(
            model_name='announcement',
            name='maintenance_ends_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='maintenance until'),
        ),
        migrations.AddField(
            model_name='announcement',
            name='maintenance_starts_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='maintenance from'),
        ),
        migrations.AddField(
            model_name='outage',
            name='maintenance',
            field=models.ForeignKey(blank=True, help_text='Only the part within the announced period counts as maintenance, and only if it was announced before the outage began.', limit_choices_to={'topic': 'maintenance'}, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='outages', to='sla.announcement', verbose_name='announced maintenance'),
        ),
        migrations.AddConstraint(
            model_name='announcement',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('maintenance_starts_at__isnull', True), ('maintenance_ends_at__isnull', True)), models.Q(('maintenance_ends_at__gt', models.F('maintenance_starts_at')), ('topic', 'maintenance')), _connector='OR'), name='announcement_maintenance_period'),
        ),
    ]
