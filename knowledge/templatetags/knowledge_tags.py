"""The managers' dashboard card "Registrations prevented by articles": a tag, so the dashboard
(below the knowledge base in the layers) shows it without importing it."""

from datetime import timedelta

from django import template
from django.utils import timezone

from knowledge.selectors import deflections_count

register = template.Library()

# The card's period: a month says whether the articles are read now.
CARD_DAYS = 30


@register.inclusion_tag("knowledge/_prevented_card.html")
def prevented_registrations_card():
    since = timezone.now() - timedelta(days=CARD_DAYS)
    return {"prevented": deflections_count(since=since), "days": CARD_DAYS}
