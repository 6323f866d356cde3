"""Random ticket lives through the real services, each clock checked against a walk of its own.

Issue 11, rules 4 and 7. Hypothesis draws a life - a registration, then questions, the
customer's answers, priority changes, public replies, resolution and reopening, at random
instants (nights, weekends, holidays, the DST changes) - and drives it through the services on
the database under a frozen clock, with the sweep running before most steps. After every step
each clock's state, target, consumption, deadline, at-risk instant, verdict and recorded
transitions must equal what the model below computes from the same life: the SLA figures of
document 001 and SPEC §2 written out here, the priority matrix of SPEC §4, and business time
counted day by day over each day's opening hours (not with sla/calendar.py's arithmetic). The
closed days are read from the database, as the product is configured.

The rules the model holds the services to (SPEC §2, "Business-time conventions"):
- "The response clock stops at the first public message of support staff to the customer - an
  answer or a question ... both count as the response";
- "While a ticket waits for the customer the resolution clock pauses; it resumes when the
  customer answers";
- "Priority changes recompute the open deadlines from the original registration, pauses kept;
  a stopped clock keeps its target, its consumption and its verdict";
- "A deadline that has passed stays where it was: the instant the target was used up is the
  deadline and the breach, whatever pause, resume or priority change follows".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings as django_settings
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sla.models import Calendar, Clock, ClockTransition, ServiceLevel
from sla.selectors import calendar_closed_dates
from sla.services import sla_sweep
from tickets import services
from tickets.models import Ticket
from tickets.selectors import clock_status
from tickets.tests.factories import register

pytestmark = pytest.mark.django_db

AMS = ZoneInfo("Europe/Amsterdam")
HOUR = 3600
# Document 001 §1.2.2: "Support Business Tijden 10-16" (Standaard) and "08-17" (Extended).
OPENING = {"default": (time(10), time(16)), "extended": (time(8), time(17))}
DAY = {"default": 6 * HOUR, "extended": 9 * HOUR}  # SPEC §2: a business day is a day's opening hours
# (response, resolution) for priority High, Normal, Low; None is best effort. Document 001
# §1.2.3 (incidents, changes) and §3.1.1 (information requests on Default), with SPEC §2's
# decision: information requests on Extended take its incident response.
TARGETS = {
    ("default", "incident"): ((4 * HOUR, None), (8 * HOUR, None), (16 * HOUR, None)),
    ("default", "change"): (
        (1 * DAY["default"], None),
        (3 * DAY["default"], None),
        (5 * DAY["default"], None),
    ),
    ("default", "information_request"): (
        (8 * HOUR, None),
        (2 * DAY["default"], None),
        (5 * DAY["default"], None),
    ),
    ("extended", "incident"): (
        (2 * HOUR, 20 * DAY["extended"]),
        (4 * HOUR, 40 * DAY["extended"]),
        (8 * HOUR, 60 * DAY["extended"]),
    ),
    ("extended", "change"): (
        (DAY["extended"] // 2, None),
        (2 * DAY["extended"], None),
        (3 * DAY["extended"], None),
    ),
    ("extended", "information_request"): ((2 * HOUR, None), (4 * HOUR, None), (8 * HOUR, None)),
}
# SPEC §4 (document 001 §3.1.1): priority by (urgency, impact).
MATRIX = {(1, 1): 1, (1, 2): 1, (1, 3): 2, (2, 1): 1, (2, 2): 2, (2, 3): 3, (3, 1): 2, (3, 2): 3, (3, 3): 3}
KINDS = ("response", "resolution")


# --- the model ----------------------------------------------------------------------------------


def opening_pieces(level: str, closed: set[date], start: datetime, end: datetime | None):
    """The opening time in [start, end) (``end`` None: without end), day by day, in order."""
    opens, closes = OPENING[level]
    day = start.astimezone(AMS).date()
    while end is None or day <= end.astimezone(AMS).date():
        if day.weekday() < 5 and day not in closed:
            lo = max(datetime.combine(day, opens, AMS), start)
            hi = datetime.combine(day, closes, AMS)
            if end is not None:
                hi = min(hi, end)
            if lo < hi:
                yield lo, hi
        day += timedelta(days=1)


@dataclass
class ModelClock:
    level: str
    closed: set[date]
    target: int | None
    stretches: list[list]  # [start, end]; the running one's end is None
    state: str = "running"
    recorded: dict[str, datetime] = field(default_factory=dict)  # transition kind -> crossed at

    def counted(self, until: datetime | None = None) -> int:
        """Business seconds of the closed stretches, and of the running one up to ``until``."""
        total = 0
        for start, end in self.stretches:
            end = end or until
            if end is not None:
                total += sum(
                    int((hi - lo).total_seconds())
                    for lo, hi in opening_pieces(self.level, self.closed, start, end)
                )
        return total

    def reached(self, amount: int) -> datetime | None:
        """The earliest instant the clock had counted ``amount`` (the running stretch goes on)."""
        total = 0
        for start, end in self.stretches:
            for lo, hi in opening_pieces(self.level, self.closed, start, end):
                piece = int((hi - lo).total_seconds())
                if total + piece >= amount:
                    return lo + timedelta(seconds=amount - total)
                total += piece
        return None

    @property
    def risk(self) -> int:
        return self.target * AT_RISK_PERCENT[self.level] // 100

    def close(self, at: datetime, state: str) -> None:
        """Pause or stop: a clock that counted more than its target breached at its deadline."""
        if self.state == "running":
            self.stretches[-1][1] = at
        self.state = state
        if self.target is not None and self.counted() > self.target:
            self.recorded.setdefault("breached", self.reached(self.target))

    def resume(self, at: datetime) -> None:
        self.stretches.append([at, None])
        self.state = "running"

    def sweep(self, now: datetime) -> None:
        """What a sweep at ``now`` records: crossings the running clock has counted up to."""
        if self.state != "running" or self.target is None:
            return
        counted = self.counted(until=now)
        if counted >= self.risk:
            self.recorded.setdefault("at_risk", self.reached(self.risk))
        if counted > self.target:
            self.recorded.setdefault("breached", self.reached(self.target))


AT_RISK_PERCENT: dict[str, int] = {}


@dataclass
class ModelTicket:
    level: str
    kind: str
    priority: int
    clocks: dict[str, ModelClock]
    status: str = "new"
    first_response_at: datetime | None = None
    resolved_at: datetime | None = None

    def respond(self, at: datetime) -> None:
        if self.first_response_at is None:
            self.first_response_at = at
            self.clocks["response"].close(at, "stopped")

    def set_priority(self, priority: int, at: datetime) -> None:
        if priority == self.priority:
            return
        self.priority = priority
        for index, kind in enumerate(KINDS):
            clock = self.clocks[kind]
            if clock.state == "stopped":
                continue  # keeps its target, consumption and verdict
            if clock.target is not None and clock.counted(until=at) > clock.target:
                continue  # its deadline has passed and stays where it was
            clock.target = TARGETS[(self.level, self.kind)][priority - 1][index]
            if clock.state == "paused":
                clock.close(at, "paused")  # records a breach the new target makes


# --- the lives ----------------------------------------------------------------------------------

ANCHORS = [
    datetime(2026, 3, 26, tzinfo=AMS),  # summer time from Sunday 29 March
    datetime(2026, 3, 31, tzinfo=AMS),  # Good Friday 3 April, Easter Monday 6 April
    datetime(2026, 4, 23, tzinfo=AMS),  # King's Day, Monday 27 April
    datetime(2026, 10, 22, tzinfo=AMS),  # winter time from Sunday 25 October
    datetime(2026, 12, 21, tzinfo=AMS),  # Christmas on Friday, New Year
]
ACTIONS = ("clear", "question", "answer", "reply", "priority", "resolve", "reopen", "wait")


def possible(model: ModelTicket, now: datetime) -> list[str]:
    """The actions the ticket's state allows (the services refuse the others)."""
    status = model.status
    actions = {
        "clear": status == "new",
        "question": status in ("new", "open"),
        "answer": status == "waiting_on_customer",
        "reply": status in ("new", "open", "waiting_on_customer", "resolved"),
        "priority": status in ("new", "open", "waiting_on_customer"),
        "resolve": status == "open",
        "reopen": status == "resolved"
        and now <= model.resolved_at + timedelta(days=django_settings.SLA_REOPEN_DAYS),
        "wait": True,
    }
    return [action for action in ACTIONS if actions[action]]


# Minutes between steps, from one of these spans; Hypothesis's integers favour the ends of a
# range, so the span is drawn first and a large integer spreads the minutes over it.
SPANS = [
    (0, 180),  # within the hour or so
    (180, 3 * 24 * 60),  # over nights and weekends
    (3 * 24 * 60, 12 * 24 * 60),  # past targets in days
    (12 * 24 * 60, 35 * 24 * 60),  # past 20 business days of resolution
]
delays = st.builds(
    lambda span, n: span[0] + n % (span[1] - span[0] + 1), st.sampled_from(SPANS), st.integers(0, 2**24)
)
lives = st.fixed_dictionaries(
    {
        # Extended incidents most: only they have a resolution target as well (20-60 days)
        "cell": st.sampled_from(
            [("extended", "incident")] * 3
            + [("default", "incident"), ("default", "change"), ("default", "information_request")]
            + [("extended", "change"), ("extended", "information_request")]
        ),
        "urgency": st.integers(1, 3),
        "impact": st.integers(1, 3),
        "start": st.builds(
            lambda anchor, minutes: anchor + timedelta(minutes=minutes),
            st.sampled_from(ANCHORS),
            st.integers(0, 10 * 24 * 60),
        ),
        "steps": st.lists(
            # (action, minutes since the last step, urgency, impact, whether the beat's sweep ran
            # just before: not always, so that a pause or stop must find a breach itself)
            st.tuples(
                st.integers(0, len(ACTIONS) - 1), delays, st.integers(1, 3), st.integers(1, 3), st.booleans()
            ),
            min_size=4,
            max_size=12,
        ),
    }
)


def check(ticket: Ticket, model: ModelTicket, now: datetime, step: str) -> None:
    ticket.refresh_from_db()
    stored = {clock.kind: clock for clock in Clock.objects.filter(ticket=ticket).select_related("calendar")}
    where = f"after {step} at {now.astimezone(AMS):%a %Y-%m-%d %H:%M}"
    assert ticket.status == model.status, where
    assert ticket.first_response_at == model.first_response_at, where
    for kind in KINDS:
        clock, expected = stored[kind], model.clocks[kind]
        assert clock.state == expected.state, f"{kind} {where}"
        assert clock.target_seconds == expected.target, f"{kind} target {where}"
        assert clock.consumed_seconds == expected.counted(), f"{kind} consumed {where}"
        running = expected.state == "running" and expected.target is not None
        assert clock.due_at == (expected.reached(expected.target) if running else None), f"{kind} due {where}"
        assert clock.at_risk_at == (expected.reached(expected.risk) if running else None), (
            f"{kind} risk {where}"
        )
        if expected.state == "stopped":
            verdict = (
                "done"
                if expected.target is None
                else ("met" if expected.counted() <= expected.target else "breach")
            )
            assert clock_status(clock, now=now).state == verdict, f"{kind} verdict {where}"
        recorded = dict(ClockTransition.objects.filter(clock=clock).values_list("kind", "crossed_at"))
        assert recorded == expected.recorded, f"{kind} transitions {where}"
    deadlines = [
        c.reached(c.target) for c in model.clocks.values() if c.state == "running" and c.target is not None
    ]
    assert ticket.due_at == (min(deadlines) if deadlines else None), f"ticket due {where}"


def live(life: dict, coordinators: dict, agent) -> None:
    level, kind = life["cell"]
    coordinator = coordinators[level]
    closed = CLOSED[level]
    now = life["start"]
    with time_machine.travel(now, tick=False):
        extra = {"change_type": "standard"} if kind == "change" else {}
        ticket = register(coordinator, kind=kind, urgency=life["urgency"], impact=life["impact"], **extra)
    priority = MATRIX[(life["urgency"], life["impact"])]
    model = ModelTicket(
        level,
        kind,
        priority,
        {
            name: ModelClock(level, closed, TARGETS[(level, kind)][priority - 1][index], [[now, None]])
            for index, name in enumerate(KINDS)
        },
    )
    check(ticket, model, now, "registration")
    for choice, minutes, urgency, impact, swept in life["steps"]:
        now += timedelta(minutes=minutes)
        allowed = possible(model, now)
        action = allowed[choice % len(allowed)]
        with time_machine.travel(now, tick=False):
            if swept:
                sla_sweep()
                for clock in model.clocks.values():
                    clock.sweep(now)
            ticket.refresh_from_db()
            if action == "clear":
                services.ticket_classify(ticket=ticket, by=agent, clarity="clear")
                model.status = "open"
            elif action == "question":
                if model.status == "new":
                    services.ticket_classify(
                        ticket=ticket, by=agent, clarity="unclear", question="Welke versie?"
                    )
                else:
                    services.ticket_question_ask(ticket=ticket, by=agent, question="Welke versie?")
                model.respond(now)
                if model.clocks["resolution"].state == "running":
                    model.clocks["resolution"].close(now, "paused")
                model.status = "waiting_on_customer"
            elif action == "answer":
                services.message_customer(ticket=ticket, by=coordinator, body="Versie 5.3")
                if model.clocks["resolution"].state == "paused":
                    model.clocks["resolution"].resume(now)
                model.status = "open"
            elif action == "reply":
                services.message_reply_public(ticket=ticket, by=agent, body="We kijken ernaar.")
                model.respond(now)
            elif action == "priority":
                services.ticket_priority_set(ticket=ticket, by=agent, impact=impact, urgency=urgency)
                model.set_priority(MATRIX[(urgency, impact)], now)
            elif action == "resolve":
                services.ticket_resolve(ticket=ticket, by=agent, resolution="Opgelost")
                model.respond(now)
                model.clocks["resolution"].close(now, "stopped")
                model.status, model.resolved_at = "resolved", now
            elif action == "reopen":
                services.ticket_reopen(ticket=ticket, by=coordinator, reason="Het is terug")
                model.clocks["resolution"].resume(now)
                model.status, model.resolved_at = "open", None
            else:  # "wait": the time passes (the sweep above ran)
                pass
            check(ticket, model, now, action)
    # a last sweep, long after
    now += timedelta(days=100)
    with time_machine.travel(now, tick=False):
        sla_sweep()
        for clock in model.clocks.values():
            clock.sweep(now)
        check(ticket, model, now, "the last sweep")


CLOSED: dict[str, set[date]] = {}


def test_random_ticket_lives_keep_every_clock_as_the_sla_says(coordinator_ext, coordinator_def, agent):
    """SPEC §2 ("Business-time conventions") on random lives; see the module docstring. Document
    001 §1.2.2 **: "De respons- en oplostijden gelden vanaf de officiële registratie van een
    oproep"; §1.2.3 and §3.1.1 give the targets the model holds."""
    for level in ("default", "extended"):
        service_level = ServiceLevel.objects.get(code=level)
        AT_RISK_PERCENT[level] = service_level.at_risk_percent
        # the years the lives touch are stored in the database, so its rows are the closed days
        CLOSED[level] = set(calendar_closed_dates(Calendar.objects.get(pk=service_level.calendar_id)).dates)
    coordinators = {"default": coordinator_def, "extended": coordinator_ext}

    # Bounded: 100 lives took 14 s here (about 30 s while the machine was busy); derandomized,
    # so every run draws the same lives, and nothing is written to a .hypothesis directory.
    # Breaking the engine in turn (a resumed clock's deadline or at-risk instant moved to the
    # resume, a passed deadline moved by a priority change, no breach recorded at a pause, a
    # question not counted as the response) fails it; the closing-time edge is left to
    # sla/tests/test_clocks.py, which these lives seldom hit.
    @settings(
        max_examples=100,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(life=lives)
    def run(life):
        with transaction.atomic():  # each life starts from the same database
            live(life, coordinators, agent)
            transaction.set_rollback(True)

    run()
