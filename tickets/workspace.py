"""The desk agent's workspace: which process step comes next, macros (canned replies) and who
else has a ticket open.

``next_steps`` reads SPEC §5's process from the ticket's state and the RACI table (through
``selectors.ticket_actions``); the services decide again when a step is taken."""

import re
import time
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import cache
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accounts.models import User
from tickets import selectors
from tickets.choices import (
    BugStatus,
    Clarity,
    ConsultancyDecision,
    ProblemType,
    ProcessStep,
    TicketStatus,
    Todo,
)
from tickets.models import Macro, Ticket

# --- the next step (SPEC §5) ----------------------------------------------------------------

# The forms of the conversation and the side column, not process steps.
NOT_STEPS = {"reply", "note", "assign"}


@dataclass
class NextSteps:
    primary: list[str]  # the step(s) the process asks for now and this user may take
    waiting: str  # when nothing is for this user now: who or what the ticket waits for
    others: list[str] = field(default_factory=list)  # allowed too, one click away


def _process_next(ticket: Ticket, bugs) -> tuple[list[str], str]:
    """The actions SPEC §5 expects next in this state (whoever may take them), or what the
    ticket waits for."""
    status = ticket.status
    if status == TicketStatus.AWAITING_APPROVAL:
        return ["approve", "reject"], _("A support manager decides on this normal change.")
    if status == TicketStatus.WAITING_ON_CUSTOMER:
        return [], _("Waiting for the customer's answer: the resolution clock is paused until they reply.")
    if status == TicketStatus.RESOLVED:
        return [], _(
            "Waiting for the customer to confirm or reopen; it closes by itself %(days)d days after the "
            "resolution."
        ) % {"days": settings.SLA_REOPEN_DAYS}
    if status == TicketStatus.CLOSED:
        return [], _("Closed: nothing left to do.")
    if (
        status == TicketStatus.NEW
        or not ticket.clarity
        or (ticket.clarity == Clarity.UNCLEAR and ticket.step == ProcessStep.CLASSIFY)
    ):
        return ["classify"], ""  # new, or the customer answered the question: classify again
    if ticket.step == ProcessStep.CUSTOMER_INFORMS:  # reopened: resolved? no -> what to do
        return ["todo"], ""
    if ticket.step == ProcessStep.DETERMINE_TODO:
        planned = ticket.consultancy == ConsultancyDecision.AGREED and ticket.consultancy_date
        if (
            ticket.todo == Todo.CONSULTANCY
            and ticket.consultancy == ConsultancyDecision.AGREED
            and not planned
        ):
            return ["consultancy_plan"], ""
        return ["resolve"], ""
    problem = ticket.problem_type
    if not problem:
        return ["problem"], ""
    if problem == ProblemType.BUG:
        if not bugs:
            return ["bug"], ""
        if any(bug.status != BugStatus.FIXED for bug in bugs):
            return ["bug_status"], ""
        return (["plan"] if not ticket.planned_for else ["resolve"]), ""
    if problem == ProblemType.CONFIGURATION:
        if not ticket.consultancy:
            return ["consultancy"], ""
        if ticket.consultancy == ConsultancyDecision.AGREED:
            return (["consultancy_plan"] if not ticket.consultancy_date else ["hours", "resolve"]), ""
        return ["resolve"], ""
    if problem == ProblemType.NOT_COVERED:
        return ["close"], ""
    return ["resolve"], ""  # a question: answer it


def next_steps(ticket: Ticket, user: User, *, allowed: set[str] | None = None, bugs=None) -> NextSteps:
    """The step(s) to show expanded on the ticket page and the other allowed ones. ``allowed``:
    what ``selectors.ticket_actions`` allows this user now (computed when not given)."""
    if allowed is None:
        allowed = selectors.ticket_actions(ticket, user, raci=selectors.raci_table())
    if bugs is None:
        bugs = list(ticket.bugs.all())
    expected, waiting = _process_next(ticket, bugs)
    primary = [name for name in expected if name in allowed]
    if expected and not primary:
        steps = {selectors.ACTIONS[name][0] for name in expected if name in selectors.ACTIONS}
        labels = sorted(str(ProcessStep(step).label) for step in steps if step)
        waiting = (
            _("The next step (%(step)s) is for another role in the RACI table.") % {"step": ", ".join(labels)}
            if labels
            else _("The next step is for a support manager.")
        )
    others = [name for name in allowed if name not in NOT_STEPS and name not in primary]
    return NextSteps(primary=primary, waiting=waiting, others=others)


# --- macros ---------------------------------------------------------------------------------

PLACEHOLDERS = ("customer_name", "ticket_number", "ticket_title", "response_deadline", "resolution_deadline")
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


def macros_for(user: User) -> QuerySet[Macro]:
    """The user's own macros and the shared ones."""
    return Macro.objects.filter(Q(owner=user) | Q(shared=True)).select_related("owner")


def macro_may_edit(macro: Macro, user: User) -> bool:
    """A personal macro is its owner's; a shared one also a support manager's."""
    return macro.owner_id == user.pk or (macro.shared and user.is_manager)


def ticket_language(ticket: Ticket) -> str:
    """The language of the customer who registered the ticket (Dutch when unknown)."""
    language = getattr(ticket.registered_by, "language", "") or "nl"
    return "en" if language.startswith("en") else "nl"


def macro_values(ticket: Ticket, *, clocks) -> dict[str, str]:
    """What each placeholder stands for on ``ticket``; ``clocks``: its ``ClockStatus`` list."""
    deadlines = {status.kind: status.due_at for status in clocks}

    def when(kind):
        at = deadlines.get(kind)
        return date_format(timezone.localtime(at), "DATETIME_FORMAT") if at else "-"

    customer = ticket.registered_by
    return {
        "customer_name": (customer.full_name or customer.email) if customer else _("customer"),
        "ticket_number": ticket.reference,
        "ticket_title": ticket.title,
        "response_deadline": when("response"),
        "resolution_deadline": when("resolution"),
    }


def macro_render(text: str, values: dict[str, str]) -> str:
    """Replace the known ``{placeholder}`` names only, in one pass: no ``str.format`` on user
    text (attribute look-ups), and a value is never expanded again. Plain text: the template
    escapes it."""
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def macro_text(macro: Macro, *, language: str, values: dict[str, str]) -> str:
    body = macro.body_en if language == "en" else macro.body_nl
    return macro_render(body or macro.body_nl or macro.body_en, values)


# --- who else has the ticket open -----------------------------------------------------------

# The ticket page pings every PRESENCE_PING seconds; a viewer is gone after PRESENCE_SECONDS.
PRESENCE_PING = 20
PRESENCE_SECONDS = 45


def presence_key(ticket_id: int) -> str:
    return f"presence:{ticket_id}"


def presence_ping(ticket_id: int, user: User) -> list[str]:
    """Note that ``user`` has the ticket open; the names of the other staff who have it open.
    The cache (Redis) is a convenience here: when it is down nobody is shown, and the version
    check of every write stays the guard against two people overwriting each other."""
    now = time.time()
    key = presence_key(ticket_id)
    # A Redis that is down answers a miss and skips the write (sla_portal.cache): nobody shown.
    viewers = cache.get(key) or {}
    viewers = {pk: (name, until) for pk, (name, until) in viewers.items() if until > now}
    viewers[user.pk] = (user.get_full_name(), now + PRESENCE_SECONDS)
    cache.set(key, viewers, PRESENCE_SECONDS)
    return sorted(name for pk, (name, _until) in viewers.items() if pk != user.pk)
