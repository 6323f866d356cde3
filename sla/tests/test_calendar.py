"""Tests for sla.calendar: hand-computed edges, properties, and a minute-stepping reference.

Expected values are Amsterdam wall-clock literals worked out by hand with a calendar on the
desk; the property and differential tests then check the same arithmetic everywhere else.
No database: the calendar is pure Python.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sla.calendar import (
    BusinessCalendar,
    CountedInterval,
    Explanation,
    OpeningRange,
    parse_duration,
)
from sla.tests.naive_reference import NaiveCalendar

AMS = ZoneInfo("Europe/Amsterdam")
NL_HOLIDAYS = holidays.country_holidays("NL", years=range(2024, 2028))
MON_FRI = range(5)
DEFAULT_HOURS = {wd: [(time(10), time(16))] for wd in MON_FRI}
EXTENDED_HOURS = {wd: [(time(8), time(17))] for wd in MON_FRI}
HOUR = 3600


def ams(*args: int) -> datetime:
    """An Amsterdam wall-clock instant: ams(2025, 3, 28, 14) is Fri 28 March 2025 14:00."""
    return datetime(*args, tzinfo=AMS)


def make_default() -> BusinessCalendar:
    return BusinessCalendar(tz=AMS, weekly_hours=DEFAULT_HOURS, closed_dates=NL_HOLIDAYS.keys())


def make_extended() -> BusinessCalendar:
    return BusinessCalendar(
        tz="Europe/Amsterdam", weekly_hours=EXTENDED_HOURS, closed_dates=NL_HOLIDAYS.keys()
    )


# Module-level so hypothesis (which refuses function-scoped fixtures) can share them; the
# lazily grown horizon does not change any answer, so sharing is harmless.
DEFAULT = make_default()
EXTENDED = make_extended()


@pytest.fixture
def default() -> BusinessCalendar:
    return DEFAULT


@pytest.fixture
def extended() -> BusinessCalendar:
    return EXTENDED


# -- configuration ------------------------------------------------------------------------


def test_day_seconds_is_a_working_days_opening_hours():
    assert DEFAULT.day_seconds == 6 * HOUR == 21600
    assert EXTENDED.day_seconds == 9 * HOUR == 32400


def test_day_seconds_takes_the_longest_weekday():
    short_friday = {**DEFAULT_HOURS, 4: [(time(10), time(13))]}
    assert BusinessCalendar(tz=AMS, weekly_hours=short_friday).day_seconds == 6 * HOUR


def test_calendar_without_opening_hours_is_refused():
    with pytest.raises(ValueError, match="opening hours"):
        BusinessCalendar(tz=AMS, weekly_hours={})
    with pytest.raises(ValueError, match="opening hours"):
        BusinessCalendar(tz=AMS, weekly_hours={0: []})


@pytest.mark.parametrize(
    ("start", "end"),
    [(time(16), time(10)), (time(10), time(10)), (time(22), time(0))],
)
def test_opening_range_must_start_before_it_ends_on_the_same_day(start, end):
    with pytest.raises(ValueError, match="cannot cross midnight"):
        OpeningRange(start, end)
    with pytest.raises(ValueError, match="cannot cross midnight"):
        BusinessCalendar(tz=AMS, weekly_hours={0: [(start, end)]})


def test_weekday_out_of_range_is_refused():
    with pytest.raises(ValueError, match="weekday"):
        BusinessCalendar(tz=AMS, weekly_hours={7: [(time(10), time(16))]})


def test_opening_range_objects_are_accepted_like_tuples():
    calendar = BusinessCalendar(tz=AMS, weekly_hours={0: [OpeningRange(time(10), time(16))]})
    assert calendar.add(ams(2025, 3, 3, 10), 6 * HOUR) == ams(2025, 3, 3, 16)


# -- edges, Default Mon-Fri 10:00-16:00 and Extended Mon-Fri 08:00-17:00 ----------------


def test_start_exactly_at_opening_counts_from_that_instant(default, extended):
    assert default.add(ams(2025, 3, 3, 10), HOUR) == ams(2025, 3, 3, 11)
    assert extended.add(ams(2025, 3, 3, 8), HOUR) == ams(2025, 3, 3, 9)
    assert default.is_open(ams(2025, 3, 3, 10))


def test_start_exactly_at_closing_counts_from_the_next_opening(default, extended):
    assert not default.is_open(ams(2025, 3, 3, 16))
    assert default.add(ams(2025, 3, 3, 16), HOUR) == ams(2025, 3, 4, 11)
    assert default.add(ams(2025, 3, 3, 16), 0) == ams(2025, 3, 4, 10)
    assert extended.add(ams(2025, 3, 3, 17), HOUR) == ams(2025, 3, 4, 9)


def test_deadline_landing_exactly_on_closing_stays_at_closing(default, extended):
    # Mon 12:00 + 4h is Mon 16:00, not Tue 10:00.
    assert default.add(ams(2025, 3, 3, 12), 4 * HOUR) == ams(2025, 3, 3, 16)
    assert extended.add(ams(2025, 3, 3, 13), 4 * HOUR) == ams(2025, 3, 3, 17)
    # One second more spills over to the next opening.
    assert default.add(ams(2025, 3, 3, 12), 4 * HOUR + 1) == ams(2025, 3, 4, 10, 0, 1)


def test_add_zero_is_the_start_when_open_and_the_next_opening_when_closed(default):
    assert default.add(ams(2025, 3, 3, 12, 34, 56), 0) == ams(2025, 3, 3, 12, 34, 56)
    assert default.add(ams(2025, 3, 3, 9, 59, 59), 0) == ams(2025, 3, 3, 10)
    assert default.add(ams(2025, 3, 8, 12), 0) == ams(2025, 3, 10, 10)


def test_friday_afternoon_runs_across_the_weekend(default, extended):
    assert default.add(ams(2025, 3, 7, 14), 4 * HOUR) == ams(2025, 3, 10, 12)
    assert extended.add(ams(2025, 3, 7, 15), 4 * HOUR) == ams(2025, 3, 10, 10)
    assert default.elapsed(ams(2025, 3, 7, 14), ams(2025, 3, 10, 12)) == 4 * HOUR


def test_start_on_saturday_counts_from_monday_opening(default, extended):
    assert default.add(ams(2025, 3, 8, 11), 4 * HOUR) == ams(2025, 3, 10, 14)
    assert extended.add(ams(2025, 3, 8, 11), 4 * HOUR) == ams(2025, 3, 10, 12)
    assert default.elapsed(ams(2025, 3, 8, 11), ams(2025, 3, 10, 10)) == 0


def test_spec_example_kings_day_2025_falls_on_saturday(default):
    # SPEC: --level default --start 2025-04-25T15:00 --target 4h. 2025-04-27 is a Sunday,
    # so King's Day moves to Saturday 26 April: the weekend is closed anyway.
    assert NL_HOLIDAYS.get(date(2025, 4, 26)) == "King's Day"
    assert date(2025, 4, 26).weekday() == 5
    assert date(2025, 4, 27) not in NL_HOLIDAYS
    deadline = default.add(datetime.fromisoformat("2025-04-25T15:00").replace(tzinfo=AMS), 4 * HOUR)
    assert deadline.isoformat() == "2025-04-28T13:00:00+02:00"


# Each Dutch holiday of 2025 and 2026 that falls on a working day: a 4h target started at
# 15:00 on the working day before it (1h that day) must jump the holiday.
HOLIDAY_CASES = [
    # (holiday, name in the library, start, expected deadline)
    (date(2025, 1, 1), "New Year's Day", ams(2024, 12, 31, 15), ams(2025, 1, 2, 13)),
    (date(2025, 4, 18), "Good Friday", ams(2025, 4, 17, 15), ams(2025, 4, 22, 13)),
    (date(2025, 4, 21), "Easter Monday", ams(2025, 4, 17, 15), ams(2025, 4, 22, 13)),
    (date(2025, 5, 5), "Liberation Day", ams(2025, 5, 2, 15), ams(2025, 5, 6, 13)),
    (date(2025, 5, 29), "Ascension Day", ams(2025, 5, 28, 15), ams(2025, 5, 30, 13)),
    (date(2025, 6, 9), "Pentecost Monday", ams(2025, 6, 6, 15), ams(2025, 6, 10, 13)),
    (date(2025, 12, 25), "Christmas Day", ams(2025, 12, 24, 15), ams(2025, 12, 29, 13)),
    (date(2025, 12, 26), "Second Day of Christmas", ams(2025, 12, 24, 15), ams(2025, 12, 29, 13)),
    (date(2026, 1, 1), "New Year's Day", ams(2025, 12, 31, 15), ams(2026, 1, 2, 13)),
    (date(2026, 4, 3), "Good Friday", ams(2026, 4, 2, 15), ams(2026, 4, 7, 13)),
    (date(2026, 4, 6), "Easter Monday", ams(2026, 4, 2, 15), ams(2026, 4, 7, 13)),
    (date(2026, 4, 27), "King's Day", ams(2026, 4, 24, 15), ams(2026, 4, 28, 13)),
    (date(2026, 5, 14), "Ascension Day", ams(2026, 5, 13, 15), ams(2026, 5, 15, 13)),
    (date(2026, 5, 25), "Pentecost Monday", ams(2026, 5, 22, 15), ams(2026, 5, 26, 13)),
    (date(2026, 12, 25), "Christmas Day", ams(2026, 12, 24, 15), ams(2026, 12, 28, 13)),
]


@pytest.mark.parametrize(
    ("holiday", "name", "start", "expected"),
    HOLIDAY_CASES,
    ids=[f"{case[0]}-{case[1]}" for case in HOLIDAY_CASES],
)
def test_dutch_holiday_is_skipped(default, holiday, name, start, expected):
    assert holiday.weekday() < 5
    assert name in NL_HOLIDAYS.get_list(holiday)
    assert not default.is_open(datetime.combine(holiday, time(12), tzinfo=AMS))
    assert default.add(start, 4 * HOUR) == expected
    assert default.elapsed(start, expected) == 4 * HOUR
    assert holiday in default.explain(start, expected).skipped_dates


def test_start_on_a_holiday_counts_from_the_next_working_day(default):
    assert default.add(ams(2025, 4, 21, 12), HOUR) == ams(2025, 4, 22, 11)


def test_library_has_no_liberation_day_off_in_a_non_lustrum_year(default):
    # Liberation Day is a day off every fifth year (2025); 2026-05-05 is a normal Tuesday.
    assert date(2026, 5, 5) not in NL_HOLIDAYS
    assert default.add(ams(2026, 5, 4, 15), 4 * HOUR) == ams(2026, 5, 5, 13)


def test_christmas_2026_second_day_is_a_saturday(default):
    assert date(2026, 12, 26) in NL_HOLIDAYS
    assert date(2026, 12, 26).weekday() == 5
    explanation = default.explain(ams(2026, 12, 24, 15), ams(2026, 12, 28, 13))
    assert explanation.skipped_dates == (date(2026, 12, 25),)


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        # spring forward 2025-03-30: Friday is UTC+1, Monday UTC+2
        (ams(2025, 3, 28, 14), ams(2025, 3, 31, 12)),
        # fall back 2025-10-26
        (ams(2025, 10, 24, 14), ams(2025, 10, 27, 12)),
        # spring forward 2026-03-29
        (ams(2026, 3, 27, 14), ams(2026, 3, 30, 12)),
        # fall back 2026-10-25
        (ams(2026, 10, 23, 14), ams(2026, 10, 26, 12)),
    ],
)
def test_dst_change_over_the_weekend_keeps_wall_clock_hours(default, start, expected):
    deadline = default.add(start, 4 * HOUR)
    assert deadline == expected
    assert (deadline.hour, deadline.minute) == (12, 0)
    assert deadline.utcoffset() != start.utcoffset()
    assert default.elapsed(start, deadline) == 4 * HOUR


def test_opening_instant_moves_in_utc_across_dst(default):
    # 10:00 Amsterdam is 09:00 UTC in winter and 08:00 UTC in summer.
    assert default.next_opening(datetime(2025, 3, 28, 0, tzinfo=UTC)) == datetime(2025, 3, 28, 9, tzinfo=UTC)
    assert default.next_opening(datetime(2025, 3, 31, 0, tzinfo=UTC)) == datetime(2025, 3, 31, 8, tzinfo=UTC)


def test_utc_input_gives_amsterdam_output(default):
    deadline = default.add(datetime(2025, 3, 28, 13, tzinfo=UTC), 4 * HOUR)  # 14:00 CET
    assert deadline.tzinfo == AMS
    assert deadline == ams(2025, 3, 31, 12)


def test_year_end_skips_christmas_and_new_year(default, extended):
    assert default.add(ams(2025, 12, 31, 10), 12 * HOUR) == ams(2026, 1, 2, 16)
    assert default.add(ams(2025, 12, 24, 10), 12 * HOUR) == ams(2025, 12, 29, 16)
    assert extended.add(ams(2025, 12, 31, 16), 2 * HOUR) == ams(2026, 1, 2, 9)
    assert default.elapsed(ams(2025, 12, 24, 0), ams(2026, 1, 3)) == 5 * 6 * HOUR


def test_half_a_business_day(default, extended):
    half_default = parse_duration("0.5d", day_seconds=default.day_seconds)
    half_extended = parse_duration("0.5d", day_seconds=extended.day_seconds)
    assert half_default == 3 * HOUR
    assert half_extended == 4 * HOUR + 30 * 60
    assert default.add(ams(2025, 3, 3, 10), half_default) == ams(2025, 3, 3, 13)
    assert extended.add(ams(2025, 3, 3, 8), half_extended) == ams(2025, 3, 3, 12, 30)
    assert extended.add(ams(2025, 3, 3, 15), half_extended) == ams(2025, 3, 4, 10, 30)


def test_twenty_business_days(default, extended):
    twenty = parse_duration("20d", day_seconds=default.day_seconds)
    # September 2025 has no holidays: day 1 is Mon 1 Sep, day 20 is Fri 26 Sep.
    assert default.add(ams(2025, 9, 1, 10), twenty) == ams(2025, 9, 26, 16)
    # From Mon 14 April 2025: Good Friday, Easter Monday, Liberation Day are skipped,
    # King's Day is a Saturday. Days: 14-17 Apr (4), 22-25 (8), 28 Apr-2 May (13),
    # 6-9 May (17), 12, 13, 14 May (20).
    assert default.add(ams(2025, 4, 14, 10), twenty) == ams(2025, 5, 14, 16)
    assert extended.add(ams(2025, 4, 14, 8), 20 * extended.day_seconds) == ams(2025, 5, 14, 17)
    # Started mid-day, it ends mid-day 20 working days on.
    assert default.add(ams(2025, 9, 1, 13), twenty) == ams(2025, 9, 29, 13)


def test_multi_range_day_with_a_lunch_break():
    calendar = BusinessCalendar(
        tz=AMS,
        weekly_hours={wd: [(time(13), time(17)), (time(8), time(12))] for wd in MON_FRI},
        closed_dates=NL_HOLIDAYS.keys(),
    )
    assert calendar.day_seconds == 8 * HOUR
    assert calendar.add(ams(2025, 3, 3, 11), 2 * HOUR) == ams(2025, 3, 3, 14)
    # Landing on the lunch closing stays there.
    assert calendar.add(ams(2025, 3, 3, 11), HOUR) == ams(2025, 3, 3, 12)
    assert not calendar.is_open(ams(2025, 3, 3, 12, 30))
    assert calendar.add(ams(2025, 3, 3, 12, 30), 0) == ams(2025, 3, 3, 13)
    assert calendar.add(ams(2025, 3, 3, 12, 30), HOUR) == ams(2025, 3, 3, 14)
    assert calendar.elapsed(ams(2025, 3, 3, 11), ams(2025, 3, 3, 14)) == 2 * HOUR
    assert calendar.add(ams(2025, 3, 7, 16), 2 * HOUR) == ams(2025, 3, 10, 9)
    explanation = calendar.explain(ams(2025, 3, 3, 7), ams(2025, 3, 3, 18))
    assert [(i.start.hour, i.end.hour, i.seconds) for i in explanation.intervals] == [
        (8, 12, 4 * HOUR),
        (13, 17, 4 * HOUR),
    ]


def test_overlapping_and_touching_ranges_are_merged():
    calendar = BusinessCalendar(
        tz=AMS, weekly_hours={0: [(time(8), time(12)), (time(11), time(13)), (time(13), time(14))]}
    )
    assert calendar.weekly_hours[0] == (OpeningRange(time(8), time(14)),)
    assert calendar.day_seconds == 6 * HOUR
    assert calendar.add(ams(2025, 3, 3, 8), 6 * HOUR) == ams(2025, 3, 3, 14)


def test_ranges_in_the_dst_gap_or_overlap_follow_fold_zero():
    # Sunday ranges around the 02:00-03:00 change hours. Spring 2025-03-30: 02:00-03:00 does
    # not exist, so that range vanishes and 01:00-04:00 lasts 2 real hours. Autumn
    # 2025-10-26: 02:00-03:00 happens twice; from its first 02:00 to 03:00 is 2 real hours.
    gap = BusinessCalendar(tz=AMS, weekly_hours={6: [(time(2), time(3))]})
    wide = BusinessCalendar(tz=AMS, weekly_hours={6: [(time(1), time(4))]})
    assert gap.elapsed(ams(2025, 3, 30), ams(2025, 3, 31)) == 0
    assert wide.elapsed(ams(2025, 3, 30), ams(2025, 3, 31)) == 2 * HOUR
    assert gap.elapsed(ams(2025, 10, 26), ams(2025, 10, 27)) == 2 * HOUR
    assert wide.elapsed(ams(2025, 10, 26), ams(2025, 10, 27)) == 4 * HOUR
    assert gap.elapsed(ams(2025, 3, 23), ams(2025, 3, 24)) == HOUR  # a normal Sunday
    assert gap.add(ams(2025, 3, 29, 12), HOUR) == ams(2025, 4, 6, 3)  # skips the gap day


def test_microseconds_are_kept(default):
    start = ams(2025, 3, 3, 12, 0, 0, 123456)
    deadline = default.add(start, 1.5)
    assert deadline == ams(2025, 3, 3, 12, 0, 1, 623456)
    assert default.elapsed(start, deadline) == 1.5
    assert default.elapsed(ams(2025, 3, 3, 15, 59, 59, 999999), ams(2025, 3, 4, 12)) == pytest.approx(
        2 * HOUR + 1e-6, abs=1e-9
    )


def test_elapsed_is_an_int_for_whole_seconds_and_zero_backwards(default):
    result = default.elapsed(ams(2025, 3, 3, 9), ams(2025, 3, 4, 11))
    assert result == 7 * HOUR
    assert isinstance(result, int)
    assert default.elapsed(ams(2025, 3, 4, 11), ams(2025, 3, 3, 9)) == 0
    assert default.elapsed(ams(2025, 3, 4, 11), ams(2025, 3, 4, 11)) == 0


@pytest.mark.parametrize("bad", [-1, -0.5, float("nan"), float("inf")])
def test_negative_or_non_finite_amounts_are_refused(default, bad):
    with pytest.raises(ValueError, match="finite number >= 0"):
        default.add(ams(2025, 3, 3, 12), bad)


def test_naive_datetimes_are_refused(default):
    naive = datetime(2025, 3, 3, 12)
    aware = ams(2025, 3, 3, 12)
    with pytest.raises(ValueError, match="aware"):
        default.add(naive, HOUR)
    with pytest.raises(ValueError, match="aware"):
        default.add(naive, 0)
    with pytest.raises(ValueError, match="aware"):
        default.elapsed(naive, aware)
    with pytest.raises(ValueError, match="aware"):
        default.elapsed(aware, naive)
    with pytest.raises(ValueError, match="aware"):
        default.explain(naive, aware)
    with pytest.raises(ValueError, match="aware"):
        default.is_open(naive)
    with pytest.raises(ValueError, match="aware"):
        default.next_opening(naive)


# -- horizon --------------------------------------------------------------------------------


def test_horizon_grows_in_both_directions_without_changing_answers():
    eager = BusinessCalendar(
        tz=AMS, weekly_hours=DEFAULT_HOURS, closed_dates=NL_HOLIDAYS, horizon_start=date(2025, 1, 1)
    )
    lazy = make_default()
    # First question in 2040 centres the lazy horizon there; then go back to 1995 and 2025.
    for calendar in (eager, lazy):
        assert calendar.add(datetime(2040, 3, 2, 15, tzinfo=AMS), 2 * HOUR) == ams(2040, 3, 5, 11)
        assert calendar.add(ams(1995, 3, 3, 15), 2 * HOUR) == ams(1995, 3, 6, 11)
        assert calendar.add(ams(2025, 4, 25, 15), 4 * HOUR) == ams(2025, 4, 28, 13)
        assert calendar.elapsed(ams(1995, 1, 2), ams(1995, 1, 9)) == 5 * 6 * HOUR
        assert calendar.is_open(ams(2060, 6, 1, 12))  # a Tuesday


def test_a_target_far_beyond_the_horizon_is_reached():
    calendar = make_default()
    start = ams(2025, 1, 6, 10)  # Monday
    weeks = 52 * 20
    deadline = calendar.add(start, weeks * 5 * calendar.day_seconds)
    assert deadline > start + timedelta(weeks=weeks)
    assert calendar.elapsed(start, deadline) == weeks * 5 * calendar.day_seconds
    assert deadline.time() == time(16)


# -- explain --------------------------------------------------------------------------------


def test_explain_lists_the_holidays_skipped_and_the_intervals_counted(default):
    a, b = ams(2025, 12, 24, 12), ams(2026, 1, 2, 12)
    explanation = default.explain(a, b)
    assert isinstance(explanation, Explanation)
    assert explanation.skipped_dates == (date(2025, 12, 25), date(2025, 12, 26), date(2026, 1, 1))
    assert explanation.intervals == (
        CountedInterval(ams(2025, 12, 24, 12), ams(2025, 12, 24, 16), 4 * HOUR),
        CountedInterval(ams(2025, 12, 29, 10), ams(2025, 12, 29, 16), 6 * HOUR),
        CountedInterval(ams(2025, 12, 30, 10), ams(2025, 12, 30, 16), 6 * HOUR),
        CountedInterval(ams(2025, 12, 31, 10), ams(2025, 12, 31, 16), 6 * HOUR),
        CountedInterval(ams(2026, 1, 2, 10), ams(2026, 1, 2, 12), 2 * HOUR),
    )
    assert explanation.total_seconds == default.elapsed(a, b) == 24 * HOUR
    assert sum(i.seconds for i in explanation.intervals) == explanation.total_seconds


def test_explain_leaves_out_a_holiday_on_a_weekend(default):
    explanation = default.explain(ams(2025, 4, 25, 15), ams(2025, 4, 28, 13))
    assert explanation.skipped_dates == ()
    assert explanation.total_seconds == 4 * HOUR


def test_explain_of_an_empty_span(default):
    assert default.explain(ams(2025, 3, 3, 12), ams(2025, 3, 3, 12)) == Explanation((), (), 0)
    # A span ending at midnight before a holiday does not list that holiday.
    assert default.explain(ams(2025, 12, 24, 12), ams(2025, 12, 25)).skipped_dates == ()


# -- parse_duration ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "day_seconds", "expected"),
    [
        ("4h", 21600, 14400),
        ("30m", 21600, 1800),
        ("3d", 21600, 3 * 21600),
        ("3d", 32400, 3 * 32400),
        ("0.5d", 21600, 10800),
        ("0.5d", 32400, 16200),
        ("1.5h", 21600, 5400),
        ("0.1h", 21600, 360),
        (" 2 H ", 21600, 7200),
        ("45s", 21600, 45),
        ("0h", 21600, 0),
        ("20d", 21600, 432000),
    ],
)
def test_parse_duration_reads_targets(text, day_seconds, expected):
    result = parse_duration(text, day_seconds=day_seconds)
    assert result == expected
    assert isinstance(result, int)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("abc", "cannot read"),
        ("-1h", "negative"),
        ("4x", "cannot read"),
        ("4", "cannot read"),
        ("h", "cannot read"),
        ("1h30m", "cannot read"),
        ("1e3h", "cannot read"),
        ("0.01m", "whole number of seconds"),
    ],
)
def test_parse_duration_refuses_bad_input_clearly(text, message):
    with pytest.raises(ValueError, match=message):
        parse_duration(text, day_seconds=21600)


# -- properties -------------------------------------------------------------------------

EPOCH_2024 = int(ams(2024, 1, 1).timestamp())
EPOCH_2028 = int(ams(2028, 1, 1).timestamp())
calendars = st.sampled_from([DEFAULT, EXTENDED])
whole_seconds = st.integers(EPOCH_2024, EPOCH_2028)
input_zones = st.sampled_from([AMS, UTC, ZoneInfo("America/New_York")])


@st.composite
def instants(draw, *, microseconds: bool = False) -> datetime:
    """Aware instants in 2024-2027, in a random input timezone, optionally with microseconds."""
    ts = draw(whole_seconds)
    moment = datetime.fromtimestamp(ts, draw(input_zones))
    if microseconds:
        moment += timedelta(microseconds=draw(st.integers(0, 999_999)))
    return moment


amounts = st.integers(0, 20 * 32400)
PROPERTY_SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY_SETTINGS
@given(calendars, instants(microseconds=True), amounts)
def test_elapsed_undoes_add(calendar, start, amount):
    assert calendar.elapsed(start, calendar.add(start, amount)) == amount


@PROPERTY_SETTINGS
@given(calendars, instants(), amounts, amounts)
def test_add_is_monotonic_in_the_amount(calendar, start, d1, d2):
    d1, d2 = sorted((d1, d2))
    assert calendar.add(start, d1) <= calendar.add(start, d2)


@PROPERTY_SETTINGS
@given(calendars, instants(microseconds=True), instants(microseconds=True), amounts)
def test_add_is_monotonic_in_the_start(calendar, s1, s2, amount):
    s1, s2 = sorted((s1, s2))
    assert calendar.add(s1, amount) <= calendar.add(s2, amount)


@PROPERTY_SETTINGS
@given(calendars, instants(microseconds=True), amounts)
def test_add_lands_in_opening_time_or_exactly_on_a_closing(calendar, start, amount):
    deadline = calendar.add(start, amount)
    assert deadline.tzinfo == calendar.tz
    tick = timedelta(microseconds=1)
    at_closing = not calendar.is_open(deadline) and calendar.is_open(deadline - tick)
    assert calendar.is_open(deadline) or (amount > 0 and at_closing)


@PROPERTY_SETTINGS
@given(calendars, instants(), instants(), instants())
def test_elapsed_is_additive(calendar, a, b, c):
    a, b, c = sorted((a, b, c))
    assert calendar.elapsed(a, b) + calendar.elapsed(b, c) == calendar.elapsed(a, c)


@PROPERTY_SETTINGS
@given(calendars, instants(microseconds=True), instants(microseconds=True))
def test_explain_totals_match_elapsed(calendar, a, b):
    explanation = calendar.explain(a, b)
    assert explanation.total_seconds == calendar.elapsed(a, b)
    assert sum(i.seconds for i in explanation.intervals) == pytest.approx(explanation.total_seconds, abs=1e-5)


# -- differential: against a minute-by-minute walk ------------------------------------------

# 3,000 seeded cases in all. The reference steps ~1M minutes/s, so the spans are kept to a
# few calendar days on average (the 20-business-day cases are a fifth of the add cases),
# which keeps this section to a few seconds.
DIFFERENTIAL = [
    pytest.param(make_default(), DEFAULT_HOURS, id="default"),
    pytest.param(make_extended(), EXTENDED_HOURS, id="extended"),
]
MINUTES_2024_2027 = (EPOCH_2024 // 60, EPOCH_2028 // 60)


def _random_minute(rng: random.Random) -> datetime:
    return datetime.fromtimestamp(rng.randint(*MINUTES_2024_2027) * 60, AMS)


def _reference(hours) -> NaiveCalendar:
    return NaiveCalendar(tz=AMS, weekly_hours=hours, closed_dates=NL_HOLIDAYS.keys())


@pytest.mark.parametrize(("calendar", "hours"), DIFFERENTIAL)
def test_add_matches_a_minute_by_minute_walk(calendar, hours):
    rng = random.Random(20250425)
    reference = _reference(hours)
    day_minutes = calendar.day_seconds // 60
    for case in range(750):
        start = _random_minute(rng)
        if case % 5 == 0:  # up to 20 business days
            minutes = rng.randint(0, 20 * day_minutes)
        else:  # up to one business day, including exact multiples of it
            minutes = rng.choice([rng.randint(0, day_minutes), day_minutes])
        expected = reference.add(start, minutes)
        assert calendar.add(start, minutes * 60) == expected, (start, minutes)


@pytest.mark.parametrize(("calendar", "hours"), DIFFERENTIAL)
def test_elapsed_matches_a_minute_by_minute_walk(calendar, hours):
    rng = random.Random(20260427)
    reference = _reference(hours)
    for _ in range(750):
        a = _random_minute(rng)
        b = a + timedelta(minutes=rng.randint(-60, 4 * 24 * 60))
        expected = reference.elapsed_minutes(a, b) * 60
        assert calendar.elapsed(a, b) == expected, (a, b)


# --- closed dates of any year, and working days (SPEC §2, §1.2.3) ------------------------------


def test_a_year_outside_the_given_closed_dates_is_asked_for_once():
    asked: list[int] = []

    def of_year(year: int) -> list[date]:
        asked.append(year)
        return list(holidays.country_holidays("NL", years=year))

    calendar = BusinessCalendar(
        tz=AMS,
        weekly_hours=DEFAULT_HOURS,
        closed_dates=NL_HOLIDAYS.keys(),
        closed_years=range(2024, 2028),
        closed_dates_of_year=of_year,
    )
    # Tuesday 24 December 2019 15:00 + 2 h: Christmas and Boxing Day are closed
    assert calendar.add(ams(2019, 12, 24, 15), 2 * HOUR) == ams(2019, 12, 27, 11)
    assert calendar.add(ams(2045, 4, 26, 15), 2 * HOUR) == ams(2045, 4, 28, 11)  # King's Day
    assert not calendar.is_working_day(date(2050, 12, 26))
    assert 2025 not in asked and asked.count(2019) == 1 and asked.count(2045) == 1
    assert calendar.closed_dates_between(date(2045, 12, 1), date(2045, 12, 31)) == [
        date(2045, 12, 25),
        date(2045, 12, 26),
    ]


def test_without_a_year_function_the_given_closed_dates_are_all_there_is():
    calendar = BusinessCalendar(tz=AMS, weekly_hours=DEFAULT_HOURS, closed_dates=NL_HOLIDAYS.keys())
    assert calendar.is_working_day(date(2045, 12, 25))


@pytest.mark.parametrize(
    ("start", "hours", "days"),
    [
        (ams(2026, 11, 23, 15), 1, 0),  # Monday 15:00, stopped at Monday's close: the same day
        (ams(2026, 11, 23, 15), 6.5, 1),  # Monday 15:00 -> Tuesday 15:30: the next working day
        (ams(2026, 11, 23, 15), 7, 1),  # -> Tuesday 16:00, the close: still the next working day
        (ams(2026, 11, 23, 15), 7.5, 2),  # -> Wednesday 10:30
        (ams(2026, 11, 23, 18), 6, 0),  # Monday 18:00 (closed): starts Tuesday, ends at its close
        (ams(2026, 11, 27, 15), 2, 1),  # Friday 15:00 -> Monday 11:00: Monday is the next working day
        (ams(2026, 11, 28, 11), 7, 1),  # Saturday: starts Monday 10:00, -> Tuesday 11:00
        (ams(2026, 12, 24, 15), 2, 1),  # Thursday 24 Dec -> Monday 28 Dec 11:00 (Christmas, weekend)
        (ams(2026, 11, 23, 10), 0, 0),  # nothing counted
    ],
)
def test_working_days_used_counts_closes_of_working_days(default, start, hours, days):
    assert default.working_days_used(start, int(hours * HOUR)) == days


def test_working_day_arithmetic_at_its_edges(default):
    assert default.working_days_between(date(2026, 12, 24), date(2026, 12, 28)) == 1
    assert default.working_days_between(date(2026, 12, 28), date(2026, 12, 24)) == 0
    assert default.working_days_between(date(2026, 11, 20), date(2026, 12, 4)) == 10
    assert default.working_day_after(date(2026, 12, 24), 1) == date(2026, 12, 28)
    assert default.working_day_after(date(2026, 11, 27), 5) == date(2026, 12, 4)
    with pytest.raises(ValueError, match="1 or more"):
        default.working_day_after(date(2026, 11, 27), 0)


def test_months_used_is_the_same_wall_time_calendar_months_later(default):
    start = ams(2026, 1, 31, 12)  # Saturday: 31 Jan + 1 month is 28 February
    assert default.months_used(start, 0) == 0
    assert default.months_used(start, default.elapsed(start, ams(2026, 2, 28, 12))) == 1
    assert default.months_used(start, default.elapsed(start, ams(2026, 3, 2, 11))) == 2
    # across the change to summer time, still the same wall-clock time
    start = ams(2026, 3, 2, 12)
    assert default.months_used(start, default.elapsed(start, ams(2026, 6, 2, 12))) == 3
    assert default.months_used(start, default.elapsed(start, ams(2026, 6, 2, 12)) + 1) == 4
