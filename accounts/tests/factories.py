import factory
from allauth.mfa.totp.internal.auth import TOTP

from accounts.models import Organisation, Role, User

PASSWORD = "correct-horse-battery-staple"


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"Organisation {n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    full_name = factory.Sequence(lambda n: f"User {n}")
    # The pages and mails follow the user's language; tests read English unless they choose Dutch.
    language = "en"
    role = Role.CUSTOMER_USER
    organisation = factory.LazyAttribute(
        lambda o: OrganisationFactory() if o.role in (Role.CUSTOMER_USER, Role.COORDINATOR) else None
    )
    password = factory.django.Password(PASSWORD)


TEST_TOTP_SECRET = "JBSWY3DPEHPK3PXPTESTTEST"


def with_totp(user: User) -> User:
    TOTP.activate(user, TEST_TOTP_SECRET)
    return user
