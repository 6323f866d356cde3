"""Add the Dutch public holidays of more years from the holidays library.

    manage.py sla_holidays --years 2041-2045

The data migrations seed every year from the first policy version to ``sla.seed.HOLIDAY_YEARS``;
calendars generate any other year a question touches, and this stores more years so that a
manager can edit them. Existing rows are never touched and a year already stored is skipped,
so a holiday a manager switched off stays off, one they renamed keeps its name and one they
deleted stays deleted. Afterwards open clocks are recomputed (``calendar_changed``).
"""

import re

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from sla.models import Holiday, HolidayKind
from sla.seed import library_holidays
from sla.services import calendar_changed

_YEARS = re.compile(r"^\s*(\d{4})\s*(?:-\s*(\d{4})\s*)?$")
USAGE_ERROR = 2


def parse_years(text: str) -> range:
    """``2041`` or ``2041-2045`` (inclusive)."""
    match = _YEARS.match(text)
    if match is None:
        raise CommandError(
            f"cannot read years {text!r}; expected e.g. 2041 or 2041-2045", returncode=USAGE_ERROR
        )
    first = int(match[1])
    last = int(match[2] or first)
    if last < first:
        raise CommandError(f"years {text!r} run backwards", returncode=USAGE_ERROR)
    return range(first, last + 1)


class Command(BaseCommand):
    help = "Add the library's Dutch public holidays for the given years, keeping existing rows."

    def add_arguments(self, parser):
        parser.add_argument("--years", required=True, help="a year or an inclusive range: 2041-2045")

    def handle(self, *args, years: str, **options):
        span = parse_years(years)
        with transaction.atomic():
            stored = set(
                Holiday.objects.filter(from_library=True, date__year__in=span).values_list(
                    "date__year", flat=True
                )
            )
            rows = [
                Holiday(date=day, name=name, kind=HolidayKind(kind), from_library=True)
                for day, name, kind in library_holidays([y for y in span if y not in stored])
            ]
            existing = set(
                Holiday.objects.filter(date__in=[row.date for row in rows]).values_list("date", flat=True)
            )
            new = [row for row in rows if row.date not in existing]
            Holiday.objects.bulk_create(new, ignore_conflicts=True)  # a concurrent run adds nothing twice
            if new:
                calendar_changed()  # recomputes open clocks after the commit
        self.stdout.write(
            f"Added {len(new)} holiday(s) for {span.start}-{span.stop - 1}; "
            f"{len(existing)} already present were left as they are."
        )
