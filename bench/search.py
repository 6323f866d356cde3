"""Benchmark: full-text search over a million tickets and three million messages, under
gunicorn and wrk.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres REDIS_URL=redis://127.0.0.1:6379/0 \
        python bench/search.py [--tickets 1000000 --messages 3000000] [--reuse]

Like bench/desk.py (whose helpers it uses) it drops and recreates its own database
(``--database``, default ``sla_bench_search``), migrates and loads it with one
``INSERT ... SELECT generate_series`` per table and leaves it behind (``--reuse`` measures it
again without loading). What it loads:

* 200 organisations with five requesters each, named from common Dutch first and last names;
* N tickets over three years: titles and descriptions from a Dutch/English support vocabulary,
  one in twenty with a bug reference ("BUG-4711"), 2% active;
* M messages spread over the tickets, 15-30 words each: customer messages, replies and
  internal notes; the search documents are computed by the migration's triggers on insert
  (two connections in parallel), the GIN indexes built afterwards.

Then ``wrk -c8`` requests ``/desk/search/?q=`` as an agent with a Lua script rotating 50
queries (common and rare words, other word forms, names, numbers and references, phrases,
queries without hits) and prints requests/s and p99 against the goal of issue 16:
>= 100 requests/s, p99 <= 200 ms.
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
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from benchdb import logged_in_session, organisations_with_contracts, recreate_database
from desk import manage, setup_django

ROOT = Path(__file__).resolve().parents[1]
GOAL_RPS, GOAL_P99_MS = 100, 200
ORGANISATIONS, REQUESTERS_PER_ORGANISATION, AGENTS = 200, 5, 20
POOL = 50_000  # distinct texts (see load())


def _split(text: str, separator: str | None = None) -> tuple[str, ...]:
    return tuple(item.strip() for item in text.split(separator))


FIRST_NAMES = _split(
    "Carla Jan Piet Anna Sanne Mark Eva Lotte Daan Sem Emma Tess Bram Lucas Julia Sophie Thijs Ruben "
    "Noor Fleur Kees Henk Ingrid Marieke Willem Joost Femke Maarten Anouk Sven "
)
LAST_NAMES = _split(
    "Jansen|de Vries|van den Berg|Bakker|Visser|Smit|Meijer|Mulder|de Boer|Bos|Vos|Peters|"
    "Hendriks|Dekker|Brouwer|de Wit|Dijkstra|Kok|Verhoeven|Kramer",
    "|",
)
# A support desk's words, Dutch and English, in several forms (stemming finds the others).
WORDS = _split(
    "printer printers afdrukken factuur facturen factuurmodule inloggen login wachtwoord password "
    "vergeten export exporteren excel rapport rapporten report koppeling koppelingen interface server "
    "servers langzaam traag slow foutmelding foutmeldingen error errors melding dashboard scherm "
    "screen wit leeg blank gebruiker gebruikers user users account rechten permissions rol "
    "synchronisatie synchroniseren sync agenda kalender planning mail e-mail bijlage attachment "
    "upload download bestand bestanden file csv pdf koppeling api token certificaat certificate "
    "verlopen expired database backup herstel restore update upgrade versie release patch storing "
    "outage netwerk network vpn verbinding connection timeout time-out crash vastgelopen hangt freeze "
    "module modules instellingen settings configuratie import importeren klant klanten customer order "
    "orders bestelling levering voorraad stock artikel artikelen prijs prijzen korting btw belasting "
    "tax boekhouding grootboek journaal periode afsluiting jaarafsluiting salaris loon uren "
    "registratie timesheet project projecten budget offerte contract mobiel app telefoon tablet "
    "browser chrome firefox edge safari windows macos linux kan niet werkt geen melding sinds "
    "vanochtend gisteren vandaag opnieuw steeds soms altijd does not work since yesterday today again "
    "always sometimes cannot open save opslaan de het een en van bij naar op in met voor the a an and "
    "of to at with for is "
)
QUERIES = _split(
    "printer|factuur|inloggen|wachtwoord|rapport|koppeling|langzaam|dashboard|certificaat|"
    "jaarafsluiting|timesheet|voorraad|grootboek|safari|korting|facturen|printers|exporteren|"
    "rapporten|koppelingen|errors|synchroniseren|Carla|Jansen|Verhoeven|Marieke Dijkstra|"
    "Bench organisation 042|BUG-4711|4711|T-000123|123456|BUG-123|98765|500000|BUG-8|"
    '"kan niet inloggen"|"werkt niet"|"export to excel"|"does not work"|"wachtwoord vergeten"|'
    "printer 4711|factuur btw|Carla printer|vpn timeout|upgrade versie|xylofoonbanaan|"
    'qwertyuiopz|kwantumfluxcondensator|zzzyyyxxx|"printer xylofoon"',
    "|",
)
assert len(QUERIES) == 50


def _sql_array(items) -> str:
    return "ARRAY[" + ",".join("'" + item.replace("'", "''") + "'" for item in items) + "]"


def _words_sql(seed: str, count: str) -> str:
    """``count`` words of the vocabulary picked by hashing ``seed``: deterministic, varied."""
    return (
        "array_to_string(ARRAY(SELECT (w.words)"  # noqa: S608 - our own SQL fragments  # nosec B608
        f"[1 + (hashint8(({seed})::bigint * 131 + i)::bigint & 2147483647) % w.n] "
        f"FROM generate_series(1, {count}) AS i), ' ')"
    )


def load(tickets: int, messages: int) -> str:
    """Organisations, requesters, agents, tickets, bug references and messages; returns the
    agent's session key."""

    from django.db import connection, transaction

    from accounts.models import Role, User
    from sla.models import PolicyVersion

    with transaction.atomic():
        organisations, contracts = organisations_with_contracts(ORGANISATIONS)
        requesters = User.objects.bulk_create(
            User(
                email=f"requester{i}.{j}@bench.example",
                full_name=f"{FIRST_NAMES[(i * 5 + j) % len(FIRST_NAMES)]} "
                f"{LAST_NAMES[(i * 7 + j * 3) % len(LAST_NAMES)]}",
                role=Role.COORDINATOR,
                organisation=org,
                password="!",  # noqa: S106 - unusable password
            )
            for i, org in enumerate(organisations)
            for j in range(REQUESTERS_PER_ORGANISATION)
        )
        agents = User.objects.bulk_create(
            User(email=f"agent{i}@bench.example", full_name=f"Agent {i}", role=Role.AGENT, password="!")  # noqa: S106
            for i in range(AGENTS)
        )
    policy = PolicyVersion.objects.get(document="001")
    org_ids = ",".join(str(c.organisation_id) for c in contracts)
    contract_ids = ",".join(str(c.pk) for c in contracts)
    level_ids = ",".join(str(c.service_level_id) for c in contracts)
    requester_ids = ",".join(str(u.pk) for u in requesters)
    agent_ids = ",".join(str(u.pk) for u in agents)
    vocabulary = f"(SELECT {_sql_array(WORDS)} AS words, {len(WORDS)} AS n) AS w"

    # Computing a document (Dutch and English stems) costs ~0.1-0.5 ms: three million of them
    # would take most of an hour on this shared machine. So the texts come from a pool of
    # POOL distinct titles, descriptions and message bodies whose documents are computed once
    # with the migration's own function (tickets_search_text) and copied into the rows, with
    # the insert triggers off during the load (and on again after). Number, requester and
    # organisation parts are computed per ticket, bug references appended per ticket.
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("""
            DROP INDEX IF EXISTS ticket_search; DROP INDEX IF EXISTS message_search;
            ALTER TABLE tickets_ticket DISABLE TRIGGER tickets_ticket_search_insert;
            ALTER TABLE tickets_message DISABLE TRIGGER tickets_message_search_insert;
            ALTER TABLE tickets_bugreference DISABLE TRIGGER tickets_bug_search;
        """)
        cursor.execute(f"""
            CREATE UNLOGGED TABLE bench_pool AS
            SELECT k AS n, initcap({_words_sql("k", "3 + k % 4")}) AS title,
                   {_words_sql("k + 7", "12 + k % 10")} AS description,
                   {_words_sql("k + 13", "15 + k % 16")} AS body
            FROM generate_series(0, {POOL - 1}) AS k, {vocabulary};
            ALTER TABLE bench_pool ADD PRIMARY KEY (n);
            ALTER TABLE bench_pool ADD COLUMN ticket_doc tsvector, ADD COLUMN body_doc tsvector;
        """)  # noqa: S608  # nosec B608

    def in_parallel(statement: str, parts: int = 2) -> None:
        def run(part: int) -> None:
            import psycopg

            with psycopg.connect(os.environ["BENCH_CONNINFO"], autocommit=True) as conn:
                conn.execute(statement.format(part=part, parts=parts))

        threads = [threading.Thread(target=run, args=(part,)) for part in range(parts)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    in_parallel(
        "UPDATE bench_pool SET ticket_doc = setweight(tickets_search_text(title), 'A')"
        " || setweight(tickets_search_text(description), 'C'), body_doc = tickets_search_text(body)"
        " WHERE n % {parts} = {part}"
    )
    print(f"computed {POOL:,} pooled documents in {time.perf_counter() - started:.0f} s", flush=True)

    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("""
            CREATE UNLOGGED TABLE bench_people AS
            SELECT u.id, setweight(tickets_search_text(
                       concat_ws(' ', u.full_name, u.email, replace(u.email, '@', ' '), o.name)), 'B') AS doc
            FROM accounts_user u JOIN accounts_organisation o ON o.id = u.organisation_id;
            ALTER TABLE bench_people ADD PRIMARY KEY (id);
        """)
    in_parallel(f"""
        INSERT INTO tickets_ticket (
            id, organisation_id, contract_id, service_level_id, policy_version_id, registered_by_id,
            kind, change_type, title, description, hosting, nature, channel, impact, urgency,
            priority, priority_overridden, priority_reason, status, step, clarity, problem_type,
            consultancy, todo, resolution, close_reason, registered_at, closed_at, version, updated_at,
            search_document)
        SELECT g, x.org, (ARRAY[{contract_ids}])[1 + g % {ORGANISATIONS}],
               (ARRAY[{level_ids}])[1 + g % {ORGANISATIONS}], {policy.pk}, x.requester,
               'incident', '', p.title, p.description,
               'cloud', 'technical', 'portal', 1 + g % 3, 1 + (g / 3) % 3, 1 + g % 3, false, '',
               CASE WHEN g % 50 = 0 THEN 'open' ELSE 'closed' END,
               CASE WHEN g % 50 = 0 THEN 'classify' ELSE 'update_ticket' END, '', '', '', '', '', '',
               now() - ({tickets} - g) * interval '95 seconds',
               CASE WHEN g % 50 <> 0
                    THEN now() - ({tickets} - g) * interval '95 seconds' + interval '2 days' END,
               1, now(),
               setweight(to_tsvector('simple', 'T ' || lpad(g::text, 6, '0') || ' ' || g), 'A')
                 || p.ticket_doc || h.doc
        FROM generate_series(1 + {{part}}, {tickets}, {{parts}}) AS g
        CROSS JOIN LATERAL (
            SELECT (ARRAY[{org_ids}])[1 + g % {ORGANISATIONS}] AS org,
                   (ARRAY[{requester_ids}])[1 + (g % {ORGANISATIONS}) * {REQUESTERS_PER_ORGANISATION}
                                            + (g / {ORGANISATIONS}) % {REQUESTERS_PER_ORGANISATION}]
                   AS requester) AS x
        JOIN bench_pool p ON p.n = (g::bigint * 7919) % {POOL}
        JOIN bench_people h ON h.id = x.requester
    """)  # noqa: S608 - only integers and our own words  # nosec B608
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('tickets_ticket', 'id'), max(id)) FROM tickets_ticket"
        )
        cursor.execute(f"""
            INSERT INTO tickets_bugreference (
                ticket_id, reference, url, status, registered_by_id, registered_at)
            SELECT id, 'BUG-' || (1 + (id * 7919) % 99999), '', 'registered',
                   (ARRAY[{agent_ids}])[1 + id % {AGENTS}], registered_at + interval '1 hour'
            FROM tickets_ticket WHERE id % 20 = 0;
            UPDATE tickets_ticket t SET search_document = t.search_document
                || setweight(tickets_search_text(b.reference), 'A')
            FROM tickets_bugreference b WHERE b.ticket_id = t.id;
        """)  # noqa: S608  # nosec B608
    print(f"loaded {tickets:,} tickets in {time.perf_counter() - started:.0f} s", flush=True)

    started = time.perf_counter()
    in_parallel(f"""
        INSERT INTO tickets_message (ticket_id, kind, channel, author_id, body, created_at, search_document)
        SELECT t, k.kind, 'portal', NULL, p.body, now() - ({messages} - g) * interval '30 seconds', p.body_doc
        FROM generate_series(1 + {{part}}, {messages}, {{parts}}) AS g
        CROSS JOIN LATERAL (SELECT 1 + (g::bigint * 7919) % {tickets} AS t,
                                   (ARRAY['customer', 'reply', 'customer', 'note'])[1 + g % 4] AS kind) AS k
        JOIN bench_pool p ON p.n = (g::bigint * 104729 + 17) % {POOL}
    """)  # noqa: S608  # nosec B608
    print(f"loaded {messages:,} messages in {time.perf_counter() - started:.0f} s", flush=True)

    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("""
            ALTER TABLE tickets_ticket ENABLE TRIGGER tickets_ticket_search_insert;
            ALTER TABLE tickets_message ENABLE TRIGGER tickets_message_search_insert;
            ALTER TABLE tickets_bugreference ENABLE TRIGGER tickets_bug_search;
            DROP TABLE bench_pool; DROP TABLE bench_people;
        """)
    with connection.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem = '1GB'")
        cursor.execute("CREATE INDEX ticket_search ON tickets_ticket USING gin (search_document)")
        cursor.execute("CREATE INDEX message_search ON tickets_message USING gin (search_document)")
        cursor.execute("VACUUM ANALYZE")
    print(f"built the GIN indexes and analysed in {time.perf_counter() - started:.0f} s", flush=True)

    return logged_in_session(agents[0])


def serve(port: int, workers: int) -> subprocess.Popen:
    """gunicorn as bench/desk.py starts it, waited for longer: on a shared machine its workers
    take more than desk.py's 30 s to boot."""
    gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or "gunicorn"
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
            "/dev/null",
            "--error-logfile",
            "-",
        ],
        cwd=ROOT,
        env=os.environ.copy(),
        start_new_session=True,
    )
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=5)  # our own  # nosec B310
            return process
        except OSError:
            time.sleep(1)
    os.killpg(process.pid, signal.SIGTERM)
    sys.exit("gunicorn did not come up")


def fetch(url: str, session: str) -> str:
    """One page, waited for long: the first queries after a load read a cold cache."""
    request = urllib.request.Request(url, headers={"Cookie": f"sessionid={session}"})  # noqa: S310
    with urllib.request.urlopen(request, timeout=180) as response:  # noqa: S310 - our own server  # nosec B310
        return response.read().decode()


def agent_session() -> str:
    from django.contrib.sessions.models import Session

    from accounts.models import User

    agent = User.objects.get(email="agent0@bench.example")
    for session in Session.objects.all():
        if session.get_decoded().get("_auth_user_id") == str(agent.pk):
            return session.session_key
    sys.exit("no agent session in the bench database: load it again without --reuse")


LUA = """
local queries = {%s}
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", "/desk/search/?q=" .. queries[(i %% #queries) + 1])
end
"""


def measure(
    base: str, session: str, *, seconds: int, connections: int, lua: Path
) -> tuple[float, float, str]:
    wrk = shutil.which("wrk")
    if wrk is None:
        sys.exit("wrk is missing: apt-get install -y wrk")
    queries = ", ".join('"' + urllib.parse.quote(q) + '"' for q in QUERIES)
    lua.write_text(LUA % queries)
    command = [wrk, "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(lua)]
    headers = ["-H", f"Cookie: sessionid={session}"]
    subprocess.run(
        [*command[:3], "-d3s", *command[4:], *headers, base], check=True, capture_output=True
    )  # warm
    output = subprocess.run([*command, *headers, base], check=True, capture_output=True, text=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    value, unit = re.search(r"99%\s+([\d.]+)(us|ms|s)", output).groups()
    p99_ms = float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]
    if "Non-2xx" in output:
        sys.exit(f"non-2xx responses under load\n{output}")
    return rps, p99_ms, " ".join([*command, "-H", "'Cookie: sessionid=…'", base])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--messages", type=int, default=3_000_000)
    parser.add_argument("--database", default="sla_bench_search")
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--reuse", action="store_true", help="keep the loaded database, only measure")
    args = parser.parse_args()

    server = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    var_dir = tempfile.mkdtemp(prefix="sla-bench-search-")
    if args.reuse:
        url = urlunsplit(urlsplit(server)._replace(path=f"/{args.database}"))
        setup_django(url, var_dir)
        session = agent_session()
    else:
        url = recreate_database(server, args.database)
        setup_django(url, var_dir)
        os.environ["BENCH_CONNINFO"] = urlunsplit(urlsplit(url)._replace(scheme="postgresql"))
        manage("migrate", "--noinput")
        session = load(args.tickets, args.messages)
    manage("collectstatic", "--noinput")

    process = serve(args.port, args.workers)
    try:
        base = f"http://127.0.0.1:{args.port}"
        hits = []
        for query in QUERIES:  # every query answers, and the ones meant to find something do
            page = fetch(f"{base}/desk/search/?q={urllib.parse.quote(query)}", session)
            hits.append(page.count('class="card search-hit"'))
        print("hits on the first page per query:", dict(zip(QUERIES, hits, strict=True)))
        if sum(1 for n in hits if n) < 40:
            sys.exit("fewer than 40 of the 50 queries find something: the data is not what it should be")
        print(
            f"gunicorn: {args.workers} sync workers on {os.cpu_count()} cores; wrk -c{args.connections}, "
            f"{args.seconds} s after a 3 s warm-up, 50 queries in rotation"
        )
        rps, p99, command = measure(
            base,
            session,
            seconds=args.seconds,
            connections=args.connections,
            lua=Path(var_dir) / "queries.lua",
        )
        ok = rps >= GOAL_RPS and p99 <= GOAL_P99_MS
        print(
            f"desk search {rps:8.1f} requests/s   p99 {p99:7.1f} ms   "
            f"(goal >= {GOAL_RPS}/s, <= {GOAL_P99_MS} ms: {'met' if ok else 'MISSED'})"
        )
        print(f"            {command}")
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
        shutil.rmtree(var_dir, ignore_errors=True)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
