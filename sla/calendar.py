"""Business-time arithmetic: "start + N business seconds" and "business seconds from a to b".

Pure Python (datetime, zoneinfo, bisect): no Django, no queries. A selector builds one
:class:`BusinessCalendar` from the database (weekly hours, timezone, closed dates) and every
SLA clock asks it questions; the calendar never looks anything up by itself.

Why it is built the way it is
-----------------------------
SLA deadlines are recomputed for whole ticket lists (priority changes, dashboards, sweeps),
so a question must cost microseconds, not a walk over the days in between. The calendar
therefore lays out its opening intervals once, as absolute UTC instants (epoch seconds in
plain lists), for a horizon of several years, with a parallel list of cumulative business
seconds. Every question is then one or two binary searches:

* ``elapsed(a, b)`` is ``position(b) - position(a)``, where the *position* of an instant is
  the number of business seconds since the start of the horizon;
* ``add(start, n)`` finds the interval in which ``position(start) + n`` falls.

Opening hours are wall-clock hours per date ("10:00 in Amsterdam"), so the UTC instants move
with daylight saving time (10:00 is 09:00 UTC in winter and 08:00 UTC in summer). That is
resolved once, while laying out the horizon, and never again at query time. The horizon
grows lazily, in both directions, when a question falls outside it.

Conventions (SPEC §2, "Business-time conventions")
-------------------------------------------------
* An opening interval is half-open, ``[open, close)``: the opening instant is open, the
  closing instant is closed.
* A clock started while closed starts counting at the next opening.
* A deadline that lands exactly on a closing instant stays there; it is *not* moved to the
  next opening (``Mon 12:00 + 4h`` on 10:00-16:00 is ``Mon 16:00``, not ``Tue 10:00``).
* "N business days" is ``N * day_seconds``: a business day is a normal working day's
  opening hours, not "the same time N working days later".
* Inputs must be timezone-aware; results are in the calendar's timezone.
* Closed dates may be given for some years only (``closed_years``) with a function that
  answers the others (``closed_dates_of_year``): the calendar asks it once per year, when a
  question first touches that year, so a ticket from 2019 or a deadline in 2045 skips its
  holidays like any other (the function is the caller's; it must not query anything).

Working days (the published figures of SPEC §2)
-----------------------------------------------
A *working day* is a date with opening hours that is not closed. "Next working day" is the
close of the first working day after the working day on which a clock started (a clock
started while closed starts on the day of the next opening); "within N working days" the
close of the Nth; "within N months" the same local time N calendar months later.
:meth:`BusinessCalendar.working_days_used` and :meth:`BusinessCalendar.months_used` measure a
stopped clock in those terms from its start and its counted business seconds, so pauses do
not count: the clock is measured as if it had run without them.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from fractions import Fraction
from itertools import accumulate
from typing import NamedTuple
from zoneinfo import ZoneInfo

__all__ = [
    "BusinessCalendar",
    "CountedInterval",
    "Explanation",
    "OpeningRange",
    "OutOfRange",
    "check_calculation",
    "parse_duration",
]

# How much to lay out on the first question, and how much to add when a question falls
# outside. Seven years of a Mon-Fri calendar is ~1,800 intervals (~30 KB of ints, built in a
# few milliseconds); the lists stay small enough that bisect is ~11 steps and an extension
# (rare: a ticket older than two years, or a deadline five years out) is cheap.
_PAST_DAYS = 2 * 366
_FUTURE_DAYS = 5 * 366
_EXTEND_DAYS = 5 * 366

# The outermost dates we lay out; one day inside datetime's own limits so that taking the
# local midnight of the day after still works.
_FIRST_DATE = date(1, 1, 2)
_LAST_DATE = date(9999, 12, 30)


@dataclass(frozen=True)
class OpeningRange:
    """One wall-clock opening range within a single day, e.g. 10:00-16:00.

    Ranges never cross midnight (``start < end`` on the same date); a desk open through the
    night is two ranges on consecutive weekdays. Times are whole seconds and naive: the
    calendar's timezone applies, so the range means "10:00 local" on every date.
    """

    start: time
    end: time

    def __post_init__(self) -> None:
        for value in (self.start, self.end):
            if not isinstance(value, time):
                raise TypeError(f"opening range times must be datetime.time, got {value!r}")
            if value.tzinfo is not None:
                raise ValueError(f"opening range time {value} must be naive: the calendar's timezone applies")
            if value.microsecond:
                raise ValueError(f"opening range time {value} must be a whole second")
        if not self.start < self.end:
            raise ValueError(
                f"opening range {self.start}-{self.end} must start before it ends on the same "
                "day (ranges cannot cross midnight; split them over two weekdays)"
            )

    @property
    def seconds(self) -> int:
        """Wall-clock length of the range (ignores a DST change on the day itself)."""
        return _seconds_of_day(self.end) - _seconds_of_day(self.start)


class CountedInterval(NamedTuple):
    """A piece of opening time that counted towards a span, in the calendar's timezone."""

    start: datetime
    end: datetime
    seconds: int | float


@dataclass(frozen=True)
class Explanation:
    """Why a span holds as many business seconds as it does, for showing to staff.

    ``intervals`` are the opening intervals that counted (clipped to the span);
    ``skipped_dates`` are closed dates (holidays, closure days) inside the span that would
    otherwise have been working days - weekend days and holidays that fall on a weekend are
    not listed, they would not have counted anyway. ``total_seconds`` equals
    :meth:`BusinessCalendar.elapsed` for the same span.
    """

    intervals: tuple[CountedInterval, ...]
    skipped_dates: tuple[date, ...]
    total_seconds: int | float


# The state a question reads: (starts, ends, cum, cum_end, lo_ts, hi_ts, lo_date, hi_date).
# starts/ends are the UTC epoch seconds of the merged opening intervals laid out for the
# local dates [lo_date, hi_date); cum[k] is the business seconds before interval k (one
# entry more than there are intervals, the last being the total) and cum_end[k] == cum[k+1]
# is kept separately so that add() needs no index arithmetic. lo_ts/hi_ts are the instants
# of local midnight at lo_date/hi_date: every opening instant in [lo_ts, hi_ts) is in the
# lists. The whole tuple is replaced in one assignment when the horizon grows, so a
# question never sees half an extension (and concurrent readers need no lock).
# The lists hold floats although every value is a whole second: a float represents whole
# numbers exactly up to 2**53, and `dt.timestamp()` is a float, so bisect compares float
# with float - comparing a float with ints made add() ~20% slower (measured 520k vs 640k/s).
_State = tuple[list[float], list[float], list[float], list[float], float, float, date, date]
_EMPTY_STATE: _State = ([], [], [0.0], [], math.inf, -math.inf, _LAST_DATE, _FIRST_DATE)

# The same horizon for add()'s whole-second fast path, in ints relative to `base`, the UTC
# midnight on or before lo_ts: (starts, ends, cum, cum_end, day_first, base, base_ordinal,
# lo, hi, tz). Values below 2**30 are single-digit CPython ints, the cheapest to add and compare
# (so the mirror is only built for horizons under ~34 years), and a whole-second start then
# needs no float at all. day_first[d] is the first interval ending after UTC day d of the
# horizon: indexing it replaces the bisect for the start. It is a separate attribute; a
# question reads either this tuple or _state, and each is consistent on its own.
_Fast = tuple[list[int], list[int], list[int], list[int], list[int], int, int, int, int, ZoneInfo | None]
_EMPTY_FAST: _Fast = ([], [], [0], [], [], 0, 0, 1, 0, None)


# datetime.timestamp() of an aware datetime costs ~400 ns (two utcoffset calls, timedelta
# objects, arbitrary-precision division), as much as the rest of add() together. For a
# plain datetime whose UTC offset is a whole quarter of an hour (every offset in use today)
# we compute the same value from its fields and this table; whole seconds are exact in a
# float, and with microseconds we divide the same integer by 10**6 that timestamp() does,
# so the float is identical. Anything else (other offsets, subclasses, None) uses
# timestamp().
_OFFSET_SECONDS: dict[timedelta, int] = {timedelta(minutes=m): m * 60 for m in range(-1440 + 15, 1440, 15)}
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_fromtimestamp = datetime.fromtimestamp  # a module global: no class attribute lookup per call


def _epoch_seconds(at: datetime) -> float:
    """``at.timestamp()`` for an aware ``at``, faster (see ``_OFFSET_SECONDS``); naive raises."""
    tzinfo = at.tzinfo
    if tzinfo is not None:
        off = _OFFSET_SECONDS.get(tzinfo.utcoffset(at))
        if off is not None and type(at) is datetime:
            ts = (at.toordinal() - _EPOCH_ORDINAL) * 86400 + at.hour * 3600 + at.minute * 60 + at.second - off
            us = at.microsecond
            return (ts * 1_000_000 + us) / 1_000_000 if us else float(ts)
    if tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"business time needs an aware datetime, got naive {at!r}")
    return at.timestamp()


class BusinessCalendar:
    """Weekly opening hours in one timezone, minus closed dates; answers business-time sums.

    ``weekly_hours`` maps weekday (0 = Monday ... 6 = Sunday) to the wall-clock ranges that
    day is open, as ``(open, close)`` pairs of :class:`datetime.time` or
    :class:`OpeningRange`; a weekday that is missing (or maps to nothing) is closed. Several
    ranges per day are allowed (08:00-12:00 and 13:00-17:00 for a lunch break); overlapping
    or touching ranges are merged.

    ``closed_dates`` are local dates on which the calendar is closed all day (public
    holidays, closure days). ``horizon_start`` lays out the intervals eagerly from that date;
    without it they are laid out around the first question.

    DST: a range's ends are turned into instants with zoneinfo's ``fold=0`` semantics. A
    wall-clock time inside the spring-forward gap is read with the offset from before the
    change (so 02:30 on the gap day is 03:30 summer time), and a time inside the autumn
    repeated hour means its first occurrence. A range lying wholly in the gap therefore
    vanishes that day, and a range spanning the repeated hour counts the hour twice, which is
    what a clock on the wall would show. Ranges that then touch or overlap are merged.
    """

    def __init__(
        self,
        *,
        tz: ZoneInfo | str,
        weekly_hours: Mapping[int, Sequence[tuple[time, time] | OpeningRange]],
        closed_dates: Iterable[date] = (),
        horizon_start: date | None = None,
        closed_years: Iterable[int] | None = None,
        closed_dates_of_year: Callable[[int], Iterable[date]] | None = None,
    ) -> None:
        self._tz: ZoneInfo = tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)
        weekly: dict[int, tuple[OpeningRange, ...]] = {}
        for weekday, ranges in weekly_hours.items():
            if not isinstance(weekday, int) or not 0 <= weekday <= 6:
                raise ValueError(f"weekday must be 0 (Monday) to 6 (Sunday), got {weekday!r}")
            weekly[weekday] = _merge_ranges(
                r if isinstance(r, OpeningRange) else OpeningRange(*r) for r in ranges
            )
        self._weekly = weekly
        # Per weekday (index 0-6), the (open, close) times: a tuple index beats a dict lookup.
        self._weekly_times: tuple[tuple[tuple[time, time], ...], ...] = tuple(
            tuple((r.start, r.end) for r in weekly.get(wd, ())) for wd in range(7)
        )
        self._day_seconds = max((sum(r.seconds for r in rs) for rs in weekly.values()), default=0)
        if self._day_seconds == 0:
            raise ValueError("a business calendar needs opening hours on at least one weekday")
        closed: set[date] = set()
        for d in closed_dates:
            if isinstance(d, datetime) or not isinstance(d, date):
                raise TypeError(f"closed dates must be datetime.date, got {d!r}")
            closed.add(d)
        self._closed = frozenset(closed)
        self._closed_sorted = sorted(closed)
        # Years whose closed dates are all known; None: every year (no closed_dates_of_year).
        self._closed_of_year = closed_dates_of_year
        self._known_years: frozenset[int] | None = (
            None if closed_dates_of_year is None else frozenset(closed_years or ())
        )
        self._state: _State = _EMPTY_STATE
        self._fast: _Fast = _EMPTY_FAST
        if horizon_start is not None:
            self._lay_out(horizon_start, horizon_start + timedelta(days=_PAST_DAYS + _FUTURE_DAYS))

    # -- configuration ------------------------------------------------------------------

    @property
    def tz(self) -> ZoneInfo:
        return self._tz

    @property
    def weekly_hours(self) -> Mapping[int, tuple[OpeningRange, ...]]:
        """The merged ranges per weekday (a copy; the calendar is immutable)."""
        return dict(self._weekly)

    @property
    def closed_dates(self) -> frozenset[date]:
        """The closed dates known so far (see :meth:`closed_dates_between` for a span)."""
        return self._closed

    def closed_dates_between(self, first: date, last: date) -> list[date]:
        """The closed dates in ``[first, last]`` that would otherwise be working days, sorted."""
        self._know_years(first.year, last.year)
        cs = self._closed_sorted
        return [
            d for d in cs[bisect_left(cs, first) : bisect_right(cs, last)] if self._weekly_times[d.weekday()]
        ]

    def is_working_day(self, day: date) -> bool:
        """Whether ``day`` has opening hours and is not closed."""
        if not self._weekly_times[day.weekday()]:
            return False
        self._know_years(day.year, day.year)
        return day not in self._closed

    def working_days_between(self, first: date, last: date) -> int:
        """The working days ``d`` with ``first < d <= last`` (0 if ``last <= first``)."""
        if last <= first:
            return 0
        self._know_years(first.year, last.year)
        weekly = self._weekly_times
        open_weekdays = sum(1 for ranges in weekly if ranges)
        span = (last - first).days
        weeks, rest = divmod(span, 7)
        count = weeks * open_weekdays
        d = first + timedelta(days=weeks * 7)
        for _ in range(rest):
            d += timedelta(days=1)
            if weekly[d.weekday()]:
                count += 1
        cs = self._closed_sorted
        count -= sum(1 for d in cs[bisect_right(cs, first) : bisect_right(cs, last)] if weekly[d.weekday()])
        return count

    def working_day_after(self, day: date, n: int) -> date:
        """The ``n``-th working day after ``day`` (``n >= 1``)."""
        if n < 1:
            raise ValueError(f"n must be 1 or more, got {n!r}")
        d = day
        while n:
            d += timedelta(days=1)
            if self.is_working_day(d):
                n -= 1
        return d

    def working_days_used(self, start: datetime, business_seconds: int | float) -> int:
        """How many working days a clock that started at ``start`` and counted
        ``business_seconds`` took, as the published figures count them: 0 when it stopped on
        the working day it started, 1 by the close of the next working day, N by the close of
        the Nth. A start while closed belongs to the day of the next opening."""
        first = self.next_opening(start).date()
        end = self.add(start, business_seconds)  # an end at closing time stays on that day
        return self.working_days_between(first, end.date())

    def months_used(self, start: datetime, business_seconds: int | float) -> int:
        """The fewest calendar months ``m`` such that the business time from ``start`` to the
        same local time ``m`` months later holds ``business_seconds``: "100% within 3 months"
        is ``months_used(...) <= 3``. The day is clamped to the month's end (31 Jan + 1 month
        is the end of February)."""
        local = start.astimezone(self._tz)
        months = 0
        while self.elapsed(start, _add_months(local, months)) < business_seconds:
            months += 1
        return months

    @property
    def day_seconds(self) -> int:
        """Business seconds in a normal working day: the longest weekly day's opening total.

        "N business days" is ``N * day_seconds`` (SPEC §2): 21,600 for 10:00-16:00 and
        32,400 for 08:00-17:00. The longest day is used so that a shorter day (a Friday that
        closes early) does not shrink every multi-day target.
        """
        return self._day_seconds

    def __repr__(self) -> str:
        days = ", ".join(
            f"{wd}: " + " ".join(f"{r.start:%H:%M}-{r.end:%H:%M}" for r in rs)
            for wd, rs in sorted(self._weekly.items())
            if rs
        )
        return f"<BusinessCalendar {self._tz.key} {{{days}}} closed={len(self._closed)}>"

    # -- questions ----------------------------------------------------------------------

    def add(self, start: datetime, business_seconds: int | float) -> datetime:
        """The instant ``business_seconds`` of opening time after ``start``.

        A start while closed counts from the next opening; a result exactly at a closing
        instant stays at closing. ``add(start, 0)`` is ``start`` if open, else the next
        opening. Negative, NaN and infinite amounts raise ``ValueError``.

        This is the hot path (every deadline recompute), so it reads one state tuple into
        locals, does at most two bisects and builds exactly one datetime; whole-second input
        takes an all-int path (see ``_Fast``), and anything unusual (zero, outside the
        horizon, bad input) goes to :meth:`_add_slow`.
        """
        tzinfo = start.tzinfo
        if tzinfo is None:
            raise ValueError(f"business time needs an aware datetime, got naive {start!r}")
        off = _OFFSET_SECONDS.get(tzinfo.utcoffset(start))
        if off is not None and type(start) is datetime:
            sod = start.hour * 3600 + start.minute * 60 + start.second - off
            if type(business_seconds) is int and not start.microsecond:
                # Whole seconds throughout: the float path's sums, exact in small ints, so
                # the same answer at about two thirds of the cost.
                starts, ends, cum, cum_end, day_first, base, base_ord, lo, hi, tz = self._fast
                ts = (start.toordinal() - base_ord) * 86400 + sod
                if lo <= ts < hi and business_seconds > 0:
                    try:
                        i = day_first[ts // 86400]
                        while ends[i] <= ts:
                            i += 1
                        s = starts[i]
                        p = cum[i]
                        target = (p + (ts - s) if ts > s else p) + business_seconds
                        c = cum_end[i]
                        if target > c:
                            i = bisect_left(cum_end, target, i + 1)
                            c = cum_end[i]
                        return _fromtimestamp(base + ends[i] - (c - target), tz)
                    except IndexError:
                        pass  # beyond the laid-out horizon: the float path extends it
            # _epoch_seconds(start), inlined: a call costs as much as a bisect here.
            ts = (start.toordinal() - _EPOCH_ORDINAL) * 86400 + sod
            us = start.microsecond
            ts = (ts * 1_000_000 + us) / 1_000_000 if us else float(ts)
        else:
            ts = start.timestamp()
        starts, ends, cum, cum_end, lo, hi, _, _ = self._state
        if lo <= ts < hi and business_seconds > 0:
            i = bisect_right(ends, ts)
            try:
                s = starts[i]
                # Position of start: inside interval i, or (closed) at its opening.
                p = cum[i]
                target = (p + (ts - s) if ts > s else p) + business_seconds
                # The first interval whose cumulative end reaches the target; bisect_left so
                # that a target equal to a closing total stays at that closing instant.
                # Usually that is interval i itself, which spares the second bisect.
                c = cum_end[i]
                if p < target <= c:
                    return _fromtimestamp(ends[i] - (c - target), self._tz)
                j = bisect_left(cum_end, target)
                return _fromtimestamp(ends[j] - (cum_end[j] - target), self._tz)
            except IndexError:
                pass  # the start or the target lies beyond the laid-out horizon
        return self._add_slow(start, ts, business_seconds)

    def elapsed(self, a: datetime, b: datetime) -> int | float:
        """Business seconds in ``[a, b)``; 0 if ``b <= a``.

        An ``int`` when the answer is a whole number of seconds (always so for whole-second
        inputs), otherwise a float rounded to the microsecond, which is what datetimes carry.
        """
        ta = _epoch_seconds(a)
        tb = _epoch_seconds(b)
        if tb <= ta:
            return 0
        starts, ends, cum, _, lo, hi, _, _ = self._state
        if not (lo <= ta and tb < hi):
            self._cover(ta, tb)
            starts, ends, cum, _, lo, hi, _, _ = self._state
        n = len(starts)
        i = bisect_right(ends, ta)
        pa = cum[i] + (ta - starts[i]) if i < n and ta > starts[i] else cum[i]
        i = bisect_right(ends, tb, i)  # tb > ta: no need to search before i
        pb = cum[i] + (tb - starts[i]) if i < n and tb > starts[i] else cum[i]
        d = pb - pa
        return int(d) if d.is_integer() else _tidy(d)  # whole seconds skip _tidy's round()

    def explain(self, a: datetime, b: datetime) -> Explanation:
        """The intervals that count in ``[a, b)`` and the closed working days skipped."""
        ta, tb = self._timestamps(a, b)
        if tb <= ta:
            return Explanation(intervals=(), skipped_dates=(), total_seconds=0)
        self._cover(ta, tb)
        starts, ends, _, _, _, _, _, _ = self._state
        tz = self._tz
        counted: list[CountedInterval] = []
        k = bisect_right(ends, ta)
        while k < len(starts) and starts[k] < tb:
            s, e = max(starts[k], ta), min(ends[k], tb)
            counted.append(
                CountedInterval(datetime.fromtimestamp(s, tz), datetime.fromtimestamp(e, tz), _tidy(e - s))
            )
            k += 1
        # A closed date counts as skipped if its local day overlaps [a, b) at all.
        first = datetime.fromtimestamp(ta, tz).date()
        b_local = datetime.fromtimestamp(tb, tz)
        last = b_local.date() - timedelta(days=1) if b_local.time() == time(0) else b_local.date()
        cs = self._closed_sorted
        skipped = tuple(
            d for d in cs[bisect_left(cs, first) : bisect_right(cs, last)] if self._weekly_times[d.weekday()]
        )
        return Explanation(
            intervals=tuple(counted),
            skipped_dates=skipped,
            total_seconds=self.elapsed(a, b),
        )

    def is_open(self, at: datetime) -> bool:
        """Whether ``at`` lies in an opening interval (opening instant yes, closing no)."""
        ts = self._timestamp(at)
        self._cover(ts, ts)
        starts, ends, _, _, _, _, _, _ = self._state
        i = bisect_right(ends, ts)
        return i < len(starts) and starts[i] <= ts

    def next_opening(self, at: datetime) -> datetime:
        """``at`` itself (in the calendar's timezone) if open, else the next opening."""
        ts = self._timestamp(at)
        self._cover(ts, ts)
        while True:
            starts, ends, _, _, _, _, _, _ = self._state
            i = bisect_right(ends, ts)
            if i < len(starts):
                if starts[i] <= ts:
                    return at.astimezone(self._tz)
                return datetime.fromtimestamp(starts[i], self._tz)
            self._extend_forward(_EXTEND_DAYS)

    # -- internals ----------------------------------------------------------------------

    def _add_slow(self, start: datetime, ts: float, business_seconds: int | float) -> datetime:
        """add() for everything the fast path declines: validation, zero, horizon growth."""
        if not math.isfinite(business_seconds) or business_seconds < 0:
            raise ValueError(f"business seconds must be a finite number >= 0, got {business_seconds!r}")
        if business_seconds == 0:
            return self.next_opening(start)
        self._cover(ts, ts)
        while True:
            starts, ends, cum, cum_end, _, _, _, _ = self._state
            i = bisect_right(ends, ts)
            if i < len(starts):
                s = starts[i]
                target = (cum[i] + (ts - s) if ts > s else cum[i]) + business_seconds
                j = bisect_left(cum_end, target)
                if j < len(ends):
                    return datetime.fromtimestamp(ends[j] - (cum_end[j] - target), self._tz)
                missing = target - cum_end[-1]
            else:
                missing = business_seconds
            # Grow by at least the calendar days the missing business time could need: a
            # week holds at least one day_seconds (the longest day), holidays aside.
            self._extend_forward(max(_EXTEND_DAYS, int(missing // self._day_seconds * 7) + 7))

    def _timestamp(self, at: datetime) -> float:
        return _epoch_seconds(at)

    def _timestamps(self, a: datetime, b: datetime) -> tuple[float, float]:
        return _epoch_seconds(a), _epoch_seconds(b)

    def _local_date(self, ts: float) -> date:
        return datetime.fromtimestamp(ts, self._tz).date()

    def _cover(self, ta: float, tb: float) -> None:
        """Make sure the instants ``ta <= tb`` lie inside the laid-out horizon."""
        _, _, _, _, lo, hi, lo_date, hi_date = self._state
        if lo <= ta and tb < hi:
            return
        if lo > hi:  # nothing laid out yet: centre the first horizon on this question
            self._lay_out(
                _clamp(self._local_date(ta) - timedelta(days=_PAST_DAYS)),
                _clamp(self._local_date(tb) + timedelta(days=_FUTURE_DAYS)),
            )
            return
        new_lo, new_hi = lo_date, hi_date
        if ta < lo:
            new_lo = _clamp(min(self._local_date(ta), lo_date) - timedelta(days=_EXTEND_DAYS))
        if tb >= hi:
            new_hi = _clamp(max(self._local_date(tb), hi_date) + timedelta(days=_EXTEND_DAYS))
        self._lay_out(new_lo, new_hi)

    def _extend_forward(self, days: int) -> None:
        _, _, _, _, _, _, lo_date, hi_date = self._state
        new_hi = _clamp(hi_date + timedelta(days=min(days, (_LAST_DATE - hi_date).days)))
        if new_hi <= hi_date:
            raise OverflowError("business time runs past the last date datetime can represent")
        self._lay_out(lo_date, new_hi)

    def _lay_out(self, lo_date: date, hi_date: date) -> None:
        """Lay out the opening intervals of the local dates ``[lo_date, hi_date)``.

        Reuses the intervals already laid out and only computes the new dates; the merged
        lists and cumulative sums are rebuilt (O(n), a millisecond or two) and swapped in
        as one tuple.
        """
        starts, ends, _, _, _, _, old_lo, old_hi = self._state
        if old_lo > old_hi or hi_date < old_lo or lo_date > old_hi:
            raw = self._intervals_for(lo_date, hi_date)  # first layout (or disjoint)
        else:
            lo_date, hi_date = min(lo_date, old_lo), max(hi_date, old_hi)
            raw = (
                self._intervals_for(lo_date, old_lo)
                + list(zip(starts, ends, strict=True))
                + self._intervals_for(old_hi, hi_date)
            )
        new_starts: list[float] = []
        new_ends: list[float] = []
        for s, e in raw:
            if e <= s:
                continue  # a range that fell wholly into a DST gap
            if new_ends and s <= new_ends[-1]:  # touching or overlapping (DST): merge
                if e > new_ends[-1]:
                    new_ends[-1] = e
                continue
            new_starts.append(s)
            new_ends.append(e)
        durations = [e - s for s, e in zip(new_starts, new_ends, strict=True)]
        cum = list(accumulate(durations, initial=0.0))
        lo_ts, hi_ts = self._midnight(lo_date), self._midnight(hi_date)
        self._fast = _fast_state(new_starts, new_ends, cum, lo_ts, hi_ts, self._tz)
        self._state = (
            new_starts,
            new_ends,
            cum,
            cum[1:],
            lo_ts,
            hi_ts,
            lo_date,
            hi_date,
        )

    def _know_years(self, first: int, last: int) -> None:
        """Ask ``closed_dates_of_year`` for the years in ``[first, last]`` not yet known. The
        closed set is replaced in one assignment, like the horizon."""
        known = self._known_years
        if known is None or self._closed_of_year is None:
            return
        missing = [year for year in range(first, last + 1) if year not in known]
        if not missing:
            return
        closed = set(self._closed)
        for year in missing:
            for d in self._closed_of_year(year):
                if isinstance(d, datetime) or not isinstance(d, date):
                    raise TypeError(f"closed dates must be datetime.date, got {d!r}")
                closed.add(d)
        self._closed_sorted = sorted(closed)
        self._closed = frozenset(closed)
        self._known_years = known | frozenset(missing)

    def _intervals_for(self, lo_date: date, hi_date: date) -> list[tuple[float, float]]:
        """Opening intervals (UTC epoch seconds) of the local dates ``[lo_date, hi_date)``."""
        if lo_date < hi_date:
            self._know_years(lo_date.year, (hi_date - timedelta(days=1)).year)
        tz, weekly, closed = self._tz, self._weekly_times, self._closed
        out: list[tuple[float, float]] = []
        d = lo_date
        one_day = timedelta(days=1)
        while d < hi_date:
            ranges = weekly[d.weekday()]
            if ranges and d not in closed:
                for start, end in ranges:
                    # fold=0 (the default) resolves DST gaps/overlaps; see the class docstring.
                    out.append(
                        (
                            datetime.combine(d, start, tzinfo=tz).timestamp(),
                            datetime.combine(d, end, tzinfo=tz).timestamp(),
                        )
                    )
            d += one_day
        return out

    def _midnight(self, d: date) -> float:
        return datetime.combine(d, time(0), tzinfo=self._tz).timestamp()


def _fast_state(
    starts: list[float], ends: list[float], cum: list[float], lo_ts: float, hi_ts: float, tz: ZoneInfo
) -> _Fast:
    """The int mirror of a horizon (see ``_Fast``); empty (never used) if a value is fractional."""
    base_day = int(lo_ts // 86400)
    base = base_day * 86400
    if hi_ts - base >= 2**30 or not all(x.is_integer() for x in (*starts, *ends, cum[-1], lo_ts, hi_ts)):
        return _EMPTY_FAST  # a horizon of 34+ years, or sub-second offsets: floats only
    istarts = [int(x) - base for x in starts]
    iends = [int(x) - base for x in ends]
    icum = [int(x) for x in cum]
    hi = int(hi_ts) - base
    day_first = [bisect_right(iends, d * 86400) for d in range(hi // 86400 + 1)]
    return (
        istarts,
        iends,
        icum,
        icum[1:],
        day_first,
        base,
        base_day + _EPOCH_ORDINAL,
        int(lo_ts) - base,
        hi,
        tz,
    )


def _merge_ranges(ranges: Iterable[OpeningRange]) -> tuple[OpeningRange, ...]:
    """Sort a day's ranges and merge the ones that overlap or touch (12:00-13:00, 13:00-)."""
    merged: list[OpeningRange] = []
    for r in sorted(ranges, key=lambda r: r.start):
        if merged and r.start <= merged[-1].end:
            if r.end > merged[-1].end:
                merged[-1] = OpeningRange(merged[-1].start, r.end)
        else:
            merged.append(r)
    return tuple(merged)


def _seconds_of_day(t: time) -> int:
    return t.hour * 3600 + t.minute * 60 + t.second


def _add_months(local: datetime, months: int) -> datetime:
    """The same wall-clock time ``months`` calendar months later, in ``local``'s timezone."""
    index = local.month - 1 + months
    year, month = local.year + index // 12, index % 12 + 1
    last_day = 31 if month == 12 else (date(year, month + 1, 1) - timedelta(days=1)).day
    return local.replace(year=year, month=month, day=min(local.day, last_day))


def _clamp(d: date) -> date:
    return min(max(d, _FIRST_DATE), _LAST_DATE)


def _tidy(seconds: float) -> int | float:
    """Seconds as an int when whole, else rounded to the microsecond a datetime can carry.

    Epoch timestamps are floats; with microseconds in play a difference can come out as
    3599.9999998 for an exact hour, so round to 1e-6 first.
    """
    if isinstance(seconds, int):
        return seconds
    seconds = round(seconds, 6)
    return int(seconds) if seconds.is_integer() else seconds


_DURATION = re.compile(r"\s*(?P<number>\d+(?:\.\d+)?|\.\d+)\s*(?P<unit>[dhms])\s*", re.IGNORECASE)
_UNIT_SECONDS = {"h": 3600, "m": 60, "s": 1}


# What the deadline calculator (API, command) accepts. Unbounded, a target of 99999999999d or a
# start in year 1 or 9999 made the calendar lay out millennia of opening hours: a worker held
# for ~20 s, then an overflow (issue 12). The SLA's targets are hours to a few weeks; five years
# of business days (5 x 261 working days) is far beyond any contract and still one short
# extension of the laid-out horizon. Start dates: no ticket predates 1990 and no contract runs
# past 2100; both limits keep every deadline far inside datetime's range (year 9999).
MAX_TARGET_BUSINESS_DAYS = 5 * 261
EARLIEST_START = date(1990, 1, 1)
LATEST_START = date(2100, 12, 31)


class OutOfRange(ValueError):
    """A calculator input outside the bounds; ``field`` names it ("target" or "start")."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def check_calculation(*, start: datetime, seconds: int, day_seconds: int) -> None:
    """Raise ``OutOfRange`` (a ``ValueError``) naming the problem when ``start`` or
    ``seconds`` lies outside what the calculator answers (see the bounds above); callers turn
    it into a 400 or a usage error."""
    if seconds > MAX_TARGET_BUSINESS_DAYS * day_seconds:
        raise OutOfRange(
            "target",
            f"target is too large; at most {MAX_TARGET_BUSINESS_DAYS}d (five years of business days)",
        )
    if not EARLIEST_START <= start.date() <= LATEST_START:
        raise OutOfRange(
            "start", f"start must lie between {EARLIEST_START.isoformat()} and {LATEST_START.isoformat()}"
        )


def parse_duration(text: str, *, day_seconds: int) -> int:
    """Parse a target such as ``"4h"``, ``"30m"``, ``"3d"``, ``"0.5d"`` into business seconds.

    ``d`` is a *business* day, ``day_seconds`` long (SPEC §2: a business day is a working
    day's opening hours, so ``"0.5d"`` is 3 h on Default and 4.5 h on Extended). Decimal
    fractions are computed exactly; the result must be a whole number of seconds. Raises
    ``ValueError`` naming the problem for empty, negative, unitless or unknown-unit input.
    """
    if not isinstance(text, str):
        raise TypeError(f"duration must be a string, got {text!r}")
    if day_seconds <= 0:
        raise ValueError(f"day_seconds must be positive, got {day_seconds!r}")
    stripped = text.strip()
    if not stripped:
        raise ValueError("duration is empty; expected a number and a unit, e.g. '4h' or '0.5d'")
    if stripped.startswith("-"):
        raise ValueError(f"duration {text!r} is negative; targets are zero or more")
    match = _DURATION.fullmatch(stripped)
    if match is None:
        raise ValueError(
            f"cannot read duration {text!r}; expected a number and one unit of "
            "d (business days), h, m or s, e.g. '4h', '30m', '3d', '0.5d'"
        )
    unit = match["unit"].lower()
    per_unit = day_seconds if unit == "d" else _UNIT_SECONDS[unit]
    seconds = Fraction(match["number"]) * per_unit
    if seconds.denominator != 1:
        raise ValueError(f"duration {text!r} is not a whole number of seconds ({float(seconds)})")
    return int(seconds)
