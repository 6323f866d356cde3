"""allauth's password signals revoke the user's API tokens and say so on the next page; a new
user starts with the default notification topics."""

from allauth.account.signals import password_changed, password_reset, password_set
from django.contrib import messages
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.utils.translation import ngettext

from accounts.models import ApiTokenRevokedReason, User
from accounts.services import api_tokens_revoke_all, notification_defaults_apply


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


@receiver(post_save, sender=User, dispatch_uid="accounts.default_subscriptions")
def subscribe_new_user_to_defaults(sender, instance: User, created: bool, raw: bool = False, **kw) -> None:
    """Every way a user is made (approval, SSO, admin, seed, factories) starts them with the
    default topics: a receiver rather than a call in each service, so none is forgotten."""
    if created and not raw:
        notification_defaults_apply(user=instance)
