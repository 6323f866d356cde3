"""Benchmark: knowledge base suggestions over 100,000 articles, as a coordinator types a title.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres python bench/knowledge.py [--articles 100000]

(from the project's root: this file's name is the app's, and bench/ must not shadow it.)

The database in DATABASE_URL is only used to connect; the bench drops and recreates its own
(``--database``, default ``sla_bench_kb``), migrates it, loads it with one ``INSERT ... SELECT``
and leaves it behind (``--reuse`` measures it again, ``--drop`` removes it).

What it loads: N articles, half Dutch and half English, 90% published, 30% general and the
rest of one of five products. Each article is about one of 20 topics (printing, invoices,
logging in, ...; skewed, so the biggest topic has ~20% of the articles and the smallest ~2.5%):
a title of three of its topic's words and one general word, a text of five sentences of
twelve words, half its topic's and half general support words (skewed: "error" is in most
articles), and one error code ("E4711", each in ~5 articles). PostgreSQL fills the generated
``search`` column on insert, exactly as for an article saved by the app; the GIN index over it
is dropped for the load and made again afterwards with its own definition, then VACUUM ANALYZE.

Then it measures, at N articles, for 30 inputs (short titles and title + description, Dutch
and English, common words, a topic's words, rare error codes, words no article has):

* the suggestion endpoint (``/portal/kb/suggest?q=``, through Django's test client, as the
  logged-in coordinator: routing, session, permission check, query and template), three
  rounds after a warm-up round, and the selector ``article_suggestions`` alone;
* the readers' search page ``/kb/?q=`` (as the coordinator) and the desk's "Insert article"
  picker ``/desk/kb/pick?q=`` (as an agent).

It prints median, p95 and max per request and the median's ratio to the goal of issue 17:
a suggestion request <= 50 ms.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from benchdb import drop_database, insert_series, recreate_database

ROOT = Path(__file__).resolve().parents[1]
# This file's own name is the app's: the project must come first on the path, not bench/.
sys.path[:] = [str(ROOT)] + [
    p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent.resolve()
]

GOAL_MS = 50
ROUNDS = 3
TOPIC_WORDS = 8
PRODUCTS = ("Finance", "Logistics", "Payroll", "Portal", "Data Manager")


def _vocabulary(text: str) -> list[str]:
    return text.split()


def _topics(text: str) -> list[list[str]]:
    topics = [line.split() for line in text.strip().splitlines()]
    assert all(len(t) == TOPIC_WORDS for t in topics), [t for t in topics if len(t) != TOPIC_WORDS]
    return topics


# Twenty topics a support desk's articles are about, eight words each; line i of the Dutch
# list is line i of the English one.
TOPICS_EN = _topics("""
printer prints blank page toner tray driver spooler
invoice layout template logo footer numbering credit pdf
login password reset locked account forgotten expired sso
export excel csv columns report download encoding separator
vat return declaration rate reverse charge quarter deadline
ledger journal entry posting period closing balance reconciliation
email notification mailbox smtp bounced spam attachment signature
sync calendar outlook appointment recurring meeting invitation agenda
backup restore snapshot retention nightly archive recovery disk
certificate expired renewal tls browser warning chain domain
dashboard widget chart slow loading filter refresh tile
permission role group rights access denied administrator delegation
import supplier bank statement mt940 camt matching mapping
payroll salary payslip tax bonus holiday allowance pension
order delivery stock warehouse picking shipment backorder carrier
upload attachment file size limit scan document folder
timezone clock date daylight saving timestamp schedule hour
api token webhook integration rate limit endpoint key
mobile app phone tablet push offline camera android
license seat renewal subscription upgrade module trial activation
""")
TOPICS_NL = _topics("""
printer afdrukken lege pagina toner lade stuurprogramma wachtrij
factuur opmaak sjabloon logo voettekst nummering creditnota pdf
inloggen wachtwoord herstellen geblokkeerd account vergeten verlopen sso
exporteren excel csv kolommen rapport downloaden codering scheidingsteken
btw aangifte tarief verlegd heffing kwartaal termijn suppletie
grootboek dagboek boeking mutatie periode afsluiten saldo aansluiting
e-mail melding mailbox smtp onbestelbaar spam bijlage handtekening
synchronisatie agenda outlook afspraak terugkerend vergadering uitnodiging planning
back-up terugzetten momentopname bewaartermijn nachtelijk archief herstel schijf
certificaat verlopen vernieuwen tls browser waarschuwing keten domein
dashboard widget grafiek traag laden filter verversen tegel
rechten rol groep bevoegdheid toegang geweigerd beheerder delegatie
importeren leverancier bankafschrift mt940 camt koppelen afletteren mapping
salaris loonstrook loonheffing bonus vakantiegeld toeslag pensioen verloning
bestelling levering voorraad magazijn orderpicking zending nalevering vervoerder
uploaden bijlage bestand grootte limiet scan document map
tijdzone klok datum zomertijd wintertijd tijdstempel planning uur
api token webhook koppeling limiet endpoint sleutel integratie
mobiel app telefoon tablet pushbericht offline camera android
licentie gebruikers verlengen abonnement upgrade module proefperiode activering
""")
# Words of any article, most common first (picked skewed towards the start).
GENERAL_EN = _vocabulary("""
error user customer cannot working message screen setting change version update new after
when click button open save shows wrong missing field value list number name data system
server database connection network slow timeout crash freeze memory log problem issue fix
solution step check restart cache session language address table search index task job queue
""")
GENERAL_NL = _vocabulary("""
foutmelding gebruiker klant lukt werkt melding scherm instelling wijzigen versie bijwerken nieuw
na wanneer klikken knop openen opslaan toont verkeerd ontbreekt veld waarde lijst nummer naam
gegevens systeem server database verbinding netwerk traag time-out crash vastlopen geheugen
logboek probleem storing oplossing stap controleren herstarten cache sessie taal adres tabel
zoeken index taak wachtrij
""")

# What coordinators type: a title, sometimes with the start of the description (the form
# sends both); common words, one topic's words, rare error codes, words no article has.
INPUTS = [
    "printer prints blank pages",
    "Our printer prints blank pages since the update, the toner is new",
    "cannot login after password reset",
    "account locked",
    "invoice layout logo missing",
    "export to excel wrong columns",
    "vat return rate wrong for reverse charge",
    "error",
    "error message when I click save",
    "E4711",
    "Error E1234 after update",
    "certificate expired browser warning",
    "calendar sync with outlook stopped, recurring meetings missing",
    "mt940 bank statement import fails",
    "kubernetes pod crashloopbackoff",
    "printer afdrukken lege pagina",
    "Printer drukt lege pagina's af sinds de update, toner is vervangen",
    "inloggen lukt niet wachtwoord vergeten",
    "factuur sjabloon logo",
    "btw aangifte verlegd",
    "foutmelding",
    "foutmelding bij opslaan",
    "E0815",
    "grootboek periode afsluiten saldo klopt niet",
    "synchronisatie agenda outlook",
    "back-up terugzetten mislukt",
    "loonstrook vakantiegeld",
    "zwembad verwarming",
    "tijdzone zomertijd",
    "mobiel app pushbericht komt niet",
]


def setup_django(database_url: str, var_dir: str) -> None:
    os.environ.update(
        DATABASE_URL=database_url,
        VAR_DIR=var_dir,
        CELERY_BROKER_URL="memory://localhost/",
        DJANGO_SETTINGS_MODULE="sla_portal.settings",
        DEBUG="0",
        SECRET_KEY="bench-only-secret",  # noqa: S106 - a throw-away bench database
        ALLOWED_HOSTS="testserver",
        SECURE_SSL_REDIRECT="0",
        LOG_LEVEL="WARNING",
    )
    import django

    django.setup()


def _hash(seed: str) -> str:
    """A uniform in [0, 1) from the row number and ``seed``."""
    return f"((hashtext(g::text || '{seed}') & 2147483647) / 2147483648.0::float8)"


def _array(words: list[str]) -> str:
    return "ARRAY[" + ",".join(f"'{w}'" for w in words) + "]"


def _general_sql(vocabulary: list[str], seed: str) -> str:
    """A general word, skewed towards the first ones (index n * u^1.5)."""
    n = len(vocabulary)
    return f"({_array(vocabulary)})[1 + floor({n} * power({_hash(seed)}, 1.5))::int]"


def _topic_sql(topics: list[list[str]], seed: str) -> str:
    """A word of the row's topic ``t`` (a column of the load's source), any of them alike."""
    matrix = "ARRAY[" + ",".join(_array(words) for words in topics) + "]"
    return f"({matrix})[t][1 + floor({TOPIC_WORDS} * {_hash(seed)})::int]"


def _language_sql(topics: list[list[str]], general: list[str]) -> tuple[str, str]:
    """Title and text of one language's article."""
    title = " || ' ' || ".join(
        [
            _topic_sql(topics, "t1"),
            _topic_sql(topics, "t2"),
            _general_sql(general, "t3"),
            _topic_sql(topics, "t4"),
        ]
    )
    sentences = []
    for k in range(5):
        words = [
            _topic_sql(topics, f"b{k}.{i}") if i % 2 else _general_sql(general, f"b{k}.{i}")
            for i in range(12)
        ]
        sentences.append("initcap(" + " || ' ' || ".join(words) + ") || '.'")
    code = f"'E' || lpad(floor(20000 * {_hash('code')})::int::text, 4, '0')"
    body = (
        " || ' ' || ".join(sentences[:3])
        + f" || E'\\n\\nCode ' || {code} || '. ' || "
        + " || ' ' || ".join(sentences[3:])
    )
    return f"initcap({title})", body


def load(articles: int) -> None:
    from django.db import connection

    from accounts.models import Organisation, Role, User
    from knowledge.models import Article
    from tickets.models import Product

    agent = User.objects.create_user("bench-agent@example.com", "x", role=Role.AGENT)
    organisation = Organisation.objects.create(name="Bench organisation")
    User.objects.create_user(
        "bench-coordinator@example.com", "x", role=Role.COORDINATOR, organisation=organisation
    )
    products = [
        Product.objects.get_or_create(code=name.lower().replace(" ", "-"), defaults={"name": name})[0].pk
        for name in PRODUCTS
    ]
    started = time.perf_counter()
    title_nl, body_nl = _language_sql(TOPICS_NL, GENERAL_NL)
    title_en, body_en = _language_sql(TOPICS_EN, GENERAL_EN)
    dutch = "mod(g, 2) = 0"
    topic = f"1 + floor({len(TOPICS_EN)} * power({_hash('topic')}, 2))::int"
    with connection.cursor() as cursor:
        # The GIN index is made once after the load (as CREATE INDEX does it: sorted, in bulk)
        # rather than row by row; its definition is read back, so it is the migration's own.
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'knowledge_article_search'")
        (index_sql,) = cursor.fetchone()
        cursor.execute("DROP INDEX knowledge_article_search")
        insert_series(
            cursor,
            Article,
            {"n": articles},
            fixed={"author": agent, "language": "en"},
            computed={
                "slug": "'bench-' || g",
                "title": f"CASE WHEN {dutch} THEN {title_nl} ELSE {title_en} END",
                "body_markdown": f"CASE WHEN {dutch} THEN {body_nl} ELSE {body_en} END",
                "language": f"CASE WHEN {dutch} THEN 'nl' ELSE 'en' END",
                "product_id": f"CASE WHEN {_hash('product')} < 0.3 THEN NULL "
                f"ELSE ({'ARRAY[' + ','.join(map(str, products)) + ']'})[1 + mod(t, {len(products)})] END",
                "status": "CASE WHEN mod(g, 10) = 0 THEN 'draft' ELSE 'published' END",
                "visibility": f"CASE WHEN {_hash('visibility')} < 0.4 THEN 'public' "
                f"WHEN {_hash('visibility')} < 0.85 THEN 'customers' ELSE 'staff' END",
                "author_id": str(agent.pk),
                "published_at": "now() - (g || ' minutes')::interval",
                "created_at": "now()",
                "updated_at": "now()",
            },
            source=f"generate_series(1, %(n)s) AS g CROSS JOIN LATERAL (SELECT {topic} AS t) AS topic",
        )
        loaded = time.perf_counter()
        cursor.execute(index_sql)
        indexed = time.perf_counter()
    with connection.cursor() as cursor:  # VACUUM cannot run in a transaction: autocommit here
        cursor.execute("VACUUM ANALYZE knowledge_article")
        cursor.execute("SELECT pg_size_pretty(pg_total_relation_size('knowledge_article'))")
        (size,) = cursor.fetchone()
    print(
        f"loaded {articles:,} articles in {time.perf_counter() - started:.0f} s (insert "
        f"{loaded - started:.0f} s, GIN index {indexed - loaded:.0f} s, vacuum analyze "
        f"{time.perf_counter() - indexed:.0f} s; {size} with indexes)"
    )


def _figures(label: str, timings: list[float], *, goal: bool = False) -> bool:
    timings = sorted(timings)
    median = statistics.median(timings)
    p95 = timings[max(0, int(len(timings) * 0.95) - 1)]
    line = (
        f"{label:<22}{len(timings):4} requests: median {median:6.1f} ms   p95 {p95:6.1f} ms   "
        f"max {timings[-1]:6.1f} ms"
    )
    if goal:
        verdict = "met" if median <= GOAL_MS else "MISSED"
        line += f"   median/goal {median / GOAL_MS:4.2f} ({verdict}: <= {GOAL_MS} ms)"
    print(line)
    return median <= GOAL_MS


def _timed(call) -> tuple[float, object]:
    started = time.perf_counter()
    result = call()
    return (time.perf_counter() - started) * 1000, result


def measure() -> int:
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment

    from accounts.middleware import RequireSecondFactorMiddleware
    from accounts.models import User
    from knowledge import selectors
    from knowledge.models import Article

    setup_test_environment()
    coordinator_user = User.objects.get(email="bench-coordinator@example.com")
    coordinator = Client()
    coordinator.force_login(coordinator_user)
    agent = Client()
    agent.force_login(User.objects.get(email="bench-agent@example.com"))
    session = agent.session
    session[RequireSecondFactorMiddleware.SESSION_KEY] = True  # as after the TOTP step
    session.save()
    print(
        f"{Article.objects.count():,} articles; {len(INPUTS)} inputs x {ROUNDS} rounds after a warm-up round"
    )

    def suggest(text):
        response = coordinator.get("/portal/kb/suggest", {"q": text, "title": text.split(",")[0]})
        assert response.status_code == 200, response.status_code
        return response.content.count(b'class="kb-suggestion"')

    def selector(text):
        return len(selectors.article_suggestions(user=coordinator_user, text=text))

    def search(text):
        response = coordinator.get("/kb/", {"q": text})
        assert response.status_code == 200, response.status_code

    def pick(text):
        response = agent.get("/desk/kb/pick", {"q": text})
        assert response.status_code == 200, response.status_code

    measured = {}
    per_input = {}
    for label, call in (
        ("suggest (HTTP)", suggest),
        ("suggest (selector)", selector),
        ("search page /kb/", search),
        ("desk picker", pick),
    ):
        for text in INPUTS:  # warm-up: connections, templates, PostgreSQL's caches
            call(text)
        timings = []
        for _ in range(ROUNDS):
            for text in INPUTS:
                elapsed, found = _timed(lambda text=text, call=call: call(text))
                timings.append(elapsed)
                if label == "suggest (HTTP)":
                    per_input.setdefault(text, []).append(elapsed)
                    per_input.setdefault(("found", text), found)
        measured[label] = timings
    ok = _figures("suggest (HTTP)", measured["suggest (HTTP)"], goal=True)
    _figures("suggest (selector)", measured["suggest (selector)"], goal=True)
    _figures("search page /kb/", measured["search page /kb/"])
    _figures("desk picker", measured["desk picker"])
    empty = [t for t in INPUTS if not per_input[("found", t)]]
    print(f"inputs without suggestion: {len(empty)} ({'; '.join(empty)})")
    slowest = sorted(INPUTS, key=lambda t: -statistics.median(per_input[t]))[:3]
    print(
        "slowest inputs (HTTP median): "
        + "; ".join(f"{t[:40]!r} {statistics.median(per_input[t]):.1f} ms" for t in slowest)
    )
    connection.close()
    return 0 if ok else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--database", default="sla_bench_kb")
    parser.add_argument("--reuse", action="store_true", help="keep the loaded database, only measure")
    parser.add_argument("--drop", action="store_true")
    args = parser.parse_args()

    server = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    var_dir = tempfile.mkdtemp(prefix="sla-bench-kb-")
    if args.reuse:
        setup_django(urlunsplit(urlsplit(server)._replace(path=f"/{args.database}")), var_dir)
    else:
        setup_django(recreate_database(server, args.database), var_dir)
        from django.core.management import call_command

        call_command("migrate", "--noinput", verbosity=0)
        load(args.articles)
    from django.core.management import call_command

    call_command("collectstatic", "--noinput", verbosity=0)  # DEBUG off reads the manifest
    failed = measure()
    if args.drop:
        drop_database(server, args.database)
    sys.exit(failed)


if __name__ == "__main__":
    main()
