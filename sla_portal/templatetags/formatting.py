"""`percent`: a share as "99.8%" / "99,8%" (sla_portal.formatting). Loaded for every template
(settings.TEMPLATES builtins), so no page writes a percentage another way."""

from django import template

from sla_portal.formatting import percent_text

register = template.Library()


@register.filter
def percent(value, decimals: int = 1) -> str:
    try:
        return percent_text(value, int(decimals))
    except (TypeError, ValueError, ArithmeticError):
        return "—"
