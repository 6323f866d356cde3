"""The SLA set-up pages (issue 15): managers draft, compare, preview and publish policy
versions, and change calendars with a what-if preview; nobody else gets in."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from accounts.models import Notification, Role
from conftest import login_with_second_factor
from managers.announcements import add_months
from managers.policies import policy_draft_create
from sla.models import Announcement, Calendar, ClosureDay, Holiday, PolicyVersion
from sla.tests.factories import organisation_on_level
from sla_portal.formatting import date_text
from tickets.services import ticket_create

pytestmark = pytest.mark.django_db
AMS = ZoneInfo("Europe/Amsterdam")


@pytest.fixture
def draft():
    return policy_draft_create(document="002", name="Sharper response")


@pytest.fixture
def open_ticket():
    """A Default High incident due in business time ahead of now, so a closure can move it."""
    monday = timezone.localdate() + timedelta(days=7 - timezone.localdate().weekday())
    return ticket_create(
        organisation=organisation_on_level("default"),
        by=None,
        kind="incident",
        title="Portal down",
        impact=1,
        urgency=1,
        registered_at=datetime.combine(monday, datetime.min.time(), tzinfo=AMS).replace(hour=14),
    ), monday


def targets_post(draft, action="preview", **overrides):
    data = {"action": action, "availability_percent": str(draft.availability_percent or "")}
    for row in draft.level_terms.all():
        for name in ("reports_per_year", "consultant_lead_days", "max_coordinators"):
            data[f"l{row.pk}_{name}"] = str(getattr(row, name))
        for name in ("own_consultant", "channel_portal", "channel_mail", "channel_phone"):
            if getattr(row, name):
                data[f"l{row.pk}_{name}"] = "on"
    for target in draft.targets.all():
        data[f"t{target.pk}_amount"] = "" if target.amount is None else str(target.amount)
        data[f"t{target.pk}_unit"] = target.unit
    data.update(overrides)
    return data


def test_only_managers_reach_the_set_up_pages(client, make_staff, draft):
    calendar = Calendar.objects.first()
    urls = [
        "/manager/sla-setup/",
        "/manager/sla-setup/policies/",
        f"/manager/sla-setup/policies/{draft.pk}/",
        f"/manager/sla-setup/calendars/{calendar.pk}/",
        "/manager/sla-setup/holidays/",
    ]
    for url in urls:
        assert client.get(url).status_code == 302  # to the login
    login_with_second_factor(client, make_staff(Role.AGENT))
    for url in urls:
        assert client.get(url).status_code == 403
    assert client.post(f"/manager/sla-setup/policies/{draft.pk}/", {"action": "delete"}).status_code == 403
    assert PolicyVersion.objects.filter(pk=draft.pk).exists()


def test_the_pages_take_a_fixed_number_of_queries(
    manager_client, draft, open_ticket, django_assert_max_num_queries
):
    calendar = Calendar.objects.get(name="Default")
    for url, most in (
        ("/manager/sla-setup/", 12),
        ("/manager/sla-setup/policies/", 12),
        (f"/manager/sla-setup/policies/{draft.pk}/", 22),
        (f"/manager/sla-setup/calendars/{calendar.pk}/", 12),
    ):
        with django_assert_max_num_queries(most):
            assert manager_client.get(url).status_code == 200, url


def test_a_draft_is_created_from_the_version_in_force_and_hidden_from_in_force_questions(manager_client):
    response = manager_client.post(
        "/manager/sla-setup/policies/", {"document": "002", "name": "Next", "notes": "Faster response"}
    )
    draft = PolicyVersion.objects.get(document="002")
    assert response.status_code == 302 and response["Location"] == f"/manager/sla-setup/policies/{draft.pk}/"
    assert (
        draft.is_draft and draft.targets.count() == PolicyVersion.objects.get(document="001").targets.count()
    )
    from sla.selectors import policy_version_in_force

    assert policy_version_in_force(on=date(2100, 1, 1)).document == "001"


def test_an_empty_draft_form_is_refused_with_errors(manager_client):
    response = manager_client.post("/manager/sla-setup/policies/", {"document": "", "name": ""})
    assert response.status_code == 400 and b"errorlist" in response.content
    assert not PolicyVersion.objects.filter(effective_from__isnull=True).exists()


def test_preview_shows_the_differences_and_the_what_if_and_only_then_offers_save(
    manager_client, draft, open_ticket
):
    page = manager_client.get(f"/manager/sla-setup/policies/{draft.pk}/")
    assert b'value="save"' not in page.content and b"no-differences" in page.content
    target = draft.targets.get(
        service_level__code="default", ticket_kind="incident", priority=1, clock="response"
    )
    preview = manager_client.post(
        f"/manager/sla-setup/policies/{draft.pk}/", targets_post(draft, **{f"t{target.pk}_amount": "2"})
    )
    assert preview.status_code == 200
    body = preview.content.decode()
    assert 'id="differences"' in body and "4 business hours" in body and "2 business hours" in body
    assert 'id="whatif-moves"' in body and open_ticket[0].reference in body
    assert 'value="save"' in body
    target.refresh_from_db()
    assert target.amount == 4  # a preview saves nothing
    saved = manager_client.post(
        f"/manager/sla-setup/policies/{draft.pk}/",
        targets_post(draft, "save", **{f"t{target.pk}_amount": "2"}),
    )
    assert saved.status_code == 302
    target.refresh_from_db()
    assert target.amount == 2


@pytest.mark.parametrize(
    ("amount", "unit"),
    [("0", "hours"), ("-1", "hours"), ("99999", "hours"), ("abc", "days"), ("3", "best_effort")],
)
def test_bad_targets_are_refused_on_the_form_and_nothing_is_saved(manager_client, draft, amount, unit):
    target = draft.targets.exclude(unit="best_effort").first()
    response = manager_client.post(
        f"/manager/sla-setup/policies/{draft.pk}/",
        targets_post(draft, "save", **{f"t{target.pk}_amount": amount, f"t{target.pk}_unit": unit}),
    )
    assert response.status_code == 400 and b"errorlist" in response.content
    before = (target.amount, target.unit)
    target.refresh_from_db()
    assert (target.amount, target.unit) == before


def test_publishing_needs_a_date_a_month_ahead(manager_client, draft, coordinator):
    """SPEC §8: "Wijzigingen in de SLA worden ten minste één maand voor de ingangsdatum
    aangekondigd." """
    too_soon = timezone.localdate() + timedelta(days=10)
    response = manager_client.post(
        f"/manager/sla-setup/policies/{draft.pk}/",
        {"action": "publish", "effective_from": too_soon.isoformat()},
    )
    assert response.status_code == 400 and b"at least one month" in response.content
    draft.refresh_from_db()
    assert draft.is_draft
    for bad in ("9999-12-31", "not a date", ""):
        assert (
            manager_client.post(
                f"/manager/sla-setup/policies/{draft.pk}/", {"action": "publish", "effective_from": bad}
            ).status_code
            == 400
        )
    valid = add_months(timezone.localdate(), 1) + timedelta(days=1)
    response = manager_client.post(
        f"/manager/sla-setup/policies/{draft.pk}/", {"action": "publish", "effective_from": valid.isoformat()}
    )
    assert (
        response.status_code == 302 and response["Location"] == f"/manager/sla-changes/{draft.pk}/objections/"
    )
    draft.refresh_from_db()
    assert draft.effective_from == valid and draft.announced_at is not None
    assert Announcement.objects.filter(policy_version=draft).exists()
    assert Notification.objects.filter(recipient=coordinator, subject__contains=date_text(valid)).exists()


def test_a_published_version_cannot_be_changed_here(manager_client):
    published = PolicyVersion.objects.get(document="001")
    target = published.targets.first()
    response = manager_client.post(
        f"/manager/sla-setup/policies/{published.pk}/",
        targets_post(published, "save", **{f"t{target.pk}_amount": "1"}),
    )
    assert response.status_code == 302
    before = target.amount
    target.refresh_from_db()
    assert target.amount == before
    assert (
        b'value="preview"' not in manager_client.get(f"/manager/sla-setup/policies/{published.pk}/").content
    )


def test_the_sla_change_announcement_points_to_the_set_up_pages_not_the_admin(manager_client):
    effective = add_months(timezone.localdate(), 1) + timedelta(days=3)
    response = manager_client.post(
        "/manager/sla-changes/",
        {"document": "002", "name": "Next", "effective_from": effective.isoformat(), "notes": "Changes"},
        follow=True,
    )
    assert response.status_code == 200
    assert b"administration" not in response.content and b"/admin/" not in response.content
    assert response.redirect_chain[-1][0].startswith("/manager/sla-setup/policies/")


def test_a_closure_day_preview_lists_the_deadlines_that_move_and_saving_adds_it(manager_client, open_ticket):
    ticket, monday = open_ticket
    calendar = Calendar.objects.get(name="Default")
    tuesday = monday + timedelta(days=1)  # the Monday 14:00 ticket falls due on Tuesday 12:00
    url = f"/manager/sla-setup/calendars/{calendar.pk}/"
    preview = manager_client.post(
        url, {"action": "preview-closure", "date": tuesday.isoformat(), "reason": "Move"}
    )
    assert preview.status_code == 200
    assert ticket.reference.encode() in preview.content and b'value="save-closure"' in preview.content
    assert not ClosureDay.objects.filter(calendar=calendar).exists()
    saved = manager_client.post(
        url, {"action": "save-closure", "date": tuesday.isoformat(), "reason": "Move"}
    )
    assert saved.status_code == 302
    assert ClosureDay.objects.filter(calendar=calendar, date=tuesday).exists()
    again = manager_client.post(
        url, {"action": "preview-closure", "date": tuesday.isoformat(), "reason": "Move"}
    )
    assert again.status_code == 400 and b"already closed" in again.content


@pytest.mark.parametrize("day", ["9999-12-31", "1900-01-01", "yesterday", ""])
def test_a_bad_closure_date_is_a_form_error(manager_client, day):
    calendar = Calendar.objects.get(name="Default")
    response = manager_client.post(
        f"/manager/sla-setup/calendars/{calendar.pk}/", {"action": "save-closure", "date": day, "reason": "x"}
    )
    assert response.status_code == 400 and b"errorlist" in response.content
    assert not ClosureDay.objects.exists()


def test_opening_hours_are_checked_previewed_and_saved(manager_client):
    calendar = Calendar.objects.get(name="Default")
    url = f"/manager/sla-setup/calendars/{calendar.pk}/"
    data = {f"d{wd}_opens0": "10:00" for wd in range(5)} | {f"d{wd}_closes0": "15:00" for wd in range(5)}
    bad = manager_client.post(url, data | {"action": "save-hours", "d0_closes0": "09:00"})
    assert bad.status_code == 400 and b"Close after opening" in bad.content
    none = manager_client.post(url, {"action": "save-hours"})
    assert none.status_code == 400 and b"at least one weekday" in none.content
    assert calendar.opening_hours.filter(closes="16:00").count() == 5
    preview = manager_client.post(url, data | {"action": "preview-hours"})
    assert preview.status_code == 200 and b'value="save-hours"' in preview.content
    assert manager_client.post(url, data | {"action": "save-hours"}).status_code == 302
    assert calendar.opening_hours.filter(closes="15:00").count() == 5
    calendar.refresh_from_db()
    assert calendar.version == 2


def test_removing_a_closure_day_is_previewed_first(manager_client):
    calendar = Calendar.objects.get(name="Default")
    closure = ClosureDay.objects.create(
        calendar=calendar, date=timezone.localdate() + timedelta(days=3), reason="X"
    )
    url = f"/manager/sla-setup/calendars/{calendar.pk}/"
    preview = manager_client.post(url, {"action": "preview-remove", "closure": closure.pk})
    assert preview.status_code == 200 and b'value="remove"' in preview.content
    assert ClosureDay.objects.filter(pk=closure.pk).exists()
    assert manager_client.post(url, {"action": "remove", "closure": "nonsense"}).status_code == 302
    assert ClosureDay.objects.filter(pk=closure.pk).exists()
    assert manager_client.post(url, {"action": "remove", "closure": closure.pk}).status_code == 302
    assert not ClosureDay.objects.filter(pk=closure.pk).exists()


def test_level_terms_and_availability_are_compared_bounded_and_saved(manager_client, draft):
    """§1.2.2: the levels' terms (users who may register calls, channels, ...) belong to the
    version, like the targets."""
    terms = draft.level_terms.get(service_level__code="extended")
    url = f"/manager/sla-setup/policies/{draft.pk}/"
    for field, bad in (("max_coordinators", "0"), ("max_coordinators", "1000"), ("reports_per_year", "-1")):
        response = manager_client.post(url, targets_post(draft, "save", **{f"l{terms.pk}_{field}": bad}))
        assert response.status_code == 400 and b"errorlist" in response.content
    bad_availability = manager_client.post(url, targets_post(draft, "save", availability_percent="100.5"))
    assert bad_availability.status_code == 400
    change = {f"l{terms.pk}_max_coordinators": "6", "availability_percent": "99.5"}
    preview = manager_client.post(url, targets_post(draft, **change))
    body = preview.content.decode()
    assert 'id="term-differences"' in body and "99.5" in body and ">6<" in body
    assert manager_client.post(url, targets_post(draft, "save", **change)).status_code == 302
    terms.refresh_from_db()
    draft.refresh_from_db()
    assert terms.max_coordinators == 6 and draft.availability_percent == Decimal("99.5")


HOLIDAYS = "/manager/sla-setup/holidays/"


def test_a_public_holiday_added_is_previewed_on_every_calendar_and_bumps_them_all(
    manager_client, open_ticket
):
    """SPEC: the calendars exclude Dutch public holidays; a manager adds one (a national day of
    mourning) or switches one off, without the admin."""
    ticket, monday = open_ticket
    tuesday = monday + timedelta(days=1)  # the Monday 14:00 ticket falls due on Tuesday 12:00
    versions = dict(Calendar.objects.values_list("pk", "version"))
    preview = manager_client.post(
        HOLIDAYS, {"action": "preview-add", "date": tuesday.isoformat(), "name": "Nationale rouwdag"}
    )
    body = preview.content.decode()
    assert preview.status_code == 200 and ticket.reference in body and 'id="holiday-add"' in body
    assert not Holiday.objects.filter(date=tuesday).exists()
    saved = manager_client.post(
        HOLIDAYS, {"action": "add", "date": tuesday.isoformat(), "name": "Nationale rouwdag"}
    )
    assert saved.status_code == 302 and saved["Location"].endswith(f"?year={tuesday.year}")
    assert Holiday.objects.get(date=tuesday).active
    assert all(version == versions[pk] + 1 for pk, version in Calendar.objects.values_list("pk", "version"))
    again = manager_client.post(HOLIDAYS, {"action": "add", "date": tuesday.isoformat(), "name": "Twice"})
    assert again.status_code == 400 and b"already a public holiday" in again.content


def test_a_public_holiday_switched_off_is_previewed_first_and_can_be_switched_on_again(manager_client):
    christmas = Holiday.objects.get(date=date(2026, 12, 25))
    page = manager_client.get(f"{HOLIDAYS}?year=2026").content.decode()
    assert 'id="holidays"' in page and christmas.name in page
    preview = manager_client.post(
        HOLIDAYS, {"action": "preview-off", "holiday": christmas.pk, "year": "2026"}
    )
    assert (
        preview.status_code == 200
        and b'value="off"' in preview.content
        and b"whatif-title" in preview.content
    )
    christmas.refresh_from_db()
    assert christmas.active
    assert manager_client.post(HOLIDAYS, {"action": "off", "holiday": christmas.pk}).status_code == 302
    christmas.refresh_from_db()
    assert not christmas.active
    assert manager_client.post(HOLIDAYS, {"action": "on", "holiday": christmas.pk}).status_code == 302
    christmas.refresh_from_db()
    assert christmas.active
    gone = manager_client.post(HOLIDAYS, {"action": "off", "holiday": "nonsense"})
    assert gone.status_code == 302 and Holiday.objects.get(pk=christmas.pk).active


@pytest.mark.parametrize(
    "data",
    [
        {"date": "2150-01-01", "name": "Too late"},
        {"date": "1999-12-31", "name": "Too early"},
        {"date": "2027-03-03", "name": "   "},
        {"date": "not a date", "name": "X"},
    ],
)
def test_a_bad_holiday_is_a_form_error_and_writes_nothing(manager_client, data):
    count = Holiday.objects.count()
    response = manager_client.post(HOLIDAYS, {"action": "add", **data})
    assert response.status_code == 400 and b"errorlist" in response.content
    assert Holiday.objects.count() == count


@pytest.mark.parametrize("year", ["1066", "x", "99999999999999999999"])
def test_a_year_outside_the_kept_ones_shows_this_year(manager_client, year):
    response = manager_client.get(f"{HOLIDAYS}?year={year}")
    assert response.status_code == 200
    assert f"Public holidays {timezone.localdate().year}" in response.content.decode()
