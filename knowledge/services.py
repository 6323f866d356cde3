"""Writes of the knowledge base: editing with revisions, the review workflow, feedback,
deflections and citations. Each is keyword-only and atomic; views and tests call these."""

import re

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.text import slugify
from django.utils.translation import gettext as _

from accounts.models import Notification, NotificationTopic, User
from accounts.services import notifications_queue, site_url
from knowledge.models import (
    Article,
    ArticleFeedback,
    ArticleRevision,
    ArticleStatus,
    Citation,
    Deflection,
)
from knowledge.rendering import links_check

# Who may publish: a support manager reviews what staff wrote (issue 17).
EDITABLE_STATUSES = (ArticleStatus.DRAFT, ArticleStatus.IN_REVIEW, ArticleStatus.PUBLISHED)


def _known_slugs(slugs: set[str]) -> set[str]:
    return set(Article.objects.filter(slug__in=slugs).values_list("slug", flat=True))


def _require_staff(user: User) -> None:
    if not user.is_support_staff:
        raise PermissionDenied(_("Only support staff write knowledge base articles."))


def _unique_slug(title: str, *, language: str, exclude_pk: int | None = None) -> str:
    base = (slugify(title)[:100] or "article").strip("-") or "article"
    candidate = base
    taken = set(
        Article.objects.filter(slug__startswith=base).exclude(pk=exclude_pk).values_list("slug", flat=True)
    )
    if candidate in taken:
        candidate = f"{base}-{language}"
    number = 2
    while candidate in taken:
        candidate = f"{base}-{language}-{number}"
        number += 1
    return candidate


def _link_problems(body: str) -> list[dict]:
    return [{"url": p.url, "reason": str(p.reason)} for p in links_check(body, known_slugs=_known_slugs)]


@transaction.atomic
def article_create(
    *,
    by: User,
    title: str,
    body_markdown: str,
    language: str,
    visibility: str,
    product=None,
    translation_of: Article | None = None,
) -> Article:
    """A new draft; its address comes from the title (made unique)."""
    _require_staff(by)
    article = Article(
        slug=_unique_slug(title, language=language),
        title=title.strip(),
        body_markdown=body_markdown,
        language=language,
        visibility=visibility,
        product=product,
        translation_of=translation_of,
        author=by,
        last_editor=by,
        link_problems=_link_problems(body_markdown),
    )
    article.full_clean()
    article.save()
    return article


@transaction.atomic
def article_update(
    *,
    article: Article,
    by: User,
    title: str,
    body_markdown: str,
    language: str,
    visibility: str,
    product=None,
    translation_of: Article | None = None,
) -> Article:
    """Save an edit; the text it replaces is kept as a revision (who wrote it, when). Editing
    a published article is allowed (a typo should not wait) and stays published; an archived
    one must be brought back as a draft first."""
    _require_staff(by)
    article = Article.objects.select_for_update().get(pk=article.pk)
    if article.status == ArticleStatus.ARCHIVED:
        raise ValidationError(_("This article is archived: restore it as a draft to edit it."))
    if translation_of is not None and translation_of.pk == article.pk:
        raise ValidationError({"translation_of": _("An article cannot be a translation of itself.")})
    text_changed = (article.title, article.body_markdown) != (title.strip(), body_markdown)
    if text_changed:
        ArticleRevision.objects.create(
            article=article,
            title=article.title,
            body_markdown=article.body_markdown,
            edited_by_id=article.last_editor_id or article.author_id,
            edited_at=article.updated_at,
        )
    article.title = title.strip()
    article.body_markdown = body_markdown
    article.language = language
    article.visibility = visibility
    article.product = product
    article.translation_of = translation_of
    article.last_editor = by
    article.link_problems = _link_problems(body_markdown)
    article.full_clean()
    article.save()
    return article


def _transition(article: Article, *, allowed_from: tuple[str, ...], to: str) -> Article:
    locked = Article.objects.select_for_update().get(pk=article.pk)
    if locked.status not in allowed_from:
        raise ValidationError(
            _("This article is %(status)s; that step is not possible now.")
            % {"status": locked.get_status_display().lower()}
        )
    locked.status = to
    return locked


@transaction.atomic
def article_submit(*, article: Article, by: User) -> Article:
    """A draft goes to a manager for review."""
    _require_staff(by)
    article = _transition(article, allowed_from=(ArticleStatus.DRAFT,), to=ArticleStatus.IN_REVIEW)
    article.save(update_fields=["status", "updated_at"])
    return article


def _require_manager(user: User) -> None:
    if not user.is_manager:
        raise PermissionDenied(_("Only a support manager reviews and publishes articles."))


@transaction.atomic
def article_publish(*, article: Article, by: User) -> Article:
    """A manager approves an article in review: readers see it from now on."""
    _require_manager(by)
    article = _transition(article, allowed_from=(ArticleStatus.IN_REVIEW,), to=ArticleStatus.PUBLISHED)
    if article.link_problems:
        raise ValidationError(
            _("Mend the links first: %(links)s")
            % {"links": ", ".join(p["url"] for p in article.link_problems)}
        )
    article.reviewer = by
    article.review_note = ""
    article.published_at = timezone.now()
    article.save(update_fields=["status", "reviewer", "review_note", "published_at", "updated_at"])
    return article


@transaction.atomic
def article_send_back(*, article: Article, by: User, note: str) -> Article:
    """A manager returns an article in review to its author as a draft, saying why."""
    _require_manager(by)
    if not note.strip():
        raise ValidationError({"note": _("Say what the author should change.")})
    article = _transition(article, allowed_from=(ArticleStatus.IN_REVIEW,), to=ArticleStatus.DRAFT)
    article.reviewer = by
    article.review_note = note.strip()[:1000]
    article.save(update_fields=["status", "reviewer", "review_note", "updated_at"])
    _notify_author(
        article,
        lambda: (
            _("Your article was sent back: %(title)s") % {"title": article.title},
            _("%(reviewer)s sent your article back as a draft:\n\n%(note)s")
            % {"reviewer": by, "note": article.review_note},
        ),
    )
    return article


@transaction.atomic
def article_archive(*, article: Article, by: User) -> Article:
    """A manager takes an article out of the readers' sight; it and its history stay."""
    _require_manager(by)
    article = _transition(
        article, allowed_from=(ArticleStatus.PUBLISHED, ArticleStatus.DRAFT), to=ArticleStatus.ARCHIVED
    )
    article.save(update_fields=["status", "updated_at"])
    return article


@transaction.atomic
def article_restore(*, article: Article, by: User) -> Article:
    _require_staff(by)
    article = _transition(article, allowed_from=(ArticleStatus.ARCHIVED,), to=ArticleStatus.DRAFT)
    article.save(update_fields=["status", "updated_at"])
    return article


def _notify_author(article: Article, compose) -> None:
    """Tell the author, in their language: ``compose()`` makes (subject, body) inside it."""
    author = article.author
    link = site_url(reverse("desk_kb:detail", args=[article.pk]))
    with translation.override(author.language):
        subject, body = compose()
    row = Notification(
        recipient=author,
        topic=NotificationTopic.KNOWLEDGE,
        subject=subject[:200],
        body=f"{body}\n\n{link}",
        link=link,
    )
    notifications_queue([row])


@transaction.atomic
def article_feedback(*, article: Article, by: User, helpful: bool, comment: str = "") -> ArticleFeedback:
    """A reader's verdict; a comment reaches the author (a bare yes/no only counts)."""
    if not article.is_published:
        raise ValidationError(_("Only published articles take feedback."))
    comment = comment.strip()
    if len(comment) > 1000:
        raise ValidationError({"comment": _("At most 1000 characters.")})
    feedback = ArticleFeedback.objects.create(article=article, user=by, helpful=helpful, comment=comment)
    if comment and article.author_id != by.pk:
        _notify_author(
            article,
            lambda: (
                (_("Helpful: %(title)s") if helpful else _("Not helpful: %(title)s"))
                % {"title": article.title},
                _("%(reader)s (%(organisation)s) on your article:\n\n%(comment)s")
                % {"reader": by, "organisation": by.organisation or _("support"), "comment": comment},
            ),
        )
    return feedback


@transaction.atomic
def deflection_record(*, article: Article, by: User, title_typed: str = "") -> Deflection:
    """A coordinator found the answer while registering: count it, register nothing."""
    if not by.is_customer or by.organisation_id is None:
        raise PermissionDenied(_("Only customers register tickets."))
    if not article.is_published:
        raise ValidationError(_("This article is not published."))
    return Deflection.objects.create(
        article=article, organisation_id=by.organisation_id, user=by, title_typed=title_typed.strip()[:200]
    )


_KB_LINK = re.compile(r"/kb/([-a-zA-Z0-9_]+)/")


def citations_record(*, message) -> int:
    """Record the articles a ticket's message links to (by their /kb/<slug>/ address)."""
    slugs = set(_KB_LINK.findall(message.body or ""))
    if not slugs:
        return 0
    made = 0
    for article_id in Article.objects.filter(slug__in=slugs).values_list("pk", flat=True):
        try:
            with transaction.atomic():
                _, created = Citation.objects.get_or_create(
                    article_id=article_id, message_id=message.pk, defaults={"ticket_id": message.ticket_id}
                )
        except IntegrityError:  # the same message saved twice at once: once is enough
            created = False
        made += created
    return made
