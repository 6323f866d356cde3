"""What the list pages keep in the shared cache: rendered rows, the filter forms, large counts,
a user's saved views and the hours left on the organisation's cards.

At a million tickets the desk queue cost ~80 ms a request, nearly all of it loading tickets and
clocks through the ORM and rendering them; the goal (bench/desk.py: 150 requests/s on two
cores) leaves ~10 ms of CPU for the whole request.

A row is cached under a stamp read in one light query (``ROW_STAMP``) and the minute, and the
page loads and renders only the rows not in the cache. The filter forms' option lists (200
organisations) carry a version that any change to their models replaces. A large count may be
a few seconds old. Saved views and hours left are deleted after the commit that changes them.

Under load the web workers share two cores with PostgreSQL and Redis, and each round trip
costs a context switch or two: a list page asks the cache twice (``cached_list_page``) and the
database for the session's user, the page's stamps and nothing else.
"""

import hashlib
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.paginator import Page, Paginator
from django.db import transaction
from django.template.loader import get_template
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

from tickets.models import HoursBooking
from tickets.selectors import ticket_rows

# What changes when a list row would: every write through a service bumps ``version`` and
# ``updated_at`` (a save() outside them, e.g. the admin, ``updated_at``); the SLA engine's own
# recomputations move ``due_at``/``at_risk_at``. The business time left moves with the minute,
# which is in the key too, so a row is at most a minute old (names of organisations, products
# and assignees included). The primary key comes first.
ROW_STAMP = ("pk", "version", "updated_at", "due_at", "at_risk_at")
ROW_SECONDS = 2 * 60
# Counting 20,000 active tickets (index-only) takes ~2.6 ms of PostgreSQL, a fifth of the
# budget; below this many the count is cheap and always exact.
COUNT_CACHE_FROM = 1_000
COUNT_SECONDS = 10
FILTER_CHOICES_VERSION_KEY = "tickets:filter-choices-version"
# The filter form and what a page shows beside its rows (a user's saved views, the hours left
# on the cards) are replaced when they change, and gone after this in case a change bypassed
# the signals.
PARTS_SECONDS = 10 * 60


def rendered_rows(
    stamps: Sequence[tuple], template_name: str, load: Callable[[list[int]], dict[int, dict]]
) -> list[SafeString]:
    """The rows of a page, in the order of ``stamps`` (``ROW_STAMP`` values); ``load(pks)``
    returns the template context of each row not in the cache by its primary key. One cache
    round trip for the page; a row that is gone by the time it is loaded is left out."""
    context = (get_language(), timezone.get_current_timezone_name(), int(time.time()) // 60)
    keys = [f"row:{template_name}:{_digest(repr((context, stamp)))}" for stamp in stamps]
    found = cache.get_many(keys)
    missing = {key: stamp[0] for key, stamp in zip(keys, stamps, strict=True) if key not in found}
    if missing:
        template = get_template(template_name)
        contexts = load(list(missing.values()))
        rendered = {key: template.render(contexts[pk]) for key, pk in missing.items() if pk in contexts}
        cache.set_many(rendered, ROW_SECONDS)
        found.update(rendered)
    return [mark_safe(found[key]) for key in keys if key in found]  # noqa: S308 - our templates  # nosec B308 B703


@dataclass
class ListPage:
    page: Page
    rows: list[SafeString]
    filters: SafeString  # the filter form's fields
    query: str  # the filters' query string, without the page number
    extras: dict[str, Any]


def cached_list_page(
    request,
    tickets,
    *,
    row_template: str,
    filter_form,
    filter_template: str,
    filter_choices: bool = False,
    extras: Mapping[str, tuple[str, Callable[[], Any]]] = MappingProxyType({}),
    stamp: Sequence[str] = ROW_STAMP,
) -> ListPage:
    """A list page of ``tickets`` (the desk queue, the portal list) in two cache round trips:
    the count, the filter form's fields (``filter_template`` rendered with ``filter_form``),
    with ``filter_choices`` the version of their option lists, and the ``extras`` the page
    shows (name: (cache key, loader on a miss)) first; then the rows. ``stamp``: what a row
    is cached under (``ROW_STAMP``, and whatever else the row shows, e.g. an annotation)."""
    query = request.GET.copy()
    query.pop("page", None)
    query = query.urlencode()
    count_key = f"count:{_digest(f'{row_template}:{request.user.pk}:{query}')}"
    filters_key = f"filters:{filter_template}:{get_language()}:{_digest(query)}"
    keys = [count_key, filters_key, *(key for key, _ in extras.values())]
    found = cache.get_many([*keys, FILTER_CHOICES_VERSION_KEY] if filter_choices else keys)
    missing = {key: load() for key, load in extras.values() if key not in found}
    version = (found.get(FILTER_CHOICES_VERSION_KEY) or filter_choices_version()) if filter_choices else ""
    cached_version, filters = found.get(filters_key, (None, None))
    if filters is None or cached_version != version:
        filters = get_template(filter_template).render({"form": filter_form})
        missing[filters_key] = (version, filters)
    if missing:
        cache.set_many(missing, PARTS_SECONDS)
        found.update(missing)

    page = CachedCountPaginator(
        tickets.prefetch_related(None).values_list(*stamp),
        settings.TICKETS_PAGE_SIZE,
        count_key=count_key,
        cached_count=found.get(count_key),
    ).get_page(request.GET.get("page"))
    rows = rendered_rows(page.object_list, row_template, lambda pks: ticket_rows(tickets, pks))
    extras = {name: found[key] for name, (key, _) in extras.items()}
    return ListPage(page, rows, mark_safe(filters), query, extras)  # noqa: S308 - our template  # nosec B308 B703


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def filter_choices_version() -> str:
    """Part of the filter forms' fragment key: replaced when an organisation, service level
    or product is saved or deleted (``filter_choices_changed``)."""
    return cache.get_or_set(FILTER_CHOICES_VERSION_KEY, lambda: uuid.uuid4().hex, None)


def filter_choices_changed(**kwargs) -> None:
    _delete_after_commit(FILTER_CHOICES_VERSION_KEY)


def saved_views_key(user_id: int) -> str:
    return f"saved-views:{user_id}"


def saved_views_changed(instance, **kwargs) -> None:
    _delete_after_commit(saved_views_key(instance.user_id))


def hours_left_key(organisation_id: int) -> str:
    # The day is in the key: a card stops counting after its last valid day.
    return f"hours-left:{organisation_id}:{timezone.localdate().isoformat()}"


def hours_left_changed(instance, **kwargs) -> None:
    """A card or a booking (``instance``) was saved or deleted."""
    card = instance.card if isinstance(instance, HoursBooking) else instance
    _delete_after_commit(hours_left_key(card.organisation_id))


def bulk_form_key(language: str | None = None) -> str:
    """The desk queue's bulk action fields, which list the staff to assign to."""
    return f"bulk-form:{language or get_language()}"


def staff_changed(**kwargs) -> None:
    """A user was saved or deleted: the bulk form's assignee list may have changed."""
    for code, _name in settings.LANGUAGES:
        _delete_after_commit(bulk_form_key(code))


def mail_drafts_key(organisation_id: int) -> str:
    return f"mail-drafts:{organisation_id}"


def mail_drafts_changed(instance, **kwargs) -> None:
    """A mail draft was saved or deleted: the count in the portal navigation changes."""
    _delete_after_commit(mail_drafts_key(instance.organisation_id))


def mail_drafts_load(organisation_id: int) -> int:
    """What is cached under ``mail_drafts_key``: the count, or -1 for "no link" (a cache
    cannot tell a stored None from a miss)."""
    from tickets.selectors import mail_drafts_pending_count

    count = mail_drafts_pending_count(organisation_id=organisation_id)
    return -1 if count is None else count


def mail_drafts_pending(organisation_id: int, cached: int | None = None) -> int | None:
    """The count in the coordinators' navigation, from the cache (one round trip) or counted;
    ``cached``: what the caller already read under the key."""
    if cached is None:
        key = mail_drafts_key(organisation_id)
        cached = cache.get(key)
        if cached is None:
            cached = mail_drafts_load(organisation_id)
            cache.set(key, cached, PARTS_SECONDS)
    return None if cached < 0 else cached


def _delete_after_commit(key: str) -> None:
    # Not before: a page read in between would cache the old value again.
    transaction.on_commit(lambda: cache.delete(key))


class CachedCountPaginator(Paginator):
    """Counts of ``COUNT_CACHE_FROM`` or more rows are kept ``COUNT_SECONDS`` under
    ``count_key`` (which must name the user and the filters): the number on the page may then
    be a few seconds old. ``cached_count`` is what the caller found under the key."""

    def __init__(self, object_list, per_page, *, count_key: str, cached_count: int | None, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.count_key = count_key
        self.cached_count = cached_count

    @cached_property
    def count(self) -> int:
        count = self.cached_count
        if count is None:
            count = super().count
            if count >= COUNT_CACHE_FROM:
                cache.set(self.count_key, count, COUNT_SECONDS)
        return count


# --- the ticket page's parts that are the same for every ticket -----------------------------

# The RACI table and the macros: read on every desk ticket page (one query each before) and
# changed rarely; deleted after the commit that changes them, gone after PARTS_SECONDS anyway.
RACI_KEY = "raci-table"
MACROS_KEY = "macros-all"


def raci_changed(**kwargs) -> None:
    _delete_after_commit(RACI_KEY)


def macros_changed(**kwargs) -> None:
    _delete_after_commit(MACROS_KEY)


def ticket_page_parts(user) -> tuple[dict, list]:
    """The RACI table ({(step, role): letter}) and ``user``'s macros (their own and the shared
    ones, in the macros' order), in one cache round trip; loaded and stored on a miss."""
    from tickets.models import Macro
    from tickets.selectors import raci_table

    found = cache.get_many([RACI_KEY, MACROS_KEY])
    raci = found.get(RACI_KEY)
    if raci is None:
        raci = raci_table()
        cache.set(RACI_KEY, raci, PARTS_SECONDS)
    macros = found.get(MACROS_KEY)
    if macros is None:
        macros = list(Macro.objects.all())
        cache.set(MACROS_KEY, macros, PARTS_SECONDS)
    return raci, [macro for macro in macros if macro.shared or macro.owner_id == user.pk]
