"""Customer satisfaction (issue 17): once a resolution is confirmed, or the ticket closed by
itself, the customer is asked one question - 1 to 5, an optional comment - in the portal and
through a signed link in the resolution and closing mails that works without logging in.

One rating per ticket, enforced by its unique key (a link used twice, or two tabs at once:
the second gets "already rated" and changes nothing). A score of 1 or 2 notifies the support
managers who receive the topic (on by default for managers)."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import STAFF_ROLES, Notification, NotificationTopic, Role, User
from accounts.services import notifications_queue, site_url
from sla.models import Clock, TransitionKind
from tickets.choices import MessageKind, TicketStatus
from tickets.models import Message, RatingChannel, SatisfactionRating, Ticket
from tickets.services._common import field_error, require_access

# The managers' weeks are Amsterdam weeks (Monday), as the dashboard's trend.
AMSTERDAM = ZoneInfo("Europe/Amsterdam")
# A mailed link (and the portal's question) is good for this long after it was made.
RATING_LINK_DAYS = 30
RATING_SALT = "tickets.satisfaction.rate"
# Scores at or below this notify the support managers.
LOW_SCORE = 2


class AlreadyRated(Exception):
    """The ticket has its rating: nothing was changed."""

    def __init__(self, rating: SatisfactionRating):
        self.rating = rating
        super().__init__(_("This ticket was already rated. Thank you!"))


class RatingLinkInvalid(Exception):
    """A link that was altered, is not ours, or has expired."""

    def __init__(self, message: str, *, expired: bool = False):
        self.expired = expired
        super().__init__(message)


# --- the signed link ------------------------------------------------------------------------


def rating_token(ticket: Ticket) -> str:
    """A token naming the ticket, signed with SECRET_KEY and this feature's salt (so no other
    signed value of the site passes for one) and timestamped for the expiry."""
    return signing.dumps({"t": ticket.pk}, salt=RATING_SALT, compress=False)


def rating_url(ticket: Ticket) -> str:
    return site_url(reverse("rate", args=[rating_token(ticket)]))


def rating_ticket_from_token(token: str) -> Ticket:
    """The ticket a token names; RatingLinkInvalid when altered, not ours, or older than
    RATING_LINK_DAYS."""
    try:
        payload = signing.loads(token[:500], salt=RATING_SALT, max_age=timedelta(days=RATING_LINK_DAYS))
    except signing.SignatureExpired as exc:
        raise RatingLinkInvalid(
            _("This link has expired: ratings are given within %(days)d days.") % {"days": RATING_LINK_DAYS},
            expired=True,
        ) from exc
    except (signing.BadSignature, ValueError) as exc:
        raise RatingLinkInvalid(_("This link is not valid.")) from exc
    ticket_id = payload.get("t") if isinstance(payload, dict) else None
    ticket = Ticket.objects.filter(pk=ticket_id).first() if isinstance(ticket_id, int) else None
    if ticket is None:
        raise RatingLinkInvalid(_("This link is not valid."))
    return ticket


def rating_invitation(ticket: Ticket) -> str:
    """The paragraph the resolution and closing mails end with."""
    return _(
        "How satisfied are you with how this ticket was handled? Give a score from 1 to 5 (no "
        "login needed; the link works once, for %(days)d days): %(url)s"
    ) % {"days": RATING_LINK_DAYS, "url": rating_url(ticket)}


# --- asking and answering -----------------------------------------------------------------


def is_ratable(ticket: Ticket) -> bool:
    """Resolved, or closed after a resolution (confirmed or by itself); not a ticket closed as
    a duplicate or not covered, which support never resolved."""
    return ticket.resolved_at is not None and ticket.status in (TicketStatus.RESOLVED, TicketStatus.CLOSED)


def portal_asks(ticket: Ticket, *, rating: SatisfactionRating | None) -> bool:
    """The portal's ticket page asks once the ticket is closed after a resolution (confirmed
    or by itself), within the link's period, until it is answered."""
    return (
        rating is None
        and ticket.status == TicketStatus.CLOSED
        and ticket.resolved_at is not None
        and ticket.closed_at is not None
        and timezone.now() - ticket.closed_at <= timedelta(days=RATING_LINK_DAYS)
    )


def week_of(instant: datetime) -> date:
    day = instant.astimezone(AMSTERDAM).date()
    return day - timedelta(days=day.weekday())


def _sla_met(ticket: Ticket) -> bool:
    """Every clock with a target stayed within it: none went past its deadline (a breach is
    recorded once, ``ClockTransition``) nor used more than its target."""
    return not (
        Clock.objects.filter(ticket=ticket, target_seconds__isnull=False)
        .filter(Q(transitions__kind=TransitionKind.BREACHED) | Q(consumed_seconds__gt=F("target_seconds")))
        .exists()
    )


def _agent_id(ticket: Ticket) -> int | None:
    """The assignee; a ticket nobody was assigned to counts for whoever of support wrote to
    the customer last (the resolution, for a ticket closed after one)."""
    if ticket.assignee_id:
        return ticket.assignee_id
    return (
        Message.objects.filter(ticket=ticket, kind=MessageKind.REPLY, author__role__in=STAFF_ROLES)
        .order_by("-created_at", "-pk")
        .values_list("author_id", flat=True)
        .first()
    )


@dataclass(frozen=True)
class RatingInput:
    score: int
    comment: str


def _clean(score, comment: str) -> RatingInput:
    try:
        score = int(score)
    except (TypeError, ValueError):
        score = None
    if score not in SatisfactionRating.SCORES:
        raise field_error("score", _("Choose a score from 1 to 5."))
    comment = (comment or "").strip()
    if len(comment) > SatisfactionRating.COMMENT_MAX:
        raise field_error(
            "comment",
            _("Keep the comment under %(max)d characters.") % {"max": SatisfactionRating.COMMENT_MAX},
        )
    return RatingInput(score, comment)


def satisfaction_rate(
    *, ticket: Ticket, score, comment: str = "", by: User | None = None, via_link: bool = False
) -> SatisfactionRating:
    """Record the one rating of ``ticket``. In the portal ``by`` is the customer (of the
    ticket's organisation); through a mailed link nobody is logged in and the ticket's requester
    is recorded. Raises AlreadyRated (nothing changed) for a second one."""
    cleaned = _clean(score, comment)
    if not via_link:
        if by is None or not by.is_customer:
            raise PermissionDenied(_("Only the customer rates a ticket."))
        require_access(ticket, by)
    existing = SatisfactionRating.objects.filter(ticket_id=ticket.pk).first()
    if existing is not None:
        raise AlreadyRated(existing)
    ticket = Ticket.objects.get(pk=ticket.pk)
    if not is_ratable(ticket):
        raise ValidationError(_("A ticket can be rated once it is resolved."), code="invalid_transition")
    now = timezone.now()
    rating = SatisfactionRating(
        ticket=ticket,
        score=cleaned.score,
        comment=cleaned.comment,
        rated_by=by if not via_link else ticket.registered_by,
        channel=RatingChannel.MAIL if via_link else RatingChannel.PORTAL,
        created_at=now,
        week=week_of(now),
        organisation_id=ticket.organisation_id,
        agent_id=_agent_id(ticket),
        service_level_id=ticket.service_level_id,
        product_id=ticket.product_id,
        sla_met=_sla_met(ticket),
    )
    try:
        with transaction.atomic():
            rating.save()
            if rating.score <= LOW_SCORE:
                _notify_managers(rating)
    except IntegrityError as exc:  # a concurrent answer won the unique key
        winner = SatisfactionRating.objects.filter(ticket_id=ticket.pk).first()
        if winner is None:
            raise
        raise AlreadyRated(winner) from exc
    return rating


def _notify_managers(rating: SatisfactionRating) -> None:
    """In the rating's transaction: the outbox rows, delivered after commit."""
    ticket = rating.ticket
    managers = User.objects.filter(
        role=Role.MANAGER, is_active=True, subscriptions__topic=NotificationTopic.LOW_SATISFACTION
    ).distinct()
    link = site_url(reverse("desk:detail", args=[ticket.pk]))
    rows = []
    for manager in managers:
        with translation.override(manager.language):
            subject = _("Low satisfaction score %(score)d/5 on %(reference)s %(title)s") % {
                "score": rating.score,
                "reference": ticket.reference,
                "title": ticket.title,
            }
            body = _(
                "%(organisation)s rated %(reference)s %(score)d out of 5.\n\nComment: %(comment)s\n"
                "SLA met: %(met)s"
            ) % {
                "organisation": ticket.organisation,
                "reference": ticket.reference,
                "score": rating.score,
                "comment": rating.comment or "-",
                "met": _("yes") if rating.sla_met else _("no"),
            }
        rows.append(
            Notification(
                recipient=manager,
                topic=NotificationTopic.LOW_SATISFACTION,
                subject=subject[:200],
                body=body,
                link=link,
            )
        )
    notifications_queue(rows)
