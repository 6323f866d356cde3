"""The seeded policy shows exactly the SPEC §2 figures, for both levels and both versions."""

from datetime import date, time

import pytest

from sla.models import Calendar, Holiday, PolicyVersion, PriorityRule, ServiceLevel, Target
from sla.selectors import level_terms

pytestmark = pytest.mark.django_db

BE = "best effort"


def _figures(document: str, level: str, kind: str, clock: str) -> list[str]:
    rows = Target.objects.filter(
        policy_version__document=document, service_level__code=level, ticket_kind=kind, clock=clock
    ).order_by("priority")
    return [BE if row.amount is None else f"{row.amount.normalize():f}{row.unit[0]}" for row in rows]


@pytest.mark.parametrize(
    "document,level,kind,clock,expected",
    [
        # document 001, SPEC §2
        ("001", "default", "incident", "response", ["4h", "8h", "16h"]),
        ("001", "extended", "incident", "response", ["2h", "4h", "8h"]),
        ("001", "default", "incident", "resolution", [BE, BE, BE]),
        ("001", "extended", "incident", "resolution", ["20d", "40d", "60d"]),
        ("001", "default", "change", "response", ["1d", "3d", "5d"]),
        ("001", "extended", "change", "response", ["0.5d", "2d", "3d"]),
        ("001", "default", "change", "resolution", [BE, BE, BE]),
        ("001", "extended", "change", "resolution", [BE, BE, BE]),
        ("001", "default", "enhancement_request", "response", ["1d", "3d", "5d"]),
        ("001", "extended", "enhancement_request", "response", ["0.5d", "2d", "3d"]),
        ("001", "default", "information_request", "response", ["8h", "2d", "5d"]),
        ("001", "default", "service_request", "response", ["8h", "2d", "5d"]),
        ("001", "extended", "information_request", "response", ["2h", "4h", "8h"]),
        ("001", "extended", "service_request", "resolution", [BE, BE, BE]),
        # document 000
        ("000", "default", "incident", "response", ["8h", "16h", "40h"]),
        ("000", "extended", "incident", "response", ["4h", "4h", "8h"]),
        ("000", "extended", "incident", "resolution", ["40h", "60h", "80h"]),
        ("000", "default", "incident", "resolution", [BE, BE, BE]),
        ("000", "default", "change", "response", ["2d", "5d", "10d"]),
        ("000", "extended", "change", "response", ["2d", "5d", "10d"]),
    ],
)
def test_seeded_targets_are_the_spec_figures(document, level, kind, clock, expected):
    assert _figures(document, level, kind, clock) == expected


def test_versions_levels_and_calendars():
    assert list(PolicyVersion.objects.order_by("effective_from").values_list("document", flat=True)) == [
        "000",
        "001",
    ]
    assert str(PolicyVersion.objects.get(document="001").effective_from) == "2023-03-01"
    default = level_terms(service_level=ServiceLevel.objects.get(code="default"), on=date(2026, 1, 1))
    extended = level_terms(service_level=ServiceLevel.objects.get(code="extended"), on=date(2026, 1, 1))
    assert (default.consultant_lead_days, default.max_coordinators, default.reports_per_year) == (21, 2, 0)
    assert (extended.consultant_lead_days, extended.max_coordinators, extended.reports_per_year) == (7, 4, 4)
    assert not default.channel_mail and extended.channel_mail and not default.own_consultant
    hours = {
        c.name: sorted({(h.weekday, h.opens, h.closes) for h in c.opening_hours.all()})
        for c in Calendar.objects.all()
    }
    assert hours["Default"] == [(d, time(10), time(16)) for d in range(5)]
    assert hours["Extended"] == [(d, time(8), time(17)) for d in range(5)]


def test_priority_matrix_is_spec_section_4():
    matrix = {(r.urgency, r.impact): r.priority for r in PriorityRule.objects.all()}
    assert [[matrix[(u, i)] for i in (1, 2, 3)] for u in (1, 2, 3)] == [[1, 1, 2], [1, 2, 3], [2, 3, 3]]


def test_dutch_holidays_come_from_the_library_with_good_friday_and_lustrum_liberation_day():
    names = dict(Holiday.objects.filter(date__year=2025).values_list("date__month", "kind").distinct())
    assert names  # seeded
    kinds_2025 = set(Holiday.objects.filter(date__year=2025).values_list("kind", flat=True))
    assert kinds_2025 == {"good_friday", "liberation_day", "other"}
    assert not Holiday.objects.filter(date__year=2026, kind="liberation_day").exists()
    assert Holiday.objects.filter(date__year=2030, kind="liberation_day").exists()


@pytest.mark.parametrize(
    ("on", "default", "extended"),
    [
        (date(2019, 12, 24), 1, 3),
        (date(2023, 2, 28), 1, 3),
        (date(2023, 3, 1), 2, 4),
        (date(2030, 1, 1), 2, 4),
    ],
)
def test_level_terms_are_those_of_the_policy_version_in_force(on, default, extended):
    """Document 000 §1.2.2 "Aantal gebruikers om calls te registreren (als coördinator/dispatcher)":
    1 and 3; document 001 §1.2.2, "GELDIG VANAF 01/03/2023": "Max 2" and "Max 4". Everything
    else of §1.2.2 is the same in both (10-16 / 08-17, 0 / 4 reports, 21 / 7 days, channels)."""
    terms = {
        code: level_terms(service_level=ServiceLevel.objects.get(code=code), on=on)
        for code in ("default", "extended")
    }
    assert (terms["default"].max_coordinators, terms["extended"].max_coordinators) == (default, extended)
    assert (terms["default"].consultant_lead_days, terms["extended"].consultant_lead_days) == (21, 7)
    assert (terms["default"].reports_per_year, terms["extended"].reports_per_year) == (0, 4)
    assert (terms["default"].channel_mail, terms["extended"].channel_mail) == (False, True)
    assert (terms["default"].channel_phone, terms["extended"].channel_phone) == (False, True)
    assert not terms["default"].own_consultant and terms["extended"].own_consultant
