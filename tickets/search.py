"""Full-text search over tickets and their conversations, for the desk, the portal and the API.

One interface, ``search_tickets(user, query, limit=, offset=)``, two backends:

* PostgreSQL: the ``search_document`` columns of tickets and messages (migration
  ``0007_search_documents``: Dutch and English stems, GIN indexes, kept by triggers). User
  input goes through ``websearch_to_tsquery`` (quoted phrases, ``or``, ``-word``); tokens with
  a digit (ticket numbers, "BUG-4711", e-mail addresses with digits) match as prefixes. The
  newest ``CANDIDATES`` matching tickets and messages (found at a bounded cost: see
  ``WINDOW``) are ranked with ``ts_rank_cd`` (title, number and bug references weigh most,
  then requester and organisation, then the description, then messages); only the page's
  rows get ``ts_headline`` snippets, which is slow on long texts.
* SQLite: ``LIKE`` over the same fields, newest first, with a plain excerpt.

Scope is the tenancy of everything else: staff search every ticket, customers their own
organisation's tickets and only public messages (an internal note's words never find a ticket
for them, nor show in a snippet).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from django.db import OperationalError, connection, transaction
from django.db.models import Q
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from tickets.choices import MessageKind

MAX_QUERY_LENGTH = 200
MAX_LIMIT = 100
# Ranking looks at the newest this many matching tickets and as many messages: a word found in
# half a million messages is ranked among its newest 200 instead of all of them (bench/
# search.py; how they are found: see WINDOW). Deeper pages are not offered.
CANDIDATES = 200
MAX_OFFSET = CANDIDATES

# Where a hit was: shown beside each result.
WHERE_LABELS = ("number", "title", "reference", "requester", "organisation", "description", "message", "note")

_START, _STOP = "\x02", "\x03"  # ts_headline's markers; stripped from the texts first
_TOKENS = re.compile(r'"[^"]*"?|\S+')
_DIGIT = re.compile(r"[0-9]")
_LEXEME = re.compile(r"(!?)('(?:[^']|'')*'(?::\*)?)")


class SearchError(ValueError):
    """The query cannot be run as given (too long, a page out of range): a 400, not a 500."""


@dataclass
class SearchHit:
    ticket_id: int
    title: str
    status: str
    priority: int
    kind: str
    registered_at: datetime
    organisation: str
    rank: float
    where: list[str] = field(default_factory=list)
    title_html: str = ""  # SafeString: escaped, with <mark> around the terms found
    snippet_html: str = ""
    message_id: int | None = None

    @property
    def reference(self) -> str:
        return f"T-{self.ticket_id:06d}"


@dataclass
class SearchResult:
    query: str
    hits: list[SearchHit]
    limit: int
    offset: int
    has_next: bool
    # Only the newest matches were ranked (a phrase or pair of common words: see WINDOW); the
    # page says so, and that another word finds the older ones.
    newest_only: bool = False

    @property
    def has_previous(self) -> bool:
        return self.offset > 0

    @property
    def next_offset(self) -> int | None:
        return self.offset + self.limit if self.has_next else None


def search_tickets(user, query: str, *, limit: int = 25, offset: int = 0) -> SearchResult:
    """The tickets ``user`` may see that match ``query``, best first; ``limit`` + 1 are read
    to know whether a next page exists, so no page ever counts all the matches."""
    query = (query or "").replace("\x00", "").strip()
    if len(query) > MAX_QUERY_LENGTH:
        raise SearchError(_("A search is at most %(n)s characters.") % {"n": MAX_QUERY_LENGTH})
    if not 1 <= limit <= MAX_LIMIT:
        raise SearchError(_("The page size is between 1 and %(n)s.") % {"n": MAX_LIMIT})
    if not 0 <= offset <= MAX_OFFSET:
        raise SearchError(_("Results go no further than %(n)s.") % {"n": MAX_OFFSET})
    empty = SearchResult(query=query, hits=[], limit=limit, offset=offset, has_next=False)
    scope = _scope(user)
    if not query or scope is None:
        return empty
    newest_only: list[bool] = []
    if connection.vendor == "postgresql":
        found = _postgres_search(scope, query, limit=limit, offset=offset, newest_only=newest_only)
    else:
        found = _sqlite_search(scope, query, limit=limit, offset=offset)
    if found is None:
        return empty
    hits, has_next = found
    return SearchResult(
        query=query, hits=hits, limit=limit, offset=offset, has_next=has_next, newest_only=any(newest_only)
    )


@dataclass(frozen=True)
class _Scope:
    organisation_id: int | None  # None: every organisation (support staff)
    with_notes: bool


def _scope(user) -> _Scope | None:
    if not getattr(user, "is_authenticated", False):
        return None
    if user.is_support_staff:
        return _Scope(organisation_id=None, with_notes=True)
    if user.is_customer and user.organisation_id:
        return _Scope(organisation_id=user.organisation_id, with_notes=False)
    return None


# --- the query --------------------------------------------------------------------------


@dataclass(frozen=True)
class ParsedQuery:
    words: str  # for websearch_to_tsquery: words, "phrases", or, -word
    prefixes: tuple[str, ...]  # tokens with a digit, matched as prefixes
    numbers: tuple[int, ...]  # ticket numbers asked for: their ticket comes first


def parse_query(query: str) -> ParsedQuery:
    # "BUG-4711" and "T-000123" are indexed as "BUG 4711" and "T 000123" (the migration's
    # tickets_search_text): split the query the same way.
    text = re.sub(r"-(?=[0-9])", " ", query)
    words, prefixes, numbers = [], [], []
    for token in _TOKENS.findall(text):
        if token.startswith('"') or not _DIGIT.search(token):
            words.append(token)
            continue
        clean = re.sub(r"[^0-9A-Za-z.@_]", "", token).strip(".@_").lower()
        if clean:
            prefixes.append(clean)
            if clean.isdigit() and len(clean) <= 18:
                numbers.append(int(clean))
    return ParsedQuery(words=" ".join(words), prefixes=tuple(dict.fromkeys(prefixes)), numbers=tuple(numbers))


def _tsquery_text(parsed: ParsedQuery) -> str:
    """The tsquery as text (one query): passed back as a constant, the planner estimates it."""
    parts, params = [], {}
    if parsed.words:
        parts.append(
            "(websearch_to_tsquery('dutch', %(words)s) || websearch_to_tsquery('english', %(words)s))"
        )
        params["words"] = parsed.words
    if parsed.prefixes:
        parts.append("to_tsquery('simple', %(prefixes)s)")
        params["prefixes"] = " & ".join(f"'{prefix}':*" for prefix in parsed.prefixes)
    if not parts:
        return ""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT ({' && '.join(parts)})::text", params)
        return cursor.fetchone()[0] or ""


def any_term(tsquery: str) -> str:
    """Every lexeme of the query, or-ed: which fields of a hit hold a term, what to highlight."""
    lexemes = [lexeme for negated, lexeme in _LEXEME.findall(tsquery) if not negated]
    return " | ".join(dict.fromkeys(lexemes))


# --- PostgreSQL ---------------------------------------------------------------------------

# The candidates of one table (the newest CANDIDATES matches, as before), in steps whose cost
# is bounded whatever the planner estimates (bench/search.py: a backward scan of the primary key
# that filtered all three million messages for a word found in none took seconds; a bitmap scan
# of the GIN index that read every ticket with a common name took as long):
#
# 1. the newest WINDOW rows, newest first, until CANDIDATES match: a word in more than one row
#    in fifty stops there, after a few thousand rows at most;
# 2. when fewer matched and the window's share of matches promises at most OLDER_SCAN older
#    ones (none found there, or very few): the GIN index for the rows before the window, which
#    a bitmap scan reads in the table's order, at most OLDER_SCAN of them; the newest of those
#    are kept. Exact whenever the promise holds;
# 3. otherwise (a phrase or a pair of common words found in one row in a few thousand: the
#    index would read tens of thousands of rows to check them) the window's matches are the
#    candidates: the newest matches, fewer of them than CANDIDATES.
# Rows of the window per table: a ticket's row (title, description, document) is twice a
# message's, and as many tickets take twice as long to read.
WINDOW = {"t": 5_000, "m": 10_000}
OLDER_SCAN = 2_000
PHRASE_READS = 10  # rows read per phrase found, roughly, for a phrase of common words
# A safety net for step 2: a query still slower than this there keeps the window's matches.
OLDER_TIMEOUT_MS = 100
_PHRASE = re.compile(r"<(?:-|[0-9]+)>")
# The last row's id stands for the size of the table (rows are rarely deleted).
_TABLE_SIZES = """
SELECT 'T', (SELECT max(id) FROM tickets_ticket), 0::real, (SELECT max(id) FROM tickets_message)
"""

_TICKETS_RECENT = """
SELECT 't', t.id, ts_rank_cd(t.search_document, %(q)s::tsquery), NULL::bigint
FROM (SELECT id, search_document, organisation_id FROM tickets_ticket
      ORDER BY id DESC LIMIT %(ticket_window)s) AS t
WHERE t.search_document @@ %(q)s::tsquery {ticket_scope}
LIMIT %(candidates)s
"""
_TICKETS_OLDER = """
SELECT 't', t.id, ts_rank_cd(t.search_document, %(q)s::tsquery), NULL::bigint
FROM (SELECT id, search_document FROM tickets_ticket
      WHERE search_document @@ %(q)s::tsquery AND id < %(tickets_below)s {ticket_scope}
      LIMIT %(older)s) AS t
ORDER BY t.id DESC LIMIT %(tickets_needed)s
"""
# A ticket asked for by its number, however many others hold that number.
_TICKETS_BY_NUMBER = """
SELECT 'n', id, 10::real, NULL::bigint FROM tickets_ticket
WHERE id = ANY(%(numbers)s::bigint[]) AND search_document @@ %(q)s::tsquery {ticket_scope}
"""
_MESSAGES_RECENT = """
SELECT 'm', m.ticket_id, ts_rank_cd(m.search_document, %(q)s::tsquery), m.id
FROM (SELECT id, ticket_id, kind, search_document FROM tickets_message
      ORDER BY id DESC LIMIT %(message_window)s) AS m {message_join}
WHERE m.search_document @@ %(q)s::tsquery {message_scope}
LIMIT %(candidates)s
"""
_MESSAGES_OLDER = """
SELECT 'm', m.ticket_id, ts_rank_cd(m.search_document, %(q)s::tsquery), m.id
FROM (SELECT m.id, m.ticket_id, m.search_document FROM tickets_message m {message_join}
      WHERE m.search_document @@ %(q)s::tsquery AND m.id < %(messages_below)s {message_scope}
      LIMIT %(older)s) AS m
ORDER BY m.id DESC LIMIT %(messages_needed)s
"""

_HEADLINE_TITLE = f'HighlightAll=true, StartSel="{_START}", StopSel="{_STOP}"'
_HEADLINE_SNIPPET = (
    'MaxWords=30, MinWords=12, MaxFragments=2, FragmentDelimiter=" … ", '
    f'StartSel="{_START}", StopSel="{_STOP}"'
)

# Only the page's rows, one ts_headline each for the title and the snippet: Dutch, English only
# when the Dutch one marks nothing; the snippet only where it is a headline (a message, or the
# description when a term is in it). Whether a term is in the description is read from the
# stored document (its C weight), the short fields are parsed again.
_PAGE_ROWS = """
SELECT t.id, t.title, t.status, t.priority, t.kind, t.registered_at, o.name,
       m.id, m.kind,
       tickets_search_text(t.title) @@ %(any)s::tsquery,
       tickets_search_text(concat_ws(' ', 'T-' || lpad(t.id::text, 6, '0'), t.id::text)) @@ %(any)s::tsquery,
       tickets_search_text(b.refs) @@ %(any)s::tsquery,
       tickets_search_text(concat_ws(' ', u.full_name, u.email, replace(u.email, '@', ' ')))
           @@ %(any)s::tsquery,
       tickets_search_text(o.name) @@ %(any)s::tsquery,
       d.found,
       CASE WHEN strpos(title_nl.h, %(start)s) > 0 THEN title_nl.h
            ELSE ts_headline('english', translate(t.title, %(markers)s, ''), %(any)s::tsquery,
                             %(title_options)s)
       END,
       CASE WHEN strpos(snippet_nl.h, %(start)s) > 0 THEN snippet_nl.h
            WHEN snippet_nl.h IS NOT NULL
            THEN ts_headline('english', s.text, %(any)s::tsquery, %(snippet_options)s)
       END,
       s.text
FROM unnest(%(ids)s::bigint[], %(messages)s::bigint[]) AS page(ticket_id, message_id)
JOIN tickets_ticket t ON t.id = page.ticket_id
JOIN accounts_organisation o ON o.id = t.organisation_id
LEFT JOIN accounts_user u ON u.id = t.registered_by_id
LEFT JOIN tickets_message m ON m.id = page.message_id AND m.ticket_id = t.id {message_scope}
LEFT JOIN LATERAL (SELECT string_agg(reference, ' ') AS refs FROM tickets_bugreference
                   WHERE ticket_id = t.id) AS b ON true
CROSS JOIN LATERAL (SELECT translate(left(coalesce(m.body, t.description), 5000), %(markers)s, '')
                    AS text) AS s
CROSS JOIN LATERAL (SELECT ts_filter(t.search_document, '{{c}}') @@ %(any)s::tsquery AS found) AS d
CROSS JOIN LATERAL (SELECT ts_headline('dutch', translate(t.title, %(markers)s, ''), %(any)s::tsquery,
                                       %(title_options)s) AS h) AS title_nl
CROSS JOIN LATERAL (SELECT CASE WHEN m.id IS NOT NULL OR d.found
                                THEN ts_headline('dutch', s.text, %(any)s::tsquery, %(snippet_options)s)
                           END AS h) AS snippet_nl
WHERE true {ticket_scope}
"""


def _postgres_search(
    scope: _Scope, query: str, *, limit: int, offset: int, newest_only: list[bool]
) -> tuple[list[SearchHit], bool] | None:
    """``newest_only`` gets True when a table's older matches were left out (step 3)."""
    parsed = parse_query(query)
    tsquery = _tsquery_text(parsed)
    if not tsquery:
        return None  # stop words only ("de", "the"): nothing to look for
    params = {
        "q": tsquery,
        "numbers": list(parsed.numbers),
        "candidates": CANDIDATES,
        "ticket_window": WINDOW["t"],
        "message_window": WINDOW["m"],
        "older": OLDER_SCAN,
        "organisation": scope.organisation_id,
    }
    ticket_scope = message_join = message_scope = ""
    if scope.organisation_id is not None:
        ticket_scope = "AND organisation_id = %(organisation)s"
        message_join = (
            "JOIN tickets_ticket mt ON mt.id = m.ticket_id AND mt.organisation_id = %(organisation)s"
        )
    if not scope.with_notes:
        message_scope = f"AND m.kind <> '{MessageKind.NOTE}'"
    scopes = {"ticket_scope": ticket_scope, "message_join": message_join, "message_scope": message_scope}
    phrase = bool(_PHRASE.search(tsquery))
    parts = [_TABLE_SIZES, _TICKETS_RECENT, _MESSAGES_RECENT]
    rows = _union([*parts, _TICKETS_BY_NUMBER] if parsed.numbers else parts, scopes, params)
    sizes = next({"t": row[1] or 0, "m": row[3] or 0} for row in rows if row[0] == "T")
    rows = [row for row in rows if row[0] != "T"]
    older = []
    for source, statement in (("t", _TICKETS_OLDER), ("m", _MESSAGES_OLDER)):
        found = [row for row in rows if row[0] == source]
        window = WINDOW[source]
        promised = len(found) * max(sizes[source] - window, 0) / window  # older matches, roughly
        if phrase:  # the index finds the rows with all the words; each is read to check their order
            promised *= PHRASE_READS
        if len(found) < CANDIDATES and promised <= OLDER_SCAN:
            name = "tickets" if source == "t" else "messages"
            ids = [row[1] if source == "t" else row[3] for row in found]
            params[f"{name}_below"] = min(ids, default=2**62)
            params[f"{name}_needed"] = CANDIDATES - len(found)
            older.append(statement)
        elif len(found) < CANDIDATES and sizes[source] > window:
            newest_only.append(True)
    if older:
        older_rows = _older(older, scopes, params)
        if older_rows is None:
            newest_only.append(True)
        rows += older_rows or []
    return _rank(scope, tsquery, rows, limit=limit, offset=offset)


def _older(parts: list[str], scopes: dict[str, str], params: dict) -> list[tuple] | None:
    """Step 2 through the index, as its own (sub)transaction: the planner, which takes a word it
    has no statistics for as one row in two hundred, would rather filter the whole table in its
    order than read the index, so plain and index scans are off for this statement, and a
    timeout bounds it. The settings end with it (reset, or rolled back with the timeout)."""
    try:
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            cursor.execute(
                "SET LOCAL enable_seqscan = off; SET LOCAL enable_indexscan = off; "
                f"SET LOCAL statement_timeout = {int(OLDER_TIMEOUT_MS)}"
            )
            rows = _union(parts, scopes, params)
            cursor.execute(
                "SET LOCAL enable_seqscan TO DEFAULT; SET LOCAL enable_indexscan TO DEFAULT; "
                "SET LOCAL statement_timeout TO DEFAULT"
            )
            return rows
    except OperationalError as exc:
        if "statement timeout" not in str(exc):
            raise
        return None  # too slow: the window's matches are the candidates


def _union(parts: list[str], scopes: dict[str, str], params: dict) -> list[tuple]:
    sql = " UNION ALL ".join(f"({part.format(**scopes)})" for part in parts)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _rank(
    scope: _Scope, tsquery: str, rows: list[tuple], *, limit: int, offset: int
) -> tuple[list[SearchHit], bool]:
    """Each ticket's best rank among its candidates (its best-ranked message, the newest of
    equals, is the one shown), best first, the newer ticket of equals first."""
    best: dict[int, float] = {}
    message: dict[int, tuple[float, int]] = {}
    for _source, ticket_id, rank, message_id in rows:
        rank = float(rank)
        best[ticket_id] = max(rank, best.get(ticket_id, rank))
        if message_id is not None and (rank, message_id) > message.get(ticket_id, (-1.0, 0)):
            message[ticket_id] = (rank, message_id)
    order = sorted(best, key=lambda pk: (best[pk], pk), reverse=True)
    page = [(pk, best[pk], message.get(pk, (0, None))[1]) for pk in order[offset : offset + limit + 1]]
    if not page:
        return [], False
    shown = _page_rows(scope, tsquery, page[:limit])
    hits = []
    for ticket_id, rank, _message_id in page[:limit]:
        row = shown.get(ticket_id)
        if row is not None:
            row.rank = rank
            hits.append(row)
    return hits, len(page) > limit


def _page_rows(scope: _Scope, tsquery: str, ranked: list[tuple]) -> dict[int, SearchHit]:
    params = {
        "any": any_term(tsquery) or tsquery,
        "ids": [row[0] for row in ranked],
        "messages": [row[2] for row in ranked],
        "markers": _START + _STOP,
        "start": _START,
        "title_options": _HEADLINE_TITLE,
        "snippet_options": _HEADLINE_SNIPPET,
        "organisation": scope.organisation_id,
    }
    ticket_scope = "AND t.organisation_id = %(organisation)s" if scope.organisation_id is not None else ""
    message_scope = f"AND m.kind <> '{MessageKind.NOTE}'" if not scope.with_notes else ""
    sql = _PAGE_ROWS.format(ticket_scope=ticket_scope, message_scope=message_scope)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        results = cursor.fetchall()
    hits = {}
    for (
        ticket_id,
        title,
        status,
        priority,
        kind,
        registered_at,
        organisation,
        message_id,
        message_kind,
        in_title,
        in_number,
        in_reference,
        in_requester,
        in_organisation,
        in_description,
        title_headline,
        snippet_headline,
        text,
    ) in results:
        where = [
            label
            for label, found in (
                ("number", in_number),
                ("title", in_title),
                ("reference", in_reference),
                ("requester", in_requester),
                ("organisation", in_organisation),
                ("description", in_description and message_id is None),
            )
            if found
        ]
        if message_id is not None:
            where.append("note" if message_kind == MessageKind.NOTE else "message")
        snippet = _marked_headline(snippet_headline)
        if message_id is None and not in_description:
            snippet = mark_safe(escape(_excerpt(text)))  # nosec B703 B308 - escaped  # noqa: S308
        hits[ticket_id] = SearchHit(
            ticket_id=ticket_id,
            title=title,
            status=status,
            priority=priority,
            kind=kind,
            registered_at=registered_at,
            organisation=organisation,
            rank=0.0,
            where=where,
            title_html=_marked_headline(title_headline),
            snippet_html=snippet,
            message_id=message_id,
        )
    return hits


def _marked_headline(headline: str | None) -> SafeString:
    """The headline escaped, the markers turned into <mark>."""
    html = escape(headline or "").replace(_START, "<mark>").replace(_STOP, "</mark>")
    return mark_safe(html)  # nosec B703 B308 - escaped above, only our <mark> added  # noqa: S308


def _excerpt(text: str, length: int = 200) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= length else text[:length].rsplit(" ", 1)[0] + " …"


# --- SQLite -------------------------------------------------------------------------------


def _sqlite_search(scope: _Scope, query: str, *, limit: int, offset: int) -> tuple[list[SearchHit], bool]:
    """LIKE over the same fields: the whole query as one substring, newest first."""
    from tickets.models import Message, Ticket

    tickets = Ticket.objects.all()
    messages = Message.objects.all()
    if scope.organisation_id is not None:
        tickets = tickets.filter(organisation_id=scope.organisation_id)
        messages = messages.filter(ticket__organisation_id=scope.organisation_id)
    if not scope.with_notes:
        messages = messages.exclude(kind=MessageKind.NOTE)
    parsed = parse_query(query)
    found = (
        Q(title__icontains=query)
        | Q(description__icontains=query)
        | Q(bugs__reference__icontains=query)
        | Q(registered_by__full_name__icontains=query)
        | Q(registered_by__email__icontains=query)
        | Q(organisation__name__icontains=query)
        | Q(pk__in=messages.filter(body__icontains=query).values("ticket_id"))
    )
    if parsed.numbers:
        found |= Q(pk__in=parsed.numbers)
    page = list(
        tickets.filter(found)
        .distinct()
        .select_related("organisation", "registered_by")
        .order_by("-registered_at", "-pk")[offset : offset + limit + 1]
    )
    matching = {}
    for message in messages.filter(ticket__in=[t.pk for t in page], body__icontains=query).order_by("-pk"):
        matching.setdefault(message.ticket_id, message)
    needle = query.lower()
    hits = []
    for ticket in page:
        message = matching.get(ticket.pk)
        requester = ticket.registered_by
        people = f"{requester.full_name} {requester.email}".lower() if requester else ""
        checks = (
            ("number", ticket.pk in parsed.numbers),
            ("title", needle in ticket.title.lower()),
            ("requester", needle in people),
            ("organisation", needle in ticket.organisation.name.lower()),
            ("description", needle in ticket.description.lower()),
        )
        where = [label for label, found_here in checks if found_here]
        if message is not None:
            where.append("note" if message.kind == MessageKind.NOTE else "message")
        if not where:
            where.append("reference")
        text = message.body if message is not None else ticket.description
        hits.append(
            SearchHit(
                ticket_id=ticket.pk,
                title=ticket.title,
                status=ticket.status,
                priority=ticket.priority,
                kind=ticket.kind,
                registered_at=ticket.registered_at,
                organisation=ticket.organisation.name,
                rank=0.0,
                where=where,
                title_html=_marked(ticket.title, query),
                snippet_html=_marked(_excerpt_around(text, needle), query),
                message_id=message.pk if message is not None else None,
            )
        )
    return hits[:limit], len(hits) > limit


def _excerpt_around(text: str, needle: str, width: int = 90) -> str:
    text = " ".join((text or "").split())
    at = text.lower().find(needle)
    if at < 0:
        return _excerpt(text)
    start, end = max(0, at - width), min(len(text), at + len(needle) + width)
    return ("… " if start else "") + text[start:end] + (" …" if end < len(text) else "")


def _marked(text: str, query: str) -> SafeString:
    """``text`` escaped, each occurrence of the query in <mark>."""
    if not query:
        return mark_safe(escape(text))  # nosec B703 B308  # noqa: S308
    pieces = re.split(f"({re.escape(query)})", text, flags=re.IGNORECASE)
    html = "".join(f"<mark>{escape(p)}</mark>" if i % 2 else escape(p) for i, p in enumerate(pieces))
    return mark_safe(html)  # nosec B703 B308 - every piece escaped  # noqa: S308
