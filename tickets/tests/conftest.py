from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from accounts.models import Role
from accounts.tests.factories import UserFactory
from tickets.tests.factories import coordinator_on

AMS = ZoneInfo("Europe/Amsterdam")
# Monday 23 November 2026, 09:00 in Amsterdam: both levels' opening hours ahead.
MONDAY_9 = datetime(2026, 11, 23, 9, 0, tzinfo=AMS)


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    """Attachments of a test go to its own directory, never to var/media."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def monday():
    with time_machine.travel(MONDAY_9, tick=False) as traveller:
        yield traveller


@pytest.fixture
def coordinator_ext(db):
    return coordinator_on("extended")


@pytest.fixture
def coordinator_def(db):
    return coordinator_on("default")


@pytest.fixture
def consultant(make_staff):
    return make_staff(Role.CONSULTANT)


@pytest.fixture
def other_customer(db):
    """A coordinator of another organisation: sees none of the first one's."""
    return coordinator_on("extended")


@pytest.fixture
def customer_user_ext(coordinator_ext):
    return UserFactory(role=Role.CUSTOMER_USER, organisation=coordinator_ext.organisation)
