from allauth.mfa.models import Authenticator
from django.db.models import QuerySet

from accounts.models import AccountRequest, AccountRequestStatus, Organisation, Role, User


def user_has_totp(user: User) -> bool:
    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


def account_request_list_pending() -> QuerySet[AccountRequest]:
    return AccountRequest.objects.filter(status=AccountRequestStatus.PENDING).order_by("created_at")


def organisation_coordinators(*, organisation: Organisation) -> QuerySet[User]:
    return organisation.users.filter(role=Role.COORDINATOR, is_active=True)


def user_list_managers() -> QuerySet[User]:
    return User.objects.filter(role__in=[Role.MANAGER], is_active=True)
