"""The SLA as data: SPEC §1, §2 and §4, for the data migration and for tests to compare with.

Figures are (amount, unit) per priority High/Normal/Low; None is best effort.
"""

from datetime import date, time

HOURS, DAYS = "hours", "days"

CALENDARS = {
    "Default": [(weekday, time(10), time(16)) for weekday in range(5)],
    "Extended": [(weekday, time(8), time(17)) for weekday in range(5)],
}

# The levels with the terms of document 001 (migration 0003 created the levels with them; 0009
# moved them to each policy version: ``POLICY_VERSIONS[...]["level_terms"]`` overrides them).
SERVICE_LEVELS = [
    {
        "code": "default",
        "name": "Default",
        "calendar": "Default",
        "reports_per_year": 0,
        "own_consultant": False,
        "consultant_lead_days": 21,
        "max_coordinators": 2,
        "channel_portal": True,
        "channel_mail": False,
        "channel_phone": False,
    },
    {
        "code": "extended",
        "name": "Extended",
        "calendar": "Extended",
        "reports_per_year": 4,
        "own_consultant": True,
        "consultant_lead_days": 7,
        "max_coordinators": 4,
        "channel_portal": True,
        "channel_mail": True,
        "channel_phone": True,
    },
]


def _h(*amounts):
    return tuple((amount, HOURS) for amount in amounts)


def _d(*amounts):
    return tuple((amount, DAYS) for amount in amounts)


_BE = ((None, "best_effort"),) * 3  # best effort: no deadline, never breaches

# §3.1.1 "response time standard service": < 8 hours, < 2 working days, < 5 working days.
_STANDARD_SERVICE_RESPONSE = ((8, HOURS), (2, DAYS), (5, DAYS))


def _policy(incident_response, incident_resolution, change_response):
    """SPEC §2 decision: incidents use the incident rows; changes and enhancement requests the
    change rows; information and service requests the §3.1.1 table on Default and the Extended
    incident response on Extended, resolution best effort."""
    policy = {}
    for level in ("default", "extended"):
        info_response = _STANDARD_SERVICE_RESPONSE if level == "default" else incident_response[level]
        policy[level] = {
            "incident": {"response": incident_response[level], "resolution": incident_resolution[level]},
            "change": {"response": change_response[level], "resolution": _BE},
            "enhancement_request": {"response": change_response[level], "resolution": _BE},
            "information_request": {"response": info_response, "resolution": _BE},
            "service_request": {"response": info_response, "resolution": _BE},
        }
    return policy


POLICY_VERSIONS = [
    {
        "document": "000",
        "effective_from": date(2000, 1, 1),
        "name": "Praktische Ondersteuningsrichtlijnen & DNO (SLA) - earlier version",
        "notes": "Undated; in force before document 001.",
        # §1.2.2 of document 000: "Aantal gebruikers om calls te registreren" 1 / 3; §5.1.1: 99.8%.
        "availability_percent": "99.80",
        "level_terms": {
            "default": {
                "max_coordinators": 1,
                "consultant_lead_days": 21,
                "reports_per_year": 0,
                "own_consultant": False,
                "channel_portal": True,
                "channel_mail": False,
                "channel_phone": False,
            },
            "extended": {
                "max_coordinators": 3,
                "consultant_lead_days": 7,
                "reports_per_year": 4,
                "own_consultant": True,
                "channel_portal": True,
                "channel_mail": True,
                "channel_phone": True,
            },
        },
        "targets": _policy(
            incident_response={"default": _h(8, 16, 40), "extended": _h(4, 4, 8)},
            incident_resolution={"default": _BE, "extended": _h(40, 60, 80)},
            change_response={"default": _d(2, 5, 10), "extended": _d(2, 5, 10)},
        ),
    },
    {
        "document": "001",
        "effective_from": date(2023, 3, 1),
        "name": "Praktische Ondersteuningsrichtlijnen & DNO (SLA)",
        "notes": "Valid from 2023-03-01.",
        # §1.2.2: "Max 2" / "Max 4" (the levels' own values, SERVICE_LEVELS); §5.2: 99%.
        "availability_percent": "99.00",
        "targets": _policy(
            incident_response={"default": _h(4, 8, 16), "extended": _h(2, 4, 8)},
            incident_resolution={"default": _BE, "extended": _d(20, 40, 60)},
            change_response={"default": _d(1, 3, 5), "extended": _d("0.5", 2, 3)},
        ),
    },
]

# SPEC §4: PRIORITY_MATRIX[urgency][impact]
PRIORITY_MATRIX = {1: {1: 1, 2: 1, 3: 2}, 2: {1: 1, 2: 2, 3: 3}, 3: {1: 2, 2: 3, 3: 3}}

# Holidays are seeded for these years (migration 0011 adds every year from the first policy
# version on); any other year is generated when a question touches it (sla.selectors), and
# `manage.py sla_holidays --years` stores more for managers to edit.
HOLIDAY_YEARS = range(2020, 2041)


def library_holidays(years) -> list[tuple[date, str, str]]:
    """Dutch public holidays from the `holidays` library: (date, name, kind). Sundays that
    are holidays (Easter, Whit Sunday) are kept: harmless, and faithful to the list."""
    import holidays

    rows = []
    for day, name in sorted(holidays.country_holidays("NL", years=years, language="en_US").items()):
        kind = {"Good Friday": "good_friday", "Liberation Day": "liberation_day"}.get(name, "other")
        rows.append((day, name, kind))
    return rows
