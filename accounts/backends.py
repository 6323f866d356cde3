"""Django's and allauth's authentication backends, loading a user's organisation with the user.

A customer's every request reads it (the second-factor middleware, tenancy, the portal): it
was a query of its own on each page.
"""

from allauth.account import auth_backends
from django.contrib.auth import backends, get_user_model


class _UserWithOrganisation:
    def get_user(self, user_id):
        try:
            user = get_user_model()._default_manager.select_related("organisation").get(pk=user_id)
        except get_user_model().DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None


class ModelBackend(_UserWithOrganisation, backends.ModelBackend):
    pass


class AuthenticationBackend(_UserWithOrganisation, auth_backends.AuthenticationBackend):
    pass
