"""Compute an SLA deadline by hand: the same calendar arithmetic the clocks use.

    manage.py sla_deadline --level default --start 2025-04-25T15:00 --target 4h
    2025-04-28T13:00:00+02:00

``--start`` is wall-clock time in the level's calendar timezone (Europe/Amsterdam for the
seeded levels) unless it carries an offset (``2025-04-25T13:00Z``, ``...+00:00``). ``--target``
is a number and a unit: ``4h``, ``30m``, ``3d``, ``0.5d`` (``d`` is a business day of that
calendar: 6 h on Default, 9 h on Extended). ``--file CASES.csv`` (header ``level,start,target``)
prints one deadline per line. Bad input is one line on stderr and exit code 2.
"""

import csv
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from sla.calendar import BusinessCalendar, check_calculation, parse_duration
from sla.models import ClosureDay, Holiday, ServiceLevel
from sla.selectors import business_calendar

COLUMNS = ("level", "start", "target")
USAGE_ERROR = 2  # the exit code of a command called wrongly, as argparse uses


def fail(message: str) -> CommandError:
    return CommandError(" ".join(message.split()), returncode=USAGE_ERROR)  # always one line


@dataclass(frozen=True)
class Case:
    level: ServiceLevel
    calendar: BusinessCalendar
    start: datetime
    seconds: int

    def deadline(self) -> datetime:
        return self.calendar.add(self.start, self.seconds)


class Command(BaseCommand):
    help = (
        "Print the SLA deadline for a service level, a start and a target in business time, "
        "as ISO 8601 in the calendar's timezone."
    )

    def add_arguments(self, parser):
        parser.add_argument("--level", help="service level code, e.g. default, extended or a custom level")
        parser.add_argument("--start", help="e.g. 2025-04-25T15:00 (calendar wall-clock) or with an offset")
        parser.add_argument("--target", help="business time: 4h, 30m, 3d, 0.5d")
        parser.add_argument("--file", type=Path, help="CSV with the header level,start,target")
        parser.add_argument(
            "--explain",
            action="store_true",
            help="also print the counted intervals and the closed days skipped",
        )

    def handle(self, *args, level, start, target, file, explain, **options):
        if file is not None:
            if level or start or target:
                raise fail("give either --file or --level, --start and --target, not both")
            for case in self.read_cases(file):
                self.print_case(case, explain=explain)
            return
        given = zip(COLUMNS, (level, start, target), strict=True)
        missing = [f"--{name}" for name, value in given if not value]
        if missing:
            raise fail(f"missing {', '.join(missing)} (or give --file CASES.csv)")
        self.print_case(self.case(level, start, target), explain=explain)

    def case(self, level_code: str, start_text: str, target_text: str, *, where: str = "") -> Case:
        start = _parse_start(start_text, where)
        level = ServiceLevel.objects.select_related("calendar").filter(code=level_code.strip()).first()
        if level is None:
            known = ", ".join(ServiceLevel.objects.order_by("code").values_list("code", flat=True))
            raise fail(f"{where}unknown service level {level_code!r} (known: {known})")
        calendar = business_calendar(level.calendar)
        if start.tzinfo is None:
            start = start.replace(tzinfo=calendar.tz)
        try:
            seconds = parse_duration(target_text, day_seconds=calendar.day_seconds)
            check_calculation(start=start, seconds=seconds, day_seconds=calendar.day_seconds)
        except ValueError as exc:
            raise fail(f"{where}{exc}") from exc
        return Case(level=level, calendar=calendar, start=start, seconds=seconds)

    def read_cases(self, path: Path) -> list[Case]:
        try:
            with path.open(newline="", encoding="utf-8-sig") as handle:
                rows = list(csv.reader(handle))
        except OSError as exc:
            raise fail(f"cannot read {path}: {exc.strerror or exc}") from exc
        except (UnicodeDecodeError, csv.Error) as exc:
            raise fail(f"{path} is not a CSV file: {exc}") from exc
        if not rows:
            raise fail(f"{path} is empty; expected the header {','.join(COLUMNS)}")
        header = [name.strip().lower() for name in rows[0]]
        missing = [name for name in COLUMNS if name not in header]
        if missing:
            raise fail(
                f"{path}: missing column(s) {', '.join(missing)}; the header must name {','.join(COLUMNS)}"
            )
        index = {name: header.index(name) for name in COLUMNS}
        cases = []
        for number, row in enumerate(rows[1:], start=2):
            if not any(cell.strip() for cell in row):
                continue  # blank lines are harmless
            where = f"{path} line {number}: "
            values = [row[index[name]].strip() if index[name] < len(row) else "" for name in COLUMNS]
            empty = [name for name, value in zip(COLUMNS, values, strict=True) if not value]
            if empty:
                raise fail(f"{where}no {', '.join(empty)}")
            cases.append(self.case(*values, where=where))
        return cases

    def print_case(self, case: Case, *, explain: bool) -> None:
        deadline = case.deadline()
        self.stdout.write(deadline.isoformat())
        if explain:
            for line in _explanation(case, deadline):
                self.stdout.write(f"  {line}")


def _parse_start(text: str, where: str) -> datetime:
    try:
        return datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise fail(
            f"{where}cannot read start {text!r}; expected ISO 8601 such as 2025-04-25T15:00 "
            "or 2025-04-25T15:00+02:00"
        ) from exc


def _hours(seconds: float) -> str:
    minutes = round(seconds / 60)
    return f"{minutes // 60}h{minutes % 60:02d}m"


def _explanation(case: Case, deadline: datetime) -> list[str]:
    """The opening intervals counted from start to deadline, and the closed working days
    (public holidays, closure days) skipped on the way."""
    explanation = case.calendar.explain(case.start, deadline)
    lines = [
        f"level {case.level.code} ({case.level.name}), calendar {case.level.calendar.name}, "
        f"target {_hours(case.seconds)} of business time, start {case.start.isoformat()}"
    ]
    for interval in explanation.intervals:
        lines.append(
            f"counted {interval.start:%a %Y-%m-%d %H:%M}-{interval.end:%H:%M}  {_hours(interval.seconds)}"
        )
    lines.append(f"counted in total {_hours(explanation.total_seconds)}")
    names = dict(Holiday.objects.filter(date__in=explanation.skipped_dates).values_list("date", "name"))
    names.update(
        ClosureDay.objects.filter(
            calendar=case.level.calendar, date__in=explanation.skipped_dates
        ).values_list("date", "reason")
    )
    for day in explanation.skipped_dates:
        lines.append(f"skipped {day:%a %Y-%m-%d} {names.get(day, 'closed')}")
    return lines
