"""What every ticket service shares: locking with the version check, the RACI checks, the
history of changes, the deadline columns of the queue, and notifications by the RACI table."""

from datetime import date, datetime
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import Notification, NotificationTopic, Role, User, WebhookEvent
from accounts.services import notifications_queue, site_url
from accounts.webhooks import webhook_emit
from sla.models import Clock, ClockState
from sla_portal.errors import StaleVersion
from tickets import selectors
from tickets.choices import ProcessStep, RaciLetter, RaciRole
from tickets.models import Ticket, TicketChange


class TicketConflict(StaleVersion):
    """The ticket changed since the form was shown: the second of two concurrent edits."""

    def __init__(self, ticket: Ticket, seen_version: int):
        self.ticket_id, self.seen_version, self.current_version = ticket.pk, seen_version, ticket.version
        super().__init__(
            _(
                "%(reference)s was changed by someone else while you were working on it "
                "(you saw version %(seen)d, it is now at version %(now)d). Nothing of your "
                "change was saved: reload the ticket, check the other change and try again."
            )
            % {"reference": ticket.reference, "seen": seen_version, "now": ticket.version}
        )


# Fields a service may write; each one that changed is saved in one conditional UPDATE.
SAVED_FIELDS = [
    "kind",
    "change_type",
    "title",
    "description",
    "product_id",
    "module_id",
    "hosting",
    "nature",
    "impact",
    "urgency",
    "priority",
    "priority_overridden",
    "priority_reason",
    "status",
    "step",
    "clarity",
    "problem_type",
    "consultancy",
    "consultancy_hours",
    "consultant_id",
    "consultancy_date",
    "planned_for",
    "todo",
    "resolution",
    "close_reason",
    "assignee_id",
    "first_response_at",
    "resolved_at",
    "closed_at",
    "due_at",
    "at_risk_at",
]
# ... and those of them the history shows (the others follow from these or from the clocks).
HISTORY_FIELDS = [
    "kind",
    "change_type",
    "title",
    "product",
    "module",
    "hosting",
    "impact",
    "urgency",
    "priority",
    "priority_reason",
    "status",
    "step",
    "clarity",
    "problem_type",
    "consultancy",
    "consultancy_hours",
    "consultant",
    "consultancy_date",
    "planned_for",
    "todo",
    "close_reason",
    "assignee",
]


def lock(ticket: Ticket | int, *, expected_version: int | None) -> Ticket:
    """Load the ticket locked for this transaction (PostgreSQL; SQLite serialises writers) and
    refuse when the caller saw an older version."""
    pk = ticket.pk if isinstance(ticket, Ticket) else ticket
    locked = (
        Ticket.objects.select_for_update(of=("self",))
        .select_related("service_level__calendar", "organisation")
        .get(pk=pk)
    )
    if expected_version is not None and locked.version != expected_version:
        raise TicketConflict(locked, expected_version)
    return locked


def snapshot(ticket: Ticket) -> dict[str, object]:
    return {name: getattr(ticket, name) for name in SAVED_FIELDS}


def _display(ticket: Ticket, name: str) -> str:
    field = Ticket._meta.get_field(name)
    if field.is_relation:
        value = getattr(ticket, name)
    elif field.choices:
        value = getattr(ticket, f"get_{name}_display")() if getattr(ticket, name) not in ("", None) else ""
    else:
        value = getattr(ticket, name)
    if value is None:
        return ""
    if isinstance(value, datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date | Decimal):
        return str(value)
    return str(value)[:500]


def commit(
    ticket: Ticket,
    *,
    by: User | None,
    before: dict[str, object],
    before_display: dict[str, str] | None = None,
) -> Ticket:
    """Save what changed with ``UPDATE ... WHERE version = <the version we read>``: if another
    writer got there first (possible where the row lock is not, e.g. SQLite), nothing is
    written and the caller gets a conflict. Every changed history field gets a row."""
    after = snapshot(ticket)
    changed = {name: value for name, value in after.items() if value != before[name]}
    now = timezone.now()
    updated = Ticket.objects.filter(pk=ticket.pk, version=ticket.version).update(
        **changed, version=ticket.version + 1, updated_at=now
    )
    if not updated:
        current = Ticket.objects.get(pk=ticket.pk)
        raise TicketConflict(current, ticket.version)
    ticket.version += 1
    if "status" in changed:
        webhook_emit(
            event=WebhookEvent.TICKET_STATUS_CHANGED,
            payloads=[dict(ticket_payload(ticket), old_status=before["status"])],
        )
    if before_display is not None:
        rows = []
        for name in HISTORY_FIELDS:
            new = _display(ticket, name)
            if new != before_display[name]:
                rows.append(
                    TicketChange(ticket=ticket, by=by, at=now, field=name, old=before_display[name], new=new)
                )
        TicketChange.objects.bulk_create(rows)
    return ticket


def ticket_payload(ticket: Ticket) -> dict[str, object]:
    """What a webhook receiver gets of a ticket: enough to decide whether to fetch the rest."""
    return {
        "ticket": ticket.reference,
        "ticket_id": ticket.pk,
        "organisation_id": ticket.organisation_id,
        "kind": ticket.kind,
        "priority": ticket.priority,
        "status": ticket.status,
        "due_at": ticket.due_at,
        "updated_at": timezone.now(),
    }


def displays(ticket: Ticket) -> dict[str, str]:
    return {name: _display(ticket, name) for name in HISTORY_FIELDS}


class Edit:
    """``with Edit(ticket, by=...) as t:`` - snapshot, change, then one checked save with history."""

    def __init__(self, ticket: Ticket, *, by: User | None):
        self.ticket, self.by = ticket, by

    def __enter__(self) -> Ticket:
        self.before, self.before_display = snapshot(self.ticket), displays(self.ticket)
        return self.ticket

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            commit(self.ticket, by=self.by, before=self.before, before_display=self.before_display)


def record(ticket: Ticket, *, by: User | None, field: str, old: str = "", new: str = "") -> None:
    """A history row for something that is not a ticket column (a bug's status, a booking)."""
    TicketChange.objects.create(
        ticket=ticket, by=by, at=timezone.now(), field=field, old=old[:500], new=new[:500]
    )


# --- who may do what --------------------------------------------------------------------


def require_access(ticket: Ticket, user: User) -> None:
    """Services check tenancy themselves too: a customer acts only on their organisation's."""
    if user.is_support_staff:
        return
    if not user.is_customer or user.organisation_id != ticket.organisation_id:
        raise PermissionDenied(_("This ticket is not one of your organisation's."))


def require_step(user: User, step: str, *, ticket: Ticket | None = None) -> None:
    """R or A for ``step`` in the RACI table, else refused with the reason."""
    if ticket is not None:
        require_access(ticket, user)
    role = selectors.raci_role(user)
    letter = selectors.raci_letter(step=step, role=role) if role else None
    if letter not in (RaciLetter.RESPONSIBLE, RaciLetter.ACCOUNTABLE):
        raise PermissionDenied(
            _('As %(role)s you may not perform step "%(step)s" (RACI: %(letter)s).')
            % {
                "role": RaciRole(role).label if role else _("this user"),
                "step": ProcessStep(step).label,
                "letter": letter or "-",
            }
        )


def require_staff(user: User) -> None:
    if not user.is_support_staff:
        raise PermissionDenied(_("Only support staff may do this."))


def require_status(ticket: Ticket, allowed, *, action: str) -> None:
    if ticket.status not in allowed:
        raise ValidationError(
            _("You cannot %(action)s a ticket that is %(status)s.")
            % {"action": action, "status": ticket.get_status_display().lower()},
            code="invalid_transition",
        )


# --- clocks -> the queue's columns --------------------------------------------------------


def deadlines_sync(ticket: Ticket) -> None:
    """Copy the nearest running deadline onto the ticket (the queue sorts on it)."""
    nearest = (
        Clock.objects.filter(ticket=ticket, state=ClockState.RUNNING, due_at__isnull=False)
        .order_by("due_at")
        .values("due_at", "at_risk_at")
        .first()
    )
    ticket.due_at = nearest["due_at"] if nearest else None
    ticket.at_risk_at = nearest["at_risk_at"] if nearest else None


# --- notifications by the RACI table --------------------------------------------------------


def _recipients(ticket: Ticket, roles: set[str]) -> list[User]:
    """Customers: the registrant and the coordinators who receive ticket updates (on by
    default, ``accounts.models.DEFAULT_TOPICS``; off when they switched it off); support: the
    assignee; consultant: the ticket's consultant. The manager is accountable, not notified
    per step (the dashboard and the sweep's digests are theirs)."""
    query = Q(pk__in=[])
    if RaciRole.CUSTOMER in roles:
        query |= Q(
            organisation_id=ticket.organisation_id, subscriptions__topic=NotificationTopic.TICKET_UPDATE
        ) & (Q(pk=ticket.registered_by_id) | Q(role=Role.COORDINATOR))
    if RaciRole.SUPPORT in roles and ticket.assignee_id:
        query |= Q(pk=ticket.assignee_id)
    if RaciRole.CONSULTANT in roles and ticket.consultant_id:
        query |= Q(pk=ticket.consultant_id)
    return list(User.objects.filter(query, is_active=True).distinct())


def notify(ticket: Ticket, *, roles: set[str], by: User | None, what: str, body: str = "") -> int:
    """Write notifications to the outbox in this transaction; deliver after commit (or hold
    for the recipient's daily digest). Each carries the absolute link to the ticket's page of
    the recipient's side: the portal for customers, the desk for staff."""
    recipients = [user for user in _recipients(ticket, roles) if by is None or user.pk != by.pk]
    links = {
        True: site_url(reverse("portal:detail", args=[ticket.pk])),
        False: site_url(reverse("desk:detail", args=[ticket.pk])),
    }
    rows = []
    for user in recipients:
        with translation.override(user.language):
            subject = _("%(reference)s %(title)s: %(what)s") % {
                "reference": ticket.reference,
                "title": ticket.title,
                "what": what,
            }
            text = body or _("Ticket %(reference)s was updated: %(what)s.") % {
                "reference": ticket.reference,
                "what": what,
            }
        rows.append(
            Notification(
                recipient=user,
                topic=NotificationTopic.TICKET_UPDATE,
                subject=subject[:200],
                body=text,
                link=links[user.is_customer],
            )
        )
    notifications_queue(rows)
    return len(rows)


def notify_step(ticket: Ticket, *, step: str, by: User | None, what: str, body: str = "") -> int:
    """Step performed: its C (asked for input) and I (informed) roles hear about it."""
    roles = {
        role
        for role, letter in selectors.raci_letters_for_step(step).items()
        if letter in (RaciLetter.CONSULTED, RaciLetter.INFORMED)
    }
    return notify(ticket, roles=roles, by=by, what=what, body=body)


def field_error(field: str, message: str) -> ValidationError:
    return ValidationError({field: [ValidationError(message)]})
