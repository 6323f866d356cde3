"""allauth's password signals revoke the user's API tokens and say so on the next page."""

from allauth.account.signals import password_changed, password_reset, password_set
from django.contrib import messages
from django.dispatch import receiver
from django.utils.translation import ngettext

from accounts.models import ApiTokenRevokedReason
from accounts.services import api_tokens_revoke_all


@receiver(password_changed, dispatch_uid="accounts.revoke_tokens_on_password_changed")
@receiver(password_reset, dispatch_uid="accounts.revoke_tokens_on_password_reset")
@receiver(password_set, dispatch_uid="accounts.revoke_tokens_on_password_set")
def revoke_api_tokens_on_new_password(sender, request, user, **kwargs) -> None:
    revoked = api_tokens_revoke_all(users=user, reason=ApiTokenRevokedReason.PASSWORD)
    if revoked and request is not None:
        messages.warning(
            request,
            ngettext(
                "Your API token was revoked because your password changed; "
                "create a new one under API tokens.",
                "Your %(count)d API tokens were revoked because your password changed; "
                "create new ones under API tokens.",
                revoked,
            )
            % {"count": revoked},
        )
