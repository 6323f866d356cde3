"""Benchmark: the support managers' SLA dashboard over a million tickets.

Run from anywhere, against any PostgreSQL server you may create a database on:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres python bench/dashboard.py [--tickets 1000000]

The database in DATABASE_URL is only used to connect; the bench drops and recreates its own
(``--database``, default ``sla_bench_dashboard``), migrates it and leaves it for inspection
(``--drop`` removes it).

What it loads, with ``INSERT ... SELECT generate_series`` (one statement per table):

* 200 organisations (half Default, half Extended), 40 agents, one manager;
* N tickets registered over the last two years, each with a response and a resolution clock.
  96% are done: both clocks stopped, with the business time they used spread around their
  target (about one in six over it). The 4% still open have a running or paused response
  clock (a third breached, a quarter at risk) and a running, paused or best-effort
  resolution clock; paused clocks get the pause event the "waiting longest" list reads.
  Stopped clocks get random working days (0-11, mostly few) and months for the figures.

Then it renders ``/manager/`` (the whole page: the "now" counts by five dimensions, the next
deadlines, the longest waiting, 26 weeks of trend and the published figures over the default
90 days) through the Django test client as a logged-in manager, several times, and prints
the median against the goal, the number of queries and the slowest queries of one run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from benchdb import drop_database, insert_series, recreate_database

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

GOAL_S = 1.0  # "well under a second"
ORGANISATIONS, AGENTS = 200, 40
OPEN_PER_100 = 4


def setup_django(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ["CELERY_BROKER_URL"] = "memory://localhost/"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sla_portal.settings")
    os.environ["DEBUG"] = "1"  # keeps the query log printed below; costs a little, if anything
    os.environ["ALLOWED_HOSTS"] = "testserver"
    import django

    django.setup()


def load(tickets: int) -> dict:
    from django.contrib.auth.hashers import make_password
    from django.db import connection, transaction

    from accounts.models import Organisation, Role, User
    from sla.models import Clock, ClockEvent, Contract, PolicyVersion, ServiceLevel
    from tickets.models import Ticket

    unusable = make_password(None)
    levels = list(ServiceLevel.objects.order_by("code"))  # default, extended
    policy = PolicyVersion.objects.get(document="001")
    with transaction.atomic():
        manager = User.objects.create(
            email="manager@bench.example", role=Role.MANAGER, password=unusable, full_name="Bench Manager"
        )
        User.objects.bulk_create(
            [
                User(
                    email=f"agent{i}@bench.example",
                    role=Role.AGENT,
                    password=unusable,
                    full_name=f"Agent {i:02d}",
                )
                for i in range(AGENTS)
            ]
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
    params = {
        "n": tickets,
        "open": OPEN_PER_100,
        "orgs": [org.pk for org in organisations],
        "contracts": [c.pk for c in contracts],
        "levels": [c.service_level_id for c in contracts],
        "calendars": [levels[i % 2].calendar_id for i in range(ORGANISATIONS)],
        "extended": [i % 2 for i in range(ORGANISATIONS)],
        "agents": list(User.objects.filter(role=Role.AGENT).order_by("pk").values_list("pk", flat=True)),
        "policy": policy.pk,
    }
    org = "1 + (g::bigint * 7919) %% 200"  # a spread of tickets over organisations
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit = off")
        cursor.execute("SELECT setseed(0.42), now()")
        (_seed, params["t0"]) = cursor.fetchone()
        is_open = "g %% 100 < %(open)s"
        insert_series(
            cursor,
            Ticket,
            params,
            source="generate_series(1, %(n)s) AS g",
            fixed={
                "kind": "incident",
                "impact": 2,
                "urgency": 2,
                "priority": 2,
                "status": "closed",
                "policy_version_id": policy.pk,
            },
            computed={
                "id": "g",
                "organisation_id": f"(%(orgs)s::bigint[])[{org}]",
                "contract_id": f"(%(contracts)s::bigint[])[{org}]",
                "service_level_id": f"(%(levels)s::bigint[])[{org}]",
                "title": "'Bench ticket ' || g",
                "kind": "(ARRAY['incident','incident','incident','information_request','service_request',"
                "'change','enhancement_request'])[1 + g %% 7]",
                "priority": "1 + (g / 7) %% 3",
                "status": f"CASE WHEN {is_open} THEN 'open' ELSE 'closed' END",
                "assignee_id": "CASE WHEN g %% 5 <> 0 THEN (%(agents)s::bigint[])[1 + (g / 3) %% 40] END",
                # open ones in the last three weeks, the rest over two years
                "registered_at": f"%(t0)s - CASE WHEN {is_open} "
                "THEN make_interval(secs => random() * 1814400) "
                "ELSE make_interval(secs => random() * 63072000) END",
                # last written over a day ago: the roll-up refresh then finds nothing changed
                "updated_at": "%(t0)s - interval '1 day' - make_interval(secs => random() * 1728000)",
            },
        )
        # Clocks: targets by level and priority (seconds); extended = 1 on Extended
        org_t = "1 + (t.id * 7919) %% 200"  # the same organisation, from the ticket's id (= g)
        extended = f"(%(extended)s::int[])[{org_t}]"
        response_target = f"(CASE WHEN {extended} = 1 THEN 3600 ELSE 7200 END) * (ARRAY[2,4,8])[t.priority]"
        resolution_target = f"CASE WHEN {extended} = 1 THEN 32400 * (ARRAY[20,40,60])[t.priority] END"
        for kind, target in (("response", response_target), ("resolution", resolution_target)):
            # done: stopped with business time around the target (x 0.1 .. 1.3); open: a third
            # breached, a quarter at risk, one in five paused (waiting on the customer)
            r = "((t.id * 2654435761) %% 1000) / 1000.0"  # a fixed pseudo-random per ticket
            state = (
                f"CASE WHEN t.status = 'closed' THEN 'stopped' WHEN {r} < 0.2 THEN 'paused' "
                "ELSE 'running' END"
            )
            due = (
                f"CASE WHEN t.status = 'open' AND {r} >= 0.2 AND ({target}) IS NOT NULL THEN "
                f"%(t0)s + make_interval(secs => ({r} - 0.5) * 6 * 86400) END"
            )
            insert_series(
                cursor,
                Clock,
                params,
                source="tickets_ticket AS t",
                fixed={"state": "stopped", "consumed_seconds": 0},
                computed={
                    "ticket_id": "t.id",
                    "kind": f"'{kind}'",
                    "calendar_id": f"(%(calendars)s::bigint[])[{org_t}]",
                    "target_seconds": target,
                    "state": state,
                    "consumed_seconds": f"(COALESCE({target}, 200000) * (0.1 + random() * 1.2))::int",
                    "segment_started_at": (
                        f"CASE WHEN t.status = 'open' AND {r} >= 0.2 THEN t.registered_at END"
                    ),
                    "due_at": due,
                    "at_risk_at": f"{due} - make_interval(secs => 0.25 * COALESCE({target}, 0))",
                    "stopped_at": "CASE WHEN t.status = 'closed' THEN t.registered_at "
                    "+ random() * LEAST(interval '10 days', %(t0)s - t.registered_at) END",
                    # the published figures' measure (working days, months), spread like the above
                    "working_days": "CASE WHEN t.status = 'closed' THEN (random() * random() * 12)::int END",
                    "months": "CASE WHEN t.status = 'closed' THEN 1 + 3 * (random() > 0.97)::int END",
                },
            )
        insert_series(
            cursor,
            ClockEvent,
            params,
            source="sla_clock AS c WHERE c.state = 'paused'",
            fixed={"action": "pause", "reason": "Question to the customer"},
            computed={"clock_id": "c.id", "at": "%(t0)s - make_interval(secs => random() * 1209600)"},
        )
    with connection.cursor() as cursor:
        for table in ("tickets_ticket", "sla_clock", "sla_clockevent"):
            cursor.execute(f"VACUUM ANALYZE {table}")
    return {"load_s": time.perf_counter() - started, "manager": manager}


def render_times(manager, runs: int, path: str) -> tuple[list[float], list[dict]]:
    from django.db import connection, reset_queries
    from django.test import Client

    from accounts.middleware import RequireSecondFactorMiddleware

    client = Client()
    client.force_login(manager)
    session = client.session
    session[RequireSecondFactorMiddleware.SESSION_KEY] = True  # as after the TOTP step
    session.save()
    times, queries = [], []
    for run in range(runs + 1):
        reset_queries()
        started = time.perf_counter()
        response = client.get(path)
        elapsed = time.perf_counter() - started
        assert response.status_code == 200, response.status_code
        if run:  # the first render warms the caches (templates, calendars)
            times.append(elapsed)
            queries = list(connection.queries)
    return times, queries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--database", default="sla_bench_dashboard")
    parser.add_argument("--reuse", action="store_true", help="time an already loaded bench database")
    parser.add_argument("--drop", action="store_true", help="drop the bench database at the end")
    args = parser.parse_args()
    server_url = os.environ.get("DATABASE_URL", "")
    if args.reuse:
        parts = urlsplit(server_url)
        database_url = urlunsplit(parts._replace(path=f"/{args.database}"))
    else:
        database_url = recreate_database(server_url, args.database)
    setup_django(database_url)

    from django.core.management import call_command

    from accounts.models import User
    from sla.models import Clock
    from tickets.models import Ticket

    if args.reuse:
        manager = User.objects.get(email="manager@bench.example")
    else:
        started = time.perf_counter()
        call_command("migrate", verbosity=0)
        print(f"migrate:            {time.perf_counter() - started:8.2f} s  (database {args.database})")
        figures = load(args.tickets)
        manager = figures["manager"]
        print(f"load:               {figures['load_s']:8.2f} s  (insert + vacuum analyze)")
    from managers.rollup import compliance_rollup_rebuild, compliance_rollup_refresh

    started = time.perf_counter()
    days = compliance_rollup_rebuild()
    print(
        f"roll-up rebuild:    {time.perf_counter() - started:8.2f} s  ({days:,} ComplianceDay rows, nightly)"
    )
    started = time.perf_counter()
    compliance_rollup_refresh()
    print(
        f"roll-up refresh:    {(time.perf_counter() - started) * 1000:8.1f} ms  (nothing changed, "
        "every minute)"
    )
    print(
        f"tickets:            {Ticket.objects.count():>11,}  clocks: {Clock.objects.count():,}  "
        f"open clocks: {Clock.objects.exclude(state='stopped').count():,}"
    )
    for label, path in (("dashboard", "/manager/"), ("one organisation", None)):
        if path is None:
            org_id = Ticket.objects.values_list("organisation_id", flat=True).first()
            path = f"/manager/?organisation={org_id}"
        times, queries = render_times(manager, args.runs, path)
        median = statistics.median(times)
        verdict = "met" if median < GOAL_S else "MISSED"
        print(
            f"{label + ' render:':<20}{median * 1000:8.1f} ms median of {len(times)} "
            f"(min {min(times) * 1000:.1f}, max {max(times) * 1000:.1f})  goal < {GOAL_S * 1000:.0f} ms "
            f"{verdict}; {len(queries)} queries"
        )
        for query in sorted(queries, key=lambda q: -float(q["time"]))[:5]:
            print(f"    {float(query['time']) * 1000:7.1f} ms  {query['sql'][:150]}")
    if args.drop:
        drop_database(server_url, args.database)


if __name__ == "__main__":
    main()
