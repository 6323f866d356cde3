"""A support manager, in a real Chromium, sets up the SLA without the admin (issue 15): drafts
a new policy version, sees its differences from the version in force and the what-if preview,
publishes it with a valid effective date; adds a closed day and sees the preview list the
deadlines that move. At 1366 px, and the preview once at 390 px."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from accounts.tests.factories import PASSWORD
from conftest import totp_now
from tests.conftest import SCREENSHOTS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
AMS = ZoneInfo("Europe/Amsterdam")


def _open_ticket():
    """A Default High incident registered next Monday 14:00: 4 business hours, due Tuesday 12:00."""
    from sla.tests.factories import organisation_on_level
    from tickets.services import ticket_create

    today = timezone.localdate()
    monday = today + timedelta(days=7 - today.weekday())
    ticket = ticket_create(
        organisation=organisation_on_level("default", name="Gemeente Voorbeeld"),
        by=None,
        kind="incident",
        title="Portaal onbereikbaar",
        impact=1,
        urgency=1,
        registered_at=datetime.combine(monday, datetime.min.time(), tzinfo=AMS).replace(hour=14),
    )
    return ticket, monday


def _login(page, live_server, manager):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=login]", manager.email)
    page.fill("input[name=password]", PASSWORD)
    page.press("input[name=password]", "Enter")
    page.wait_for_selector("input[name=code]")
    page.fill("input[name=code]", totp_now())
    page.press("input[name=code]", "Enter")
    page.wait_for_load_state()


def _fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_manager_drafts_previews_and_publishes_a_version_and_adds_a_closed_day(live_server, browser, manager):
    from managers.announcements import add_months
    from sla.models import ClosureDay, PolicyVersion, Target

    ticket, monday = _open_ticket()
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    _login(page, live_server, manager)

    # From the manager's navigation, never the admin.
    page.goto(f"{live_server.url}/manager/")
    page.click("nav.subnav >> text=SLA set-up")
    page.click("text=Policy versions and targets")
    page.fill("input[name=document]", "002")
    page.fill("input[name=name]", "Snellere reactie")
    page.fill("textarea[name=notes]", "Reactie op hoge prioriteit binnen 2 uur.")
    page.click("button:has-text('Start a draft')")
    page.wait_for_selector("h1:has-text('draft')")
    draft = PolicyVersion.objects.get(document="002")
    assert page.locator("#no-differences").count() == 1

    target = Target.objects.get(
        policy_version=draft,
        service_level__code="default",
        ticket_kind="incident",
        priority=1,
        clock="response",
    )
    page.fill(f"input[name=t{target.pk}_amount]", "2")
    assert page.locator("button[value=save]").count() == 0  # saving only after a preview
    page.click("button[value=preview]")
    page.wait_for_selector("#differences")
    differences = page.inner_text("#differences")
    assert "4 business hours" in differences and "2 business hours" in differences
    assert ticket.reference in page.inner_text("#whatif-moves")
    page.screenshot(path=str(SCREENSHOTS / "sla_setup_policy_preview.png"), full_page=True)
    page.click("button[value=save]")
    page.wait_for_selector(".messages li.success")
    target.refresh_from_db()
    assert target.amount == 2
    assert "2 business hours" in page.inner_text("#differences")  # now as saved

    effective = add_months(timezone.localdate(), 1) + timedelta(days=1)
    page.fill("input[name=effective_from]", effective.isoformat())
    page.click("button[value=publish]")
    page.wait_for_selector("#objections")
    draft.refresh_from_db()
    assert draft.effective_from == effective and draft.announced_at is not None

    # A closed day on the Tuesday the ticket falls due.
    page.goto(f"{live_server.url}/manager/sla-setup/")
    page.click("a:has-text('Default') >> nth=0")
    page.wait_for_selector("#closures-title")
    tuesday = monday + timedelta(days=1)
    page.fill("input[name=date]", tuesday.isoformat())
    page.fill("input[name=reason]", "Verhuizing")
    page.click("button[value=preview-closure]")
    page.wait_for_selector("#whatif-moves")
    row = page.locator("#whatif-moves tbody tr", has_text=ticket.reference).first
    assert row.count() == 1
    assert f"{tuesday.day} {tuesday:%b %Y}" in row.inner_text()  # the deadline now, and after the change
    assert not ClosureDay.objects.exists()
    page.screenshot(path=str(SCREENSHOTS / "sla_setup_closure_preview.png"), full_page=True)
    page.click("button[value=save-closure]")
    page.wait_for_selector(".messages li.success")
    assert ClosureDay.objects.filter(date=tuesday, reason="Verhuizing").exists()

    # One check at 390 px: the preview and its table fit the phone's width.
    page.set_viewport_size({"width": 390, "height": 844})
    page.fill("input[name=date]", (tuesday + timedelta(days=1)).isoformat())
    page.fill("input[name=reason]", "Tweede dag")
    page.click("button[value=preview-closure]")
    page.wait_for_selector(".whatif")
    assert _fits(page)
    page.screenshot(path=str(SCREENSHOTS / "sla_setup_closure_preview_390.png"), full_page=True)
    context.close()
