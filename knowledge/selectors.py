"""Reads of the knowledge base: what a reader may see, full-text search, the desk's lists and
the managers' count of prevented registrations.

Search on PostgreSQL: the ``search`` column (migration 0002) holds the title (weight A) and
text (weight B) stemmed in the article's language; a query is read with
``websearch_to_tsquery`` in Dutch *or* English (a reader need not say which language they
type), matched through the GIN index and ranked by ``ts_rank_cd``. On SQLite every word must
appear in the title or text (``icontains``), newest first."""

import re

from django.db import connection
from django.db.models import BooleanField, Count, FloatField, Q, QuerySet
from django.db.models.expressions import RawSQL

from knowledge.models import Article, ArticleStatus, Deflection, Visibility

# The longest query read: a title and a bit of description is plenty for suggestions, and
# websearch_to_tsquery's work grows with it.
MAX_QUERY_CHARS = 200
SUGGESTIONS = 5

_TSQUERY = "(websearch_to_tsquery('dutch', %s) || websearch_to_tsquery('english', %s))"
# The title's words make the query AND (websearch); suggestions read the typed title loosely,
# any of its words (OR), so "printer prints nothing blank" still finds the printer article.
_TSQUERY_ANY = "(to_tsquery('dutch', %s) || to_tsquery('english', %s))"


# ts_rank_cd's weights of D, C, B (text), A (title): a word in the title counts five times one
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


def _rank_postgres(queryset: QuerySet[Article], tsquery_sql: str, params: tuple) -> QuerySet[Article]:
    """``tsquery_sql`` is one of this module's constants; what the reader typed is a parameter.
    The ``search`` column is not a model field (migration 0002), hence RawSQL."""
    matched = RawSQL(f"knowledge_article.search @@ {tsquery_sql}", params, BooleanField())  # noqa: S611  # nosec B611
    rank = RawSQL(f"ts_rank_cd({_WEIGHTS}, knowledge_article.search, {tsquery_sql}, 1)", params, FloatField())  # noqa: S611  # nosec B611
    return (
        queryset.annotate(matched=matched, rank=rank)
        .filter(matched=True)
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
        return _rank_postgres(queryset, _TSQUERY, (q, q))
    words = _words(q) or [q]
    for word in words:
        queryset = queryset.filter(Q(title__icontains=word) | Q(body_markdown__icontains=word))
    return queryset.order_by("-published_at", "pk")


# Suggestions rank at most this many matching articles: ranking reads each match's tsvector,
# and a common word ("printer") can match tens of thousands of 100,000 articles; the first
# matches the index yields are ranked, which keeps a suggestion request bounded
# (bench/knowledge.py). Typing one more word narrows the matches below the cap.
SUGGESTION_CANDIDATES = 500


def _suggest_postgres(queryset: QuerySet[Article], words: list[str], limit: int) -> list[Article]:
    """All the typed words first; if that finds too few, any of them."""
    found: list[Article] = []
    for joiner in (" & ", " | "):
        # to_tsquery's own syntax: plain words (\w only, so no quote can break out), quoted.
        expression = joiner.join(f"'{w}'" for w in words)
        params = (expression, expression)
        match = RawSQL(f"knowledge_article.search @@ {_TSQUERY_ANY}", params, BooleanField())  # noqa: S611  # nosec B611
        candidates = (
            queryset.annotate(matched=match)
            .filter(matched=True)
            .order_by()
            .values("pk")[:SUGGESTION_CANDIDATES]
        )
        ranked = _rank_postgres(Article.objects.filter(pk__in=candidates), _TSQUERY_ANY, params)
        found += [a for a in ranked.only("slug", "title", "language", "product_id")[:limit] if a not in found]
        if len(found) >= limit or len(words) == 1:
            break
    return found[:limit]


def article_suggestions(*, user, text: str, limit: int = SUGGESTIONS) -> list[Article]:
    """The few articles most like what a coordinator is typing: those with all its words,
    then any, the more (and the more in the title) the better."""
    words = _words((text or "").replace("\x00", "")[:MAX_QUERY_CHARS])
    if not words:
        return []
    queryset = _published_for(user)
    if connection.vendor == "postgresql":
        return _suggest_postgres(queryset, words, limit)
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
