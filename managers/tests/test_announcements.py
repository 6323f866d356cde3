"""Informing customers: announcements by topic (SPEC §11) and SLA change notices with the
one-month objection window (SPEC §8)."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError

from accounts.models import Notification, NotificationTopic, Role, Subscription
from accounts.services import notification_deliver_pending
from accounts.tests.factories import UserFactory
from conftest import login_with_second_factor
from managers import announcements
from sla.models import Announcement, PolicyObjection, PolicyVersion
from sla.tests.factories import organisation_on_level

pytestmark = pytest.mark.django_db
AMS = ZoneInfo("Europe/Amsterdam")


def ams(*args) -> datetime:
    return datetime(*args, tzinfo=AMS)


def test_an_announcement_reaches_only_the_subscribed_contacts_of_its_topic(manager):
    organisation = organisation_on_level("extended")
    subscribed = UserFactory(role=Role.CUSTOMER_USER, organisation=organisation, language="en")
    other_topic = UserFactory(role=Role.COORDINATOR, organisation=organisation)
    nothing = UserFactory(role=Role.CUSTOMER_USER, organisation=organisation)
    inactive = UserFactory(role=Role.CUSTOMER_USER, organisation=organisation, is_active=False)
    Subscription.objects.create(user=subscribed, topic=NotificationTopic.DISRUPTION)
    Subscription.objects.create(user=inactive, topic=NotificationTopic.DISRUPTION)
    Subscription.objects.create(user=other_topic, topic=NotificationTopic.RELEASE)
    assert nothing

    announcements.announcement_publish(
        by=manager, topic=NotificationTopic.DISRUPTION, title="Storing Qixium", body="We werken eraan."
    )
    assert notification_deliver_pending() == 1
    assert [message.to for message in mail.outbox] == [[subscribed.email]]
    assert mail.outbox[0].subject == "[Disruptions] Storing Qixium"


def test_release_notes_travel_with_a_release(manager):
    user = UserFactory(role=Role.CUSTOMER_USER)
    Subscription.objects.create(user=user, topic=NotificationTopic.RELEASE)
    announcements.announcement_publish(
        by=manager,
        topic=NotificationTopic.RELEASE,
        title="Release 5.3",
        body="Monthly release.",
        release_notes="- faster search",
    )
    assert "- faster search" in Notification.objects.get(recipient=user).body


def test_only_announcement_topics_can_be_announced(manager):
    with pytest.raises(ValidationError):
        announcements.announcement_publish(
            by=manager, topic=NotificationTopic.SLA_BREACH, title="x", body="y"
        )


def test_announcements_appear_in_the_portal_and_bad_input_is_a_form_error(client, manager_client):
    response = manager_client.post(
        "/manager/announcements/", {"topic": "news", "title": "Nieuw kantoor", "body": "We zijn verhuisd."}
    )
    assert response.status_code == 302
    assert manager_client.post("/manager/announcements/", {"topic": "nonsense"}).status_code == 400
    client.logout()
    login_with_second_factor(client, UserFactory(role=Role.CUSTOMER_USER))
    page = client.get("/portal/service/announcements/")
    assert page.status_code == 200 and "Nieuw kantoor" in page.content.decode()


def test_an_sla_change_takes_effect_at_least_a_month_after_its_announcement(manager):
    with pytest.raises(ValidationError) as error:
        announcements.policy_version_announce(
            by=manager,
            document="002",
            name="SLA 2027",
            effective_from=date(2026, 12, 22),
            at=ams(2026, 11, 23, 10),
        )
    assert "23 Dec 2026" in str(error.value)  # one date format per language (issue 17)
    version = announcements.policy_version_announce(
        by=manager,
        document="002",
        name="SLA 2027",
        effective_from=date(2026, 12, 23),
        at=ams(2026, 11, 23, 10),
    )
    assert version.announced_at == ams(2026, 11, 23, 10)
    # it starts with the targets of the version it replaces
    in_force = PolicyVersion.objects.get(document="001")
    assert version.targets.count() == in_force.targets.count() > 0
    # and its level terms and availability target, to be edited before it takes effect
    assert sorted(version.level_terms.values_list("service_level__code", "max_coordinators")) == [
        ("default", 2),
        ("extended", 4),
    ]
    assert version.availability_percent == in_force.availability_percent


def test_every_customer_organisation_hears_of_an_sla_change_through_its_coordinators(manager):
    first, second = organisation_on_level("extended"), organisation_on_level("default")
    coordinators = [UserFactory(role=Role.COORDINATOR, organisation=org) for org in (first, second)]
    UserFactory(role=Role.CUSTOMER_USER, organisation=first)  # not a coordinator: not notified here
    announcements.policy_version_announce(
        by=manager,
        document="002",
        name="SLA 2027",
        notes="Sneller.",
        effective_from=date(2027, 1, 1),
        at=ams(2026, 11, 23, 10),
    )
    assert set(Notification.objects.values_list("recipient", flat=True)) == {c.pk for c in coordinators}
    assert Announcement.objects.get().policy_version.document == "002"


@pytest.fixture
def announced(manager):
    return announcements.policy_version_announce(
        by=manager, document="002", name="SLA 2027", effective_from=date(2027, 1, 1), at=ams(2026, 11, 23, 10)
    )


def test_a_coordinator_objects_within_a_month_but_not_after(announced):
    coordinator = UserFactory(role=Role.COORDINATOR, organisation=organisation_on_level("extended"))
    late = UserFactory(role=Role.COORDINATOR, organisation=organisation_on_level("extended"))
    objection = announcements.policy_objection_file(
        policy_version=announced,
        by=coordinator,
        at=ams(2026, 12, 23, 10),  # the last instant
        motivation="De nieuwe reactietijden passen niet bij ons contract.",
    )
    assert objection.organisation_id == coordinator.organisation_id
    with pytest.raises(ValidationError, match="ended on 23 Dec 2026, 10:00"):
        announcements.policy_objection_file(
            policy_version=announced,
            by=late,
            at=ams(2026, 12, 23, 10, 1),
            motivation="Te laat, maar toch: wij zijn het er niet mee eens.",
        )
    assert PolicyObjection.objects.count() == 1


def test_an_objection_needs_reasons_a_coordinator_and_comes_once(announced):
    coordinator = UserFactory(role=Role.COORDINATOR, organisation=organisation_on_level("extended"))
    with pytest.raises(ValidationError):
        announcements.policy_objection_file(
            policy_version=announced, by=coordinator, motivation="Nee.", at=ams(2026, 11, 24)
        )
    with pytest.raises(PermissionDenied):
        announcements.policy_objection_file(
            policy_version=announced,
            at=ams(2026, 11, 24),
            by=UserFactory(role=Role.CUSTOMER_USER),
            motivation="Een gewone gebruiker mag niet bezwaren.",
        )
    reasons = "Wij hebben de 4-uursreactie nodig voor onze nachtdienst."
    announcements.policy_objection_file(
        policy_version=announced, by=coordinator, motivation=reasons, at=ams(2026, 11, 24)
    )
    with pytest.raises(ValidationError, match="already objected"):
        announcements.policy_objection_file(
            policy_version=announced, by=coordinator, motivation=reasons, at=ams(2026, 11, 25)
        )


def test_the_portal_refuses_a_late_objection_and_managers_see_objections_per_version(
    client, announced, manager
):
    coordinator = UserFactory(role=Role.COORDINATOR, organisation=organisation_on_level("extended"))
    reasons = {"motivation": "Wij hebben de 4-uursreactie nodig voor onze nachtdienst."}
    with time_machine.travel(ams(2026, 12, 24, 9), tick=False):
        login_with_second_factor(client, coordinator)
        late = client.post(f"/portal/service/sla-changes/{announced.pk}/object/", reasons)
    assert late.status_code == 400 and "can no longer be filed" in late.content.decode()
    with time_machine.travel(ams(2026, 12, 1, 9), tick=False):
        client.logout()
        login_with_second_factor(client, coordinator)
        assert client.get("/portal/service/sla-changes/").status_code == 200
        assert client.post(f"/portal/service/sla-changes/{announced.pk}/object/", reasons).status_code == 302
    client.logout()
    login_with_second_factor(client, manager)
    page = client.get(f"/manager/sla-changes/{announced.pk}/objections/")
    assert page.status_code == 200 and "nachtdienst" in page.content.decode()
    assert client.get("/manager/sla-changes/").status_code == 200
