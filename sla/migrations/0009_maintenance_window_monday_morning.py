"""Document 001 §5.4: "Maandag t/m Vrijdag 20:00-04:00", Saturday and Sunday all day: the window
runs on from Friday 20:00 to Monday 04:00 (SPEC §8). The seed stopped at Sunday midnight; add
Monday 00:00-04:00 where the seeded Sunday window is in place and nothing covers it yet."""

from datetime import time

from django.db import migrations


def add(apps, schema_editor):
    MaintenanceWindow = apps.get_model("sla", "MaintenanceWindow")
    if not MaintenanceWindow.objects.filter(weekday=6, starts=time(0), ends=time(0)).exists():
        return
    if MaintenanceWindow.objects.filter(weekday=0, starts=time(0)).exists():
        return
    MaintenanceWindow.objects.create(weekday=0, starts=time(0), ends=time(4))


def remove(apps, schema_editor):
    MaintenanceWindow = apps.get_model("sla", "MaintenanceWindow")
    MaintenanceWindow.objects.filter(weekday=0, starts=time(0), ends=time(4)).delete()


class Migration(migrations.Migration):
    dependencies = [("sla", "0008_announced_maintenance")]
    operations = [migrations.RunPython(add, remove)]
