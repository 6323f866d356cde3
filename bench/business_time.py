"""Benchmark: SLA deadlines per second, sla.calendar against businesstimedelta and a naive walk.

Run from anywhere:  python bench/business_time.py  [--n 100000 --btd-n 1000 --naive-n 200 --rounds 5]

All three get the same seeded aware start instants (whole minutes in 2025-2026, so that the
minute-stepping reference can take them too) on the Default calendar: Mon-Fri 10:00-16:00
Europe/Amsterdam minus the Dutch public holidays 2024-2030 from the `holidays` library. The
two targets are the extremes of the SLA table: 4 business hours and 20 business days.

Why these competitors:
* businesstimedelta is the usual PyPI answer to "add business hours"; it walks the opening
  periods one by one (and its HolidayRule scans day by day for the next holiday), so its
  cost grows with the span. We give it the tz-localised setup its README describes: a
  pytz timezone on every rule and aware inputs.
* the naive reference (sla/tests/naive_reference.py) steps minute by minute; it is what the
  differential tests trust, and shows what "no design" would cost.

The machine this runs on is shared, so ours and businesstimedelta are timed in alternating
rounds (both see the same load in a round) and we report the median rate of each and the
median of the per-round ratios, with their range; the slow naive walk is timed once.

A sanity section checks that the three agree on the same inputs, plus hand-picked edge
starts (exactly at opening, exactly at closing, on a holiday, on a weekend, across DST).
"""

from __future__ import annotations

import argparse
import random
import sys
import time as clock
from collections.abc import Callable
from datetime import date, datetime, time
from pathlib import Path
from statistics import median
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import businesstimedelta
import holidays
import pytz

from sla.calendar import BusinessCalendar
from sla.tests.naive_reference import NaiveCalendar

TZ_NAME = "Europe/Amsterdam"
AMS = ZoneInfo(TZ_NAME)
OPEN, CLOSE = time(10), time(16)
WORKING_DAYS = [0, 1, 2, 3, 4]
HOUR = 3600


def build_ours(closed: frozenset[date]) -> BusinessCalendar:
    return BusinessCalendar(
        tz=AMS,
        weekly_hours={wd: [(OPEN, CLOSE)] for wd in WORKING_DAYS},
        closed_dates=closed,
    )


def build_btd(closed: frozenset[date]) -> businesstimedelta.Rules:
    """The equivalent businesstimedelta rules, localised the way its README shows."""
    tz = pytz.timezone(TZ_NAME)
    workday = businesstimedelta.WorkDayRule(start_time=OPEN, end_time=CLOSE, working_days=WORKING_DAYS, tz=tz)
    # A plain set of dates: HolidayRule only needs `date in holidays`, and a frozenset is
    # the fastest container we can hand it (fair to the competitor).
    holiday_rule = businesstimedelta.HolidayRule(closed, tz=tz)
    return businesstimedelta.Rules([workday, holiday_rule])


def random_starts(n: int, seed: int) -> list[datetime]:
    rng = random.Random(seed)
    lo = int(datetime(2025, 1, 1, tzinfo=AMS).timestamp()) // 60
    hi = int(datetime(2027, 1, 1, tzinfo=AMS).timestamp()) // 60
    return [datetime.fromtimestamp(rng.randint(lo, hi - 1) * 60, AMS) for _ in range(n)]


def rate(fn: Callable[[datetime], object], starts: list[datetime]) -> float:
    """Calls per second over one pass of ``starts``."""
    t0 = clock.perf_counter()
    for start in starts:
        fn(start)
    return len(starts) / (clock.perf_counter() - t0)


def edge_starts() -> list[datetime]:
    def ams(*args: int) -> datetime:
        return datetime(*args, tzinfo=AMS)

    return [
        ams(2025, 3, 3, 10),  # Monday, exactly at opening
        ams(2025, 3, 3, 16),  # Monday, exactly at closing
        ams(2025, 3, 3, 12),  # + 4h lands exactly on closing
        ams(2025, 3, 8, 11),  # Saturday
        ams(2025, 3, 28, 14),  # Friday before spring-forward
        ams(2025, 10, 24, 14),  # Friday before fall-back
        ams(2025, 4, 21, 12),  # Easter Monday
        ams(2025, 4, 25, 15),  # SPEC example: Friday before King's Day (a Saturday)
        ams(2025, 12, 24, 15),  # before Christmas
        ams(2025, 12, 31, 16),  # year end, at closing
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="calls for sla.calendar")
    parser.add_argument("--btd-n", type=int, default=1_000, help="calls for businesstimedelta")
    parser.add_argument("--naive-n", type=int, default=200, help="calls for the naive walk")
    parser.add_argument("--check-n", type=int, default=2_000, help="starts in the agreement check")
    parser.add_argument("--rounds", type=int, default=5, help="alternating timing rounds, ours vs btd")
    parser.add_argument("--seed", type=int, default=20250425)
    args = parser.parse_args()

    closed = frozenset(holidays.country_holidays("NL", years=range(2024, 2031)))
    ours = build_ours(closed)
    btd_rules = build_btd(closed)
    naive = NaiveCalendar(
        tz=AMS, weekly_hours={wd: [(OPEN, CLOSE)] for wd in WORKING_DAYS}, closed_dates=closed
    )
    starts = random_starts(max(args.n, args.btd_n, args.naive_n, args.check_n), args.seed)
    ours.add(starts[0], 0)  # lay out the horizon outside the timed loop, as a server would

    targets = {"4h": 4 * HOUR, "20d": 20 * ours.day_seconds}
    print(
        f"Deadlines per second, Default calendar (Mon-Fri {OPEN:%H:%M}-{CLOSE:%H:%M} {TZ_NAME}, "
        f"{len(closed)} NL holidays 2024-2030), aware whole-minute starts in 2025-2026, "
        f"seed {args.seed}"
    )
    print(
        f"ours and businesstimedelta: medians of {args.rounds} alternating rounds "
        "(ours/btd: median of the per-round ratios, [min-max]); naive walk: one run"
    )
    header = (
        f"{'target':<7}{'ours':>14}{'businesstimedelta':>20}{'naive walk':>13}"
        f"{'ours/btd':>11}{'[min-max]':>14}{'ours/naive':>12}"
    )
    print(f"{'':<7}{f'n={args.n:,}':>14}{f'n={args.btd_n:,}':>20}{f'n={args.naive_n:,}':>13}")
    print(header)
    print("-" * len(header))
    for label, seconds in targets.items():
        add = ours.add
        delta = businesstimedelta.BusinessTimeDelta(btd_rules, seconds=seconds)
        minutes = seconds // 60
        ours_rates: list[float] = []
        btd_rates: list[float] = []
        for _ in range(args.rounds):
            ours_rates.append(rate(lambda s, add=add, seconds=seconds: add(s, seconds), starts[: args.n]))
            btd_rates.append(rate(lambda s, delta=delta: s + delta, starts[: args.btd_n]))
        ratios = [o / b for o, b in zip(ours_rates, btd_rates, strict=True)]
        r_ours, r_btd = median(ours_rates), median(btd_rates)
        r_naive = rate(lambda s, m=minutes: naive.add(s, m), starts[: args.naive_n])
        spread = f"[{min(ratios):,.0f}-{max(ratios):,.0f}]"
        print(
            f"{label:<7}{r_ours:>12,.0f}/s{r_btd:>18,.0f}/s{r_naive:>11,.0f}/s"
            f"{median(ratios):>10,.0f}x{spread:>14}{r_ours / r_naive:>11,.0f}x"
        )

    # Agreement. businesstimedelta uses the same conventions we do (a start at or after
    # closing moves to the next opening; `period_delta >= td_left` keeps a deadline that
    # lands exactly on closing at closing), so we expect no disagreements. Where such
    # libraries usually differ is exactly at closing instants (some roll a deadline at
    # 16:00 over to 10:00 the next working day); the edge starts include those instants so a
    # change in either library's convention shows up here as a count, not as a silent skew.
    sample = starts[: args.check_n] + edge_starts()
    btd_disagree: list[tuple[datetime, str, datetime, datetime]] = []
    for label, seconds in targets.items():
        delta = businesstimedelta.BusinessTimeDelta(btd_rules, seconds=seconds)
        for start in sample:
            mine, theirs = ours.add(start, seconds), start + delta
            if mine != theirs:
                btd_disagree.append((start, label, mine, theirs))
    naive_sample = starts[: args.naive_n] + edge_starts()
    naive_disagree = [
        (start, label)
        for label, seconds in targets.items()
        for start in naive_sample
        if ours.add(start, seconds) != naive.add(start, seconds // 60)
    ]
    print()
    print(
        f"agreement with businesstimedelta: {len(btd_disagree)} disagreements in "
        f"{len(sample) * len(targets):,} deadlines (incl. {len(edge_starts())} edge starts x "
        f"{len(targets)} targets)"
    )
    for start, label, mine, theirs in btd_disagree[:10]:
        print(f"  {start.isoformat()} + {label}: ours {mine.isoformat()}, btd {theirs.isoformat()}")
    print(
        f"agreement with the naive walk: {len(naive_disagree)} disagreements in "
        f"{len(naive_sample) * len(targets):,} deadlines"
    )


if __name__ == "__main__":
    main()
