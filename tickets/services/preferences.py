"""A contact's notification preferences (SPEC §11 topics and ticket updates)."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import SUBSCRIBABLE_TOPICS, Subscription, User


@transaction.atomic
def notification_preferences_set(*, user: User, topics: set[str]) -> set[str]:
    """Exactly these topics, no others: rows added and removed in one transaction."""
    allowed = {topic.value for topic in SUBSCRIBABLE_TOPICS}
    if not set(topics) <= allowed:
        raise ValidationError({"topics": [_("Unknown topic.")]})
    Subscription.objects.filter(user=user).exclude(topic__in=topics).delete()
    Subscription.objects.bulk_create(
        [Subscription(user=user, topic=topic) for topic in topics], ignore_conflicts=True
    )
    return set(topics)
