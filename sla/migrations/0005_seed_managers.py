"""Seed the published figures of SPEC §2, the maintenance windows and availability targets of
SPEC §8 and the hosted products of SPEC §6 as editable data."""

from datetime import date, time
from decimal import Decimal

from django.db import migrations

# (clock, High?, within, unit, share %, as published). "3 months" is measured as 65 working
# days: 13 weeks of 5 working days, in business time like every other figure.
PUBLISHED_FIGURES = [
    ("response", True, "4", "hours", "100", "4 hours (during working days)"),
    ("response", False, "1", "days", "100", "1 working day"),
    ("resolution", True, "1", "days", "70", "70% next working day"),
    ("resolution", True, "2", "days", "98", "98% within 2 working days"),
    ("resolution", True, "65", "days", "100", "100% within 3 months"),
    ("resolution", False, "1", "days", "70", "70% next working day"),
    ("resolution", False, "5", "days", "95", "95% within 5 working days"),
    ("resolution", False, "65", "days", "100", "100% within 3 months"),
]

# SPEC §8: Mon-Fri 20:00-04:00 (into the next morning), Saturday and Sunday all day, and on to
# Monday 04:00 (added later by 0009 on databases seeded before).
MAINTENANCE_WINDOWS = [(weekday, time(20), time(4)) for weekday in range(5)] + [
    (5, time(0), time(0)), (6, time(0), time(0)), (0, time(0), time(4))]

AVAILABILITY_TARGETS = [(date(2000, 1, 1), "99.80"), (date(2023, 3, 1), "99.00")]  # doc 000, doc 001

HOSTED_PRODUCTS = [("qixium-saas", "Qixium SaaS Platform"), ("data-manager", "Data Manager Platform")]


def seed(apps, schema_editor):
    PublishedFigure = apps.get_model("sla", "PublishedFigure")
    MaintenanceWindow = apps.get_model("sla", "MaintenanceWindow")
    try:
        AvailabilityTarget = apps.get_model("sla", "AvailabilityTarget")
    except LookupError:  # 0010 moved the target to the policy version (tests re-run this seed)
        AvailabilityTarget = None
    HostedProduct = apps.get_model("sla", "HostedProduct")
    for position, (clock, high, amount, unit, share, label) in enumerate(PUBLISHED_FIGURES):
        PublishedFigure.objects.create(clock=clock, high_priority=high, within_amount=Decimal(amount),
                                       within_unit=unit, share_percent=Decimal(share), label=label,
                                       position=position)
    for weekday, starts, ends in MAINTENANCE_WINDOWS:
        MaintenanceWindow.objects.create(weekday=weekday, starts=starts, ends=ends)
    for effective_from, percent in AVAILABILITY_TARGETS if AvailabilityTarget else ():
        AvailabilityTarget.objects.create(effective_from=effective_from, percent=Decimal(percent))
    for code, name in HOSTED_PRODUCTS:
        HostedProduct.objects.create(code=code, name=name)


class Migration(migrations.Migration):
    dependencies = [("sla", "0004_managers")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
