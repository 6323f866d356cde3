"""Add the Dutch public holidays of more years from the holidays library.

    manage.py sla_holidays --years 2041-2045

The data migration seeds ``sla.seed.HOLIDAY_YEARS``; this extends the list when the years run
out. Existing rows are never touched, so a holiday a manager switched off stays off and one
they renamed keeps its name. Afterwards open clocks are recomputed (``calendar_changed``).
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
        raise CommandError(f"cannot read years {text!r}; expected e.g. 2041 or 2041-2045",
                           returncode=USAGE_ERROR)
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
        rows = [Holiday(date=day, name=name, kind=HolidayKind(kind), from_library=True)
                for day, name, kind in library_holidays(span)]
        with transaction.atomic():
            existing = set(Holiday.objects.filter(date__in=[row.date for row in rows])
                           .values_list("date", flat=True))
            new = [row for row in rows if row.date not in existing]
            Holiday.objects.bulk_create(new, ignore_conflicts=True)  # a concurrent run adds nothing twice
            if new:
                calendar_changed()  # recomputes open clocks after the commit
        self.stdout.write(f"Added {len(new)} holiday(s) for {span.start}-{span.stop - 1}; "
                          f"{len(existing)} already present were left as they are.")
