"""A contact's notification preferences (SPEC §11 topics and ticket updates)."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import Subscription, User, subscribable_topics


@transaction.atomic
def notification_preferences_set(*, user: User, topics: set[str], digest: bool | None = None) -> set[str]:
    """Exactly these topics, no others: rows added and removed in one transaction. A topic
    left out is switched off for good (the defaults are only given to a new user). ``digest``
    (when given) chooses the daily digest instead of a mail per update."""
    allowed = set(subscribable_topics(user))
    if not set(topics) <= allowed:
        raise ValidationError({"topics": [_("Unknown topic.")]})
    Subscription.objects.filter(user=user).exclude(topic__in=topics).delete()
    Subscription.objects.bulk_create(
        [Subscription(user=user, topic=topic) for topic in topics], ignore_conflicts=True
    )
    if digest is not None and digest != user.notification_digest:
        user.notification_digest = digest
        user.save(update_fields=["notification_digest"])
    return set(topics)
