"""Benchmark: the managers' set-up pages over a million tickets, under gunicorn and wrk.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres REDIS_URL=redis://127.0.0.1:6379/0 \
        python bench/setup_pages.py [--tickets 1000000]

It loads what ``bench/desk.py`` loads (200 organisations, N tickets with their clocks; its own
database, ``--database``, default ``sla_bench_setup``) plus 5 prepaid hours cards per
organisation and 100,000 bookings on them (500 per organisation), and a manager's session.
Then wrk measures (a) the organisation list (each with its level today, users and hours left:
subqueries over the contracts, cards and bookings), (b) one organisation's page (its contracts,
and the first day a change may touch: the last registration among its ~5,000 tickets), (c) its
hours cards with all 500 bookings, and (d) the RACI grid (52 cells). Manager pages are used a
few times a day: it prints the figures against the desk's goal for comparison.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

import desk  # the loader and the measuring of bench/desk.py
from benchdb import logged_in_session, recreate_database

CARDS_PER_ORGANISATION = 5


class _PatientTime:
    """``time`` for desk.serve, whose deadline then comes four times later."""

    def monotonic(self) -> float:
        return time.monotonic() / 4

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


BOOKINGS = 100_000


def load_setup() -> str:
    """Hours cards and bookings; returns a logged-in manager's session key."""
    from django.db import connection

    from accounts.models import Role, User

    manager = User.objects.create(
        email="manager@bench.example",
        full_name="Manager",
        role=Role.MANAGER,
        is_staff=True,
        password="!",  # noqa: S106 - unusable password
    )
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(f"""
            INSERT INTO tickets_hourscard (organisation_id, hours, purchased_on, valid_until, reference)
            SELECT o.id, 100, DATE '2024-01-01' + c * 90, NULL, 'Card ' || c
            FROM accounts_organisation o CROSS JOIN generate_series(1, {CARDS_PER_ORGANISATION}) AS c
        """)  # noqa: S608 - only our own integers  # nosec B608
        cursor.execute(f"""
            INSERT INTO tickets_hoursbooking
                (card_id, ticket_id, consultant_id, "on", hours, note, created_at)
            SELECT card.id, t.id, {manager.pk}, DATE '2025-01-01' + (g % 300), 0.25, '', now()
            FROM generate_series(1, {BOOKINGS}) AS g
            CROSS JOIN LATERAL (SELECT id, organisation_id FROM tickets_ticket WHERE id = (
                SELECT min(id) FROM tickets_ticket) + g * 7) AS t
            CROSS JOIN LATERAL (SELECT id FROM tickets_hourscard WHERE organisation_id = t.organisation_id
                                ORDER BY id OFFSET g % {CARDS_PER_ORGANISATION} LIMIT 1) AS card
        """)  # noqa: S608 - only our own integers  # nosec B608
        cursor.execute("VACUUM ANALYZE")
    print(f"loaded {BOOKINGS:,} bookings on hours cards in {time.perf_counter() - started:.0f} s")
    return manager_session(manager)


def manager_session(manager=None) -> str:
    from accounts.models import User

    return logged_in_session(manager or User.objects.get(email="manager@bench.example"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--database", default="sla_bench_setup")
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--reuse", action="store_true", help="keep the loaded database, only measure")
    parser.add_argument("--drop", action="store_true")
    args = parser.parse_args()

    server = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    var_dir = tempfile.mkdtemp(prefix="sla-bench-setup-")
    if args.reuse:
        desk.setup_django(urlunsplit(urlsplit(server)._replace(path=f"/{args.database}")), var_dir)
        session = manager_session()
    else:
        url = recreate_database(server, args.database)
        desk.setup_django(url, var_dir)
        desk.manage("migrate", "--noinput")
        desk.load(args.tickets)
        session = load_setup()
    desk.manage("collectstatic", "--noinput")

    from accounts.models import Organisation

    organisation = Organisation.objects.order_by("pk")[1]
    desk.time = _PatientTime()  # desk.serve waits 30 s for gunicorn: too short on a busy machine
    process = desk.serve(args.port, args.workers)
    try:
        base = f"http://127.0.0.1:{args.port}/manager/setup"
        pages = [
            ("organisations", f"{base}/organisations/", "Bench organisation 000"),
            ("organisation", f"{base}/organisations/{organisation.pk}/", "Contracts"),
            ("hours cards", f"{base}/organisations/{organisation.pk}/hours/", "Card 5"),
            ("RACI grid", f"{base}/raci/", "classify__support"),
        ]
        print(
            f"gunicorn: {args.workers} sync workers on {os.cpu_count()} cores; wrk -c{args.connections}, "
            f"{args.seconds} s per page after a 3 s warm-up"
        )
        for label, page_url, expected in pages:
            if expected not in desk.fetch(page_url, session):
                sys.exit(f"{label}: the page does not show {expected!r}")
            rps, p99, command = desk.measure(
                page_url, session, seconds=args.seconds, connections=args.connections
            )
            print(f"{label:14} {rps:8.1f} requests/s   p99 {p99:7.1f} ms   (desk goal: >= 150/s, <= 150 ms)")
            print(f"               {command}")
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


if __name__ == "__main__":
    main()
