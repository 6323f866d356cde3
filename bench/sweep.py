"""Benchmark: SLA sweeps over a million open tickets, and an empty one.

Run from anywhere, against any PostgreSQL server you may create a database on:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres python bench/sweep.py [--tickets 1000000]

The database named in DATABASE_URL is only used to connect; the bench drops and recreates its
own database beside it (``--database``, default ``sla_bench``), migrates it, and leaves it
behind for inspection (``--drop`` removes it at the end).

What it loads, with ``INSERT ... SELECT generate_series`` (one statement per table, so a
million tickets take a minute or two on 2 cores, not an hour of ORM saves):

* a few staff (support managers, agents) and organisations with coordinators and customer
  users, each organisation on the seeded Default or Extended level;
* N open tickets, each with a running response and a resolution clock (2N clocks). The
  response target is 8 business hours, so each response clock is at risk 2 hours before its
  deadline (75%). 1% of the response clocks reach their deadline in the minute before the
  load: every hundredth ticket, spread evenly over the whole table (the worst case for the
  disk: each crossing on a page of its own). Another 1%, a block of tickets registered
  together (as tickets crossing the same deadline minute were, in life), reach theirs three
  hours later. Every other instant lies a day or more ahead; half of the resolution clocks
  are best effort (no deadline). Clock events are not loaded: the sweep never reads them.

Then it times, each after a checkpoint, the sweeps a beat would run at those instants: two
hours before the spread deadlines (recording their N/100 at-risk crossings), at them (N/100
breaches, with their digest notifications), sweeps with nothing due, and the same two for the
block. It prints the figures against the goals: a sweep of 10,000 breaches <= 2 s, an empty
sweep <= 50 ms. The plans of the sweep's select (EXPLAIN before the timed sweeps, EXPLAIN
ANALYZE after one) show that it reads a range of the pending crossings' index, so its cost
follows the transitions, not the number of open tickets.

The Celery broker is kombu's in-memory transport: the sweep's "deliver the outbox now"
message stays in this process instead of reaching a real worker.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

from benchdb import drop_database, insert_series, recreate_database

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SWEEP_GOAL_S = 2.0
EMPTY_SWEEP_GOAL_S = 0.050
MANAGERS, AGENTS, ORGANISATIONS = 3, 20, 200
COORDINATORS_PER_ORGANISATION, CUSTOMERS_PER_ORGANISATION = 2, 3


def setup_django(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ["CELERY_BROKER_URL"] = "memory://localhost/"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sla_portal.settings")
    # DEBUG=1 would keep every SQL string of the sweep in memory; production runs without it.
    os.environ["DEBUG"] = "0"
    os.environ.setdefault("SECRET_KEY", "bench-only-" + "x" * 40)
    import django

    django.setup()


def load(tickets: int) -> dict:
    """People, contracts and ``tickets`` open tickets with 2 clocks each; returns what the
    printout needs."""
    from django.contrib.auth.hashers import make_password
    from django.db import connection, transaction

    from accounts.models import Organisation, Role, User
    from sla.models import Clock, Contract, PolicyVersion, ServiceLevel
    from tickets.models import Ticket

    def person(email: str, role: str, organisation=None) -> User:
        return User(email=email, role=role, organisation=organisation, password=unusable)

    unusable = make_password(None)  # nobody logs in to the bench database
    levels = list(ServiceLevel.objects.order_by("code"))  # default, extended
    policy = PolicyVersion.objects.get(document="001")
    with transaction.atomic():
        User.objects.bulk_create(
            [person(f"manager{i}@bench.example", Role.MANAGER) for i in range(MANAGERS)]
            + [person(f"agent{i}@bench.example", Role.AGENT) for i in range(AGENTS)]
        )
        organisations = Organisation.objects.bulk_create(
            [Organisation(name=f"Bench organisation {i:03d}") for i in range(ORGANISATIONS)]
        )
        contracts = Contract.objects.bulk_create(
            [
                Contract(organisation=org, service_level=levels[i % 2], valid_from="2020-01-01")
                for i, org in enumerate(organisations)
            ]
        )
        customers = []
        for org in organisations:
            customers += [
                person(f"coordinator{j}.{org.pk}@bench.example", Role.COORDINATOR, org)
                for j in range(COORDINATORS_PER_ORGANISATION)
            ]
            customers += [
                person(f"user{j}.{org.pk}@bench.example", Role.CUSTOMER_USER, org)
                for j in range(CUSTOMERS_PER_ORGANISATION)
            ]
        User.objects.bulk_create(customers)
    agent_ids = list(User.objects.filter(role=Role.AGENT).order_by("pk").values_list("pk", flat=True))
    params = {
        "n": tickets,
        "orgs": [org.pk for org in organisations],
        "contracts": [c.pk for c in contracts],
        "levels": [c.service_level_id for c in contracts],
        "calendars": [levels[i % 2].calendar_id for i in range(ORGANISATIONS)],
        "agents": agent_ids,
        "policy": policy.pk,
        "block": tickets // 2,
    }
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit = off")
        cursor.execute("SET maintenance_work_mem = '512MB'")
        cursor.execute("SELECT now()")
        (params["t0"],) = cursor.fetchone()
        # Ticket g belongs to organisation (g + g/100) % 200, which spreads the tickets due now
        # (g % 100 = 0) over every organisation; every second ticket has an assignee.
        org = "1 + (g + g / 100) %% 200"
        # The block: tickets from the middle on, every hundredth left out (it is in the spread).
        crossing = "(g %% 100 = 0 OR g BETWEEN %(block)s AND %(block)s + %(n)s / 99)"
        # Deadlines that cross together are spread over the half minute before the sweep.
        response_due = f"""CASE WHEN g %% 100 = 0 THEN %(t0)s - make_interval(secs => (g / 100) %% 30)
                                WHEN {crossing}
                                THEN %(t0)s + interval '3 hours' - make_interval(secs => g %% 30)
                                ELSE %(t0)s + interval '1 day' + make_interval(secs => g %% 2592000) END"""
        response_at_risk = f"{response_due} - interval '2 hours'"
        insert_series(
            cursor,
            Ticket,
            params,
            fixed={
                "kind": "incident",
                "impact": 2,
                "urgency": 2,
                "priority": 2,
                "status": "open",
                "policy_version_id": policy.pk,
            },
            computed={
                "id": "g",
                "organisation_id": f"(%(orgs)s::bigint[])[{org}]",
                "contract_id": f"(%(contracts)s::bigint[])[{org}]",
                "service_level_id": f"(%(levels)s::bigint[])[{org}]",
                "title": "'Bench ticket ' || g",
                "assignee_id": "CASE WHEN g %% 2 = 0 "
                "THEN (%(agents)s::bigint[])[1 + (g / 2 + g / 100) %% 20] END",
                "registered_at": "%(t0)s - interval '1 day'",
                "due_at": response_due,  # the ticket's copy of its nearest deadline, if it keeps one
                "at_risk_at": response_at_risk,
            },
        )
        # Response clock 2g-1: 1 in 100 crossed at-risk and due within the last minute (spread
        # over it); the rest are due between 3 hours and 30 days from now.
        clock_fixed = {"state": "running", "consumed_seconds": 0}
        insert_series(
            cursor,
            Clock,
            params,
            fixed=clock_fixed,
            computed={
                "id": "2 * g - 1",
                "ticket_id": "g",
                "kind": "'response'",
                "calendar_id": f"(%(calendars)s::bigint[])[{org}]",
                "target_seconds": "28800",
                "segment_started_at": "%(t0)s - interval '1 day'",
                "due_at": response_due,
                "at_risk_at": response_at_risk,
            },
        )
        # Resolution clock 2g: best effort on odd tickets, a deadline weeks away on even ones,
        # except 1 in 200 tickets that breached days ago, were recorded then and still run: they
        # have no pending crossings, so the sweep never reads them again.
        old = "g %% 200 = 2"
        resolution_due = f"""CASE WHEN {old} THEN %(t0)s - interval '2 days' - make_interval(secs => g)
                                  WHEN g %% 2 = 0 THEN %(t0)s + interval '30 days' + make_interval(secs => g)
                             END"""
        insert_series(
            cursor,
            Clock,
            params,
            fixed=clock_fixed,
            computed={
                "id": "2 * g",
                "ticket_id": "g",
                "kind": "'resolution'",
                "calendar_id": f"(%(calendars)s::bigint[])[{org}]",
                "target_seconds": "CASE WHEN g %% 2 = 0 THEN 40 * 6 * 3600 END",
                "segment_started_at": "%(t0)s - interval '1 day'",
                "due_at": resolution_due,
                "at_risk_at": f"{resolution_due} - interval '10 days'",
            },
        )
        # The old breaches were recorded then; every other instant is pending. The services
        # write pending crossings as deadlines are set, which is roughly in deadline order.
        crossings = """
            FROM sla_clock AS c,
                 LATERAL (VALUES ('at_risk', c.at_risk_at), ('breached', c.due_at)) AS t(kind, instant)
            WHERE t.instant IS NOT NULL AND (c.kind = 'resolution' AND c.ticket_id %% 200 = 2) = {old}
        """
        cursor.execute(
            "INSERT INTO sla_clocktransition (clock_id, kind, crossed_at, recorded_at) "
            "SELECT c.id, t.kind, t.instant, %(t0)s - interval '1 day' " + crossings.format(old="true"),
            params,
        )
        cursor.execute(
            "INSERT INTO sla_pendingcrossing (clock_id, kind, at, crossed_at) "
            "SELECT c.id, t.kind, t.instant, t.instant "
            + crossings.format(old="false")
            + " ORDER BY t.instant",
            params,
        )
        for table in ("tickets_ticket", "sla_clock", "sla_clocktransition", "sla_pendingcrossing"):
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608 - literal names  # nosec B608
                f"(SELECT max(id) FROM {table}))"
            )
    with connection.cursor() as cursor:  # VACUUM cannot run inside a transaction block
        cursor.execute("VACUUM ANALYZE tickets_ticket")
        cursor.execute("VACUUM ANALYZE sla_clock")
        cursor.execute("VACUUM ANALYZE sla_clocktransition")
        cursor.execute("VACUUM ANALYZE sla_pendingcrossing")
    return {"load_s": time.perf_counter() - started, "t0": params["t0"]}


def explain_sweep_select(now, *, analyze: bool) -> str:
    """EXPLAIN (ANALYZE) of the sweep's locking select at ``now``, rolled back."""
    from django.db import transaction

    from sla import services

    with transaction.atomic():
        query = services.sla_sweep_candidates(now=now)
        plan = query.explain(analyze=True, buffers=True) if analyze else query.explain()
        transaction.set_rollback(True)
    return plan


def checkpoint() -> str:
    """Write out what the load left dirty, so that the timed sweep does not pay for flushing
    a million freshly loaded rows (a running system's background writer keeps up with it)."""
    from django.db import DatabaseError, connection

    try:
        with connection.cursor() as cursor:
            cursor.execute("CHECKPOINT")
    except DatabaseError as exc:  # needs superuser or pg_checkpoint
        return f"skipped ({str(exc).strip()})"
    return "done"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--database", default="sla_bench")
    parser.add_argument("--empty-runs", type=int, default=5, help="empty sweeps to time (median shown)")
    parser.add_argument("--drop", action="store_true", help="drop the bench database at the end")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="run the timed sweep under cProfile and print where its time goes",
    )
    args = parser.parse_args()
    server_url = os.environ.get("DATABASE_URL", "")
    database_url = recreate_database(server_url, args.database)
    setup_django(database_url)

    from django.core.management import call_command

    from accounts.models import Notification
    from sla import services
    from sla.models import Clock, ClockTransition

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    print(f"migrate:                    {time.perf_counter() - started:8.2f} s  (database {args.database})")
    figures = load(args.tickets)
    clocks = Clock.objects.count()
    recorded = ClockTransition.objects.count()
    print(
        f"tickets loaded:             {args.tickets:>11,}  ({clocks:,} clocks, {recorded:,} transitions "
        "recorded earlier)"
    )
    print(f"load time:                  {figures['load_s']:8.2f} s  (insert + vacuum analyze)")
    print()
    t0 = figures["t0"]
    # The instants a beat would sweep at: at-risk crossings come 2 hours before the deadlines.
    sweeps = [
        ("spread, at risk", t0 - timedelta(hours=2)),
        ("spread, breaches", t0),
        ("block, at risk", t0 + timedelta(hours=1)),
        ("block, breaches", t0 + timedelta(hours=3)),
    ]
    # Only EXPLAIN before the timed sweep: ANALYZE would lock (and so cache) its first batch.
    print("EXPLAIN of the sweep's select (before the first sweep):")
    print(explain_sweep_select(sweeps[0][1], analyze=False))
    print()

    def timed_sweep(now) -> tuple[float, object, int, int]:
        """Wall time, result, transitions and notifications of one sweep at ``now``."""
        checkpoint()  # each sweep starts from clean pages, as right after the load
        transitions, notifications = ClockTransition.objects.count(), Notification.objects.count()
        profiler = cProfile.Profile() if args.profile else None
        started = time.perf_counter()
        if profiler:
            profiler.enable()
        result = services.sla_sweep(now=now)
        wall = time.perf_counter() - started
        if profiler:
            profiler.disable()
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
        return (
            wall,
            result,
            ClockTransition.objects.count() - transitions,
            Notification.objects.count() - notifications,
        )

    print(f"checkpoint after the load:  {checkpoint()}")
    print(
        f"{'sweep':<18} {'wall time':>10} {'at risk':>8} {'breached':>9} {'notifications':>14}  goal <= "
        f"{SWEEP_GOAL_S:.0f} s"
    )
    for name, now in sweeps:
        wall, result, transitions, notifications = timed_sweep(now)
        assert transitions == result.at_risk + result.breached, (transitions, result)
        print(
            f"{name:<18} {wall:8.3f} s {result.at_risk:>8,} {result.breached:>9,} {notifications:>14,}  "
            f"{'met' if wall <= SWEEP_GOAL_S else 'MISSED'}"
        )
        if name == "spread, breaches":
            empty = []
            for _ in range(args.empty_runs):
                started = time.perf_counter()
                again = services.sla_sweep(now=now)
                empty.append(time.perf_counter() - started)
                assert again.at_risk == again.breached == 0, again
            empty_s = statistics.median(empty)
            verdict = "met" if empty_s <= EMPTY_SWEEP_GOAL_S else "MISSED"
            print(
                f"{'nothing due':<18} {empty_s * 1000:8.1f} ms  "
                f"goal <= {EMPTY_SWEEP_GOAL_S * 1000:.0f} ms  {verdict}  (median of {len(empty)}: "
                f"{', '.join(f'{s * 1000:.1f}' for s in empty)} ms)"
            )
    print()
    print("EXPLAIN ANALYZE of the sweep's select (the last sweep's instant, nothing due any more):")
    print(explain_sweep_select(sweeps[-1][1], analyze=True))
    if args.drop:
        drop_database(server_url, args.database)


if __name__ == "__main__":
    main()
