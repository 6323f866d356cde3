"""The readers' pages: the knowledge base's search and an article. Public articles need no
login; customers also see the customers' articles; staff see everything (drafts included)
and, on an article, the tickets that cited it."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from knowledge import selectors, services
from knowledge.forms import FeedbackForm, SearchForm, SolvedForm
from knowledge.models import Article, ArticleStatus, Citation
from knowledge.rendering import markdown_render

PAGE_SIZE = 20


def index(request):
    """Search, and the articles by product (newest first) when nothing is typed."""
    form = SearchForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    product = data.get("product")
    results = selectors.article_search(
        user=request.user, q=data.get("q", ""), product_id=product.pk if product else None
    )
    page = Paginator(results, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "knowledge/index.html",
        {"form": form, "page": page, "q": data.get("q", ""), "from_register": "from" in request.GET},
        status=200 if form.is_valid() or not request.GET else 400,
    )


def _article_for(request, slug: str) -> Article:
    article = (
        selectors.article_visible_to(request.user)
        .select_related("product", "author", "translation_of")
        .filter(slug=slug)
        .first()
    )
    if article is None:
        raise Http404
    return article


def article(request, slug: str):
    try:
        found = _article_for(request, slug)
    except Http404:
        # A customers' article linked in a mail: a reader who is not logged in logs in first.
        if (
            not request.user.is_authenticated
            and Article.objects.filter(
                slug=slug, status=ArticleStatus.PUBLISHED, visibility="customers"
            ).exists()
        ):
            return redirect_to_login(request.get_full_path())
        raise
    return render_article(request, found)


def render_article(request, found: Article, *, feedback_form=None, status=200):
    user = request.user
    staff = user.is_authenticated and user.is_support_staff
    translations = (
        selectors.article_visible_to(user)
        .filter(Q(translation_of=found) | Q(pk=found.translation_of_id or 0))
        .only("slug", "title", "language")
    )
    coordinator = user.is_authenticated and user.role == "coordinator"
    return render(
        request,
        "knowledge/article.html",
        {
            "article": found,
            "body_html": markdown_render(found.body_markdown),
            "translations": translations,
            "feedback_form": feedback_form or (FeedbackForm() if user.is_authenticated else None),
            "solved_form": SolvedForm(
                initial={"article": found.pk, "title": request.GET.get("title", "")[:200]}
            )
            if coordinator and found.is_published
            else None,
            "citations": Citation.objects.filter(article=found).select_related("ticket")[:50]
            if staff
            else None,
            "staff": staff,
        },
        status=status,
    )


@require_POST
@login_required
def feedback(request, slug: str):
    found = _article_for(request, slug)
    form = FeedbackForm(request.POST)
    if form.is_valid():
        try:
            services.article_feedback(
                article=found,
                by=request.user,
                helpful=form.cleaned_data["helpful"],
                comment=form.cleaned_data["comment"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Thank you for your feedback."))
            return redirect("kb:article", slug=found.slug)
    return render_article(request, found, feedback_form=form, status=400)
