from django import template
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


@register.inclusion_tag("tickets/_clock_badges.html")
def clock_badges(statuses, compact=False):
    return {"statuses": statuses, "compact": compact}


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
