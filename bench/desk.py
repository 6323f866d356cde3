"""Benchmark: the desk queue and the portal list over a million tickets, under gunicorn and wrk.

Run from anywhere, against any PostgreSQL server you may create a database on:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres REDIS_URL=redis://127.0.0.1:6379/0 \
        python bench/desk.py [--tickets 1000000]

The database in DATABASE_URL is only used to connect; the bench drops and recreates its own
(``--database``, default ``sla_bench_desk``), migrates it, loads it and leaves it behind
(``--drop`` removes it). Needs ``wrk`` (Debian: ``apt-get install -y wrk``). With REDIS_URL
the pages cache in Redis, as in production; without it in files under a temporary directory.

What it loads, with one ``INSERT ... SELECT generate_series`` per table (a million tickets and
two million clocks take about a minute here, not an hour of ORM saves):

* 200 organisations (half Default, half Extended), a coordinator each, 20 agents;
* N tickets spread over three years, 2% of them active (new, open, waiting on customer) with
  running or paused clocks whose deadlines lie from four hours ago to two days ahead (so some
  are breached, some at risk), the other 98% closed with stopped clocks: ~5,000 per
  organisation;
* a logged-in session for one agent (second factor done) and for one coordinator.

Then gunicorn serves the project (DEBUG off, as in production) and ``wrk -c8`` measures
(a) the desk queue - active tickets by nearest deadline, 25 a page, with the business time left
of each clock - and (b) the portal list of the coordinator's organisation, newest first. It
prints requests/s and p99 latency against the goal: >= 150 requests/s and p99 <= 150 ms.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from benchdb import logged_in_session, organisations_with_contracts, recreate_database

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

GOAL_RPS, GOAL_P99_MS = 150, 150
ORGANISATIONS, AGENTS = 200, 20
# One in this many tickets is active: ~2% open work at any time, the rest history.
ACTIVE_EVERY = 50


def setup_django(database_url: str, var_dir: str) -> None:
    os.environ.update(
        DATABASE_URL=database_url,
        VAR_DIR=var_dir,
        CELERY_BROKER_URL="memory://localhost/",
        DJANGO_SETTINGS_MODULE="sla_portal.settings",
        DEBUG="0",
        SECRET_KEY="bench-only-secret",  # noqa: S106 - a throw-away bench server
        SECURE_SSL_REDIRECT="0",
        SESSION_COOKIE_SECURE="0",
        CSRF_COOKIE_SECURE="0",
        LOG_LEVEL="WARNING",
    )
    import django

    django.setup()


def manage(*args: str) -> None:
    subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        check=True,
        env=os.environ.copy(),
        stdout=subprocess.DEVNULL,
    )


def load(tickets: int) -> dict[str, str]:
    """Organisations, users and the tickets with their clocks; returns the session keys."""

    from django.db import connection, transaction

    from accounts.models import Role, User
    from sla.models import PolicyVersion

    with transaction.atomic():
        organisations, contracts = organisations_with_contracts(ORGANISATIONS)
        coordinators = User.objects.bulk_create(
            User(
                email=f"coordinator{i}@bench.example",
                full_name=f"Coordinator {i}",
                role=Role.COORDINATOR,
                organisation=org,
                password="!",  # noqa: S106 - unusable password
            )
            for i, org in enumerate(organisations)
        )
        agents = User.objects.bulk_create(
            User(email=f"agent{i}@bench.example", full_name=f"Agent {i}", role=Role.AGENT, password="!")  # noqa: S106
            for i in range(AGENTS)
        )
    policy = PolicyVersion.objects.get(document="001")
    arrays = {
        "org": ",".join(str(c.organisation_id) for c in contracts),
        "contract": ",".join(str(c.pk) for c in contracts),
        "level": ",".join(str(c.service_level_id) for c in contracts),
        "coordinator": ",".join(str(u.pk) for u in coordinators),
        "agent": ",".join(str(u.pk) for u in agents),
    }
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(f"""
            INSERT INTO tickets_ticket (
                organisation_id, contract_id, service_level_id, policy_version_id, registered_by_id,
                assignee_id, kind, change_type, title, description, hosting, nature, channel, impact,
                urgency, priority, priority_overridden, priority_reason, status, step, clarity,
                problem_type, consultancy, todo, resolution, close_reason, registered_at,
                first_response_at, resolved_at, closed_at, due_at, at_risk_at, version, updated_at)
            SELECT o.org, o.contract, o.level, {policy.pk}, o.coordinator,
                   CASE WHEN active AND g % 4 = 0 THEN (ARRAY[{arrays["agent"]}])[1 + g % {AGENTS}] END,
                   'incident', '', 'Bench ticket ' || g, 'Generated by bench/desk.py', 'cloud',
                   'technical', 'portal', 1 + g % 3, 1 + (g / 3) % 3, 1 + g % 3, false, '',
                   CASE WHEN NOT active THEN 'closed' WHEN (g / {ACTIVE_EVERY}) % 3 = 0 THEN 'new'
                        WHEN (g / {ACTIVE_EVERY}) % 3 = 1 THEN 'open' ELSE 'waiting_on_customer' END,
                   CASE WHEN active THEN 'classify' ELSE 'update_ticket' END, '', '', '', '', '', '',
                   registered, NULL,
                   CASE WHEN active THEN NULL ELSE registered + interval '1 day' END,
                   CASE WHEN active THEN NULL ELSE registered + interval '2 days' END,
                   due, due - interval '30 minutes', 1, now()
            FROM (
                SELECT g, g % {ACTIVE_EVERY} = 0 AS active,
                       CASE WHEN g % {ACTIVE_EVERY} = 0
                            THEN now() - ((g / {ACTIVE_EVERY}) % 40000) * interval '1 minute'
                            ELSE now() - ({tickets} - g) * interval '95 seconds' END AS registered,
                       CASE WHEN g % {ACTIVE_EVERY} = 0 AND (g / {ACTIVE_EVERY}) % 3 < 2
                            THEN now() + ((g::bigint * 7919) % 3120 - 240) * interval '1 minute' END AS due
                FROM generate_series(1, {tickets}) AS g
            ) AS t
            CROSS JOIN LATERAL (SELECT (ARRAY[{arrays["org"]}])[1 + g % {ORGANISATIONS}] AS org,
                                       (ARRAY[{arrays["contract"]}])[1 + g % {ORGANISATIONS}] AS contract,
                                       (ARRAY[{arrays["level"]}])[1 + g % {ORGANISATIONS}] AS level,
                                       (ARRAY[{arrays["coordinator"]}])[1 + g % {ORGANISATIONS}]
                                        AS coordinator) AS o
        """)  # noqa: S608 - only integers of our own are formatted in  # nosec B608
        cursor.execute("""
            INSERT INTO sla_clock (ticket_id, kind, calendar_id, target_seconds, state, consumed_seconds,
                                   segment_started_at, due_at, at_risk_at, stopped_at)
            SELECT t.id, k.kind, l.calendar_id,
                   CASE WHEN k.kind = 'response' THEN 14400 WHEN l.code = 'extended' THEN 648000 END,
                   CASE WHEN t.status = 'closed' THEN 'stopped' WHEN t.status = 'waiting_on_customer'
                        THEN 'paused' ELSE 'running' END,
                   CASE WHEN t.status = 'closed' THEN 3600 ELSE 600 END,
                   CASE WHEN t.status IN ('new', 'open') THEN t.registered_at END,
                   CASE WHEN t.status NOT IN ('new', 'open') THEN NULL
                        WHEN k.kind = 'response' THEN t.due_at
                        WHEN l.code = 'extended' THEN t.due_at + interval '20 days' END,
                   CASE WHEN t.status NOT IN ('new', 'open') THEN NULL
                        WHEN k.kind = 'response' THEN t.at_risk_at
                        WHEN l.code = 'extended' THEN t.due_at + interval '15 days' END,
                   CASE WHEN t.status = 'closed' THEN t.closed_at END
            FROM tickets_ticket t JOIN sla_servicelevel l ON l.id = t.service_level_id
            CROSS JOIN (VALUES ('response'), ('resolution')) AS k(kind)
        """)
        cursor.execute("VACUUM ANALYZE")  # as autovacuum would: index-only counts need the visibility map
    print(f"loaded {tickets:,} tickets and {2 * tickets:,} clocks in {time.perf_counter() - started:.0f} s")

    sessions = {}
    for label, user in (("agent", agents[0]), ("coordinator", coordinators[1])):  # [1]: an Extended org
        sessions[label] = logged_in_session(user)
    return sessions


def serve(port: int, workers: int) -> subprocess.Popen:
    gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or "gunicorn"
    access_log = "-" if os.environ.get("BENCH_ACCESS_LOG") else "/dev/null"
    process = subprocess.Popen(
        [
            gunicorn,
            "sla_portal.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--worker-class",
            "sync",
            "--access-logfile",
            access_log,
            "--error-logfile",
            "-",
        ],
        cwd=ROOT,
        env=os.environ.copy(),
        start_new_session=True,
    )
    deadline = time.monotonic() + 120  # a loaded, shared machine boots workers slowly
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=2)  # our own server  # nosec B310
            return process
        except OSError:
            time.sleep(0.3)
    process.kill()
    sys.exit("gunicorn did not come up")


def fetch(url: str, session: str) -> str:
    request = urllib.request.Request(url, headers={"Cookie": f"sessionid={session}"})  # noqa: S310
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - our own server  # nosec B310
        if response.status != 200 or response.url != url:
            sys.exit(f"{url}: {response.status} at {response.url}")
        return response.read().decode()


def measure(url: str, session: str, *, seconds: int, connections: int) -> tuple[float, float, str]:
    wrk = shutil.which("wrk")
    if wrk is None:
        sys.exit("wrk is missing: apt-get install -y wrk")
    command = [
        wrk,
        "-t2",
        f"-c{connections}",
        f"-d{seconds}s",
        "--latency",
        "-H",
        f"Cookie: sessionid={session}",
        url,
    ]
    subprocess.run([*command[:3], "-d3s", *command[4:]], check=True, capture_output=True)  # warm up
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    value, unit = re.search(r"99%\s+([\d.]+)(us|ms|s)", output).groups()
    p99_ms = float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]
    if "Non-2xx" in output:
        sys.exit(f"{url}: non-2xx responses under load\n{output}")
    return rps, p99_ms, " ".join([*command[:-2], "'Cookie: sessionid=…'", command[-1]])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--database", default="sla_bench_desk")
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=8)
    # As docker-compose.yml and bin/run serve it. The requests are CPU-bound and PostgreSQL
    # shares the cores: 2 workers did 120 requests/s here, 3 110/s, 5 90/s.
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--reuse", action="store_true", help="keep the loaded database, only measure")
    parser.add_argument("--drop", action="store_true")
    args = parser.parse_args()

    server = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    var_dir = tempfile.mkdtemp(prefix="sla-bench-desk-")
    if args.reuse:
        url = urlunsplit(urlsplit(server)._replace(path=f"/{args.database}"))
        setup_django(url, var_dir)
        sessions = reuse_sessions()
    else:
        url = recreate_database(server, args.database)
        setup_django(url, var_dir)
        manage("migrate", "--noinput")
        sessions = load(args.tickets)
    manage("collectstatic", "--noinput")  # DEBUG off serves hashed static names from the manifest

    process = serve(args.port, args.workers)
    try:
        base = f"http://127.0.0.1:{args.port}"
        pages = [
            ("desk queue", f"{base}/desk/", sessions["agent"], "business time left"),
            ("portal list", f"{base}/portal/", sessions["coordinator"], "Bench ticket"),
        ]
        print(
            f"gunicorn: {args.workers} sync workers on {os.cpu_count()} cores; wrk -c{args.connections}, "
            f"{args.seconds} s per page after a 3 s warm-up"
        )
        failed = False
        for label, page_url, session, expected in pages:
            if expected not in fetch(page_url, session):
                sys.exit(f"{label}: the page does not show {expected!r}")
            rps, p99, command = measure(page_url, session, seconds=args.seconds, connections=args.connections)
            ok = rps >= GOAL_RPS and p99 <= GOAL_P99_MS
            failed |= not ok
            print(
                f"{label:12} {rps:8.1f} requests/s   p99 {p99:7.1f} ms   "
                f"(goal >= {GOAL_RPS}/s, <= {GOAL_P99_MS} ms: {'met' if ok else 'MISSED'})"
            )
            print(f"             {command}")
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
        shutil.rmtree(var_dir, ignore_errors=True)
    if args.drop:
        import psycopg
        from django.db import connections

        connections.close_all()
        conninfo = urlunsplit(urlsplit(server)._replace(scheme="postgresql"))
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
    sys.exit(1 if failed else 0)


def reuse_sessions() -> dict[str, str]:
    from django.contrib.sessions.models import Session

    from accounts.models import User

    keys = {}
    agent = User.objects.get(email="agent0@bench.example")
    coordinator = User.objects.get(email="coordinator1@bench.example")
    for session in Session.objects.all():
        user_id = session.get_decoded().get("_auth_user_id")
        if user_id == str(agent.pk):
            keys["agent"] = session.session_key
        elif user_id == str(coordinator.pk):
            keys["coordinator"] = session.session_key
    return keys


if __name__ == "__main__":
    main()
