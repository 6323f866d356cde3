"""Filters of the SLA set-up pages."""

from django import template
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def shift(seconds) -> str:
    """A signed wall-clock shift, e.g. "+1 d 2 h", "-30 min", "0"."""
    if seconds is None:
        return "—"
    seconds = round(seconds)
    if not seconds:
        return "0"
    sign, left = ("+" if seconds > 0 else "-"), abs(seconds)
    days, left = divmod(left, 86400)
    hours, left = divmod(left, 3600)
    minutes = left // 60
    parts = [
        f"{days} {_('d')}" if days else "",
        f"{hours} {_('h')}" if hours else "",
        f"{minutes} {_('min')}" if minutes else "",
    ]
    return sign + " ".join(p for p in parts if p) if any(parts) else f"{sign}{left} s"
