"""The support staff's side of the knowledge base under /desk/kb/: the list, the editor with
its preview, the review workflow (managers publish), revisions with their differences, and the
"Insert article" picker of the reply box."""

import difflib

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts.permissions import staff_required
from accounts.services import site_url
from knowledge import selectors, services
from knowledge.forms import ArticleForm, SendBackForm
from knowledge.models import Article, ArticleFeedback, ArticleRevision, ArticleStatus, Citation, Visibility
from knowledge.rendering import markdown_render

PAGE_SIZE = 50
PICK_RESULTS = 8


def _apply(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            for error in errors:
                form.add_error(field if field in form.fields else None, error)
    else:
        for error in exc.messages:
            form.add_error(None, error)


@staff_required
def article_list(request):
    status = request.GET.get("status", "")
    if status not in ArticleStatus.values:
        status = ""
    q = request.GET.get("q", "")[:200]
    page = Paginator(selectors.article_desk_list(status=status, q=q), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "knowledge/desk_list.html",
        {"page": page, "status": status, "q": q, "statuses": ArticleStatus.choices},
    )


def _editor(request, *, article: Article | None):
    initial = {}
    if article is not None:
        initial = {
            "title": article.title,
            "body_markdown": article.body_markdown,
            "language": article.language,
            "visibility": article.visibility,
            "product": article.product_id,
            "translation_of": article.translation_of.slug if article.translation_of else "",
        }
    else:
        initial = {"language": request.LANGUAGE_CODE[:2], "visibility": Visibility.CUSTOMERS}
    form = ArticleForm(request.POST or None, initial=initial)
    preview = None
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            if "preview" in request.POST:
                preview = markdown_render(data["body_markdown"])
                status = 200
            else:
                try:
                    if article is None:
                        article = services.article_create(by=request.user, **data)
                    else:
                        article = services.article_update(article=article, by=request.user, **data)
                except ValidationError as exc:
                    _apply(form, exc)
                else:
                    messages.success(request, _("The article was saved."))
                    for problem in article.link_problems:
                        messages.warning(
                            request,
                            _("Link %(url)s: %(reason)s")
                            % {"url": problem["url"], "reason": problem["reason"]},
                        )
                    return redirect("desk_kb:detail", pk=article.pk)
    return render(
        request,
        "knowledge/desk_edit.html",
        {"form": form, "article": article, "preview": preview},
        status=status,
    )


@staff_required
def article_new(request):
    return _editor(request, article=None)


@staff_required
def article_edit(request, pk: int):
    article = get_object_or_404(Article.objects.select_related("translation_of"), pk=pk)
    if article.status == ArticleStatus.ARCHIVED:
        messages.error(request, _("This article is archived: restore it as a draft to edit it."))
        return redirect("desk_kb:detail", pk=pk)
    return _editor(request, article=article)


@staff_required
def detail(request, pk: int, send_back_form=None, status=200):
    article = get_object_or_404(
        Article.objects.select_related("product", "author", "reviewer", "translation_of"), pk=pk
    )
    feedback = ArticleFeedback.objects.filter(article=article)
    return render(
        request,
        "knowledge/desk_detail.html",
        {
            "article": article,
            "body_html": markdown_render(article.body_markdown),
            "revisions": ArticleRevision.objects.filter(article=article).select_related("edited_by")[:50],
            "feedback": feedback.select_related("user", "user__organisation")[:20],
            "helpful": feedback.filter(helpful=True).count(),
            "not_helpful": feedback.filter(helpful=False).count(),
            "prevented": article.deflections.count(),
            "citations": Citation.objects.filter(article=article).select_related("ticket")[:50],
            "send_back_form": send_back_form or SendBackForm(),
            "public_url": site_url(reverse("kb:article", args=[article.slug])),
        },
        status=status,
    )


_STEPS = {
    "submit": (services.article_submit, gettext_lazy("The article was sent for review.")),
    "publish": (services.article_publish, gettext_lazy("The article is published.")),
    "archive": (services.article_archive, gettext_lazy("The article is archived.")),
    "restore": (services.article_restore, gettext_lazy("The article is a draft again.")),
}


@require_POST
@staff_required
def step(request, pk: int, step: str):
    article = get_object_or_404(Article, pk=pk)
    if step == "send-back":
        form = SendBackForm(request.POST)
        if form.is_valid():
            try:
                services.article_send_back(article=article, by=request.user, note=form.cleaned_data["note"])
            except ValidationError as exc:
                _apply(form, exc)
            else:
                messages.success(request, _("The article went back to its author as a draft."))
                return redirect("desk_kb:detail", pk=pk)
        return detail(request, pk, send_back_form=form, status=400)
    if step not in _STEPS:
        raise Http404
    service, done = _STEPS[step]
    try:
        service(article=article, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, done)
    return redirect("desk_kb:detail", pk=pk)


@staff_required
def revision(request, pk: int, revision_pk: int):
    """A revision beside the text that replaced it (the next revision, or the current text)."""
    revision = get_object_or_404(
        ArticleRevision.objects.select_related("article", "edited_by"), pk=revision_pk, article_id=pk
    )
    newer = ArticleRevision.objects.filter(article_id=pk, pk__gt=revision.pk).order_by("pk").first()
    after_title, after_body = (
        (newer.title, newer.body_markdown)
        if newer
        else (
            revision.article.title,
            revision.article.body_markdown,
        )
    )
    before = [f"# {revision.title}", *revision.body_markdown.splitlines()]
    after = [f"# {after_title}", *after_body.splitlines()]
    lines = [
        ("added" if line.startswith("+") else "removed" if line.startswith("-") else "same", line)
        for line in difflib.unified_diff(before, after, lineterm="", n=3)
        if not line.startswith(("+++", "---"))
    ]
    return render(
        request,
        "knowledge/desk_revision.html",
        {"revision": revision, "article": revision.article, "lines": lines, "newer": newer},
    )


@staff_required
def pick(request):
    """The reply box's "Insert article": published articles customers can read, as JSON."""
    q = request.GET.get("q", "")
    if len(q) > 200:
        return JsonResponse({"error": _("At most 200 characters.")}, status=400)
    found = selectors.article_search(user=request.user, q=q).exclude(visibility=Visibility.STAFF)
    return JsonResponse(
        {
            "articles": [
                {
                    "title": a.title,
                    "url": site_url(reverse("kb:article", args=[a.slug])),
                    "language": a.language,
                }
                for a in found.select_related(None).only("title", "slug", "language")[:PICK_RESULTS]
            ]
        }
    )
