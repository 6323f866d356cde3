from accounts.models import Role
from accounts.tests.factories import UserFactory
from sla.tests.factories import organisation_on_level
from tickets import services
from tickets.models import Module, Product


def product(code: str = "qixium-saas") -> Product:
    return Product.objects.get(code=code)


def coordinator_on(level: str = "extended", **fields):
    """A coordinator of a new organisation with a contract on ``level``."""
    return UserFactory(role=Role.COORDINATOR, organisation=organisation_on_level(level), **fields)


def register(
    by,
    *,
    kind="incident",
    title="Kan niet inloggen",
    urgency=1,
    impact=1,
    product_code="qixium-saas",
    nature="technical",
    change_type="",
    attachments=(),
    **fields,
):
    chosen = product(product_code)
    return services.ticket_register(
        by=by,
        kind=kind,
        title=title,
        description="Sinds vanochtend krijgt niemand een inlogscherm.",
        product=chosen,
        module=Module.objects.filter(product=chosen).first(),
        hosting="cloud",
        nature=nature,
        urgency=urgency,
        suggested_impact=impact,
        change_type=change_type,
        attachments=attachments,
        **fields,
    )
