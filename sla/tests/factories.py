from datetime import date

from accounts.tests.factories import OrganisationFactory
from sla.models import Contract, ServiceLevel


def organisation_on_level(code: str, **fields):
    """An organisation with a contract on the seeded level `code` since 2020."""
    organisation = OrganisationFactory(**fields)
    Contract.objects.create(
        organisation=organisation,
        service_level=ServiceLevel.objects.get(code=code),
        valid_from=date(2020, 1, 1),
    )
    return organisation
