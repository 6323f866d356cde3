"""Issue 14: everyone has a profile page, opened by clicking one's name in the top bar."""

import re

import pytest
from django.conf import settings
from django.urls import reverse

from accounts.models import NotificationTopic, Role, Subscription
from accounts.tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def test_clicking_ones_name_opens_the_profile_and_api_tokens_left_the_top_bar(client):
    user = UserFactory(role=Role.COORDINATOR, full_name="Carla Coördinator")
    client.force_login(user)
    page = client.get(reverse("portal:home")).content.decode()
    profile = reverse("accounts:profile")
    assert f'<a href="{profile}" id="nav-profile"' in page
    assert reverse("accounts:api_tokens") not in page  # out of the customers' main menu
    body = client.get(profile).content.decode()
    for name in ("account_change_password", "mfa_index", "accounts:api_tokens", "portal:preferences"):
        assert reverse(name) in body, name
    assert "Carla Coördinator" in body
    assert client.get(reverse("mfa_index")).status_code == 200  # a customer can set up a second factor
    assert client.get(reverse("account_change_password")).status_code == 200


def test_the_profile_saves_name_and_language_and_the_pages_follow_the_language(client):
    user = UserFactory(role=Role.CUSTOMER_USER, language="en")
    client.force_login(user)
    response = client.post(reverse("accounts:profile"), {"full_name": "  Nieuwe Naam ", "language": "nl"})
    assert response.status_code == 302
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "nl"
    user.refresh_from_db()
    assert (user.full_name, user.language) == ("Nieuwe Naam", "nl")
    assert "Profiel" in client.get(reverse("accounts:profile")).content.decode()


def test_a_bad_profile_is_a_form_error_not_a_write(client):
    user = UserFactory(role=Role.CUSTOMER_USER, full_name="Keep Me", language="en")
    client.force_login(user)
    response = client.post(reverse("accounts:profile"), {"full_name": " ", "language": "xx"})
    assert response.status_code == 200
    assert response.context["form"].errors.keys() == {"full_name", "language"}
    user.refresh_from_db()
    assert (user.full_name, user.language) == ("Keep Me", "en")


def test_after_login_the_pages_speak_the_users_language(client):
    user = UserFactory(role=Role.CUSTOMER_USER, language="nl")
    response = client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    assert response.status_code == 302
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "nl"
    assert 'lang="nl"' in client.get(reverse("accounts:profile")).content.decode()


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get(reverse("accounts:profile"))
    assert response.status_code == 302 and reverse("account_login") in response["Location"]


def test_a_manager_switches_low_satisfaction_scores_off_on_the_profile_page(manager_client, manager):
    """Issue 17: "Low scores notify the support manager" - who may switch them off without the admin."""
    page = manager_client.get(reverse("accounts:profile")).content.decode()
    assert 'id="staff-notifications-form"' in page
    assert re.search(r'value="low_satisfaction"[^>]* checked', page)  # on by default
    response = manager_client.post(reverse("accounts:staff_notifications"), {})
    assert response.status_code == 302
    assert not Subscription.objects.filter(user=manager).exists()
    # a topic that is not the manager's own writes nothing and says so
    response = manager_client.post(reverse("accounts:staff_notifications"), {"topics": ["news"]}, follow=True)
    assert "Choose from the listed topics." in response.content.decode()
    assert not Subscription.objects.filter(user=manager).exists()
    manager_client.post(reverse("accounts:staff_notifications"), {"topics": ["low_satisfaction"]})
    assert list(Subscription.objects.filter(user=manager).values_list("topic", flat=True)) == [
        NotificationTopic.LOW_SATISFACTION
    ]


def test_an_agent_has_no_notification_choices_to_make(agent_client, agent):
    assert (
        'id="staff-notifications-form"' not in agent_client.get(reverse("accounts:profile")).content.decode()
    )
    agent_client.post(reverse("accounts:staff_notifications"), {"topics": ["low_satisfaction"]})
    assert not Subscription.objects.filter(user=agent).exists()
