"""Reads of the knowledge base: what a reader may see, full-text search, the desk's lists and
the managers' count of prevented registrations.

Search on PostgreSQL: the ``search`` column (migration 0002) holds the title (weight A) and
text (weight B) stemmed in the article's language; a query is read with
``websearch_to_tsquery`` in Dutch *or* English (a reader need not say which language they
type), matched through the GIN index, and the first matches it yields (a bounded number, so a
common word costs no more than a rare one) are ranked by ``ts_rank``. On SQLite every word
must appear in the title or text (``icontains``), newest first."""

import re

from django.db import connection
from django.db.models import BooleanField, Count, FloatField, Q, QuerySet
from django.db.models.expressions import Expression

from knowledge.models import Article, ArticleStatus, Deflection, Visibility

# The longest query read: a title and a bit of description is plenty for suggestions, and
# websearch_to_tsquery's work grows with it.
MAX_QUERY_CHARS = 200
SUGGESTIONS = 5

_TSQUERY = "(websearch_to_tsquery('dutch', %s) || websearch_to_tsquery('english', %s))"
# The title's words make the query AND (websearch); suggestions read the typed title loosely,
# any of its words (OR), so "printer prints nothing blank" still finds the printer article.
_TSQUERY_ANY = "(to_tsquery('dutch', %s) || to_tsquery('english', %s))"


# ts_rank's weights of D, C, B (text), A (title): a word in the title counts five times one
# in the text (PostgreSQL's default is 2.5), so an article about the thing ranks above one
# that mentions it; normalisation 1 divides by 1 + log(length), so a long text does not win
# by repetition alone.
_WEIGHTS = "'{0.05, 0.1, 0.2, 1.0}'"


def visible_visibilities(user) -> tuple[str, ...]:
    if getattr(user, "is_authenticated", False):
        if user.is_support_staff:
            return tuple(Visibility.values)
        return (Visibility.PUBLIC, Visibility.CUSTOMERS)
    return (Visibility.PUBLIC,)


def article_visible_to(user) -> QuerySet[Article]:
    """Published articles the reader may see; staff also see every draft, review and archive.
    Tenant neutral: articles belong to no organisation."""
    if getattr(user, "is_authenticated", False) and user.is_support_staff:
        return Article.objects.all()
    return Article.objects.filter(status=ArticleStatus.PUBLISHED, visibility__in=visible_visibilities(user))


def _published_for(user) -> QuerySet[Article]:
    return Article.objects.filter(status=ArticleStatus.PUBLISHED, visibility__in=visible_visibilities(user))


def _words(q: str) -> list[str]:
    return [w for w in re.findall(r"\w+", q.lower()) if len(w) > 1][:12]


class _OnSearch(Expression):
    """SQL on the ``search`` column (migration 0002; not a model field): ``sql`` with
    ``{search}`` where the column goes, named through the alias of the query it is compiled
    in. A RawSQL naming ``knowledge_article.search`` is not relabelled when its queryset
    becomes a subquery (aliased U0): it silently read the outer row instead."""

    def __init__(self, sql: str, params: tuple, output_field) -> None:
        super().__init__(output_field=output_field)
        self.sql, self.params = sql, params

    def as_sql(self, compiler, connection):
        column = f"{compiler.quote_name_unless_alias(compiler.query.get_initial_alias())}.search"
        return self.sql.replace("{search}", column), self.params


# The search page ranks at most this many matches (50 pages of 20), the first the GIN index
# yields: a common word ("error") matches most of 100,000 articles, and ranking them all took
# ~400 ms (bench/knowledge.py). A reader narrows with another word. ts_rank, not ts_rank_cd:
# for the dozen terms of a few typed words (each in Dutch and English) cover density costs
# ~40 us an article, ts_rank ~2.
SEARCH_CANDIDATES = 1000


def _rank_postgres(queryset: QuerySet[Article], q: str) -> QuerySet[Article]:
    """What the reader typed is a parameter; the SQL is this module's constants."""
    params = (q, q)
    matched = _OnSearch(f"{{search}} @@ {_TSQUERY}", params, BooleanField())
    candidates = queryset.alias(matched=matched).filter(matched=True).order_by().values("pk")
    rank = _OnSearch(f"ts_rank({_WEIGHTS}, {{search}}, {_TSQUERY}, 1)", params, FloatField())
    return (
        queryset.filter(pk__in=candidates[:SEARCH_CANDIDATES])
        .annotate(rank=rank)
        .order_by("-rank", "-published_at", "pk")
    )


def article_search(*, user, q: str, product_id: int | None = None) -> QuerySet[Article]:
    """Published articles the reader may see that match ``q`` (websearch syntax: words,
    "a phrase", -not), best first. Empty ``q``: all of them, newest first."""
    q = q.replace("\x00", "")  # PostgreSQL refuses NUL in text: a typed NUL means nothing
    queryset = _published_for(user).select_related("product")
    if product_id:
        queryset = queryset.filter(Q(product_id=product_id) | Q(product__isnull=True))
    q = (q or "").strip()[:MAX_QUERY_CHARS]
    if not q:
        return queryset.order_by("-published_at", "pk")
    if connection.vendor == "postgresql":
        return _rank_postgres(queryset, q)
    words = _words(q) or [q]
    for word in words:
        queryset = queryset.filter(Q(title__icontains=word) | Q(body_markdown__icontains=word))
    return queryset.order_by("-published_at", "pk")


# Suggestions rank at most this many matching articles per pass: a common word ("error") can
# match tens of thousands of 100,000 articles, and ranking reads each match's tsvector; the
# first matches the index yields are ranked, which keeps a suggestion request bounded
# (bench/knowledge.py). Typing one more word narrows the matches below the cap.
SUGGESTION_CANDIDATES = 500

# The matches of one pass, as the GIN index yields them. A MATERIALIZED CTE is planned for all
# its rows, not for "the first 500": planned with the LIMIT, PostgreSQL chose a sequential scan
# for words its statistics think common ("mt940 bank statement import fails": 15% estimated,
# 3% found, 20,000 rows read), and merged the visibility filter into the index scan (a
# BitmapAnd with the 76,000 entries of ``article_published``, dearer than all the rest). Read
# lazily: the LIMIT below stops the heap reads after SUGGESTION_CANDIDATES visible matches.
_MATCHES_SQL = """{name} AS MATERIALIZED (
    SELECT a.id, a.slug, a.title, a.language, a.product_id, a.published_at, a.search,
        a.status, a.visibility
    FROM knowledge_article a
    WHERE a.search @@ {tsquery}
)"""
_CANDIDATES_SQL = """(
    SELECT m.id, m.slug, m.title, m.language, m.product_id, m.published_at, m.search
    FROM {name} m
    WHERE m.status = %(published)s AND m.visibility = ANY(%(visibilities)s)
    LIMIT %(candidates)s
)"""
_ALL = _TSQUERY_ANY.replace("%s", "%(all)s")
_ANY = _TSQUERY_ANY.replace("%s", "%(any)s")
# One statement: the articles with all the typed words first, then those with any; within
# each, ts_rank (the title counts five times the text) of any of the words. An article in
# both passes comes twice, side by side: the caller drops the second. Written out: the ORM
# has no MATERIALIZED CTE. (It was an ORM subquery with a RawSQL naming
# ``knowledge_article.search``, which read the outer row: see _OnSearch; a minute a request.)
_SUGGEST_SQL = """
WITH {matches}
SELECT c.id, c.slug, c.title, c.language, c.product_id
FROM ({candidates}) c
ORDER BY c.search @@ {all} DESC, ts_rank({weights}, c.search, {any}, 1) DESC, c.published_at DESC, c.id
LIMIT %(limit)s
"""


def _suggest_postgres(user, words: list[str], limit: int) -> list[Article]:
    # to_tsquery's own syntax: plain words (\w only, so no quote can break out), quoted.
    params = {
        "all": " & ".join(f"'{w}'" for w in words),
        "any": " | ".join(f"'{w}'" for w in words),
        "published": ArticleStatus.PUBLISHED,
        "visibilities": list(visible_visibilities(user)),
        "candidates": SUGGESTION_CANDIDATES,
        "limit": 2 * limit,
    }
    passes = [("match_all", _ALL)] + ([("match_any", _ANY)] if len(words) > 1 else [])
    sql = _SUGGEST_SQL.format(
        matches=", ".join(_MATCHES_SQL.format(name=name, tsquery=tsquery) for name, tsquery in passes),
        candidates=" UNION ALL ".join(_CANDIDATES_SQL.format(name=name) for name, _ in passes),
        all=_ALL,
        any=_ANY,
        weights=_WEIGHTS,
    )
    found: dict[int, Article] = {}
    for article in Article.objects.raw(sql, params):
        found.setdefault(article.pk, article)
    return list(found.values())[:limit]


def article_suggestions(*, user, text: str, limit: int = SUGGESTIONS) -> list[Article]:
    """The few articles most like what a coordinator is typing: those with all its words,
    then any, the more (and the more in the title) the better."""
    words = _words((text or "").replace("\x00", "")[:MAX_QUERY_CHARS])
    if not words:
        return []
    if connection.vendor == "postgresql":
        return _suggest_postgres(user, words, limit)
    queryset = _published_for(user)
    query = Q()
    for word in words:
        query |= Q(title__icontains=word)
    return list(
        queryset.only("slug", "title", "language", "product_id")
        .filter(query)
        .order_by("-published_at", "pk")[:limit]
    )


def article_desk_list(*, status: str = "", q: str = "") -> QuerySet[Article]:
    q = q.replace("\x00", "")
    queryset = Article.objects.select_related("product", "author").order_by("-updated_at", "-pk")
    if status:
        queryset = queryset.filter(status=status)
    if q:
        queryset = queryset.filter(title__icontains=q[:MAX_QUERY_CHARS])
    return queryset


def deflections_per_article(*, since=None) -> QuerySet[Article]:
    """Articles that prevented registrations (since ``since``), most first, with the count."""
    counted = Q(deflections__created_at__gte=since) if since is not None else Q()
    return (
        Article.objects.annotate(prevented=Count("deflections", filter=counted))
        .filter(prevented__gt=0)
        .select_related("product")
        .order_by("-prevented", "title")
    )


def deflections_count(*, since=None) -> int:
    deflections = Deflection.objects.all()
    if since is not None:
        deflections = deflections.filter(created_at__gte=since)
    return deflections.count()
