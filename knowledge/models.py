"""Articles of the knowledge base, their revisions, readers' feedback, registrations they
prevented (deflections) and the tickets that cited them.

Full-text search lives in the database: on PostgreSQL a stored generated ``search`` column
(title weighted above body, stemmed in the article's own language) with a GIN index, made by
migration 0002 and read through ``knowledge.selectors``; SQLite falls back to ``icontains``."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class ArticleStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    IN_REVIEW = "in_review", _("In review")
    PUBLISHED = "published", _("Published")
    ARCHIVED = "archived", _("Archived")


class Visibility(models.TextChoices):
    PUBLIC = "public", _("Public (anyone, without logging in)")
    CUSTOMERS = "customers", _("Customers (logged in)")
    STAFF = "staff", _("Support staff only")


class ArticleLanguage(models.TextChoices):
    NL = "nl", _("Dutch")
    EN = "en", _("English")


class Article(models.Model):
    """One article in one language; its translation is another article linked by
    ``translation_of`` (both ways through ``translations``). ``product`` empty: general."""

    slug = models.SlugField(_("address"), max_length=120, unique=True)
    title = models.CharField(_("title"), max_length=200)
    body_markdown = models.TextField(_("text (Markdown)"), max_length=50_000)
    language = models.CharField(_("language"), max_length=2, choices=ArticleLanguage.choices)
    product = models.ForeignKey(
        "tickets.Product",
        verbose_name=_("product"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="articles",
    )
    translation_of = models.ForeignKey(
        "self",
        verbose_name=_("translation of"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="translations",
    )
    status = models.CharField(
        _("status"), max_length=10, choices=ArticleStatus.choices, default=ArticleStatus.DRAFT
    )
    visibility = models.CharField(
        _("visibility"), max_length=10, choices=Visibility.choices, default=Visibility.CUSTOMERS
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="articles_written"
    )
    # Who wrote the current text: the revision it becomes on the next edit records them.
    last_editor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="articles_reviewed",
    )
    review_note = models.CharField(_("review note"), max_length=1000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    # Links in the text that are not allowed (scheme, host): reported on the editor, kept
    # here so the desk list can show which articles need mending.
    link_problems = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["title"]
        verbose_name = _("article")
        verbose_name_plural = _("articles")
        indexes = [
            models.Index(
                fields=["visibility", "product"],
                name="article_published",
                condition=Q(status="published"),
            ),
            models.Index(fields=["status", "-updated_at"], name="article_desk_list"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_published(self) -> bool:
        return self.status == ArticleStatus.PUBLISHED


class ArticleRevision(models.Model):
    """The text an article had before a save changed it: who wrote that version and when."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="revisions")
    title = models.CharField(max_length=200)
    body_markdown = models.TextField()
    edited_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    edited_at = models.DateTimeField()  # when this version was written (the article's updated_at)
    replaced_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-replaced_at", "-pk"]
        verbose_name = _("article revision")
        verbose_name_plural = _("article revisions")

    def __str__(self) -> str:
        return f"{self.article_id} @ {self.edited_at:%Y-%m-%d %H:%M}"


class ArticleFeedback(models.Model):
    """A reader's verdict on an article; a comment reaches the author as a notification."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="feedback")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    helpful = models.BooleanField(_("helpful"))
    comment = models.CharField(_("comment"), max_length=1000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("article feedback")
        verbose_name_plural = _("article feedback")

    def __str__(self) -> str:
        return f"{self.article_id} {'+' if self.helpful else '-'}"


class Deflection(models.Model):
    """A registration an article prevented: a coordinator typing a ticket found the answer
    and pressed "This solved it" instead of registering."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="deflections")
    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    title_typed = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("prevented registration")
        verbose_name_plural = _("prevented registrations")
        indexes = [models.Index(fields=["article", "created_at"])]

    def __str__(self) -> str:
        return f"{self.article_id} by {self.user_id}"


class Citation(models.Model):
    """A message of a ticket that linked an article (a reply from the desk's "Insert article",
    or a link typed by hand): the article page lists these tickets for staff."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="citations")
    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="+")
    message = models.ForeignKey("tickets.Message", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("citation")
        verbose_name_plural = _("citations")
        constraints = [models.UniqueConstraint(fields=["article", "message"], name="citation_once")]

    def __str__(self) -> str:
        return f"{self.article_id} in {self.ticket_id}"
