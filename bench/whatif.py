"""Benchmark: the what-if preview of an SLA set-up change over a million tickets (issue 15).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres python bench/whatif.py [--tickets 1000000]

Loads the dashboard bench's data (bench/dashboard.py: 1,000,000 tickets, two clocks each)
with 1% of the tickets open, so ~20,000 open clocks (a fifth of them paused), and gives every
open clock its start event (and the paused ones their pause), then recomputes the open clocks
from those events as saving a calendar does (``sla_calendar_recompute``), so that the stored
deadlines are what the product would store and the preview replays real events as saving
would. (Without the recompute the loader's random deadlines all differ from the replay: every
clock "moved", whatever the change.) Then it times, several times each, the preview of

  (a) a closure day added next Wednesday on the calendar with the open clocks,
  (a2) a closure day added on the next working day (which moves the deadlines still ahead),
  (b) that calendar closing an hour earlier,
  (c) a policy draft with every target halved (all open clocks, both calendars),

and prints the median and max against the goal of 1 s, with how many deadlines moved.
The database (``--database``, default ``sla_bench_whatif``) is left for inspection; ``--reuse``
times it again without loading, ``--drop`` removes it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import time as clock_time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import dashboard
from benchdb import drop_database, insert_series, recreate_database

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

GOAL_S = 1.0
OPEN_PER_100 = 1  # 10,000 open tickets of a million: 20,000 open clocks


def add_start_events() -> None:
    from django.db import connection

    from sla.models import ClockEvent

    with connection.cursor() as cursor:
        insert_series(
            cursor,
            ClockEvent,
            {},
            source="sla_clock AS c JOIN tickets_ticket AS t ON t.id = c.ticket_id WHERE c.state <> 'stopped'",
            fixed={"action": "start", "reason": "Ticket registered"},
            computed={"clock_id": "c.id", "at": "t.registered_at"},
        )
        cursor.execute("VACUUM ANALYZE sla_clockevent")


def recompute_open_clocks() -> None:
    """Store what the events give, as saving a calendar does (the product's own recompute)."""
    from django.db import connection

    from sla.models import Clock
    from sla.services import sla_calendar_recompute

    calendars = Clock.objects.exclude(state="stopped").values_list("calendar_id", flat=True).distinct()
    for calendar_id in list(calendars):
        sla_calendar_recompute(calendar_id=calendar_id)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE sla_clock")


def timed(runs: int, preview) -> tuple[list[float], object]:
    preview()  # warm: the calendars' horizons, the query plans
    times, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = preview()
        times.append(time.perf_counter() - started)
    return times, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--database", default="sla_bench_whatif")
    parser.add_argument("--reuse", action="store_true", help="time an already loaded bench database")
    parser.add_argument(
        "--recompute",
        action="store_true",
        help="with --reuse: first recompute the open clocks (a database loaded before the loader did)",
    )
    parser.add_argument("--drop", action="store_true", help="drop the bench database at the end")
    args = parser.parse_args()
    server_url = os.environ.get("DATABASE_URL", "")
    if args.reuse:
        database_url = urlunsplit(urlsplit(server_url)._replace(path=f"/{args.database}"))
    else:
        database_url = recreate_database(server_url, args.database)
    dashboard.setup_django(database_url)
    os.environ["DEBUG"] = "0"

    from django.core.management import call_command
    from django.utils import timezone

    from sla.models import Calendar, Clock, ClockEvent, PolicyVersion
    from sla.whatif import calendar_whatif, policy_targets, policy_whatif

    if args.reuse and args.recompute:
        started = time.perf_counter()
        recompute_open_clocks()
        print(f"recompute:          {time.perf_counter() - started:8.2f} s  (open clocks from their events)")
    if not args.reuse:
        started = time.perf_counter()
        call_command("migrate", verbosity=0)
        dashboard.OPEN_PER_100 = OPEN_PER_100
        dashboard.load(args.tickets)
        add_start_events()
        recompute_open_clocks()
        print(
            f"load:               {time.perf_counter() - started:8.2f} s  (migrate, insert, vacuum analyze)"
        )
    open_clocks = Clock.objects.exclude(state="stopped").count()
    print(
        f"clocks:             {Clock.objects.count():>11,}  open: {open_clocks:,}  "
        f"events of open clocks: {ClockEvent.objects.exclude(clock__state='stopped').count():,}"
    )
    # The calendar with the most open clocks (the loader's 1% puts them all on one level).
    busiest = max(
        Calendar.objects.all(),
        key=lambda c: Clock.objects.filter(calendar=c).exclude(state="stopped").count(),
    )
    closing = max(hours.closes for hours in busiest.opening_hours.all())
    earlier = {
        hours.weekday: [(hours.opens, clock_time(closing.hour - 1))] for hours in busiest.opening_hours.all()
    }
    today = timezone.localdate()
    wednesday = today + timedelta(days=(2 - today.weekday()) % 7 + 7)
    next_working = today + timedelta(days=1)
    while next_working.weekday() >= 5:
        next_working += timedelta(days=1)
    targets = policy_targets(PolicyVersion.objects.get(document="001").pk)
    halved = {
        key: (amount / 2 if amount is not None else None, unit) for key, (amount, unit) in targets.items()
    }
    cases = (
        (f"(a) {busiest.name} closed {wednesday}", lambda: calendar_whatif(busiest, closed_add=[wednesday])),
        (
            f"(a2) {busiest.name} closed {next_working}",
            lambda: calendar_whatif(busiest, closed_add=[next_working]),
        ),
        (
            f"(b) {busiest.name} closes {closing.hour - 1}:00",
            lambda: calendar_whatif(busiest, weekly_hours=earlier),
        ),
        ("(c) policy, targets halved", lambda: policy_whatif(halved)),
    )
    for label, preview in cases:
        times, result = timed(args.runs, preview)
        median = statistics.median(times)
        verdict = "met" if max(times) <= GOAL_S else "MISSED"
        print(
            f"{label:<30}{median * 1000:8.1f} ms median of {len(times)} (max {max(times) * 1000:.1f})  "
            f"goal <= {GOAL_S * 1000:.0f} ms {verdict}; {result.running:,} running, "
            f"{result.paused:,} paused, "
            f"{result.moved:,} moved, {result.newly_breached:,} would breach, "
            f"{result.no_longer_breached:,} stop breaching"
        )
    if args.drop:
        drop_database(server_url, args.database)


if __name__ == "__main__":
    main()
