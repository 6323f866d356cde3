from allauth.socialaccount.models import SocialApp
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm
from django.utils.translation import ngettext

from accounts import services
from accounts.models import AccountRequest, ApiTokenRevokedReason, Organisation, User


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["name", "mfa_required", "created_at"]
    search_fields = ["name"]

    def save_model(self, request, obj, form, change):
        """The second-factor switch goes through its service, which revokes API tokens."""
        if not (change and "mfa_required" in form.changed_data):
            return super().save_model(request, obj, form, change)
        required = obj.mfa_required
        obj.mfa_required = not required
        super().save_model(request, obj, form, change)
        revoked = services.organisation_mfa_required_set(organisation=obj, required=required)
        obj.mfa_required = required
        if revoked:
            self.message_user(
                request,
                ngettext(
                    "%(count)d API token of the organisation's users was revoked: tokens made "
                    "without a second factor must not outlive the new rule.",
                    "%(count)d API tokens of the organisation's users were revoked: tokens made "
                    "without a second factor must not outlive the new rule.",
                    revoked,
                )
                % {"count": revoked},
                messages.WARNING,
            )
        return None


class PasswordChangeForm(AdminPasswordChangeForm):
    """A password set in the admin revokes the user's API tokens, as allauth's pages do."""

    def save(self, commit=True):
        user = super().save(commit=commit)
        services.api_tokens_revoke_all(users=user, reason=ApiTokenRevokedReason.PASSWORD)
        return user


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    change_password_form = PasswordChangeForm
    ordering = ["email"]
    list_display = ["email", "full_name", "role", "organisation", "is_active"]
    list_filter = ["role", "is_active", "organisation"]
    search_fields = ["email", "full_name"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Profile", {"fields": ["full_name", "role", "organisation"]}),
        ("Permissions", {"fields": ["is_active", "is_staff", "is_superuser", "groups"]}),
    ]
    add_fieldsets = [
        (None, {"fields": ["email", "full_name", "role", "organisation", "password1", "password2"]})
    ]


@admin.register(AccountRequest)
class AccountRequestAdmin(admin.ModelAdmin):
    list_display = ["email", "organisation_name", "status", "created_at", "decided_by"]
    list_filter = ["status"]


# An organisation's SSO is set up on /settings/sso/ (accounts.sso), which checks the provider's
# address and keeps each e-mail domain to one organisation; the admin's form would skip both.
if admin.site.is_registered(SocialApp):
    admin.site.unregister(SocialApp)
