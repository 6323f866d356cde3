from django import template
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.timezone import localtime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from tickets.choices import choice_label

register = template.Library()

register.filter("display", choice_label)


@register.filter
def business_duration(seconds) -> str:
    """Business seconds as '2 d 3 h' / '3 h 20 min' / '12 min'; negative: 'late by ...'."""
    if seconds is None:
        return ""
    late = seconds < 0
    minutes = abs(int(seconds)) // 60
    hours, minutes = divmod(minutes, 60)
    text = (
        (_("%(h)d h %(m)02d min") % {"h": hours, "m": minutes})
        if hours
        else (_("%(m)d min") % {"m": minutes})
    )
    return _("late by %(time)s") % {"time": text} if late else text


@register.simple_tag
def clock_badges(statuses, compact=False) -> str:
    """Each clock as a badge with its deadline and business time left. Built in Python, not an
    inclusion template: two clocks on each of 25 rows through the template engine were a third
    of the desk queue's time (bench/desk.py, profiled)."""
    return format_html_join("", "{}", ((_clock_badge(s, compact),) for s in statuses))


def _clock_badge(s, compact: bool) -> str:
    detail = ""
    if s.due_at:
        due = localtime(s.due_at)
        left = ""
        if s.left_seconds is not None:
            left = format_html(
                " · {}",
                _("%(left)s business time left") % {"left": business_duration(s.left_seconds)}
                if s.left_seconds >= 0
                else business_duration(s.left_seconds),
            )
        detail = format_html(
            '<span class="muted">{} <time datetime="{}">{}</time>{}</span>',
            _("due"),
            date_format(due, "c"),
            date_format(due, "D j M H:i"),
            left,
        )
    elif s.state == "paused" and not compact:
        waiting = _("waiting for the customer; the deadline moves on when they answer")
        detail = format_html('<span class="muted">{}</span>', waiting)
    return format_html(
        '<div class="clock clock-{}" data-state="{}">\n  <span class="badge {}">{}: {}</span>\n  {}\n</div>',
        s.kind,
        s.state,
        s.state,
        s.kind_label,
        s.label,
        detail,
    )


@register.simple_tag(takes_context=True)
def query_with(context, **changes) -> str:
    """The current query string with some parameters replaced (for pagination links)."""
    params = context["request"].GET.copy()
    for key, value in changes.items():
        params[key] = value
    return params.urlencode()


_EXTRA_LABELS = {
    "bug": _lazy("bug"),
    "hours": _lazy("hours booked"),
    "reprioritisation": _lazy("re-prioritisation"),
}


@register.filter
def change_label(field: str) -> str:
    """A history row's field name as people read it."""
    from django.core.exceptions import FieldDoesNotExist

    from tickets.models import Ticket

    if field in _EXTRA_LABELS:
        return str(_EXTRA_LABELS[field])
    try:
        return str(Ticket._meta.get_field(field).verbose_name)
    except FieldDoesNotExist:
        return field
