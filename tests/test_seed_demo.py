"""`manage.py seed_demo`, which `bin/run` calls on every start: it must work on a fresh
database, print the logins and change nothing when run again."""

from io import StringIO

import pytest
from django.core.management import call_command

from accounts.models import User
from sla.models import Clock
from tickets.choices import TicketStatus
from tickets.models import Ticket

pytestmark = pytest.mark.django_db


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def test_seed_demo_creates_users_and_tickets_that_show_the_sla_at_work():
    printed = seed()
    assert "coordinator@voorbeeld.example" in printed and "demo-password-2026" in printed
    assert User.objects.count() == 7
    statuses = set(Ticket.objects.values_list("status", flat=True))
    assert {
        TicketStatus.NEW,
        TicketStatus.WAITING_ON_CUSTOMER,
        TicketStatus.AWAITING_APPROVAL,
        TicketStatus.RESOLVED,
    } <= statuses
    assert Clock.objects.filter(state="paused").exists()
    assert Clock.objects.filter(state="running", due_at__isnull=False).exists()


def test_seed_demo_run_again_changes_nothing():
    seed()
    before = (User.objects.count(), Ticket.objects.count(), Clock.objects.count())
    assert "Created" not in seed()
    assert (User.objects.count(), Ticket.objects.count(), Clock.objects.count()) == before


def test_seed_demo_covers_26_weeks_of_history_for_the_trends_and_satisfaction():
    """The dashboard's trend charts and the satisfaction page show 26 weeks on a first run:
    tickets registered, answered, resolved and rated at the dates they happened."""
    from django.utils import timezone

    from managers.dashboard import compliance_trend
    from managers.satisfaction import satisfaction_overview
    from tickets.models import SatisfactionRating

    seed()
    today = timezone.localdate()
    overview = satisfaction_overview(today=today)
    rated_weeks = [row for row in overview.weeks if row.count]
    assert len(rated_weeks) >= 24 and (overview.weeks[0].count or overview.weeks[1].count)
    assert 0 < overview.total.met < overview.total.count  # a mix: some breached, most met
    assert {"portal", "mail"} <= set(SatisfactionRating.objects.values_list("channel", flat=True))
    trend = compliance_trend(today=today).series

    def weeks_with_clocks(group):
        return {n for line in trend[group] for n, total in enumerate(line.total) if total}

    assert len(weeks_with_clocks("response:level")) >= 24 and 0 in weeks_with_clocks("response:level")
    # low priorities resolve on best effort (no target, so not in the trend): fewer weeks
    assert len(weeks_with_clocks("resolution:level")) >= 8
    assert not Ticket.objects.filter(registered_at__gt=timezone.now()).exists()
