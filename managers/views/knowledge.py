"""Registrations the knowledge base prevented, per article: what the articles are worth."""

from datetime import timedelta

from django.shortcuts import render
from django.utils import timezone

from accounts.permissions import manager_required
from knowledge import selectors

# The periods a manager chooses between (days); anything else reads as all time.
PERIODS = (30, 90, 365)


@manager_required
def knowledge(request):
    try:
        days = int(request.GET.get("days", ""))
    except ValueError:
        days = 0
    days = days if days in PERIODS else 0
    since = timezone.now() - timedelta(days=days) if days else None
    return render(
        request,
        "managers/knowledge.html",
        {
            "articles": selectors.deflections_per_article(since=since)[:100],
            "total": selectors.deflections_count(since=since),
            "days": days,
            "periods": PERIODS,
        },
    )
