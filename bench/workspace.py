"""Benchmark: the desk ticket page over many different tickets, and the desk queue under real
use (random pages and filters while tickets change), at a million tickets and three million
messages, under gunicorn and wrk.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres REDIS_URL=redis://127.0.0.1:6379/0 \
        python bench/workspace.py [--tickets 1000000] [--reuse]

It loads what ``bench/desk.py`` loads (its ``load``: 200 organisations, 20 agents, N tickets of
which 2% active, two clocks each), then three messages per ticket (a customer's, a reply, a
note) and a "customer replied" instant on a third of the active tickets. Then:

* ticket page: ``wrk -c8`` with a Lua script that asks for a random ticket of the whole table
  per request (no page is served twice from one cache entry: the page is not cached at all).
  Goal >= 150 requests/s, p99 <= 150 ms.
* queue under writes: a Lua script that asks for a random page (1-40) of a random filter per
  request, while a separate process changes 5 active tickets a second through the services
  (``ticket_assign``: a new version, so their cached rows are rendered again). Reported beside
  the single-URL figure of the queue (``/desk/``, as bench/desk.py measures it). Goal >= 100
  requests/s, p99 <= 250 ms.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from benchdb import recreate_database
from desk import fetch, load, manage, measure, reuse_sessions, serve, setup_django

ROOT = Path(__file__).resolve().parents[1]
PAGE_GOAL = (150, 150)
QUEUE_GOAL = (100, 250)
WRITES_PER_SECOND = 5
QUEUE_FILTERS = [
    "",
    "sla=at_risk",
    "sla=breached",
    "sla=waiting",
    "sla=replied",
    "assigned=unassigned",
    "assigned=mine",
    "status=open",
    "status=new",
    "priority=1",
    "priority=3",
    "kind=incident",
]


def load_messages() -> None:
    """Three messages per ticket and, on a third of the active ones, the customer's answer."""
    from django.db import connection

    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("""
            INSERT INTO tickets_message (ticket_id, kind, channel, author_id, body, created_at)
            SELECT t.id, k.kind, 'portal',
                   CASE WHEN k.kind = 'customer' THEN t.registered_by_id ELSE t.assignee_id END,
                   'Bench message ' || k.n || ' on ticket ' || t.id || repeat(' tekst', 40),
                   t.registered_at + k.n * interval '1 hour'
            FROM tickets_ticket t
            CROSS JOIN (VALUES (1, 'customer'), (2, 'reply'), (3, 'note')) AS k(n, kind)
        """)
        cursor.execute("""
            UPDATE tickets_ticket SET customer_replied_at = registered_at + interval '1 hour'
            WHERE status IN ('new', 'open', 'waiting_on_customer') AND id % 3 = 0
        """)
        cursor.execute("VACUUM ANALYZE")
    print(f"loaded 3 messages per ticket in {time.perf_counter() - started:.0f} s")


@contextmanager
def search_triggers_off():
    """The search documents' insert triggers off during the load: computing four million of
    them would take most of an hour on this shared machine, and neither the ticket page nor
    the queue reads them (bench/search.py measures search)."""
    from django.db import connection

    triggers = (
        ("tickets_ticket", "tickets_ticket_search_insert"),
        ("tickets_message", "tickets_message_search_insert"),
    )
    with connection.cursor() as cursor:
        for table, trigger in triggers:
            cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER {trigger}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            for table, trigger in triggers:
                cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER {trigger}")


def lua_script(path: Path, body: str) -> Path:
    path.write_text(
        # A seed of each thread's own: wrk runs one Lua state per thread.
        'math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)") or "0", 16) % 100000)\n' + body
    )
    return path


def ticket_page_script(path: Path, first: int, last: int) -> Path:
    return lua_script(
        path,
        f"request = function()\n"
        f'  return wrk.format("GET", "/desk/tickets/" .. math.random({first}, {last}) .. "/")\n'
        f"end\n",
    )


def queue_script(path: Path, organisations: list[int]) -> Path:
    filters = [*QUEUE_FILTERS, *(f"organisation={pk}" for pk in organisations[:20])]
    lua_list = ", ".join(f'"{f}"' for f in filters)
    return lua_script(
        path,
        f"filters = {{{lua_list}}}\n"
        "request = function()\n"
        "  local f = filters[math.random(#filters)]\n"
        '  local query = "page=" .. math.random(1, 40)\n'
        '  if f ~= "" then query = f .. "&" .. query end\n'
        '  return wrk.format("GET", "/desk/?" .. query)\n'
        "end\n",
    )


def measure_script(url: str, session: str, script: Path, *, seconds: int, connections: int):
    """``measure`` with a Lua script: the URL is the host; the script picks each path."""
    wrk = shutil.which("wrk")
    command = [
        wrk,
        "-t2",
        f"-c{connections}",
        f"-d{seconds}s",
        "--latency",
        "-s",
        str(script),
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
    shown = " ".join([*command[:-3], "'Cookie: sessionid=…'", command[-1]])
    return rps, p99_ms, shown


def writer() -> None:
    """Run as ``--writer``: change WRITES_PER_SECOND active tickets a second through the
    services until killed."""
    from accounts.models import User
    from tickets import services
    from tickets.choices import ACTIVE_STATUSES
    from tickets.models import Ticket

    agents = list(User.objects.filter(email__startswith="agent", email__endswith="@bench.example"))
    active = list(Ticket.objects.filter(status__in=ACTIVE_STATUSES).values_list("pk", flat=True))
    done = 0
    while True:
        started = time.monotonic()
        for pk in random.sample(active, WRITES_PER_SECOND):
            try:
                services.ticket_assign(ticket=pk_ticket(pk), by=agents[0], assignee=random.choice(agents))  # nosec B311
                done += 1
            except Exception as exc:
                print(f"writer: {pk}: {exc}", file=sys.stderr)
        time.sleep(max(0.0, 1 - (time.monotonic() - started)))


def pk_ticket(pk: int):
    from tickets.models import Ticket

    return Ticket.objects.get(pk=pk)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--database", default="sla_bench_workspace")
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--reuse", action="store_true", help="keep the loaded database, only measure")
    parser.add_argument("--writer", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    server = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    var_dir = tempfile.mkdtemp(prefix="sla-bench-workspace-")
    url = urlunsplit(urlsplit(server)._replace(path=f"/{args.database}"))
    if args.writer:
        setup_django(url, var_dir)
        writer()
        return
    if args.reuse:
        setup_django(url, var_dir)
        sessions = reuse_sessions()
    else:
        url = recreate_database(server, args.database)
        setup_django(url, var_dir)
        manage("migrate", "--noinput")
        with search_triggers_off():
            sessions = load(args.tickets)
            load_messages()
    manage("collectstatic", "--noinput")

    from accounts.models import Organisation
    from tickets.models import Ticket

    first = Ticket.objects.order_by("pk").values_list("pk", flat=True).first()
    last = Ticket.objects.order_by("-pk").values_list("pk", flat=True).first()
    organisations = list(Organisation.objects.order_by("pk").values_list("pk", flat=True))
    scripts = Path(var_dir)
    process = serve(args.port, args.workers)
    writes = None
    failed = False
    try:
        base = f"http://127.0.0.1:{args.port}"
        agent = sessions["agent"]
        if "Next step" not in fetch(f"{base}/desk/tickets/{last}/", agent):
            sys.exit("the ticket page does not show its next step")
        print(
            f"gunicorn: {args.workers} sync workers on {os.cpu_count()} cores; wrk -c{args.connections}, "
            f"{args.seconds} s per measurement after a 3 s warm-up; tickets {first}..{last}"
        )

        def report(label, figures, goal):
            nonlocal failed
            rps, p99, command = figures
            ok = goal is None or (rps >= goal[0] and p99 <= goal[1])
            failed |= not ok
            target = (
                "" if goal is None else f"(goal >= {goal[0]}/s, <= {goal[1]} ms: {'met' if ok else 'MISSED'})"
            )
            print(f"{label:30} {rps:8.1f} requests/s   p99 {p99:7.1f} ms   {target}")
            print(f"{'':30} {command}")

        page = ticket_page_script(scripts / "ticket_page.lua", first, last)
        report(
            "ticket page, random tickets",
            measure_script(base, agent, page, seconds=args.seconds, connections=args.connections),
            PAGE_GOAL,
        )
        report(
            "queue, one URL, no writes",
            measure(f"{base}/desk/", agent, seconds=args.seconds, connections=args.connections),
            None,
        )
        queue = queue_script(scripts / "queue.lua", organisations)
        report(
            "queue, random pages+filters",
            measure_script(base, agent, queue, seconds=args.seconds, connections=args.connections),
            None,
        )
        writes = subprocess.Popen(
            [sys.executable, __file__, "--writer", "--database", args.database],
            env=os.environ.copy(),
            start_new_session=True,
        )
        report(
            f"  ... with {WRITES_PER_SECOND} writes/s",
            measure_script(base, agent, queue, seconds=args.seconds, connections=args.connections),
            QUEUE_GOAL,
        )
    finally:
        if writes is not None:
            os.killpg(writes.pid, signal.SIGTERM)
            writes.wait(timeout=30)
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
        shutil.rmtree(var_dir, ignore_errors=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
